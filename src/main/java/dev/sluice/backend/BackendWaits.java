package dev.sluice.backend;

import org.eclipse.jetty.io.CyclicTimeouts;
import org.eclipse.jetty.util.NanoTime;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;

import java.time.Duration;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * A request thread's wait, with a deadline, for a backend's answer: what
 * {@code future.get(timeout)} does, for less. A virtual thread's timed wait arms a timer of its
 * own in the JDK's scheduler, which wakes the scheduler's thread to arm it and again to cancel
 * it: about 7 % of sluice's CPU on a small S3-backed GET (an async-profiler profile of
 * {@code bench/get-vs-direct.sh}, BENCHMARKS.md). Here every wait shares one timer, Jetty's
 * {@link CyclicTimeouts} (as Jetty's HTTP client times its exchanges), which is re-armed only
 * when a wait would end sooner than every other; since a backend's waits all have the same
 * timeout, that is about once per timeout, and a wait itself parks without a timer.
 */
final class BackendWaits {
    private static final BackendWaits SHARED = new BackendWaits();

    private final Set<Wait> waiting = ConcurrentHashMap.newKeySet();
    private final CyclicTimeouts<Wait> timeouts;

    private BackendWaits() {
        ScheduledExecutorScheduler scheduler = new ScheduledExecutorScheduler("sluice-backend-deadlines", true);
        try {
            scheduler.start();
        } catch (Exception e) {
            throw new IllegalStateException("the backend deadline timer did not start", e);
        }
        this.timeouts = new CyclicTimeouts<>(scheduler) {
            @Override
            protected Iterator<Wait> iterator() {
                return waiting.iterator();
            }

            @Override
            protected boolean onExpired(Wait wait) {
                wait.future.completeExceptionally(Expired.INSTANCE);
                return true;
            }
        };
    }

    /**
     * {@code future}'s value once it completes, waiting at most {@code timeout}; as
     * {@link CompletableFuture#get(long, java.util.concurrent.TimeUnit)}. When the time is up,
     * {@code future} is completed exceptionally (its owner is expected to abort the exchange).
     */
    static <T> T await(CompletableFuture<T> future, Duration timeout)
            throws TimeoutException, ExecutionException, InterruptedException {
        if (future.isDone()) {
            return get(future);
        }
        Wait wait = new Wait(future, NanoTime.now() + timeout.toNanos());
        SHARED.waiting.add(wait);
        try {
            SHARED.timeouts.schedule(wait);
            return get(future);
        } finally {
            SHARED.waiting.remove(wait);
        }
    }

    /**
     * Gives {@code future} a deadline without a thread waiting for it: unless it completes
     * within {@code timeout}, it is completed exceptionally with a {@link TimeoutException}
     * ({@link #expired} tells that one apart), on the shared timer's thread. For a backend
     * exchange started by a thread that may not wait (docs/operations.md, "Threads").
     */
    static <T> CompletableFuture<T> within(CompletableFuture<T> future, Duration timeout) {
        if (future.isDone()) {
            return future;
        }
        Wait wait = new Wait(future, NanoTime.now() + timeout.toNanos());
        SHARED.waiting.add(wait);
        future.whenComplete((value, failure) -> SHARED.waiting.remove(wait));
        SHARED.timeouts.schedule(wait);
        return future;
    }

    /** Whether {@code failure} (or what it wraps) is a deadline set by {@link #within} passing. */
    static boolean expired(Throwable failure) {
        Throwable t = failure;
        while (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t instanceof Expired;
    }

    private static <T> T get(CompletableFuture<T> future) throws TimeoutException, ExecutionException, InterruptedException {
        try {
            return future.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Expired) {
                throw new TimeoutException("no answer within the deadline");
            }
            throw e;
        }
    }

    /** One waiting thread's future and when its wait ends. Identity equality: each wait is its own. */
    private static final class Wait implements CyclicTimeouts.Expirable {
        final CompletableFuture<?> future;
        final long expireNanoTime;

        Wait(CompletableFuture<?> future, long expireNanoTime) {
            this.future = future;
            this.expireNanoTime = expireNanoTime;
        }

        @Override
        public long getExpireNanoTime() {
            return expireNanoTime;
        }
    }

    /** How a wait's future is completed when its time is up; shared, without a stack trace. */
    private static final class Expired extends TimeoutException {
        static final Expired INSTANCE = new Expired();

        private Expired() {
            super("the wait's deadline passed");
            setStackTrace(new StackTraceElement[0]);
        }
    }
}
