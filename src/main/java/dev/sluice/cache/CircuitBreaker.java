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

    /**
     * The state and when it last opened, changed together in one compare-and-set. An earlier
     * revision kept them in two fields and set the open instant after the state: a caller racing
     * a reopening breaker saw OPEN with the previous period's start, found it long over, and was
     * let through as a second probe at once.
     */
    private record Status(State state, Instant openedAt) {
    }

    private static final Status CLOSED = new Status(State.CLOSED, Instant.MIN);

    private final int threshold;
    private final Duration openFor;
    private final InstantSource clock;
    private final AtomicInteger consecutiveFailures = new AtomicInteger();
    private final AtomicReference<Status> status = new AtomicReference<>(CLOSED);
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
        Status s = status.get();
        return switch (s.state()) {
            case CLOSED -> true;
            case OPEN -> {
                if (!clock.instant().isBefore(s.openedAt().plus(openFor))
                        && status.compareAndSet(s, new Status(State.HALF_OPEN, s.openedAt()))) {
                    transitions.incrementAndGet();
                    yield true;
                }
                yield false;
            }
            case HALF_OPEN -> false; // the probe is out
        };
    }

    public void onSuccess() {
        consecutiveFailures.set(0);
        Status s = status.get();
        if (s.state() != State.CLOSED && status.compareAndSet(s, CLOSED)) {
            transitions.incrementAndGet();
        }
    }

    public void onFailure() {
        int n = consecutiveFailures.incrementAndGet();
        Instant now = clock.instant();
        Status s = status.get();
        if (s.state() == State.HALF_OPEN || (s.state() == State.CLOSED && n >= threshold)) {
            if (status.compareAndSet(s, new Status(State.OPEN, now))) {
                transitions.incrementAndGet();
            }
        }
    }

    public State state() {
        return status.get().state();
    }

    /** State changes so far (for metrics). */
    public int transitions() {
        return transitions.get();
    }
}
