package dev.sluice.server;

import dev.sluice.time.Ticker;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Callback;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The S3 requests being handled, by connection: what a shutdown drains, and which open
 * connections carry none and can be closed at once (see {@code docs/operations.md}).
 *
 * <p>Jetty's own graceful stop cannot tell the two apart: it shortens the idle timeout of
 * every open connection to one second, so a download whose client paused reading for a
 * second (a full TCP window) was cut the moment SIGTERM arrived, after 4 MB of 100 MB. A
 * request is in flight from the moment the handler is called until its callback completes,
 * whatever the pace of its client.
 */
final class InFlight {
    private final Ticker ticker;

    InFlight(Ticker ticker) {
        this.ticker = ticker;
    }

    /** Requests in flight per connection; a connection is absent when it carries none. */
    private final Map<EndPoint, Integer> byConnection = new ConcurrentHashMap<>();
    private final AtomicInteger count = new AtomicInteger();
    /**
     * Set by a drain before it looks at the count: only then does a release take the lock to
     * wake it, so requests do not contend on a lock of the whole server while it is serving.
     */
    private volatile boolean draining;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();

    /**
     * Counts {@code request} as in flight until the returned callback completes. The caller
     * must call {@link Tracked#release()} itself if the handler throws or does not handle it,
     * since then the returned callback is never completed.
     */
    Tracked track(Request request, Callback callback) {
        EndPoint connection = request.getConnectionMetaData().getConnection().getEndPoint();
        count.incrementAndGet();
        byConnection.merge(connection, 1, Integer::sum);
        return new Tracked(callback, connection);
    }

    int count() {
        return count.get();
    }

    /** Closes each of {@code connections} that has no request in flight; returns how many it closed. */
    int closeIdle(Collection<EndPoint> connections) {
        int closed = 0;
        for (EndPoint connection : connections) {
            if (!byConnection.containsKey(connection)) {
                connection.close();
                closed++;
            }
        }
        return closed;
    }

    /** Waits until no request is in flight or {@code deadlineNanos} (a {@link Ticker#nanoTime()}) passes; true if none is. */
    boolean awaitNone(long deadlineNanos) throws InterruptedException {
        draining = true;
        lock.lock();
        try {
            while (count.get() > 0) {
                long left = ticker.remainingNanos(deadlineNanos);
                if (left == 0) {
                    return false;
                }
                changed.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void release(EndPoint connection) {
        byConnection.computeIfPresent(connection, (c, n) -> n > 1 ? n - 1 : null);
        if (count.decrementAndGet() == 0 && draining) {
            lock.lock();
            try {
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /** A request's callback that ends its time in flight when it completes, exactly once. */
    final class Tracked extends Callback.Nested {
        private final EndPoint connection;
        private final AtomicBoolean released = new AtomicBoolean();

        private Tracked(Callback callback, EndPoint connection) {
            super(callback);
            this.connection = connection;
        }

        @Override
        public void succeeded() {
            try {
                super.succeeded();
            } finally {
                release();
            }
        }

        @Override
        public void failed(Throwable x) {
            try {
                super.failed(x);
            } finally {
                release();
            }
        }

        void release() {
            if (released.compareAndSet(false, true)) {
                InFlight.this.release(connection);
            }
        }
    }
}
