package dev.sluice.protect;

import java.time.Duration;
import java.util.List;

/**
 * The store side of a limit decision (docs/protection.md): everything one request needs (its
 * address or principal bucket, its product bucket, its quotas) asked at once, so that a decision
 * costs at most one round trip to a shared store however many limits apply, and none while this
 * instance holds what it needs ({@link SharedLimits}). The gate only says which checks apply and
 * in which order; the store answers the first one that refuses.
 *
 * <p>Never throws and never blocks for a shared store's sake past that store's own timeout.
 */
public interface LimitStore {

    /** One limit a request must pass. */
    sealed interface Check {
        String key();
    }

    /** Take one token from the bucket {@code key} of shape {@code rate}. */
    record Take(String key, Rate rate) implements Check {
    }

    /** The bytes charged to {@code key} in the current {@code period} must be below {@code bytes}. */
    record Quota(String key, QuotaPeriod period, long bytes) implements Check {
    }

    /**
     * The outcome: every check passed, or the first one (by index in the list asked) that did
     * not, with how long until a token is there ({@code retryAfter}) when it is a {@link Take}. Checks after a refused
     * one take nothing.
     */
    record Decision(int refused, Duration retryAfter) {
        public static final Decision GRANTED = new Decision(-1, Duration.ZERO);

        public boolean granted() {
            return refused < 0;
        }
    }

    /** Decides {@code checks} in order, stopping at the first that refuses. */
    Decision decide(List<Check> checks);

    /** Charges {@code bytes} sent to a client to {@code key} in the current {@code period}. */
    void charge(String key, QuotaPeriod period, long bytes);

    /** Whether a decision never waits on another process (a store in this process's memory). */
    default boolean decidesInProcess() {
        return false;
    }

    /**
     * A store that asks {@code buckets} and {@code counters} one check at a time: this
     * instance's own buckets and counters, or any other pair that decides without I/O.
     */
    static LimitStore of(TokenBuckets buckets, ByteCounters counters) {
        return new LimitStore() {
            @Override
            public boolean decidesInProcess() {
                return true;
            }

            @Override
            public Decision decide(List<Check> checks) {
                for (int i = 0; i < checks.size(); i++) {
                    switch (checks.get(i)) {
                        case Take t -> {
                            Duration wait = buckets.take(t.key(), t.rate());
                            if (wait.isPositive()) {
                                return new Decision(i, wait);
                            }
                        }
                        case Quota q -> {
                            if (counters.current(q.key(), q.period()) >= q.bytes()) {
                                return new Decision(i, Duration.ZERO);
                            }
                        }
                    }
                }
                return Decision.GRANTED;
            }

            @Override
            public void charge(String key, QuotaPeriod period, long bytes) {
                counters.add(key, period, bytes);
            }
        };
    }
}
