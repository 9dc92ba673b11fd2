package dev.sluice.server;

import dev.sluice.config.SluiceConfig;
import dev.sluice.observe.RequestMetrics;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.io.IOException;
import java.io.UncheckedIOException;
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
        // Jetty reuses header fields seen earlier on a connection and by default matches them
        // ignoring case, so an Authorization differing only in case (a SigV2 Base64 signature,
        // an access key id) was handed over as the earlier one: signatures cover exact bytes.
        http.setHeaderCacheCaseSensitive(true);

        this.s3Connector = connector(http, config.listen(), "s3");
        this.adminConnector = connector(http, config.adminListen(), "admin");
        server.addConnector(s3Connector);
        server.addConnector(adminConnector);

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
