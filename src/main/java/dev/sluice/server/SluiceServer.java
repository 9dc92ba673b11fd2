package dev.sluice.server;

import dev.sluice.config.SluiceConfig;
import dev.sluice.observe.RequestMetrics;
import dev.sluice.time.Ticker;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.sun.management.UnixOperatingSystemMXBean;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * Jetty wired for sluice: the S3 listener and the admin listener on one server, requests on
 * virtual threads, and a shutdown in the order a load balancer needs (docs/operations.md,
 * "Shutdown"): {@code /readyz} answers 503 for {@code server.shutdown_grace} while S3 requests
 * are still served, then the S3 listener closes, then in-flight S3 requests drain, whatever
 * the pace of their clients, until {@code server.shutdown_timeout} after the start of the
 * shutdown; the admin listener answers until the drain ends.
 *
 * <p>URI compliance is relaxed to accept any path: Jetty would otherwise reject encoded
 * slashes, dot segments and the like with its own HTML 400, and sluice must answer every
 * request with an S3 error document, judging keys itself (see {@code ObjectKeys}). The few
 * paths Jetty cannot parse at all, whatever the compliance mode, reach the server's error
 * handler, which on the S3 listener also answers with an S3 error document.
 */
public final class SluiceServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SluiceServer.class);
    private final Server server;
    private final ServerConnector s3Connector;
    private final ServerConnector adminConnector;
    private final AdminHandler admin;
    private final InFlight inFlight;
    private final Ticker ticker;
    private final Duration shutdownGrace;
    private final Duration shutdownTimeout;
    private volatile boolean stopping;
    private boolean stopped;

    /**
     * The server's pool, which lets the virtual thread that finished a response read its
     * connection's next request itself. When a response completes on a thread other than the
     * one that parsed its request (every request sluice hands to a virtual thread), Jetty resumes
     * the connection by handing it to the pool, a thread wake-up per request; the virtual thread
     * that completed it is about to end and can read on just as well (docs/operations.md,
     * "Threads"). So can a thread of the backend client's pool ({@link #replyingPool}), whose
     * selector sends the reply to a read sent from the selector and whose callbacks may not
     * wait: reading on parses the next request and hands it on as the server's selector would.
     * Every other task, and any from another platform thread, goes to the pool as before.
     */
    static final class ConnectionResumingPool extends QueuedThreadPool {
        ConnectionResumingPool(int maxThreads, int minThreads) {
            super(maxThreads, minThreads);
        }

        @Override
        public void execute(Runnable job) {
            Thread current = Thread.currentThread();
            if (job instanceof HttpConnection && (current.isVirtual() || current instanceof ReplyingThread)) {
                try {
                    job.run();
                } catch (RuntimeException | Error e) {
                    // What a pool thread does with a job that fails: the caller completed a
                    // response and is not the place to fail.
                    LOG.warn("reading a connection's next request failed", e);
                }
            } else {
                super.execute(job);
            }
        }
    }

    /**
     * The backend client's pool: its platform threads (the client's selector among them) may
     * resume a server connection whose reply they sent ({@link ConnectionResumingPool}).
     */
    public static QueuedThreadPool replyingPool(int maxThreads, int minThreads) {
        return new QueuedThreadPool(maxThreads, minThreads) {
            @Override
            public Thread newThread(Runnable runnable) {
                return new ReplyingThread(runnable);
            }
        };
    }

    /** A thread of {@link #replyingPool}. */
    static final class ReplyingThread extends Thread {
        ReplyingThread(Runnable runnable) {
            super(runnable);
        }
    }

    /** Binds both listeners now, so their addresses (and the default public URL) are known before anything else is built. */
    public SluiceServer(SluiceConfig.Server config, RequestMetrics metrics, Supplier<String> dependencyHealth, Ticker ticker) {
        this.ticker = ticker;
        this.inFlight = new InFlight(ticker);
        QueuedThreadPool threads = new ConnectionResumingPool(64, 4);
        threads.setName("sluice");
        threads.setVirtualThreadsExecutor(VirtualThreads.starting("sluice-io"));
        this.server = new Server(threads);

        HttpConfiguration http = new HttpConfiguration();
        http.setUriCompliance(UriCompliance.UNSAFE);
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        http.setRequestHeaderSize(16 * 1024);
        http.setOutputBufferSize(64 * 1024);
        // Jetty reuses header fields seen earlier on a connection and by default matches them
        // ignoring case, so an Authorization differing only in case (a SigV2 Base64 signature,
        // an access key id) was handed over as the earlier one: signatures cover exact bytes.
        http.setHeaderCacheCaseSensitive(true);

        this.s3Connector = connector(http, config.listen(), "s3", config.limits().idleTimeout());
        this.adminConnector = connector(http, config.adminListen(), "admin", SluiceConfig.Limits.DEFAULT.idleTimeout());
        server.addConnector(s3Connector);
        server.addConnector(adminConnector);
        limit(config.limits(), metrics);

        this.admin = new AdminHandler(metrics, () -> server.isStarted() && !stopping, dependencyHealth);
        this.shutdownGrace = config.shutdownGrace();
        this.shutdownTimeout = config.shutdownTimeout();
        // The drain happens before Jetty's stop (see stop()); what is left then is cut at once.
        server.setStopTimeout(0);
        server.setStopAtShutdown(false);
        open(s3Connector, "server.listen", config.listen());
        open(adminConnector, "server.admin_listen", config.adminListen());
    }

    /** Binds one listener; a failure names the config key and the address, and says "in use" plainly when it is. */
    private static void open(ServerConnector connector, String key, SluiceConfig.HostPort at) {
        try {
            connector.open();
        } catch (IOException e) {
            Throwable cause = e;
            while (cause.getCause() != null && !(cause instanceof java.net.BindException)) {
                cause = cause.getCause();
            }
            String why = cause instanceof java.net.BindException && String.valueOf(cause.getMessage()).contains("in use")
                    ? "address already in use (is another sluice, or another program, listening there?)"
                    : "cannot listen: " + cause.getMessage();
            throw new UncheckedIOException(key + " " + at + ": " + why, e);
        }
    }

    /**
     * What one client can hold of the S3 listener (docs/operations.md, "Connection and header
     * limits"): a deadline for each request head, a cap on open connections so that file
     * descriptors remain for the admin listener and the backends, and an accept backlog deep
     * enough that connections over the cap wait in the kernel rather than being refused.
     * The admin listener has none of these: it must answer while the S3 listener is saturated.
     */
    private void limit(SluiceConfig.Limits limits, RequestMetrics metrics) {
        s3Connector.setAcceptQueueSize(limits.acceptBacklog());
        int max = limits.maxConnections().orElseGet(SluiceServer::defaultMaxConnections);
        server.addBean(new NetworkConnectionLimit(max, s3Connector));
        server.addBean(new RequestHeadDeadline(s3Connector, limits.headerTimeout(), metrics.registry(), ticker));
    }

    /**
     * The default {@code server.max_connections}: half of what the process's file-descriptor
     * limit leaves after a reserve of 10% + 64 (the admin listener, log files, the JVM's own),
     * since each S3 request being served may hold a second descriptor, its backend connection
     * or file. An earlier revision had no cap: ~1,050 slow sockets exhausted 1,024 descriptors
     * and every accept failed, the admin listener's included.
     */
    static int defaultMaxConnections() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix) {
            long descriptors = unix.getMaxFileDescriptorCount();
            long usable = (descriptors - descriptors / 10 - 64) / 2;
            return (int) Math.max(16, Math.min(usable, 100_000));
        }
        return 10_000;
    }

    static final int SELECTORS = Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors()));
    /**
     * Bytes a connection reads from its socket at a time (Jetty's default is 8 KiB): an upload's
     * body arrives in reads of this size, each a system call and a hand-off to the request's
     * thread. The buffer is taken from the pool for a read and returned when empty, so an idle
     * connection holds none.
     */
    static final int INPUT_BUFFER = 64 * 1024;

    private ServerConnector connector(HttpConfiguration http, SluiceConfig.HostPort at, String name, Duration idleTimeout) {
        // A selector per core: a small read of a local file is answered on the selector's thread
        // (S3Handler), so one selector would put all of them on one core.
        HttpConnectionFactory factory = new HttpConnectionFactory(http);
        factory.setInputBufferSize(INPUT_BUFFER);
        ServerConnector c = new ServerConnector(server, 1, SELECTORS, factory);
        // No host (":8080") is Jetty's null: the wildcard address, IPv6 and IPv4 where the system has both.
        c.setHost(at.host().isEmpty() ? null : at.host());
        c.setPort(at.port());
        c.setName(name);
        c.setIdleTimeout(idleTimeout.toMillis());
        return c;
    }

    /**
     * Starts serving S3 requests with {@code s3}, admin requests with the admin handler.
     * Requests Jetty refuses to parse go to {@code s3} too, to be answered as S3 errors.
     */
    public void start(S3Handler s3) throws Exception {
        // Non-blocking: called on the thread that parsed the request. The S3 handler hands what
        // may wait to virtual threads itself (docs/operations.md, "Threads"); an admin request
        // (a scrape, a readiness check that may ask a dependency) always goes to one.
        Handler.Abstract byListener = new Handler.Abstract(org.eclipse.jetty.util.thread.Invocable.InvocationType.NON_BLOCKING) {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                if (request.getConnectionMetaData().getConnector() == adminConnector) {
                    Thread.ofVirtual().name("sluice-admin").start(() -> {
                        try {
                            admin.handle(request, response, callback);
                        } catch (RuntimeException e) {
                            callback.failed(e);
                        }
                    });
                    return true;
                }
                InFlight.Tracked tracked = inFlight.track(request, callback);
                boolean handled = false;
                try {
                    handled = s3.handle(request, response, tracked);
                    return handled;
                } finally {
                    if (!handled) {
                        tracked.release();
                    }
                }
            }
        };
        server.setHandler(byListener);
        ErrorHandler plainErrors = new ErrorHandler();
        server.setErrorHandler((Request.Handler) (request, response, callback) ->
                request.getConnectionMetaData().getConnector() == adminConnector
                        ? plainErrors.handle(request, response, callback)
                        : s3.handleRejected(request, response, callback));
        server.start();
    }

    /**
     * The shutdown a signal asks for: stops advertising readiness and keeps serving for
     * {@code server.shutdown_grace}, so that load balancers stop sending new connections here
     * before the listener goes, then {@link #stop()}, all within {@code server.shutdown_timeout}.
     */
    public void shutdown() throws Exception {
        long deadline = ticker.nanoTime() + shutdownTimeout.toNanos();
        stopping = true;
        if (shutdownGrace.isPositive()) {
            LOG.info("shutting down: /readyz answers 503, S3 requests are still served for {} (server.shutdown_grace)", shutdownGrace);
            ticker.sleep(shutdownGrace);
        }
        drainAndStop(deadline);
    }

    /**
     * Closes the S3 listener (new connections are refused; open connections are closed now
     * if they carry no request, else when their response ends), waits for in-flight S3
     * requests up to {@code server.shutdown_timeout}, cuts the connections of those still
     * running, then stops both listeners. Without a grace: {@link #shutdown()} is the one for
     * a running service.
     */
    public void stop() throws Exception {
        stopping = true;
        drainAndStop(ticker.nanoTime() + shutdownTimeout.toNanos());
    }

    private synchronized void drainAndStop(long deadline) throws Exception {
        if (stopped) {
            return;
        }
        stopped = true;
        if (server.isStarted()) {
            // Jetty would shorten every open connection's idle timeout to its shutdown idle
            // timeout (one second), cutting a response whose client pauses; keep them as they are.
            s3Connector.setShutdownIdleTimeout(s3Connector.getIdleTimeout());
            // Closes the listening socket; from now on Jetty ends each connection with its response.
            s3Connector.shutdown();
            int idle = inFlight.closeIdle(s3Connector.getConnectedEndPoints());
            int running = inFlight.count();
            LOG.info("shutting down: S3 listener closed, {} idle connection(s) closed, draining {} request(s) in flight",
                    idle, running);
            if (inFlight.awaitNone(deadline)) {
                LOG.info("shutting down: every in-flight request has finished");
            } else {
                LOG.warn("shutting down: {} S3 request(s) still in flight at server.shutdown_timeout ({}); their connections are closed",
                        inFlight.count(), shutdownTimeout);
            }
        }
        server.stop();
    }

    public void join() throws InterruptedException {
        server.join();
    }

    public URI s3Endpoint() {
        return URI.create("http://" + hostForUrl(s3Connector) + ":" + s3Connector.getLocalPort());
    }

    public URI adminEndpoint() {
        return URI.create("http://" + hostForUrl(adminConnector) + ":" + adminConnector.getLocalPort());
    }

    private static String hostForUrl(ServerConnector c) {
        String host = c.getHost() == null || c.getHost().equals("0.0.0.0") || c.getHost().equals("::") ? "127.0.0.1" : c.getHost();
        return host.contains(":") ? "[" + host + "]" : host;
    }

    @Override
    public void close() throws Exception {
        stop();
    }
}
