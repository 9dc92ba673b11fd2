package dev.sluice.protect;

import dev.sluice.cache.RedisSharedStore;
import dev.sluice.observe.LimitStoreMetrics;
import dev.sluice.testing.MutableClock;
import dev.sluice.testing.RedisProcess;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fleet-wide buckets on a real {@code redis-server}: instances with stores of their own share one
 * bucket, and when Redis is killed or paused each falls back to its share, at once, never failing.
 * Redis's clock moves on its own, so bounds are computed from the elapsed time measured around
 * the decisions, never waited for.
 */
class SharedTokenBucketsTest {
    private static RedisProcess redis;

    private final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> closing = new ArrayList<>();
    private final String run = UUID.randomUUID().toString();
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

    private RedisSharedStore store(RedisProcess on, Duration timeout) {
        RedisSharedStore s = RedisLimits.store(on, timeout, clock);
        closing.add(s);
        RedisLimits.connected(s);
        return s;
    }

    /** One instance's buckets: its own store on the shared Redis, its own local fallback. */
    private SharedTokenBuckets instance(RedisProcess on, Duration timeout, int fleetSize) {
        return new SharedTokenBuckets(store(on, timeout), new LocalTokenBuckets(fleetSize, clock, observer), observer);
    }

    private String key(String name) {
        return run + ":" + name;
    }

    @Test
    void twoInstancesOnOneRedisTogetherGrantWhatOneBucketAllows() throws Exception {
        SharedTokenBuckets a = instance(redis, RedisLimits.HEALTHY_TIMEOUT, 2);
        SharedTokenBuckets b = instance(redis, RedisLimits.HEALTHY_TIMEOUT, 2);
        Rate rate = new Rate(20, 10);
        String key = key("client");
        int attemptsEach = 150;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            List<Future<Integer>> granted = new ArrayList<>();
            for (SharedTokenBuckets instance : List.of(a, b)) {
                granted.add(threads.submit(() -> {
                    start.await();
                    int n = 0;
                    for (int i = 0; i < attemptsEach; i++) {
                        if (instance.take(key, rate).isZero()) {
                            n++;
                        }
                    }
                    return n;
                }));
            }
            long began = System.nanoTime();
            start.countDown();
            int byA = granted.get(0).get(30, TimeUnit.SECONDS);
            int byB = granted.get(1).get(30, TimeUnit.SECONDS);
            double elapsedSeconds = (System.nanoTime() - began) / 1e9;

            // One bucket allows its burst plus what refilled meanwhile (within one token); two
            // separate buckets would have allowed twice the burst.
            assertThat(byA + byB).as("granted in %.3f s", elapsedSeconds)
                    .isGreaterThanOrEqualTo(10)
                    .isLessThanOrEqualTo((int) Math.floor(10 + 20 * elapsedSeconds + 1));
            assertThat(events).noneMatch(e -> e.startsWith("fallback") || e.startsWith("LOCAL"));
            assertThat(events).filteredOn("SHARED granted"::equals).hasSize(byA + byB);
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void aLimitedTakeAnswersTheWaitUntilTheRateRefillsAToken() {
        SharedTokenBuckets buckets = instance(redis, RedisLimits.HEALTHY_TIMEOUT, 1);
        Rate rate = new Rate(2, 1);
        long began = System.nanoTime();

        assertThat(buckets.take(key("one"), rate)).isZero();
        Duration wait = buckets.take(key("one"), rate);
        Duration elapsed = Duration.ofNanos(System.nanoTime() - began);

        // The bucket was emptied at most `elapsed` ago (Redis counts whole milliseconds); a token takes 500 ms.
        assertThat(wait).isLessThanOrEqualTo(Duration.ofMillis(500))
                .isGreaterThanOrEqualTo(Duration.ofMillis(500).minus(elapsed).minusMillis(1));
        assertThat(events).containsExactly("SHARED granted", "SHARED limited");
    }

    @Test
    void theStoreHoldsTheBucketUnderASyntheticKeyThatExpiresOnceItWouldBeFull() throws Exception {
        SharedTokenBuckets buckets = instance(redis, RedisLimits.HEALTHY_TIMEOUT, 1);
        String address = "198.51.100.7-" + run;
        Rate rate = new Rate(10, 50);

        buckets.take(address, rate);

        String stored = SharedTokenBuckets.storeKey(address);
        assertThat(stored).startsWith("sluice:v1:rl:").doesNotContain("198.51.100.7").doesNotContain(run);
        assertThat(redis.cli("--scan", "--pattern", "*198.51.100.7*").trim()).isEmpty();
        assertThat(redis.cli("HGET", stored, "tokens").trim()).isEqualTo("49");
        long pttl = Long.parseLong(redis.cli("PTTL", stored).trim());
        assertThat(pttl).isPositive().isLessThanOrEqualTo(SharedTokenBuckets.expiryMillis(rate));
        assertThat(SharedTokenBuckets.expiryMillis(rate)).isEqualTo(6_000);
    }

    @Test
    void withRedisKilledEachDecisionFallsBackAtOnceToThisInstancesShare() throws Exception {
        try (RedisProcess own = RedisProcess.start()) {
            SharedTokenBuckets buckets = instance(own, RedisLimits.TIMEOUT, 2);
            Rate fleet = new Rate(10, 8);
            own.kill();

            List<Duration> answers = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                answers.add(RedisLimits.within(() -> buckets.take(key("killed"), fleet)));
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
            SharedTokenBuckets buckets = instance(own, RedisLimits.TIMEOUT, 4);
            Rate fleet = new Rate(40, 20);
            own.pause();
            List<Duration> answers = new ArrayList<>();
            try {
                for (int i = 0; i < 10; i++) {
                    answers.add(RedisLimits.within(() -> buckets.take(key("paused"), fleet)));
                }
            } finally {
                own.resume();
            }

            // Share of 4: burst 5, 10 a second.
            assertThat(answers.subList(0, 5)).allMatch(Duration::isZero);
            assertThat(answers.subList(5, 10)).allMatch(Duration.ofMillis(100)::equals);
            assertThat(events).filteredOn("fallback BUCKETS"::equals).hasSize(10);
        }
    }

    @Test
    void decisionsAreCountedByStoreAndOutcomeAndNeverByKey() {
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        LimitStoreMetrics metrics = new LimitStoreMetrics(meters);
        SharedTokenBuckets shared = new SharedTokenBuckets(store(redis, RedisLimits.HEALTHY_TIMEOUT),
                new LocalTokenBuckets(1, clock, metrics), metrics);
        SharedTokenBuckets unavailable = new SharedTokenBuckets(dev.sluice.cache.SharedStore.NONE,
                new LocalTokenBuckets(1, clock, metrics), metrics);
        String address = "203.0.113.9-" + run;

        shared.take(address, new Rate(1, 1));
        shared.take(address, new Rate(1, 1));
        unavailable.take(address, new Rate(1, 1));

        String scrape = meters.scrape();
        assertThat(scrape)
                .contains("sluice_limit_decisions_total{outcome=\"granted\",store=\"shared\"} 1.0")
                .contains("sluice_limit_decisions_total{outcome=\"limited\",store=\"shared\"} 1.0")
                .contains("sluice_limit_decisions_total{outcome=\"granted\",store=\"local\"} 1.0")
                .contains("sluice_limit_fallbacks_total{kind=\"buckets\"} 1.0")
                .doesNotContain("203.0.113.9");
    }
}
