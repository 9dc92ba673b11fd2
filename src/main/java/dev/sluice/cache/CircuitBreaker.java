package dev.sluice.cache;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Skips a dependency after consecutive failures, so requests stop paying its timeout: after
 * {@code threshold} failures in a row the breaker opens for {@code openFor}; then one call is
 * let through as a probe (half-open); its success closes the breaker, its failure reopens it.
 */
public final class CircuitBreaker {
    /** Breaker states; the ordinal is what the metrics gauge reports. */
    public enum State { CLOSED, OPEN, HALF_OPEN }

    private final int threshold;
    private final Duration openFor;
    private final InstantSource clock;
    private final AtomicInteger consecutiveFailures = new AtomicInteger();
    private final AtomicReference<Instant> openedAt = new AtomicReference<>();
    private final AtomicReference<State> state = new AtomicReference<>(State.CLOSED);
    private final AtomicInteger transitions = new AtomicInteger();

    public CircuitBreaker(int threshold, Duration openFor, InstantSource clock) {
        if (threshold < 1) {
            throw new IllegalArgumentException("threshold must be at least 1");
        }
        this.threshold = threshold;
        this.openFor = openFor;
        this.clock = clock;
    }

    /** Whether a call may go through now; in half-open state, only one caller gets {@code true}. */
    public boolean allow() {
        State s = state.get();
        if (s == State.CLOSED) {
            return true;
        }
        if (s == State.OPEN) {
            Instant opened = openedAt.get();
            if (opened != null && !clock.instant().isBefore(opened.plus(openFor))
                    && state.compareAndSet(State.OPEN, State.HALF_OPEN)) {
                transitions.incrementAndGet();
                return true;
            }
            return false;
        }
        return false; // half-open: the probe is out
    }

    public void onSuccess() {
        consecutiveFailures.set(0);
        State s = state.get();
        if (s != State.CLOSED && state.compareAndSet(s, State.CLOSED)) {
            transitions.incrementAndGet();
        }
    }

    public void onFailure() {
        int n = consecutiveFailures.incrementAndGet();
        State s = state.get();
        if (s == State.HALF_OPEN || (s == State.CLOSED && n >= threshold)) {
            if (state.compareAndSet(s, State.OPEN)) {
                openedAt.set(clock.instant());
                transitions.incrementAndGet();
            }
        }
    }

    public State state() {
        return state.get();
    }

    /** State changes so far (for metrics). */
    public int transitions() {
        return transitions.get();
    }
}
