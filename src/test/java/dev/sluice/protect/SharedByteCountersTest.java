package dev.sluice.protect;

import dev.sluice.cache.RedisSharedStore;
import dev.sluice.testing.MutableClock;
import dev.sluice.testing.RedisProcess;
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

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fleet-wide byte counters on a real {@code redis-server}: instances add to one total per key and
 * period, a new period starts from zero, and with Redis gone each instance answers its share.
 */
class SharedByteCountersTest {
    private static RedisProcess redis;

    /** In the future, so the counters' absolute expiry ({@code PEXPIREAT}) lies ahead of Redis's own clock. */
    private final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T10:59:30Z"));
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> closing = new ArrayList<>();
    private final String run = UUID.randomUUID().toString();
    private final LimitStoreObserver observer = new LimitStoreObserver() {
        @Override
        public void decision(Store store, boolean granted) {
            events.add(store + " " + granted);
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

    private SharedByteCounters instance(RedisProcess on, Duration timeout, int fleetSize) {
        RedisSharedStore store = RedisLimits.store(on, timeout, clock);
        closing.add(store);
        RedisLimits.connected(store);
        return new SharedByteCounters(store, clock, new LocalByteCounters(fleetSize, clock), observer);
    }

    private String key(String name) {
        return run + ":" + name;
    }

    @Test
    void twoInstancesAddToOneTotalAndEachReadsIt() {
        SharedByteCounters a = instance(redis, RedisLimits.HEALTHY_TIMEOUT, 2);
        SharedByteCounters b = instance(redis, RedisLimits.HEALTHY_TIMEOUT, 2);
        String key = key("product");

        assertThat(a.current(key, QuotaPeriod.DAY)).isZero();
        assertThat(a.add(key, QuotaPeriod.DAY, 1_000)).isEqualTo(1_000);
        assertThat(b.add(key, QuotaPeriod.DAY, 234)).isEqualTo(1_234);
        assertThat(a.add(key, QuotaPeriod.DAY, 0)).isEqualTo(1_234);

        assertThat(a.current(key, QuotaPeriod.DAY)).isEqualTo(1_234);
        assertThat(b.current(key, QuotaPeriod.DAY)).isEqualTo(1_234);
        assertThat(b.current(key, QuotaPeriod.HOUR)).isZero();
        assertThat(events).isEmpty();
    }

    @Test
    void aNewPeriodStartsFromZeroWhileTheLongerOneKeepsCounting() {
        SharedByteCounters a = instance(redis, RedisLimits.HEALTHY_TIMEOUT, 1);
        SharedByteCounters b = instance(redis, RedisLimits.HEALTHY_TIMEOUT, 1);
        String key = key("principal");
        a.add(key, QuotaPeriod.HOUR, 500);
        a.add(key, QuotaPeriod.DAY, 500);

        clock.set(Instant.parse("2030-01-01T10:59:59.999Z"));
        assertThat(b.add(key, QuotaPeriod.HOUR, 1)).isEqualTo(501);
        clock.set(Instant.parse("2030-01-01T11:00:00Z"));

        assertThat(b.current(key, QuotaPeriod.HOUR)).isZero();
        assertThat(b.add(key, QuotaPeriod.HOUR, 7)).isEqualTo(7);
        assertThat(a.add(key, QuotaPeriod.DAY, 7)).isEqualTo(507);
        clock.set(Instant.parse("2030-01-02T00:00:00Z"));
        assertThat(a.current(key, QuotaPeriod.DAY)).isZero();
    }

    @Test
    void aCounterLivesUntilAnHourAfterItsPeriodEndsUnderASyntheticKey() throws Exception {
        SharedByteCounters a = instance(redis, RedisLimits.HEALTHY_TIMEOUT, 1);
        String key = "AKIAEXAMPLEKEYID-" + run;

        a.add(key, QuotaPeriod.HOUR, 42);

        String stored = SharedByteCounters.storeKey(key, QuotaWindow.at(QuotaPeriod.HOUR, clock.instant()));
        assertThat(stored).startsWith("sluice:v1:quota:").endsWith(":hour:" + Instant.parse("2030-01-01T10:00:00Z").getEpochSecond())
                .doesNotContain("AKIAEXAMPLEKEYID").doesNotContain(run);
        assertThat(redis.cli("GET", stored).trim()).isEqualTo("42");
        assertThat(redis.cli("PEXPIRETIME", stored).trim())
                .isEqualTo(Long.toString(Instant.parse("2030-01-01T12:00:00Z").toEpochMilli()));
        assertThat(redis.cli("--scan", "--pattern", "*AKIAEXAMPLEKEYID*").trim()).isEmpty();
    }

    @Test
    void withRedisKilledEachInstanceCountsItsShareAndAnExhaustedQuotaStaysExhausted() throws Exception {
        try (RedisProcess own = RedisProcess.start()) {
            SharedByteCounters a = instance(own, RedisLimits.TIMEOUT, 4);
            SharedByteCounters b = instance(own, RedisLimits.HEALTHY_TIMEOUT, 4);
            String busy = key("busy");
            String quiet = key("quiet");
            b.add(busy, QuotaPeriod.DAY, 10_000);
            assertThat(a.add(busy, QuotaPeriod.DAY, 100)).isEqualTo(10_100);
            own.kill();

            // The last fleet total this instance saw stands: the outage does not reopen the quota.
            assertThat(RedisLimits.within(() -> a.current(busy, QuotaPeriod.DAY))).isEqualTo(10_100);
            assertThat(RedisLimits.within(() -> a.add(busy, QuotaPeriod.DAY, 10))).isEqualTo(10_100);
            // A key it has no fleet figure for: its own bytes, as a share of a fleet of 4.
            assertThat(RedisLimits.within(() -> a.add(quiet, QuotaPeriod.DAY, 300))).isEqualTo(1_200);
            assertThat(RedisLimits.within(() -> a.current(quiet, QuotaPeriod.DAY))).isEqualTo(1_200);
            assertThat(events).containsExactly("fallback BYTES", "fallback BYTES", "fallback BYTES", "fallback BYTES");
        }
    }

    @Test
    void withRedisPausedEachCallFallsBackWithinTheStoreTimeout() throws Exception {
        try (RedisProcess own = RedisProcess.start()) {
            SharedByteCounters a = instance(own, RedisLimits.TIMEOUT, 2);
            own.pause();
            try {
                for (int i = 1; i <= 5; i++) {
                    assertThat(RedisLimits.within(() -> a.add(key("paused"), QuotaPeriod.HOUR, 10))).isEqualTo(20L * i);
                }
            } finally {
                own.resume();
            }
            assertThat(events).filteredOn("fallback BYTES"::equals).hasSize(5);
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
}
