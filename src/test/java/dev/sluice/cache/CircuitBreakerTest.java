package dev.sluice.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.cache.CircuitBreaker.State;
import dev.sluice.testing.MutableClock;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

class CircuitBreakerTest {
    private static final Duration OPEN_FOR = Duration.ofSeconds(5);
    private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

    private final MutableClock clock = new MutableClock(T0);

    private CircuitBreaker breaker(int threshold) {
        return new CircuitBreaker(threshold, OPEN_FOR, clock);
    }

    private static void fail(CircuitBreaker b, int times) {
        for (int i = 0; i < times; i++) {
            b.onFailure();
        }
    }

    /** A breaker with threshold 1 whose open period has just run out: the next allow() is the probe. */
    private CircuitBreaker probeDue() {
        CircuitBreaker b = breaker(1);
        b.onFailure();
        clock.advance(OPEN_FOR);
        return b;
    }

    @Test
    void startsClosedAndAllowsCalls() {
        CircuitBreaker b = breaker(3);

        assertThat(b.state()).isEqualTo(State.CLOSED);
        assertThat(b.allow()).isTrue();
        assertThat(b.transitions()).isZero();
    }

    @Test
    void thresholdBelowOneIsRejected() {
        assertThatThrownBy(() -> new CircuitBreaker(0, OPEN_FOR, clock)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CircuitBreaker(-1, OPEN_FOR, clock)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void staysClosedUntilThresholdConsecutiveFailures() {
        CircuitBreaker b = breaker(3);

        fail(b, 2);
        assertThat(b.state()).isEqualTo(State.CLOSED);
        assertThat(b.allow()).isTrue();

        b.onFailure();
        assertThat(b.state()).isEqualTo(State.OPEN);
        assertThat(b.allow()).isFalse();
        assertThat(b.transitions()).isEqualTo(1);
    }

    @Test
    void thresholdOfOneOpensOnTheFirstFailure() {
        CircuitBreaker b = breaker(1);

        b.onFailure();

        assertThat(b.state()).isEqualTo(State.OPEN);
    }

    @Test
    void aSuccessResetsTheFailureCount() {
        CircuitBreaker b = breaker(3);

        fail(b, 2);
        b.onSuccess();
        fail(b, 2);
        assertThat(b.state()).as("two failures since the success").isEqualTo(State.CLOSED);
        assertThat(b.transitions()).isZero();

        b.onFailure();
        assertThat(b.state()).isEqualTo(State.OPEN);
    }

    @Test
    void staysOpenUntilOneNanosecondBeforeTheOpenPeriodEnds() {
        CircuitBreaker b = breaker(2);
        fail(b, 2);

        clock.advance(OPEN_FOR.minusNanos(1));

        assertThat(b.allow()).isFalse();
        assertThat(b.state()).isEqualTo(State.OPEN);
    }

    @Test
    void allowsOneProbeExactlyWhenTheOpenPeriodEnds() {
        CircuitBreaker b = breaker(2);
        fail(b, 2);
        clock.advance(OPEN_FOR);

        assertThat(b.allow()).isTrue();
        assertThat(b.state()).isEqualTo(State.HALF_OPEN);
        assertThat(b.allow()).as("the probe is out").isFalse();
        assertThat(b.transitions()).isEqualTo(2);
    }

    @Test
    void halfOpenLetsOnlyOneOfManyConcurrentCallersThrough() throws Exception {
        CircuitBreaker b = probeDue();
        int callers = 50;
        CountDownLatch ready = new CountDownLatch(callers);
        CountDownLatch go = new CountDownLatch(1);
        AtomicInteger allowed = new AtomicInteger();
        try (ExecutorService pool = Executors.newFixedThreadPool(callers)) {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < callers; i++) {
                done.add(pool.submit(() -> {
                    ready.countDown();
                    go.await();
                    if (b.allow()) {
                        allowed.incrementAndGet();
                    }
                    return null;
                }));
            }
            assertThat(ready.await(10, TimeUnit.SECONDS)).isTrue();
            go.countDown();
            for (Future<?> f : done) {
                f.get(10, TimeUnit.SECONDS);
            }
        }

        assertThat(allowed).hasValue(1);
        assertThat(b.state()).isEqualTo(State.HALF_OPEN);
    }

    @Test
    void concurrentFailuresOpenTheBreakerOnce() throws Exception {
        CircuitBreaker b = breaker(5);
        int callers = 50;
        CountDownLatch go = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newFixedThreadPool(callers)) {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < callers; i++) {
                done.add(pool.submit(() -> {
                    go.await();
                    b.onFailure();
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : done) {
                f.get(10, TimeUnit.SECONDS);
            }
        }

        assertThat(b.state()).isEqualTo(State.OPEN);
        assertThat(b.transitions()).isEqualTo(1);
    }

    @Test
    void aSuccessfulProbeClosesTheBreaker() {
        CircuitBreaker b = probeDue();
        assertThat(b.allow()).isTrue();

        b.onSuccess();

        assertThat(b.state()).isEqualTo(State.CLOSED);
        assertThat(b.allow()).isTrue();
        assertThat(b.transitions()).as("closed→open→half-open→closed").isEqualTo(3);
    }

    @Test
    void afterAProbeSucceedsTheFullThresholdIsNeededToReopen() {
        CircuitBreaker b = breaker(3);
        fail(b, 3);
        clock.advance(OPEN_FOR);
        assertThat(b.allow()).isTrue();
        b.onSuccess();

        fail(b, 2);

        assertThat(b.state()).isEqualTo(State.CLOSED);
    }

    @Test
    void aFailedProbeReopensForAFreshOpenPeriod() {
        CircuitBreaker b = probeDue();
        clock.advance(Duration.ofSeconds(2)); // the probe took a while
        assertThat(b.allow()).isTrue();

        b.onFailure();

        assertThat(b.state()).isEqualTo(State.OPEN);
        assertThat(b.transitions()).as("closed→open→half-open→open").isEqualTo(3);
        clock.advance(OPEN_FOR.minusNanos(1));
        assertThat(b.allow()).as("the new period counts from the probe's failure").isFalse();
        clock.advance(Duration.ofNanos(1));
        assertThat(b.allow()).isTrue();
        assertThat(b.state()).isEqualTo(State.HALF_OPEN);
    }

    @Test
    void aFailedProbeReopensEvenBelowThresholdFailures() {
        CircuitBreaker b = breaker(3);
        fail(b, 3);
        clock.advance(OPEN_FOR);
        assertThat(b.allow()).isTrue();
        b.onSuccess();
        fail(b, 3);
        clock.advance(OPEN_FOR);
        assertThat(b.allow()).isTrue();

        b.onFailure();

        assertThat(b.state()).as("one failed probe is enough").isEqualTo(State.OPEN);
    }

    @Test
    void lateFailuresWhileOpenDoNotExtendTheOpenPeriod() {
        CircuitBreaker b = breaker(1);
        b.onFailure();
        clock.advance(Duration.ofSeconds(3));

        fail(b, 5); // calls that started before the breaker opened, failing late

        clock.advance(OPEN_FOR.minusSeconds(3));
        assertThat(b.allow()).isTrue();
        assertThat(b.transitions()).isEqualTo(2);
    }

    /**
     * A caller racing the failed probe must not see the reopened state with the previous open
     * period's start: it would be let through at once as a second probe.
     */
    @Test
    void aCallerRacingAFailedProbeIsNotLetThroughOnTheOldOpenPeriod() throws Exception {
        GatedClock gated = new GatedClock(clock);
        CircuitBreaker b = new CircuitBreaker(1, OPEN_FOR, gated);
        b.onFailure();
        clock.advance(OPEN_FOR);
        assertThat(b.allow()).as("the probe").isTrue();

        Thread prober = Thread.ofPlatform().unstarted(b::onFailure);
        gated.gate(prober);
        prober.start();
        try {
            assertThat(gated.entered.await(10, TimeUnit.SECONDS)).isTrue();

            assertThat(b.allow()).as("allowed while the failed probe is being recorded").isFalse();
        } finally {
            gated.release.countDown();
            prober.join(10_000);
        }
        assertThat(b.state()).isEqualTo(State.OPEN);
        assertThat(b.allow()).isFalse();
        clock.advance(OPEN_FOR);
        assertThat(b.allow()).isTrue();
    }

    @Test
    void aCallerRacingAReopeningBreakerIsNotLetThroughOnAnEarlierOpenPeriod() throws Exception {
        GatedClock gated = new GatedClock(clock);
        CircuitBreaker b = new CircuitBreaker(1, OPEN_FOR, gated);
        b.onFailure();
        clock.advance(OPEN_FOR);
        assertThat(b.allow()).isTrue();
        b.onSuccess();
        clock.advance(Duration.ofMinutes(10)); // long after the first open period

        Thread failing = Thread.ofPlatform().unstarted(b::onFailure);
        gated.gate(failing);
        failing.start();
        try {
            assertThat(gated.entered.await(10, TimeUnit.SECONDS)).isTrue();

            b.allow(); // a caller arriving mid-failure: must not become a probe on the first open period
        } finally {
            gated.release.countDown();
            failing.join(10_000);
        }
        assertThat(b.state()).isEqualTo(State.OPEN);
        assertThat(b.allow()).as("a fresh open period, not the first one's").isFalse();
        clock.advance(OPEN_FOR.minusNanos(1));
        assertThat(b.allow()).isFalse();
    }

    /** Holds one chosen thread inside {@link #instant()} until released; every other thread reads the clock freely. */
    private static final class GatedClock implements InstantSource {
        private final InstantSource delegate;
        private volatile Thread gated;
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        GatedClock(InstantSource delegate) {
            this.delegate = delegate;
        }

        void gate(Thread t) {
            gated = t;
        }

        @Override
        public Instant instant() {
            if (Thread.currentThread() == gated) {
                entered.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return delegate.instant();
        }
    }
}
