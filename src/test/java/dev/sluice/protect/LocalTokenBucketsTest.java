package dev.sluice.protect;

import dev.sluice.testing.MutableClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Per-instance buckets driven by a clock the test moves: each refill and wait exact. */
class LocalTokenBucketsTest {
    private final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
    private final List<String> decisions = new ArrayList<>();
    private final LimitStoreObserver observer = new LimitStoreObserver() {
        @Override
        public void decision(Store store, boolean granted) {
            decisions.add(store + " " + (granted ? "granted" : "limited"));
        }

        @Override
        public void fallback(Kind kind) {
            decisions.add("fallback " + kind);
        }
    };

    private int granted(TokenBuckets buckets, String key, Rate rate, int attempts) {
        int n = 0;
        for (int i = 0; i < attempts; i++) {
            if (buckets.take(key, rate).isZero()) {
                n++;
            }
        }
        return n;
    }

    @Test
    void aFleetOfOneGrantsTheBurstThenAnswersTheWaitForTheNextToken() {
        LocalTokenBuckets buckets = new LocalTokenBuckets(1, clock, observer);
        Rate rate = new Rate(4, 3);

        assertThat(granted(buckets, "a", rate, 3)).isEqualTo(3);
        assertThat(buckets.take("a", rate)).isEqualTo(Duration.ofMillis(250));
        assertThat(decisions).containsExactly("LOCAL granted", "LOCAL granted", "LOCAL granted", "LOCAL limited");
    }

    @Test
    void eachInstanceHoldsItsShareOfTheFleetsRateAndBurst() {
        LocalTokenBuckets buckets = new LocalTokenBuckets(4, clock, observer);
        Rate fleet = new Rate(20, 40);

        assertThat(buckets.share(fleet)).isEqualTo(new Rate(5, 10));
        assertThat(granted(buckets, "a", fleet, 100)).isEqualTo(10);
        assertThat(buckets.take("a", fleet)).isEqualTo(Duration.ofMillis(200));

        clock.advance(Duration.ofSeconds(1));
        assertThat(granted(buckets, "a", fleet, 100)).isEqualTo(5);
    }

    @Test
    void aShareIsAtLeastOneToken() {
        LocalTokenBuckets buckets = new LocalTokenBuckets(10, clock, observer);

        assertThat(buckets.share(new Rate(5, 3))).isEqualTo(new Rate(0.5, 1));
        assertThat(granted(buckets, "a", new Rate(5, 3), 5)).isEqualTo(1);
        assertThat(buckets.take("a", new Rate(5, 3))).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void refillsAtTheRateUpToTheBurstAndNoFurther() {
        LocalTokenBuckets buckets = new LocalTokenBuckets(1, clock, observer);
        Rate rate = new Rate(10, 5);
        assertThat(granted(buckets, "a", rate, 5)).isEqualTo(5);

        clock.advance(Duration.ofMillis(99));
        assertThat(buckets.take("a", rate)).isEqualTo(Duration.ofMillis(1));
        clock.advance(Duration.ofMillis(1));
        assertThat(buckets.take("a", rate)).isZero();

        clock.advance(Duration.ofHours(1));
        assertThat(granted(buckets, "a", rate, 100)).isEqualTo(5);
    }

    @Test
    void keysHaveTheirOwnBuckets() {
        LocalTokenBuckets buckets = new LocalTokenBuckets(1, clock, observer);
        Rate rate = new Rate(1, 1);

        assertThat(buckets.take("a", rate)).isZero();
        assertThat(buckets.take("a", rate)).isPositive();
        assertThat(buckets.take("b", rate)).isZero();
    }

    /** Bounded: beyond the maximum, buckets are dropped (a dropped bucket comes back full), never an unbounded map. */
    @Test
    void holdsAtMostTheConfiguredNumberOfBuckets() {
        LocalTokenBuckets buckets = new LocalTokenBuckets(1, clock, observer, 10, Duration.ofMinutes(10));
        Rate rate = new Rate(1, 1);
        for (int i = 0; i < 1_000; i++) {
            buckets.take("client-" + i, rate);
        }

        assertThat(buckets.size()).isLessThanOrEqualTo(10);
    }

    @Test
    void anIdleBucketExpires() {
        LocalTokenBuckets buckets = new LocalTokenBuckets(1, clock, observer, 10, Duration.ofMinutes(10));
        buckets.take("a", new Rate(1, 1));
        assertThat(buckets.size()).isEqualTo(1);

        clock.advance(Duration.ofMinutes(10).plusNanos(1));

        assertThat(buckets.size()).isZero();
    }

    @Test
    void aFleetHasAtLeastOneInstance() {
        assertThatThrownBy(() -> new LocalTokenBuckets(0, clock, observer)).isInstanceOf(IllegalArgumentException.class);
    }
}
