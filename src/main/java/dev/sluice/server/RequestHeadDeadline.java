package dev.sluice.server;

import dev.sluice.time.Ticker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.AbstractConnector;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A deadline for a whole request head ({@code server.header_timeout}): a connection whose
 * request line and headers have not all arrived that long after it opened, or after its
 * previous response, is closed. Jetty's idle timeout restarts with every byte, so before
 * this a client trickling one header byte every 20 seconds held a connection indefinitely,
 * and about 1,050 such sockets used up the process's 1,024 file descriptors: every accept
 * failed, the admin listener's included. Jetty 12 has no head deadline of its own.
 *
 * <p>The check is a sweep over the listener's connections every quarter of the timeout
 * (at most every second), reading each HTTP/1 parser's state: a connection is closed once it
 * has been seen waiting for the same head for the whole timeout, so it goes within one timeout
 * and two sweep periods (1.5 timeouts at most) after its head began. A kept-alive connection with no request under way is
 * left to the idle timeout. Sweeping costs nothing per request and needs no hook inside
 * Jetty's connection, at the price of that quarter's imprecision.
 */
final class RequestHeadDeadline extends AbstractLifeCycle implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(RequestHeadDeadline.class);

    private final AbstractConnector connector;
    private final long timeoutNanos;
    private final long periodMillis;
    private final Counter closed;
    private final Ticker ticker;
    /** Connections waiting for a head: which response they have had, and since when. Used by the sweep only. */
    private Map<EndPoint, Waiting> waiting = new HashMap<>();
    private volatile Scheduler.Task next;

    private record Waiting(long responses, long since) {
    }

    RequestHeadDeadline(AbstractConnector connector, Duration timeout, MeterRegistry meters, Ticker ticker) {
        this.connector = connector;
        this.ticker = ticker;
        this.timeoutNanos = timeout.toNanos();
        this.periodMillis = Math.max(10, Math.min(1000, timeout.toMillis() / 4));
        this.closed = Counter.builder("sluice.header.timeouts")
                .description("Connections closed because a request head was not received within server.header_timeout")
                .register(meters);
    }

    @Override
    protected void doStart() {
        schedule();
    }

    @Override
    protected void doStop() {
        Scheduler.Task task = next;
        if (task != null) {
            task.cancel();
        }
    }

    private void schedule() {
        if (isRunning() || isStarting()) {
            next = connector.getScheduler().schedule(this, periodMillis, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void run() {
        try {
            sweep(ticker.nanoTime());
        } catch (RuntimeException e) {
            LOG.error("request head deadline: sweep failed", e);
        } finally {
            schedule();
        }
    }

    private void sweep(long now) {
        Map<EndPoint, Waiting> still = new HashMap<>();
        for (EndPoint endPoint : connector.getConnectedEndPoints()) {
            if (!(endPoint.getConnection() instanceof HttpConnection http)) {
                continue;
            }
            HttpParser parser = http.getParser();
            long responses = http.getMessagesOut();
            // Between requests on a kept-alive connection nothing is owed yet: the idle timeout applies.
            boolean awaitingHead = parser.inHeaderState() && !(parser.isStart() && responses > 0);
            if (!awaitingHead) {
                continue;
            }
            Waiting seen = waiting.get(endPoint);
            if (seen == null || seen.responses() != responses) {
                seen = new Waiting(responses, now);
            }
            if (now - seen.since() >= timeoutNanos) {
                closed.increment();
                LOG.debug("closing {}: request head not received within {} ms", endPoint.getRemoteSocketAddress(),
                        TimeUnit.NANOSECONDS.toMillis(timeoutNanos));
                endPoint.close(new TimeoutException("request head not received within server.header_timeout"));
            } else {
                still.put(endPoint, seen);
            }
        }
        waiting = still;
    }
}
