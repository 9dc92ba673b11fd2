package dev.sluice.protect;

import dev.sluice.auth.Principal;
import dev.sluice.cache.RedisSharedStore;
import dev.sluice.cache.SharedStore;
import dev.sluice.config.SluiceConfig;
import dev.sluice.observe.LimitStoreMetrics;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.testing.MutableClock;
import dev.sluice.testing.RedisProcess;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Fleet-wide limits on a real {@code redis-server}, kept off the request path: a cold decision
 * is one store call however many limits apply, a warm one none, a charge none; leases keep the
 * fleet within one bucket's worth of its limit; charges reach Redis exactly once, also across an
 * outage; and with Redis killed or paused each decision falls back at once to this instance's
 * share. Every store call is counted by a decorator on the store; background work runs only
 * when the test runs the queued executor, and time moves only with the test's clock (Redis's
 * own clock moves on its own, so bounds that depend on it are computed from elapsed time).
 */
class SharedLimitsTest {
    private static final Optional<String> ACME = Optional.of("acme");
    private static final Optional<String> FILES = Optional.of("files");
    private static RedisProcess redis;

    /** In the future, so the counters' absolute expiry ({@code PEXPIREAT}) lies ahead of Redis's own clock. */
    private final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T10:00:00Z"));
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> closing = new ArrayList<>();
    private final String run = UUID.randomUUID().toString();
    private final QueuedExecutor background = new QueuedExecutor();
    private final LimitStoreObserver observer = new LimitStoreObserver() {
        @Override
        public void decision(Store store, boolean granted) {
            events.add(store + " " + (granted ? "granted" : "limited"));
        }

        @Override
        public void fallback(Kind kind) {
            events.add("fallback " + kind);
        }
    };

    @BeforeAll
    static void startRedis() throws IOException {
        redis = RedisProcess.start();
    }

    @AfterAll
    static void stopRedis() {
        if (redis != null) {
            redis.close();
        }
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    /** Background work held until the test runs it, on the test's thread. */
    static final class QueuedExecutor implements Executor {
        private final Queue<Runnable> queued = new ArrayDeque<>();

        @Override
        public synchronized void execute(Runnable task) {
            queued.add(task);
        }

        synchronized int size() {
            return queued.size();
        }

        /** Runs what is queued now (and what that queues, at most 100 tasks in all); answers how many ran. */
        int runAll() {
            int ran = 0;
            Runnable next;
            while (ran < 100 && (next = poll()) != null) {
                next.run();
                ran++;
            }
            return ran;
        }

        private synchronized Runnable poll() {
            return queued.poll();
        }
    }

    /** The store with every call counted: what a decision costs in round trips. */
    static final class CountingStore implements SharedStore {
        private final SharedStore store;
        final AtomicInteger calls = new AtomicInteger();

        CountingStore(SharedStore store) {
            this.store = store;
        }

        @Override
        public Read get(String key) {
            calls.incrementAndGet();
            return store.get(key);
        }

        @Override
        public void put(String key, byte[] value, Duration ttl) {
            calls.incrementAndGet();
            store.put(key, value, ttl);
        }

        @Override
        public void delete(String key, byte[] expected) {
            calls.incrementAndGet();
            store.delete(key, expected);
        }

        @Override
        public Lease acquireLease(String key, String token, Duration ttl) {
            calls.incrementAndGet();
            return store.acquireLease(key, token, ttl);
        }

        @Override
        public void releaseLease(String key, String token) {
            calls.incrementAndGet();
            store.releaseLease(key, token);
        }

        @Override
        public Eval eval(Script script, List<String> keys, List<String> args) {
            calls.incrementAndGet();
            return store.eval(script, keys, args);
        }

        @Override
        public String health() {
            return store.health();
        }
    }

    private CountingStore store(RedisProcess on, Duration timeout) {
        RedisSharedStore s = RedisLimits.store(on, timeout, clock);
        closing.add(s);
        RedisLimits.connected(s);
        return new CountingStore(s);
    }

    /** One instance's limits: its own store on the shared Redis, its own share as the fallback. */
    private SharedLimits instance(SharedStore store, int fleetSize) {
        return instance(store, fleetSize, observer);
    }

    private SharedLimits instance(SharedStore store, int fleetSize, LimitStoreObserver observer) {
        return new SharedLimits(store, new LocalTokenBuckets(fleetSize, clock, observer), new LocalByteCounters(fleetSize, clock),
                observer, clock, clock, background, () -> fleetSize, UUID.randomUUID().toString());
    }

    /**
     * Waits (at most 20 s, polling every 20 ms) until {@code store} answers again after a
     * restart, moving the breaker's clock past its open period before each try: a try made while
     * Lettuce is still reconnecting fails and opens the breaker again.
     */
    private void reconnected(SharedStore store) {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
        SharedStore.Script ping = new SharedStore.Script("return 1");
        do {
            assertThat(System.nanoTime()).as("the store never answered").isLessThan(deadline);
            clock.advance(Duration.ofSeconds(6));
            java.util.concurrent.locks.LockSupport.parkNanos(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(20));
        } while (!(store.eval(ping, List.of(), List.of()) instanceof SharedStore.Eval.Done));
    }

    private String key(String name) {
        return run + ":" + name;
    }

    private static LimitStore.Decision take(SharedLimits limits, String key, Rate rate) {
        return limits.decide(List.of(new LimitStore.Take(key, rate)));
    }

    private Gate gate(SharedLimits limits, SimpleMeterRegistry registry, String product) {
        SluiceConfig.Protection protection = new SluiceConfig.Protection(
                new SluiceConfig.AnonymousLimits(Optional.of(new Rate(50, 100)), Optional.empty()), Optional.empty(),
                SluiceConfig.ProductLimits.NONE, List.of(), Set.of(), 1);
        SluiceConfig.ProductLimits productLimits = new SluiceConfig.ProductLimits(Optional.of(new Rate(2000, 4000)),
                Optional.of(new SluiceConfig.Quota(1000, QuotaPeriod.DAY)));
        return new Gate(protection, Map.of("acme/" + product, productLimits), true, limits, registry);
    }

    @Test
    void aColdLimitedReadIsOneStoreCallAWarmOneNoneAndAChargeNone() throws Exception {
        CountingStore store = store(redis, RedisLimits.HEALTHY_TIMEOUT);
        SharedLimits limits = instance(store, 1);
        String product = "files-" + run;
        Gate gate = gate(limits, new SimpleMeterRegistry(), product);
        InetAddress address = InetAddress.getByName("192.0.2.10");

        try (Gate.Pass pass = gate.pass(address, List::of)) {
            pass.admit(Principal.Anonymous.UNSIGNED, ACME, Optional.of(product), true);
            assertThat(store.calls.get()).as("address bucket, product bucket and quota in one call").isEqualTo(1);
            pass.charge(300);
        }
        for (int i = 0; i < 3; i++) {
            try (Gate.Pass pass = gate.pass(address, List::of)) {
                pass.admit(Principal.Anonymous.UNSIGNED, ACME, Optional.of(product), true);
                pass.charge(100);
            }
        }
        assertThat(store.calls.get()).as("warm decisions and charges ask nothing").isEqualTo(1);
        assertThat(background.size()).as("the address's lease of 5 is down to half: one refill, not yet run").isEqualTo(1);

        limits.flush();

        assertThat(store.calls.get()).as("one flush call for the charges").isEqualTo(2);
        background.runAll();
        assertThat(store.calls.get()).as("one refill call").isEqualTo(3);
        assertThat(redis.cli("GET", SharedLimits.counterKey("product:acme/" + product,
                QuotaWindow.at(QuotaPeriod.DAY, clock.instant()))).trim()).isEqualTo("600");
        assertThat(events).containsOnly("SHARED granted");
    }

    @Test
    void aLeaseRunningLowIsRefilledInTheBackgroundOncePerKey() {
        CountingStore store = store(redis, RedisLimits.HEALTHY_TIMEOUT);
        SharedLimits limits = instance(store, 1);
        Rate rate = new Rate(40, 100); // leases of 4: refilled when 2 are left
        String key = key("busy");

        assertThat(take(limits, key, rate).granted()).isTrue(); // cold: one call, 3 left
        assertThat(take(limits, key, rate).granted()).isTrue(); // 2 left: one refill queued
        assertThat(take(limits, key, rate).granted()).isTrue(); // 1 left: the refill is in flight, none more
        assertThat(store.calls.get()).isEqualTo(1);
        assertThat(background.size()).isEqualTo(1);

        assertThat(background.runAll()).isEqualTo(1);

        assertThat(store.calls.get()).isEqualTo(2);
        for (int i = 0; i < 5; i++) {
            assertThat(take(limits, key, rate).granted()).isTrue();
        }
        assertThat(store.calls.get()).as("1 + 4 leased tokens served five requests").isEqualTo(2);
    }

    @Test
    void twoInstancesSharingOneBucketAdmitWithinOneBucketsWorthOfItsLimit() {
        SharedLimits a = instance(store(redis, RedisLimits.HEALTHY_TIMEOUT), 2);
        SharedLimits b = instance(store(redis, RedisLimits.HEALTHY_TIMEOUT), 2);
        Rate rate = new Rate(100, 40); // leases of min(40 / 2 / 2, 100 × 0.1) = 10
        String key = key("fleet");
        long began = System.nanoTime();
        int admitted = 0;
        for (int i = 0; i < 200; i++) {
            if (take(i % 2 == 0 ? a : b, key, rate).granted()) {
                admitted++;
            }
            background.runAll();
        }
        double elapsedSeconds = (System.nanoTime() - began) / 1e9;

        // Never more than the bucket granted (its burst plus what refilled meanwhile), and less
        // by at most what the two instances' leases still hold unused (a lease and a half each).
        assertThat(admitted).as("admitted in %.3f s", elapsedSeconds)
                .isLessThanOrEqualTo((int) Math.floor(40 + 100 * elapsedSeconds + 1))
                .isGreaterThanOrEqualTo(40 - 2 * (10 + 5));
        assertThat(events).noneMatch(e -> e.startsWith("fallback") || e.startsWith("LOCAL"));
    }

    @Test
    void aDrainedBucketIsRefusedWithoutAStoreCallUntilTheWaitItAnsweredHasPassed() {
        CountingStore store = store(redis, RedisLimits.HEALTHY_TIMEOUT);
        SharedLimits limits = instance(store, 1);
        Rate rate = new Rate(0.2, 2); // leases of 1; a token every 5 s, far longer than the test takes
        String key = key("drained");
        long began = System.nanoTime();

        assertThat(take(limits, key, rate).granted()).isTrue(); // cold, and a refill queued
        background.runAll(); // the bucket's second token
        assertThat(take(limits, key, rate).granted()).isTrue();
        background.runAll(); // the bucket is empty: its wait is remembered
        Duration elapsed = Duration.ofNanos(System.nanoTime() - began);
        int calls = store.calls.get();

        LimitStore.Decision refused = take(limits, key, rate);
        LimitStore.Decision again = take(limits, key, rate);

        assertThat(store.calls.get()).as("refused from what the store last said").isEqualTo(calls);
        assertThat(refused.granted()).isFalse();
        assertThat(refused.retryAfter()).isLessThanOrEqualTo(Duration.ofSeconds(5))
                .isGreaterThanOrEqualTo(Duration.ofSeconds(5).minus(elapsed).minusMillis(1));
        assertThat(again.retryAfter()).isEqualTo(refused.retryAfter()); // the test's clock stands still
        assertThat(Gate.retryAfterSeconds(refused.retryAfter())).isEqualTo(5);
        assertThat(background.size()).as("no refill while the bucket is known empty").isZero();

        clock.advance(refused.retryAfter());
        take(limits, key, rate);
        assertThat(store.calls.get()).as("once the wait has passed, the store is asked again").isEqualTo(calls + 1);
    }

    @Test
    void leasedTokensExpireAndTheNextRequestAsksTheStore() {
        CountingStore store = store(redis, RedisLimits.HEALTHY_TIMEOUT);
        SharedLimits limits = instance(store, 1);
        Rate rate = new Rate(50, 100); // leases of 5
        String key = key("expiring");

        take(limits, key, rate);
        clock.advance(SharedLimits.LEASE_TTL.minusNanos(1));
        take(limits, key, rate);
        assertThat(store.calls.get()).isEqualTo(1);
        clock.advance(Duration.ofNanos(1));
        take(limits, key, rate);
        assertThat(store.calls.get()).isEqualTo(2);
    }

    @Test
    void theLeaseSizeKeepsTheFleetWithinHalfABucketAndATenthOfASecond() {
        assertThat(SharedLimits.leaseSize(new Rate(50, 100), 1)).isEqualTo(5);
        assertThat(SharedLimits.leaseSize(new Rate(2000, 100), 4)).isEqualTo(12);
        assertThat(SharedLimits.leaseSize(new Rate(1, 20), 1)).isEqualTo(1);
        assertThat(SharedLimits.leaseSize(new Rate(1000, 1), 10)).isEqualTo(1);
    }

    @Test
    void aRefusalByAnEarlierLimitTakesNothingFromTheLaterOnes() {
        CountingStore store = store(redis, RedisLimits.HEALTHY_TIMEOUT);
        SharedLimits limits = instance(store, 1);
        Rate one = new Rate(0.1, 1);
        Rate product = new Rate(10, 2); // leases of 1
        List<LimitStore.Check> checks = List.of(new LimitStore.Take(key("addr"), one), new LimitStore.Take(key("product"), product));

        assertThat(limits.decide(checks).granted()).isTrue();
        LimitStore.Decision refused = limits.decide(checks);

        assertThat(refused.refused()).isZero();
        // The product's token taken for the refused request went back to the lease.
        assertThat(take(limits, key("product"), product).granted()).isTrue();
        assertThat(store.calls.get()).isEqualTo(2);
    }

    @Test
    void chargesReachTheStoreExactlyOnceInOneFlush() throws Exception {
        CountingStore store = store(redis, RedisLimits.HEALTHY_TIMEOUT);
        SharedLimits a = instance(store, 2);
        SharedLimits b = instance(store(redis, RedisLimits.HEALTHY_TIMEOUT), 2);
        String key = key("product");
        long sum = 0;
        for (int i = 1; i <= 50; i++) {
            a.charge(key, QuotaPeriod.DAY, i);
            a.charge(key, QuotaPeriod.HOUR, i);
            sum += i;
        }
        b.charge(key, QuotaPeriod.DAY, 1000);
        assertThat(store.calls.get()).as("charges ask nothing").isZero();

        b.flush();
        a.flush(); // answers the fleet's totals, b's bytes included
        a.flush();

        String day = SharedLimits.counterKey(key, QuotaWindow.at(QuotaPeriod.DAY, clock.instant()));
        assertThat(redis.cli("GET", day).trim()).isEqualTo(Long.toString(sum + 1000));
        assertThat(redis.cli("GET", SharedLimits.counterKey(key, QuotaWindow.at(QuotaPeriod.HOUR, clock.instant()))).trim())
                .isEqualTo(Long.toString(sum));
        assertThat(redis.cli("PEXPIRETIME", day).trim()).isEqualTo(Long.toString(Instant.parse("2030-01-02T01:00:00Z").toEpochMilli()));
        assertThat(day).startsWith("sluice:v1:quota:").doesNotContain(run);
        assertThat(store.calls.get()).as("one flush with charges, one with none").isEqualTo(1);
        assertThat(a.unwritten()).isZero();
        assertThat(a.decide(List.of(new LimitStore.Quota(key, QuotaPeriod.DAY, sum + 1001))).granted()).isTrue();
        assertThat(a.decide(List.of(new LimitStore.Quota(key, QuotaPeriod.DAY, sum + 1000))).granted()).isFalse();
    }

    @Test
    void aQuotaViewInUseIsRefreshedByTheFlushAndAnIdleOneIsReadAgainNotGuessed() {
        CountingStore store = store(redis, RedisLimits.HEALTHY_TIMEOUT);
        SharedLimits a = instance(store, 2);
        SharedLimits b = instance(store(redis, RedisLimits.HEALTHY_TIMEOUT), 2);
        String key = key("refreshed");
        LimitStore.Quota under2000 = new LimitStore.Quota(key, QuotaPeriod.DAY, 2000);
        assertThat(a.decide(List.of(under2000)).granted()).isTrue(); // cold: read
        b.charge(key, QuotaPeriod.DAY, 1500);
        b.flush();

        clock.advance(SharedLimits.FLUSH_INTERVAL.dividedBy(2));
        assertThat(a.decide(List.of(under2000)).granted()).as("the view of 0, in use").isTrue();
        a.flush(); // reads back the fleet's total
        assertThat(a.decide(List.of(new LimitStore.Quota(key, QuotaPeriod.DAY, 1500))).granted()).isFalse();
        assertThat(store.calls.get()).isEqualTo(2);

        b.charge(key, QuotaPeriod.DAY, 500);
        b.flush();
        clock.advance(SharedLimits.STALE.plusNanos(1)); // no check, no flush of a meanwhile: the view is idle
        assertThat(a.decide(List.of(under2000)).granted()).as("read again in the request's one call").isFalse();
        assertThat(store.calls.get()).isEqualTo(3);
        assertThat(events).isEmpty();
    }

    @Test
    void aNewPeriodStartsFromZeroWhileTheLongerOneKeepsCounting() throws Exception {
        SharedLimits a = instance(store(redis, RedisLimits.HEALTHY_TIMEOUT), 1);
        String key = key("principal");
        a.charge(key, QuotaPeriod.HOUR, 500);
        a.charge(key, QuotaPeriod.DAY, 500);
        clock.set(Instant.parse("2030-01-01T10:59:59.999Z"));
        a.charge(key, QuotaPeriod.HOUR, 1);
        a.flush();
        assertThat(redis.cli("GET", SharedLimits.counterKey(key, QuotaWindow.at(QuotaPeriod.HOUR, clock.instant()))).trim())
                .isEqualTo("501");

        clock.set(Instant.parse("2030-01-01T11:00:00Z"));
        assertThat(a.decide(List.of(new LimitStore.Quota(key, QuotaPeriod.HOUR, 1))).granted()).isTrue();
        a.charge(key, QuotaPeriod.HOUR, 7);
        a.charge(key, QuotaPeriod.DAY, 7);
        a.flush();

        assertThat(redis.cli("GET", SharedLimits.counterKey(key, QuotaWindow.at(QuotaPeriod.HOUR, clock.instant()))).trim())
                .isEqualTo("7");
        assertThat(a.decide(List.of(new LimitStore.Quota(key, QuotaPeriod.DAY, 508))).granted()).isTrue();
        assertThat(a.decide(List.of(new LimitStore.Quota(key, QuotaPeriod.DAY, 507))).granted()).isFalse();
        clock.set(Instant.parse("2030-01-02T00:00:00Z"));
        assertThat(a.decide(List.of(new LimitStore.Quota(key, QuotaPeriod.DAY, 1))).granted()).isTrue();
    }

    @Test
    void chargesDuringAnOutageAreKeptAndWrittenBackOnceRedisAnswersAgain() throws Exception {
        try (RedisProcess own = RedisProcess.start()) {
            CountingStore store = store(own, RedisLimits.TIMEOUT);
            SharedLimits limits = instance(store, 1);
            String key = key("outage");
            String stored = SharedLimits.counterKey(key, QuotaWindow.at(QuotaPeriod.DAY, clock.instant()));
            own.kill();

            limits.charge(key, QuotaPeriod.DAY, 700);
            RedisLimits.within(() -> {
                limits.flush();
                return null;
            });
            limits.charge(key, QuotaPeriod.DAY, 50);
            limits.flush();
            limits.flush();
            assertThat(limits.unwritten()).isEqualTo(750);

            own.restart();
            reconnected(store);
            limits.flush();
            limits.flush();

            assertThat(own.cli("GET", stored).trim()).isEqualTo("750");
            assertThat(limits.unwritten()).isZero();
        }
    }

    @Test
    void aBatchWhoseReplyWasLostIsNotAppliedTwice() throws Exception {
        try (RedisProcess own = RedisProcess.start()) {
            CountingStore store = store(own, RedisLimits.TIMEOUT);
            SharedLimits limits = instance(store, 1);
            String key = key("lost-reply");
            String stored = SharedLimits.counterKey(key, QuotaWindow.at(QuotaPeriod.DAY, clock.instant()));
            limits.charge(key, QuotaPeriod.DAY, 100);
            limits.flush();

            limits.charge(key, QuotaPeriod.DAY, 30);
            own.pause();
            try {
                limits.flush(); // sent, but answered only after the store's timeout: the batch is kept
            } finally {
                own.resume();
            }
            assertThat(limits.unwritten()).isEqualTo(30);
            RedisLimits.connected(store);
            limits.charge(key, QuotaPeriod.DAY, 5);
            limits.flush();

            assertThat(own.cli("GET", stored).trim()).isEqualTo("135");
            assertThat(limits.unwritten()).isZero();
        }
    }

    @Test
    void theRequestAfterTheOneThatCrossedTheQuotaIsRefusedAtOnce() throws Exception {
        CountingStore store = store(redis, RedisLimits.HEALTHY_TIMEOUT);
        SharedLimits limits = instance(store, 1);
        String product = "quota-" + run;
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Gate gate = gate(limits, registry, product);
        try (Gate.Pass pass = gate.pass(InetAddress.getByName("192.0.2.20"), List::of)) {
            pass.admit(Principal.Anonymous.UNSIGNED, ACME, Optional.of(product), true);
            pass.charge(1200); // a download is not cut
        }
        int calls = store.calls.get();
        try (Gate.Pass pass = gate.pass(InetAddress.getByName("192.0.2.20"), List::of)) {
            assertThatThrownBy(() -> pass.admit(Principal.Anonymous.UNSIGNED, ACME, Optional.of(product), true))
                    .isInstanceOfSatisfying(S3Exception.class, e -> {
                        assertThat(e.error()).isEqualTo(S3Error.ACCESS_DENIED);
                        assertThat(e.clientMessage()).isEqualTo("This product's daily download quota is used up.");
                    });
        }
        assertThat(store.calls.get()).as("decided from this instance's view, its own charge included").isEqualTo(calls);
        assertThat(registry.get("sluice.limit.hits").tag("kind", "quota").counter().count()).isEqualTo(1);
    }

    @Test
    void theStoreHoldsABucketUnderASyntheticKeyThatExpiresOnceItWouldBeFull() throws Exception {
        SharedLimits limits = instance(store(redis, RedisLimits.HEALTHY_TIMEOUT), 1);
        String address = "198.51.100.7-" + run;
        Rate rate = new Rate(10, 50); // leases of 1

        take(limits, address, rate);

        String stored = SharedLimits.bucketKey(address);
        assertThat(stored).startsWith("sluice:v1:rl:").doesNotContain("198.51.100.7").doesNotContain(run);
        assertThat(redis.cli("--scan", "--pattern", "*198.51.100.7*").trim()).isEmpty();
        assertThat(redis.cli("HGET", stored, "tokens").trim()).isEqualTo("49");
        long pttl = Long.parseLong(redis.cli("PTTL", stored).trim());
        assertThat(pttl).isPositive().isLessThanOrEqualTo(SharedLimits.expiryMillis(rate));
        assertThat(SharedLimits.expiryMillis(rate)).isEqualTo(6_000);
    }

    @Test
    void withRedisKilledEachDecisionFallsBackAtOnceToThisInstancesShare() throws Exception {
        try (RedisProcess own = RedisProcess.start()) {
            SharedLimits limits = instance(store(own, RedisLimits.TIMEOUT), 2);
            Rate fleet = new Rate(10, 8);
            own.kill();

            List<Duration> answers = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                LimitStore.Decision d = RedisLimits.within(() -> take(limits, key("killed"), fleet));
                answers.add(d.granted() ? Duration.ZERO : d.retryAfter());
            }

            // The share of a fleet of 2: burst 4, 5 tokens a second; the test's clock stands still.
            assertThat(answers.subList(0, 4)).allMatch(Duration::isZero);
            assertThat(answers.subList(4, 20)).allMatch(Duration.ofMillis(200)::equals);
            assertThat(events).filteredOn("fallback BUCKETS"::equals).hasSize(20);
            assertThat(events).filteredOn(e -> e.startsWith("SHARED")).isEmpty();
        }
    }

    @Test
    void withRedisPausedEachDecisionFallsBackWithinTheStoreTimeout() throws Exception {
        try (RedisProcess own = RedisProcess.start()) {
            SharedLimits limits = instance(store(own, RedisLimits.TIMEOUT), 4);
            Rate fleet = new Rate(40, 20);
            String quota = key("paused-quota");
            own.pause();
            List<Duration> answers = new ArrayList<>();
            try {
                for (int i = 0; i < 10; i++) {
                    LimitStore.Decision d = RedisLimits.within(() -> limits.decide(List.of(
                            new LimitStore.Take(key("paused"), fleet), new LimitStore.Quota(quota, QuotaPeriod.HOUR, 1_000_000))));
                    answers.add(d.granted() ? Duration.ZERO : d.retryAfter());
                    limits.charge(quota, QuotaPeriod.HOUR, 100);
                }
            } finally {
                own.resume();
            }

            // Share of 4: burst 5, 10 a second.
            assertThat(answers.subList(0, 5)).allMatch(Duration::isZero);
            assertThat(answers.subList(5, 10)).allMatch(Duration.ofMillis(100)::equals);
            assertThat(events).filteredOn("fallback BUCKETS"::equals).hasSize(10);
            assertThat(limits.unwritten()).isEqualTo(1000);
        }
    }

    @Test
    void withRedisKilledAnExhaustedQuotaStaysExhaustedAndANewKeyCountsItsShare() throws Exception {
        try (RedisProcess own = RedisProcess.start()) {
            SharedLimits a = instance(store(own, RedisLimits.TIMEOUT), 4);
            SharedLimits b = instance(store(own, RedisLimits.HEALTHY_TIMEOUT), 4);
            String busy = key("busy");
            String quiet = key("quiet");
            b.charge(busy, QuotaPeriod.DAY, 10_000);
            b.flush();
            assertThat(a.decide(List.of(new LimitStore.Quota(busy, QuotaPeriod.DAY, 10_001))).granted()).isTrue();
            own.kill();
            clock.advance(SharedLimits.STALE.plusNanos(1)); // the flushes fail: the view goes stale

            a.flush();
            // The last fleet total this instance saw stands: the outage does not reopen the quota.
            assertThat(a.decide(List.of(new LimitStore.Quota(busy, QuotaPeriod.DAY, 10_000))).refused()).isZero();
            // A key it has no fleet figure for: its own bytes, as a share of a fleet of 4.
            a.charge(quiet, QuotaPeriod.DAY, 300);
            assertThat(RedisLimits.within(() -> a.decide(List.of(new LimitStore.Quota(quiet, QuotaPeriod.DAY, 1_201)))).granted()).isTrue();
            assertThat(a.decide(List.of(new LimitStore.Quota(quiet, QuotaPeriod.DAY, 1_200))).granted()).isFalse();
            assertThat(events).contains("fallback BYTES").noneMatch(e -> e.startsWith("fallback BUCKETS"));
        }
    }

    @Test
    void localCountersAnswerTheBytesServedHereTimesTheFleetSize() {
        LocalByteCounters local = new LocalByteCounters(3, clock);

        assertThat(local.current("k", QuotaPeriod.HOUR)).isZero();
        assertThat(local.add("k", QuotaPeriod.HOUR, 100)).isEqualTo(300);
        assertThat(local.add("k", QuotaPeriod.HOUR, -5)).isEqualTo(300);
        assertThat(local.current("k", QuotaPeriod.DAY)).isZero();
        clock.set(Instant.parse("2030-01-01T11:00:00Z"));
        assertThat(local.current("k", QuotaPeriod.HOUR)).isZero();
        assertThat(local.add("k", QuotaPeriod.HOUR, Long.MAX_VALUE / 2)).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void decisionsAreCountedByStoreAndOutcomeAndNeverByKey() {
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        LimitStoreMetrics metrics = new LimitStoreMetrics(meters);
        SharedLimits shared = instance(store(redis, RedisLimits.HEALTHY_TIMEOUT), 1, metrics);
        SharedLimits unavailable = instance(SharedStore.NONE, 1, metrics);
        String address = "203.0.113.9-" + run;

        Rate rate = new Rate(0.1, 1); // leases of 1, a token every 10 s
        take(shared, address, rate);
        background.runAll();
        take(shared, address, rate);
        take(unavailable, address, rate);

        String scrape = meters.scrape();
        assertThat(scrape)
                .contains("sluice_limit_decisions_total{outcome=\"granted\",store=\"shared\"} 1.0")
                .contains("sluice_limit_decisions_total{outcome=\"limited\",store=\"shared\"} 1.0")
                .contains("sluice_limit_decisions_total{outcome=\"granted\",store=\"local\"} 1.0")
                .contains("sluice_limit_fallbacks_total{kind=\"buckets\"} 1.0")
                .doesNotContain("203.0.113.9");
    }
}
