package dev.sluice.protect;

import dev.sluice.auth.Principal;
import dev.sluice.config.SluiceConfig;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.net.InetAddress;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The limits a request passes on its way in (docs/protection.md): the request path opens a
 * {@link Pass} per request, asks it to {@link Pass#admit} once the caller and the product are
 * known, tells it the body bytes it sent ({@link Pass#charge}), and closes it when the response
 * has ended, whatever the outcome.
 *
 * <p>A caller takes one token from its own bucket (its client address when anonymous, its
 * principal when authenticated, none when exempt) and one from the product's; an empty bucket
 * is {@code 503 SlowDown} with {@code Retry-After}, S3's answer to a client that is too fast.
 * A read of a product whose byte quota for the current hour or day is used up is
 * {@code 403 AccessDenied} naming the quota, and so is a read by an authenticated caller whose
 * own quota ({@code limits.principal}) is used up; both quotas apply when both are set. A
 * download is never cut: its bytes are charged when it ends, so the download that crosses the
 * quota completes and the next request is refused.
 * An anonymous address also holds a slot while its request is open; over
 * {@code limits.anonymous.concurrent} it is {@code 503 SlowDown} with {@code Retry-After: 1}.
 * The slots are this instance's, as the connections they protect are; how many are held is the
 * gauge {@code sluice_limit_concurrent_requests}.
 *
 * <p>A request whose identification fails takes a token from its address's bucket at the
 * anonymous rate ({@link Pass#unidentified}), so guessing credentials is limited too. A
 * product's limits are asked of a {@link ProductLimitLookup}: the configured ones, or those a
 * control-plane registry's cached product answer carries.
 *
 * <p>Buckets and counters are named with synthetic keys ({@code addr:}, {@code principal:},
 * {@code product:}); refusals are counted in {@code sluice_limit_hits_total} by kind only, never
 * by address or key id, which would give the metrics an unbounded label set.
 */
public final class Gate {
    /** No limits at all: a request costs nothing, not even reading {@code X-Forwarded-For}. */
    public static final Gate NONE = new Gate();

    /** What a refusal is counted as in {@code sluice_limit_hits_total{kind}}. */
    public enum Hit {
        ADDRESS, PRINCIPAL, PRODUCT, QUOTA, CONCURRENCY, PRINCIPAL_QUOTA;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final boolean enabled;
    private final SluiceConfig.Protection limits;
    private final ProductLimitLookup products;
    private final ClientAddress clientAddress;
    private final LimitStore store;
    private final Map<Hit, Counter> hits = new EnumMap<>(Hit.class);
    private final Map<String, Integer> open = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger slots = new java.util.concurrent.atomic.AtomicInteger();

    private Gate() {
        this.enabled = false;
        this.limits = null;
        this.products = (account, product, principal, requestId) -> SluiceConfig.ProductLimits.NONE;
        this.clientAddress = new ClientAddress(List.of());
        this.store = null;
    }

    /**
     * @param limits {@code limits}, the defaults ({@link #noDefaults} when only products set limits)
     * @param products each product's own limits by {@code account/product}, already completed from the defaults
     * @param onlyListedProducts whether {@code products} lists every product there is (a static
     *     registry): a name not in it is no product, its request is answered 404, and no bucket
     *     is made for it, so a client inventing names cannot fill the store with buckets.
     *     Otherwise (a control-plane registry) an unlisted product has the default limits.
     */
    public Gate(SluiceConfig.Protection limits, Map<String, SluiceConfig.ProductLimits> products, boolean onlyListedProducts,
                TokenBuckets buckets, ByteCounters counters, MeterRegistry registry) {
        this(limits, products, onlyListedProducts, LimitStore.of(buckets, counters), registry);
    }

    /** @param store where the buckets and counters are, asked once per request (docs/protection.md) */
    public Gate(SluiceConfig.Protection limits, Map<String, SluiceConfig.ProductLimits> products, boolean onlyListedProducts,
                LimitStore store, MeterRegistry registry) {
        this(limits, listed(Map.copyOf(products), onlyListedProducts ? SluiceConfig.ProductLimits.NONE : limits.product()),
                store, registry);
    }

    /** The gate itself: {@code products} tells each product's limits, {@code store} decides them. */
    public Gate(SluiceConfig.Protection limits, ProductLimitLookup products, LimitStore store, MeterRegistry registry) {
        this.enabled = true;
        this.limits = limits;
        this.products = products;
        this.clientAddress = new ClientAddress(limits.trustedProxies());
        this.store = store;
        for (Hit hit : Hit.values()) {
            hits.put(hit, Counter.builder("sluice.limit.hits").description("Requests refused by a limit, by kind of limit")
                    .tag("kind", hit.label()).register(registry));
        }
        io.micrometer.core.instrument.Gauge.builder("sluice.limit.concurrent.requests", slots, java.util.concurrent.atomic.AtomicInteger::get)
                .description("Anonymous requests holding a concurrency slot").register(registry);
    }

    private static ProductLimitLookup listed(Map<String, SluiceConfig.ProductLimits> products, SluiceConfig.ProductLimits unlisted) {
        return (account, product, principal, requestId) -> products.getOrDefault(account + "/" + product, unlisted);
    }

    /**
     * The gate a configuration asks for: {@link #NONE} when it sets no limits anywhere, so that
     * an unlimited service pays nothing for the feature. With a control-plane registry,
     * {@code controlPlane} tells a product's own limits (empty when its answer carries none, or
     * malformed ones), which replace {@code limits.product}'s field by field.
     */
    public static Gate of(SluiceConfig config, Optional<ControlPlaneLimits> controlPlane, Supplier<LimitStore> store,
                          MeterRegistry registry) {
        boolean anyProduct = config.registry().products().stream().anyMatch(p -> p.limits().limits());
        if (config.limits().isEmpty() && !anyProduct) {
            return NONE;
        }
        SluiceConfig.Protection limits = config.limits().orElse(noDefaults());
        Map<String, SluiceConfig.ProductLimits> products = new java.util.HashMap<>();
        for (SluiceConfig.Product p : config.registry().products()) {
            products.put(p.account() + "/" + p.product(), p.limits().over(limits.product()));
        }
        if (controlPlane.isPresent()) {
            SluiceConfig.ProductLimits defaults = limits.product();
            ControlPlaneLimits own = controlPlane.get();
            return new Gate(limits, (account, product, principal, requestId) -> own.of(account, product, principal, requestId)
                    .map(l -> l.over(defaults)).orElse(defaults), store.get(), registry);
        }
        return new Gate(limits, products, config.registry().controlPlane().isEmpty(), store.get(), registry);
    }

    /** A product's own limits as a control-plane registry's cached answer carries them; empty when it carries none usable. */
    @FunctionalInterface
    public interface ControlPlaneLimits {
        Optional<SluiceConfig.ProductLimits> of(String account, String product, Principal principal, String requestId);
    }

    /** {@code limits} when only products set their own: no default limits, no trusted proxies. */
    public static SluiceConfig.Protection noDefaults() {
        return new SluiceConfig.Protection(new SluiceConfig.AnonymousLimits(Optional.empty(), Optional.empty()), Optional.empty(),
                SluiceConfig.ProductLimits.NONE, List.of(), java.util.Set.of(), 1);
    }

    /**
     * Whether deciding a request's limits waits on no other process: no limits, or buckets and
     * counters in this process. A shared store ({@link SharedLimits}) may ask Redis on a request.
     */
    public boolean decidesLocally() {
        return !enabled || store.decidesInProcess();
    }

    /** A request's pass, from its TCP {@code peer} and its {@code X-Forwarded-For} values (read only when limits are set). */
    public Pass pass(InetAddress peer, Supplier<List<String>> forwardedFor) {
        return pass(peer, forwardedFor, "-");
    }

    /** {@link #pass(InetAddress, Supplier)} for request {@code requestId}, which a product's limits are looked up in. */
    public Pass pass(InetAddress peer, Supplier<List<String>> forwardedFor, String requestId) {
        if (!enabled) {
            return Pass.FREE;
        }
        return new Pass(this, clientAddress.of(peer, limits.trustedProxies().isEmpty() ? List.of() : forwardedFor.get()), requestId);
    }

    /**
     * One request's passage through the limits: which client it is, the slot it holds, and the
     * product its bytes are charged to. Used by one thread at a time.
     */
    public static final class Pass implements AutoCloseable {
        static final Pass FREE = new Pass(null, "", "-");

        private final Gate gate;
        private final String client;
        private final String requestId;
        // Volatile: a read answered at once is admitted on the selector's thread and closed on
        // whichever thread completes its write.
        private volatile boolean holdsSlot;
        private volatile List<LimitStore.Quota> charged = List.of();

        private Pass(Gate gate, String client, String requestId) {
            this.gate = gate;
            this.client = client;
            this.requestId = requestId;
        }

        /** The client's address, as the limits see it (empty when there are no limits). */
        public String client() {
            return client;
        }

        /**
         * Lets the request through or throws the S3 refusal. {@code read}: the request reads an
         * object's bytes, which a product's byte quota is about. Every bucket and quota that
         * applies is gathered first and asked of the store at once ({@link Checks}), so the
         * decision costs at most one round trip however many limits apply.
         */
        public void admit(Principal principal, Optional<String> account, Optional<String> product, boolean read) {
            if (gate == null || gate.exempt(principal)) {
                return;
            }
            SluiceConfig.Protection limits = gate.limits;
            Checks checks = new Checks(gate);
            if (principal instanceof Principal.Anonymous) {
                Optional<Integer> cap = limits.anonymous().concurrent();
                if (cap.isPresent() && !holdsSlot) {
                    if (!gate.enter(client, cap.get())) {
                        throw gate.slowDown(Hit.CONCURRENCY, Duration.ofSeconds(1));
                    }
                    holdsSlot = true;
                }
                Optional<Rate> rate = limits.anonymous().rate();
                if (rate.isPresent()) {
                    checks.take("addr:" + client, rate.get(), Hit.ADDRESS);
                }
            } else {
                String key = "principal:" + principal.logName();
                if (read && limits.principalQuota().isPresent()) {
                    SluiceConfig.Quota q = limits.principalQuota().get();
                    checks.quota(key, q, "Your " + (q.period() == QuotaPeriod.DAY ? "daily" : "hourly")
                            + " download quota is used up.", Hit.PRINCIPAL_QUOTA);
                }
                if (limits.principal().isPresent()) {
                    checks.take(key, limits.principal().get(), Hit.PRINCIPAL);
                }
            }
            if (account.isEmpty() || product.isEmpty()) {
                checks.decide();
                this.charged = checks.quotas;
                return;
            }
            String name = account.get() + "/" + product.get();
            SluiceConfig.ProductLimits productLimits = gate.products.of(account.get(), product.get(), principal, requestId);
            if (read && productLimits.quota().isPresent()) {
                SluiceConfig.Quota q = productLimits.quota().get();
                checks.quota("product:" + name, q, "This product's " + (q.period() == QuotaPeriod.DAY ? "daily" : "hourly")
                        + " download quota is used up.", Hit.QUOTA);
            }
            if (productLimits.rate().isPresent()) {
                checks.take("product:" + name, productLimits.rate().get(), Hit.PRODUCT);
            }
            checks.decide();
            this.charged = checks.quotas;
        }

        /**
         * A request whose identification failed (a bad signature, an unknown key, an expired
         * session) takes one token from its address's bucket at the anonymous rate before its
         * error is answered, so guessing credentials is limited as anonymous requests are;
         * over the limit it is {@code 503 SlowDown} instead of its error (docs/protection.md).
         */
        public void unidentified() {
            if (gate == null) {
                return;
            }
            Optional<Rate> rate = gate.limits.anonymous().rate();
            if (rate.isPresent()) {
                Checks checks = new Checks(gate);
                checks.take("addr:" + client, rate.get(), Hit.ADDRESS);
                checks.decide();
            }
        }

        /** Charges the body bytes the response sent to the quotas the request was admitted under. */
        public void charge(long bytes) {
            if (bytes > 0) {
                for (LimitStore.Quota q : charged) {
                    gate.store.charge(q.key(), q.period(), bytes);
                }
            }
        }

        /** Gives back the request's concurrency slot. */
        @Override
        public void close() {
            if (holdsSlot) {
                holdsSlot = false;
                gate.leave(client);
            }
        }
    }

    private boolean exempt(Principal principal) {
        return switch (principal) {
            case Principal.Anonymous a -> false;
            case Principal.AccessKey k -> limits.exempt().contains(k.accessKeyId()) || limits.exempt().contains(k.name());
            case Principal.Session s -> limits.exempt().contains(s.subjectName());
        };
    }

    /**
     * The limits one request must pass, in the order they are decided, each with the refusal it
     * answers; {@link #decide} asks the store for all of them at once. Adding a limit to
     * {@link Pass#admit} is one {@link #take} or {@link #quota} line.
     */
    private static final class Checks {
        private final Gate gate;
        private final List<LimitStore.Check> checks = new java.util.ArrayList<>(4);
        private final List<java.util.function.Function<Duration, S3Exception>> refusals = new java.util.ArrayList<>(4);
        private final List<LimitStore.Quota> quotas = new java.util.ArrayList<>(2);

        Checks(Gate gate) {
            this.gate = gate;
        }

        /** One token from the bucket {@code key}; an empty bucket is {@code 503 SlowDown}, counted as {@code kind}. */
        void take(String key, Rate rate, Hit kind) {
            checks.add(new LimitStore.Take(key, rate));
            refusals.add(wait -> gate.slowDown(kind, wait));
        }

        /**
         * The quota {@code quota} of {@code key} not used up, else {@code 403 AccessDenied} with
         * {@code message}, counted as {@code kind}; charged when admitted.
         */
        void quota(String key, SluiceConfig.Quota quota, String message, Hit kind) {
            LimitStore.Quota check = new LimitStore.Quota(key, quota.period(), quota.bytes());
            checks.add(check);
            quotas.add(check);
            refusals.add(wait -> {
                gate.hits.get(kind).increment();
                return new S3Exception(S3Error.ACCESS_DENIED, message);
            });
        }

        /** Throws the first refusal, if any. */
        void decide() {
            if (checks.isEmpty()) {
                return;
            }
            LimitStore.Decision decision = gate.store.decide(checks);
            if (!decision.granted()) {
                throw refusals.get(decision.refused()).apply(decision.retryAfter());
            }
        }
    }

    private S3Exception slowDown(Hit kind, Duration wait) {
        hits.get(kind).increment();
        return new S3Exception(S3Error.SLOW_DOWN, S3Error.SLOW_DOWN.defaultMessage(), null,
                List.of(Map.entry("Retry-After", Long.toString(retryAfterSeconds(wait)))));
    }

    /** {@code Retry-After} in whole seconds, rounded up, at least 1 (a 0 would invite an immediate retry). */
    static long retryAfterSeconds(Duration wait) {
        long seconds = wait.toSeconds() + (wait.toNanosPart() > 0 ? 1 : 0);
        return Math.max(1, seconds);
    }

    private boolean enter(String client, int cap) {
        boolean[] entered = {false};
        open.compute(client, (k, n) -> {
            int current = n == null ? 0 : n;
            if (current >= cap) {
                return n;
            }
            entered[0] = true;
            return current + 1;
        });
        if (entered[0]) {
            slots.incrementAndGet();
        }
        return entered[0];
    }

    private void leave(String client) {
        open.computeIfPresent(client, (k, n) -> n <= 1 ? null : n - 1);
        slots.decrementAndGet();
    }
}
