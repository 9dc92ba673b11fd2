package dev.sluice.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.sluice.cache.Expiring;
import dev.sluice.cache.RefreshAheadCache;
import dev.sluice.cache.Sealer;
import dev.sluice.cache.SharedStore;
import dev.sluice.cache.SharedTier;
import dev.sluice.time.Ticker;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.DoubleSupplier;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * One kind of control-plane document (products, data connections, product lists,
 * permissions) cached in the in-process tier, keyed by API path + caller subject: an
 * anonymous and an authenticated caller may be told different things, so their answers never
 * mix.
 *
 * <ul>
 *   <li><b>Expiry</b> of an answer is its fetch time + the kind's TTL. The L1 policy
 *       ({@link RefreshAheadCache}) is used unchanged with {@code min_serve = 0}
 *       (a document, unlike a credential, is not refused by anyone for being nearly expired,
 *       so it is served to its last instant) and {@code refresh_lead = TTL / 10} (30 s of a
 *       300 s product): a key in use is refetched in the background shortly before expiry,
 *       so steady traffic never waits on the API.</li>
 *   <li><b>Only parsed answers are cached.</b> A 404, 401/403, 5xx, timeout or unparseable
 *       body is a failed load: never stored as a value; the L1's failure backoff (1–2 s)
 *       replays it to callers of that key, so a client scanning for unknown names costs the
 *       API about one call per name per second, not one per request.</li>
 *   <li><b>Stale-if-error</b>: when a load fails as {@link ControlPlaneApi.FailureKind#UNAVAILABLE}
 *       (the API is down, slow or talking nonsense) and the last good answer for the key
 *       expired less than {@code staleIfError} ago, that answer is served and counted. A 404
 *       or 401/403 is an answer, not an outage: it is never covered by a stale document (a
 *       product deleted or withdrawn must stop being served).</li>
 *   <li>Cold loads of one key are single-flighted by the L1; each caller waits at most the
 *       API timeout + 1 s (+ the shared tier's lease wait when there is one).</li>
 *   <li><b>Shared tier</b> (optional, {@link Shared}): the L1's load reads L2 first
 *       ({@link SharedTier}, namespace {@code cp}, identity = API URL ␟ subject), and only on a
 *       miss calls the API and writes the answer back, sealed. What is written is the JSON the
 *       API sent, and only once it parsed; a reader parses it again, so an entry this build
 *       cannot read is a miss. Documents get their own lead: an entry leaves L2 at
 *       {@code exp − TTL/5} (60 s before a product's expiry), which exceeds the L1 refresh lead
 *       of {@code TTL/10}, so every entry read from L2 is fresh for at least TTL/10 in L1. The
 *       credentials' {@code cache.shared.lead} (300 s) does not apply: with a 300 s product TTL
 *       it would write nothing.</li>
 * </ul>
 */
final class DocumentCache<T> {

    /** What the cache holds per key; the request id is carried to the load but is not part of the key. */
    static final class Key {
        final String path;
        final String subject;
        final String requestId;
        private final int hash;

        Key(String path, Optional<String> subject, String requestId) {
            this.path = path;
            this.subject = subject.orElse("");
            this.requestId = requestId;
            this.hash = 31 * path.hashCode() + this.subject.hashCode();
        }

        Optional<String> subjectIfAny() {
            return subject.isEmpty() ? Optional.empty() : Optional.of(subject);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.path.equals(path) && k.subject.equals(subject);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /**
     * The shared tier as control-plane answers use it: one store and one sealer for every kind.
     *
     * @param apiUrl      the API base URL, part of every L2 identity (two APIs never share an entry)
     * @param leaseTtl    how long a fleet lease lives if its holder dies
     * @param leaseWait   how long an instance that finds the lease held polls L2 before asking the API itself
     * @param writeBack   runs L2 writes and lease releases, off the caller's path
     * @param observer    L2 events for this kind
     */
    record Shared(SharedStore store, Sealer sealer, String apiUrl, Duration leaseTtl, Duration leaseWait, Executor writeBack,
                  Supplier<String> leaseTokens, SharedTier.Observer observer) {
    }

    /** A cached answer: the parsed value, and the JSON it was parsed from when the shared tier needs it. */
    record Doc<T>(T value, JsonNode json) {
    }

    /** Receives what happened, for metrics; must be cheap and never throw. */
    interface Observer {
        void fetched(String outcome);

        void staleServed();

        RefreshAheadCache.Observer l1();
    }

    private final ControlPlaneApi api;
    private final Function<JsonNode, T> parse;
    private final Duration ttl;
    private final Duration staleIfError;
    private final Duration maxWait;
    private final InstantSource clock;
    private final Observer observer;
    private final boolean keepJson;
    private final RefreshAheadCache<Key, Doc<T>> l1;
    /** The last good answer per key, kept past its expiry for stale-if-error. */
    private final Cache<Key, Expiring<T>> lastGood;

    DocumentCache(ControlPlaneApi api, Function<JsonNode, T> parse, Duration ttl, Duration staleIfError, Duration apiTimeout,
                  InstantSource clock, Executor loads, DoubleSupplier jitter, Observer observer) {
        this(api, parse, ttl, staleIfError, apiTimeout, clock, loads, jitter, observer, Optional.empty());
    }

    DocumentCache(ControlPlaneApi api, Function<JsonNode, T> parse, Duration ttl, Duration staleIfError, Duration apiTimeout,
                  InstantSource clock, Executor loads, DoubleSupplier jitter, Observer observer, Optional<Shared> shared) {
        this.api = api;
        this.parse = parse;
        this.ttl = ttl;
        this.staleIfError = staleIfError;
        Duration leaseWait = shared.map(Shared::leaseWait).orElse(Duration.ZERO);
        this.maxWait = apiTimeout.plus(leaseWait).plusSeconds(1);
        this.clock = clock;
        this.observer = observer;
        this.keepJson = shared.isPresent();
        Duration refreshLead = refreshLead(ttl);
        RefreshAheadCache.Policy policy = new RefreshAheadCache.Policy(refreshLead,
                Duration.ZERO, apiTimeout.plus(leaseWait).plusSeconds(5), Duration.ofSeconds(1));
        RefreshAheadCache.Loader<Key, Doc<T>> next = this::fetch;
        if (shared.isPresent()) {
            Shared s = shared.get();
            next = new SharedTier<>("cp", k -> s.apiUrl() + k.path + "\u001F" + k.subject, s.store(), s.sealer(),
                    new DocumentCodec<>(parse), next,
                    new SharedTier.Settings(sharedLead(ttl), refreshLead, s.leaseTtl(), s.leaseWait(), Duration.ofMillis(25)),
                    clock, Ticker.SYSTEM, s.writeBack(), s.leaseTokens(), s.observer());
        }
        RefreshAheadCache.Loader<Key, Doc<T>> tiers = next;
        this.l1 = new RefreshAheadCache<>(key -> remember(key, tiers.load(key)), policy, clock, loads, jitter,
                waited -> new ControlPlaneApi.Failure(ControlPlaneApi.FailureKind.UNAVAILABLE,
                        "no control-plane answer within the caller's wait of " + waited, null),
                observer.l1(), 100_000);
        this.lastGood = Caffeine.newBuilder().maximumSize(100_000).build();
    }

    /** L1's refresh lead for a kind: a tenth of its TTL (30 s of a 300 s product). */
    static Duration refreshLead(Duration ttl) {
        Duration lead = ttl.dividedBy(10);
        return lead.isPositive() ? lead : Duration.ofNanos(1);
    }

    /**
     * How long before a document's expiry its L2 entry goes: a fifth of the TTL (60 s of a
     * product), always more than {@link #refreshLead}, so an entry read from L2 is never one L1
     * would have to refresh at once.
     */
    static Duration sharedLead(Duration ttl) {
        Duration lead = ttl.dividedBy(5);
        Duration min = refreshLead(ttl).plusNanos(1);
        return lead.compareTo(min) > 0 ? lead : min;
    }

    /** The document at {@code path} as {@code caller} is answered; throws {@link ControlPlaneApi.Failure}. */
    T get(String path, Caller caller) {
        Key key = new Key(path, caller.subject(), caller.requestId());
        try {
            return l1.get(key, maxWait).value();
        } catch (ControlPlaneApi.Failure f) {
            if (f.kind() == ControlPlaneApi.FailureKind.UNAVAILABLE) {
                Expiring<T> stale = lastGood.getIfPresent(key);
                if (stale != null && clock.instant().isBefore(stale.expiresAt().plus(staleIfError))) {
                    observer.staleServed();
                    return stale.value();
                }
            }
            throw f;
        }
    }

    /** Keeps a good answer, from the API or from L2, for stale-if-error. */
    private Expiring<Doc<T>> remember(Key key, Expiring<Doc<T>> loaded) {
        lastGood.put(key, new Expiring<>(loaded.value().value(), loaded.expiresAt()));
        return loaded;
    }

    /** One API call; only an answer that parsed comes back (and so may be cached or written to L2). */
    private Expiring<Doc<T>> fetch(Key key) {
        T value;
        JsonNode json;
        try {
            json = api.get(key.path, key.subjectIfAny(), key.requestId);
            value = Objects.requireNonNull(parse.apply(json));
        } catch (ControlPlaneApi.Failure f) {
            observer.fetched(f.kind().name().toLowerCase(java.util.Locale.ROOT));
            throw f;
        } catch (ControlPlaneDocuments.Unparseable e) {
            observer.fetched("unavailable");
            throw new ControlPlaneApi.Failure(ControlPlaneApi.FailureKind.UNAVAILABLE,
                    "unexpected document at " + key.path + ": " + e.getMessage(), null);
        }
        observer.fetched("ok");
        Instant now = clock.instant();
        return new Expiring<>(new Doc<>(value, keepJson ? json : null), now.plus(ttl));
    }

    /**
     * A document as L2 holds it (before sealing): {@code {"v":1,"exp":…,"doc":<the API's JSON>}}.
     * Decoding parses {@code doc} again with the kind's parser; anything that does not parse is a miss.
     */
    static final class DocumentCodec<T> implements SharedTier.Codec<Doc<T>> {
        private static final ObjectMapper JSON = new ObjectMapper();
        private final Function<JsonNode, T> parse;

        DocumentCodec(Function<JsonNode, T> parse) {
            this.parse = parse;
        }

        @Override
        public byte[] encode(Expiring<Doc<T>> value) {
            ObjectNode out = JSON.createObjectNode();
            out.put("v", 1);
            out.put("exp", value.expiresAt().toString());
            out.set("doc", Objects.requireNonNull(value.value().json(), "a document written to L2 keeps its JSON"));
            try {
                return JSON.writeValueAsBytes(out);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public Optional<Expiring<Doc<T>>> decode(byte[] bytes) {
            try {
                JsonNode in = JSON.readTree(bytes);
                if (in == null || in.path("v").asInt() != 1 || !in.hasNonNull("exp") || !in.has("doc")) {
                    return Optional.empty();
                }
                JsonNode doc = in.get("doc");
                T value = Objects.requireNonNull(parse.apply(doc));
                return Optional.of(new Expiring<>(new Doc<>(value, doc), Instant.parse(in.get("exp").asText())));
            } catch (IOException | RuntimeException e) {
                return Optional.empty();
            }
        }
    }
}
