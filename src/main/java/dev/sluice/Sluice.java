package dev.sluice;

import dev.sluice.backend.Backend;
import dev.sluice.backend.BackendCredentials;
import dev.sluice.backend.FileBackend;
import dev.sluice.backend.S3Backend;
import dev.sluice.config.SluiceConfig;
import dev.sluice.observe.AccessLog;
import dev.sluice.observe.RequestMetrics;
import dev.sluice.registry.Product;
import dev.sluice.registry.ProductRef;
import dev.sluice.registry.Registry;
import dev.sluice.registry.StaticRegistry;
import dev.sluice.registry.Visibility;
import dev.sluice.server.Reads;
import dev.sluice.server.RequestIds;
import dev.sluice.server.S3Handler;
import dev.sluice.server.SluiceServer;
import dev.sluice.sigv4.AwsCredentials;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.net.URI;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The composition root: builds every component from the configuration and wires them by
 * constructor. Nothing else in sluice constructs a collaborator it was not handed.
 */
public final class Sluice implements AutoCloseable {
    private final HttpClient backendHttp;
    private final Registry registry;
    private final SluiceServer server;
    private final RequestMetrics metrics;

    public Sluice(SluiceConfig config, InstantSource clock) {
        this.metrics = new RequestMetrics();
        this.backendHttp = newBackendHttpClient();
        List<Product> products = new ArrayList<>();
        for (SluiceConfig.Product p : config.registry().products()) {
            products.add(new Product(new ProductRef(p.account(), p.product()),
                    p.visibility().equals("restricted") ? Visibility.RESTRICTED : Visibility.PUBLIC,
                    backend(p.backend(), clock)));
        }
        this.registry = new StaticRegistry(products);
        S3Handler handler = new S3Handler(new Reads(registry), new RequestIds(() -> ThreadLocalRandom.current().nextLong()),
                metrics, new AccessLog(), Version.current());
        this.server = new SluiceServer(config.server(), handler, metrics);
    }

    private Backend backend(SluiceConfig.Backend b, InstantSource clock) {
        return switch (b.type()) {
            case "file" -> new FileBackend(b.path().orElseThrow());
            case "s3" -> new S3Backend(backendHttp, URI.create(b.endpoint().orElseThrow()), b.region().orElseThrow(),
                    b.bucket().orElseThrow(), b.prefix(), credentials(b.auth()), clock, b.timeout());
            default -> throw new IllegalArgumentException("unknown backend type " + b.type());
        };
    }

    private static BackendCredentials credentials(SluiceConfig.Auth auth) {
        return switch (auth.type()) {
            case "static" -> BackendCredentials.fixed(AwsCredentials.of(auth.accessKeyId().orElseThrow(),
                    auth.secretAccessKey().orElseThrow().value()));
            default -> BackendCredentials.anonymous();
        };
    }

    /**
     * One client for every S3 backend. Bytes pass through untouched: no content decoding, no
     * redirects followed, no User-Agent of Jetty's own.
     */
    private static HttpClient newBackendHttpClient() {
        HttpClient http = new HttpClient();
        QueuedThreadPool threads = new QueuedThreadPool(32, 2);
        threads.setName("sluice-backend");
        http.setExecutor(threads);
        http.setFollowRedirects(false);
        http.setUserAgentField(null);
        http.setConnectTimeout(5_000);
        http.setMaxConnectionsPerDestination(256);
        http.getContentDecoderFactories().clear();
        return http;
    }

    public void start() throws Exception {
        backendHttp.start();
        server.start();
    }

    public SluiceServer server() {
        return server;
    }

    public RequestMetrics metrics() {
        return metrics;
    }

    @Override
    public void close() throws Exception {
        try {
            server.stop();
        } finally {
            registry.close();
            backendHttp.stop();
        }
    }
}
