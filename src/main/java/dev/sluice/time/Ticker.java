package dev.sluice.time;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Elapsed time and waiting, injected like {@link java.time.InstantSource} is for wall-clock
 * time, in the manner of Caffeine's {@code Ticker} and OkHttp's {@code TaskRunner.Backend}.
 * Deadlines, backoff and polling read {@link #nanoTime()} and wait with {@link #sleep}, so a
 * test moves time with a manual ticker instead of waiting for it and asserting a wall-clock
 * window (a test that measured a lease wait with the real clock failed on a loaded machine).
 *
 * <p>{@link #SYSTEM} is the only place in sluice that reads {@code System.nanoTime()} or
 * sleeps. Waits on I/O (a socket read, a future) still take their timeout from a deadline
 * computed here; they are bounded by the operating system's clock, which no test moves.
 */
public interface Ticker {

    /** Nanoseconds from an arbitrary origin; only differences mean anything. */
    long nanoTime();

    /** Waits {@code duration} (nothing when it is zero or negative). */
    void sleep(Duration duration) throws InterruptedException;

    /** Nanoseconds left until {@code deadlineNanos} (a {@link #nanoTime()} value), never negative. */
    default long remainingNanos(long deadlineNanos) {
        return Math.max(0, deadlineNanos - nanoTime());
    }

    /** The elapsed time since {@code startNanos} (a {@link #nanoTime()} value). */
    default Duration since(long startNanos) {
        return Duration.ofNanos(nanoTime() - startNanos);
    }

    /** The machine's monotonic clock and real sleeps. */
    Ticker SYSTEM = new Ticker() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public void sleep(Duration duration) throws InterruptedException {
            if (duration.isPositive()) {
                TimeUnit.NANOSECONDS.sleep(duration.toNanos());
            }
        }

        @Override
        public String toString() {
            return "Ticker.SYSTEM";
        }
    };
}
