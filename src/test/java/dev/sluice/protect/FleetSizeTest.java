package dev.sluice.protect;

import dev.sluice.cache.RedisSharedStore;
import dev.sluice.testing.MutableClock;
import dev.sluice.testing.RedisProcess;
import dev.sluice.time.Ticker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fleet size counted in a real {@code redis-server} (docs/protection.md, "Fleet size"):
 * instances with stores of their own register, one that stops beating drops out after
 * {@link FleetSize#EXPIRY}, and when Redis is gone the last count is kept. Heartbeats are called
 * by the test and time is the test's clock, so nothing waits for a heartbeat or an expiry.
 */
class FleetSizeTest {
    private final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
    private final String key = "sluice:test:fleet:" + UUID.randomUUID();
    private final List<AutoCloseable> closing = new ArrayList<>();
    private RedisProcess redis;

    @BeforeEach
    void startRedis() throws Exception {
        redis = RedisProcess.start();
        closing.add(redis);
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing.reversed()) {
            c.close();
        }
    }

    /** An instance: a store of its own, as another sluice process would have. */
    private FleetSize instance(String id) {
        RedisSharedStore store = RedisLimits.store(redis, RedisLimits.HEALTHY_TIMEOUT, clock);
        closing.add(store);
        RedisLimits.connected(store);
        return new FleetSize(store, key, id, clock);
    }

    @Test
    void twoInstancesBeatingAreAFleetOfTwoAndOneThatStopsDropsOutAfterTheExpiry() {
        FleetSize a = instance("a");
        FleetSize b = instance("b");
        assertThat(a.getAsInt()).as("before any beat").isEqualTo(1);
        a.beat();
        assertThat(a.getAsInt()).isEqualTo(1);
        b.beat();
        a.beat();
        assertThat(a.getAsInt()).isEqualTo(2);
        assertThat(b.getAsInt()).isEqualTo(2);

        // b stops beating; a goes on, and counts b until b's last beat is older than the expiry.
        for (Duration step = Duration.ZERO; step.compareTo(FleetSize.EXPIRY) < 0; step = step.plus(FleetSize.HEARTBEAT)) {
            clock.advance(FleetSize.HEARTBEAT);
            a.beat();
        }
        assertThat(a.getAsInt()).as("b last seen exactly one expiry ago").isEqualTo(2);
        clock.advance(Duration.ofMillis(1));
        a.beat();
        assertThat(a.getAsInt()).isEqualTo(1);

        // Back again: counted at its next beat.
        b.beat();
        a.beat();
        assertThat(a.getAsInt()).isEqualTo(2);
    }

    @Test
    void anInstanceThatLeavesIsNotCountedAtTheNextBeat() {
        FleetSize a = instance("a");
        FleetSize b = instance("b");
        a.beat();
        b.beat();
        b.close();
        a.beat();
        assertThat(a.getAsInt()).isEqualTo(1);
    }

    @Test
    void whenRedisIsGoneTheLastCountIsKept() {
        FleetSize a = instance("a");
        FleetSize b = instance("b");
        FleetSize c = instance("c");
        a.beat();
        b.beat();
        c.beat();
        a.beat();
        assertThat(a.getAsInt()).isEqualTo(3);

        redis.kill();
        clock.advance(FleetSize.EXPIRY.multipliedBy(2));
        a.beat();

        assertThat(a.getAsInt()).isEqualTo(3);
    }

    @Test
    void theLocalBucketsAndCountersTakeTheFleetSizeAsItChanges() {
        int[] fleet = {1};
        LocalTokenBuckets buckets = new LocalTokenBuckets(() -> fleet[0], Ticker.SYSTEM, LimitStoreObserver.NONE);
        LocalByteCounters bytes = new LocalByteCounters(() -> fleet[0], clock);
        Rate rate = new Rate(100, 40);
        assertThat(buckets.share(rate)).isEqualTo(new Rate(100, 40));
        bytes.add("product:acme/files", QuotaPeriod.DAY, 10);
        assertThat(bytes.current("product:acme/files", QuotaPeriod.DAY)).isEqualTo(10);

        fleet[0] = 4;

        assertThat(buckets.share(rate)).isEqualTo(new Rate(25, 10));
        assertThat(bytes.current("product:acme/files", QuotaPeriod.DAY)).isEqualTo(40);
    }
}
