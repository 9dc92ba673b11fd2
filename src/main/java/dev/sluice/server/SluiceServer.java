package dev.sluice.server;

import dev.sluice.config.SluiceConfig;
import dev.sluice.observe.RequestMetrics;
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
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import com.sun.management.UnixOperatingSystemMXBean;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * Jetty wired for sluice: the S3 listener and the admin listener on one server, requests on
 * virtual threads, and a graceful stop that refuses new work and lets in-flight requests
 * finish within {@code server.shutdown_timeout}.
 *
 * <p>URI compliance is relaxed to accept any path: Jetty would otherwise reject encoded
 * slashes, dot segments and the like with its own HTML 400, and sluice must answer every
 * request with an S3 error document, judging keys itself (see {@code ObjectKeys}). The few
 * paths Jetty cannot parse at all, whatever the compliance mode, reach the server's error
 * handler, which on the S3 listener also answers with an S3 error document.
 */
public final class SluiceServer implements AutoCloseable {
    private final Server server;
    private final ServerConnector s3Connector;
    private final ServerConnector adminConnector;
    private final AdminHandler admin;
    private volatile boolean stopping;

    /** Binds both listeners now, so their addresses (and the default public URL) are known before anything else is built. */
    public SluiceServer(SluiceConfig.Server config, RequestMetrics metrics, Supplier<String> dependencyHealth) {
        QueuedThreadPool threads = new QueuedThreadPool(64, 4);
        threads.setName("sluice");
        threads.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        this.server = new Server(threads);

        HttpConfiguration http = new HttpConfiguration();
        http.setUriCompliance(UriCompliance.UNSAFE);
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        http.setRequestHeaderSize(16 * 1024);
        http.setOutputBufferSize(64 * 1024);

        this.s3Connector = connector(http, config.listen(), "s3");
        this.adminConnector = connector(http, config.adminListen(), "admin");
        server.addConnector(s3Connector);
        server.addConnector(adminConnector);
        limit(config.limits(), metrics);

        this.admin = new AdminHandler(metrics, () -> server.isStarted() && !stopping, dependencyHealth);
        server.setStopTimeout(config.shutdownTimeout().toMillis());
        server.setStopAtShutdown(false);
        try {
            s3Connector.open();
            adminConnector.open();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + config.listen() + " and " + config.adminListen() + ": " + e.getMessage(), e);
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
        server.addBean(new RequestHeadDeadline(s3Connector, limits.headerTimeout(), metrics.registry()));
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

    private ServerConnector connector(HttpConfiguration http, SluiceConfig.HostPort at, String name) {
        ServerConnector c = new ServerConnector(server, 1, 1, new HttpConnectionFactory(http));
        c.setHost(at.host());
        c.setPort(at.port());
        c.setName(name);
        c.setIdleTimeout(Duration.ofSeconds(60).toMillis());
        return c;
    }

    /**
     * Starts serving S3 requests with {@code s3}, admin requests with the admin handler.
     * Requests Jetty refuses to parse go to {@code s3} too, to be answered as S3 errors.
     */
    public void start(S3Handler s3) throws Exception {
        Handler.Abstract byListener = new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                if (request.getConnectionMetaData().getConnector() == adminConnector) {
                    return admin.handle(request, response, callback);
                }
                return s3.handle(request, response, callback);
            }
        };
        server.setHandler(new GracefulHandler(byListener));
        ErrorHandler plainErrors = new ErrorHandler();
        server.setErrorHandler((Request.Handler) (request, response, callback) ->
                request.getConnectionMetaData().getConnector() == adminConnector
                        ? plainErrors.handle(request, response, callback)
                        : s3.handleRejected(request, response, callback));
        server.start();
    }

    /** Refuses new requests, waits for in-flight ones up to the shutdown timeout, then stops. */
    public void stop() throws Exception {
        stopping = true;
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
        String host = c.getHost() == null || c.getHost().equals("0.0.0.0") ? "127.0.0.1" : c.getHost();
        return host.contains(":") ? "[" + host + "]" : host;
    }

    @Override
    public void close() throws Exception {
        stop();
    }
}
