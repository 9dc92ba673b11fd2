package dev.sluice.bench;

import dev.sluice.Sluice;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.testing.S3ProxyProcess;
import dev.sluice.testing.TestSts;
import software.amazon.awssdk.core.sync.RequestBody;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A cold burst: N concurrent GETs of one federated product through a just-started sluice,
 * against a test STS that takes 200 ms per exchange. Run side by side for the L1 as specified
 * (cold loads single-flighted), an L1 without single flight, and no cache at all (an exchange
 * per request). Reports exchanges and the burst's latency distribution.
 *
 * <p>Usage: {@code bench/cold-burst.sh [N]} (default 200).
 */
public final class ColdBurstBench {
    private static final String ROLE = "arn:aws:iam::123456789012:role/bench-reader";

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        Path pem = Files.createTempFile("sluice-bench-key", ".pem");
        try (InputStream in = ColdBurstBench.class.getResourceAsStream("/keys/test-rsa-a.pem")) {
            Files.write(pem, in.readAllBytes());
        }
        try (S3ProxyProcess s3 = S3ProxyProcess.start()) {
            s3.client().createBucket(b -> b.bucket("bench"));
            s3.client().putObject(b -> b.bucket("bench").key("object.bin"), RequestBody.fromBytes(new byte[1024]));
            List<String> rows = new ArrayList<>();
            run("normal", n, s3, pem); // warm-up: JIT, connection pools, the STS's first JWKS fetch; not reported
            for (String mode : List.of("normal", "no_single_flight", "per_request")) {
                rows.add(run(mode, n, s3, pem));
            }
            System.out.println();
            System.out.println("| L1 mode | requests | failed | STS exchanges | p50 ms | p90 ms | p99 ms | max ms |");
            System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|");
            rows.forEach(System.out::println);
        } finally {
            Files.deleteIfExists(pem);
        }
    }

    private static String run(String mode, int n, S3ProxyProcess s3, Path pem) throws Exception {
        String yaml = """
                server: { listen: "127.0.0.1:%d", admin_listen: "127.0.0.1:0" }
                oidc: { signing_key: { pem_file: "%s", kid: bench } }
                sts: { endpoint: "%s", timeout: 10s }
                cache: { credentials: { max_wait: 30s } }
                registry:
                  type: static
                  products:
                    - account: bench
                      product: private
                      backend:
                        type: s3
                        endpoint: "%s"
                        bucket: bench
                        auth: { type: web_identity_role, role_arn: "%s", subject: "bench:%s" }
                """;
        int port;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        String issuer = "http://127.0.0.1:" + port;
        try (TestSts sts = new TestSts(issuer, S3ProxyProcess.IDENTITY, S3ProxyProcess.CREDENTIAL)) {
            sts.role(ROLE, sub -> sub.startsWith("bench:"));
            sts.delay(Duration.ofMillis(200));
            SluiceConfig config = new ConfigLoader(v -> Optional.empty()).parse(
                    yaml.formatted(port, pem, sts.endpoint(), s3.endpoint(), ROLE, mode), pem.getParent());
            try (Sluice s = new Sluice(config, InstantSource.system(), CredentialBaselines.front(mode))) {
                s.start();
                return burst(mode, n, URI.create(issuer + "/bench/private/object.bin"), sts);
            }
        }
    }

    private static String burst(String mode, int n, URI uri, TestSts sts) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
        CountDownLatch go = new CountDownLatch(1);
        List<Future<long[]>> results = new ArrayList<>();
        int before = sts.totalExchanges();
        for (int i = 0; i < n; i++) {
            results.add(threads.submit(() -> {
                go.await();
                long t0 = System.nanoTime();
                HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                return new long[] {System.nanoTime() - t0, r.statusCode()};
            }));
        }
        go.countDown();
        List<Long> latencies = new ArrayList<>();
        int failed = 0;
        for (Future<long[]> f : results) {
            long[] r = f.get(120, TimeUnit.SECONDS);
            latencies.add(r[0]);
            if (r[1] != 200) {
                failed++;
            }
        }
        threads.shutdown();
        Collections.sort(latencies);
        int exchanges = sts.totalExchanges() - before;
        return "| " + mode + " | " + n + " | " + failed + " | " + exchanges + " | " + ms(pct(latencies, 50)) + " | "
                + ms(pct(latencies, 90)) + " | " + ms(pct(latencies, 99)) + " | " + ms(latencies.get(latencies.size() - 1)) + " |";
    }

    private static long pct(List<Long> sorted, int p) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }

    private static String ms(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.1f", nanos / 1e6);
    }
}
