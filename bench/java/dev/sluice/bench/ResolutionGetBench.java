package dev.sluice.bench;

import dev.sluice.Sluice;
import dev.sluice.config.ConfigLoader;
import dev.sluice.testing.S3ProxyProcess;
import dev.sluice.testing.TestControlPlane;
import software.amazon.awssdk.core.sync.RequestBody;

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
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * What a warm control-plane resolution adds to a request: the same 1 KiB GET of the same
 * object, through a sluice whose registry is the control plane (warm) and through a sluice
 * whose registry is static, all in this JVM, in front of one S3Proxy, in rounds of 2
 * concurrent clients. A second, identical static sluice is measured the same way: the
 * difference between the two static ones (an A/A comparison) is the noise floor of the
 * machine, against which the control-plane difference is judged. The order of the three
 * within a round rotates, so none always runs first (after a pause) or last.
 *
 * <p>Usage: {@code bench/resolution-get.sh}.
 */
public final class ResolutionGetBench {
    static final int ROUNDS = 9;
    static final int PER_ROUND = 3000;
    private static final int CLIENTS = 2;

    public static void main(String[] args) throws Exception {
        Path base = Files.createTempDirectory("sluice-resolution-bench");
        try (S3ProxyProcess s3 = S3ProxyProcess.startWithoutAuthorization(); TestControlPlane cp = new TestControlPlane()) {
            s3.client().createBucket(b -> b.bucket("open-data-west"));
            s3.client().putObject(b -> b.bucket("open-data-west").key("parks-dept/city-trees/object.bin"),
                    RequestBody.fromBytes(new byte[1024]));
            String controlPlane = """
                    server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
                    registry:
                      type: control-plane
                      control_plane: { url: "%s", s3_endpoint: "%s" }
                    """.formatted(cp.url(), s3.endpoint());
            String fixed = """
                    server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
                    registry:
                      type: static
                      products:
                        - account: parks-dept
                          product: city-trees
                          backend: { type: s3, endpoint: "%s", region: us-west-2, bucket: open-data-west, prefix: "parks-dept/city-trees/" }
                    """.formatted(s3.endpoint());
            ConfigLoader loader = new ConfigLoader(v -> Optional.empty());
            try (Sluice a = new Sluice(loader.parse(controlPlane, base), InstantSource.system());
                 Sluice b = new Sluice(loader.parse(fixed, base), InstantSource.system());
                 Sluice c = new Sluice(loader.parse(fixed, base), InstantSource.system())) {
                a.start();
                b.start();
                c.start();
                List<URI> targets = List.of(a.server().s3Endpoint().resolve("/parks-dept/city-trees/object.bin"),
                        b.server().s3Endpoint().resolve("/parks-dept/city-trees/object.bin"),
                        c.server().s3Endpoint().resolve("/parks-dept/city-trees/object.bin"));
                List<String> names = List.of("control plane (warm)", "static", "static, second instance (A/A)");
                HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
                for (URI target : targets) {
                    run(http, target, PER_ROUND); // warm-up, not reported
                }
                int apiCallsBefore = cp.total();
                List<List<Long>> latencies = rounds(http, targets);
                int apiCalls = cp.total() - apiCallsBefore;
                table("registry", names, latencies);
                System.out.println(difference("control plane - static", latencies.get(0), latencies.get(1)));
                System.out.println(difference("static A/A (noise floor)", latencies.get(2), latencies.get(1)));
                System.out.println("API calls during measurement: " + apiCalls);
            }
        }
    }

    /**
     * {@link #ROUNDS} rounds of {@link #PER_ROUND} GETs of each target, the order rotating every
     * round so that none always runs first or last; each target's latencies, sorted.
     */
    static List<List<Long>> rounds(HttpClient http, List<URI> targets) throws Exception {
        List<List<Long>> latencies = new ArrayList<>();
        targets.forEach(t -> latencies.add(new ArrayList<>()));
        for (int r = 0; r < ROUNDS; r++) {
            for (int k = 0; k < targets.size(); k++) {
                int arm = (r + k) % targets.size();
                latencies.get(arm).addAll(run(http, targets.get(arm), PER_ROUND));
            }
        }
        latencies.forEach(Collections::sort);
        return latencies;
    }

    /** Prints the percentiles of each target's sorted latencies, its column headed {@code first}, then a blank line. */
    static void table(String first, List<String> names, List<List<Long>> latencies) {
        System.out.println();
        System.out.println("| " + first + " | GETs | p50 ms | p90 ms | p99 ms |");
        System.out.println("|---|---:|---:|---:|---:|");
        for (int arm = 0; arm < names.size(); arm++) {
            System.out.println(row(names.get(arm), latencies.get(arm)));
        }
        System.out.println();
    }

    static List<Long> run(HttpClient http, URI uri, int n) throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(CLIENTS);
        List<Future<List<Long>>> parts = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            parts.add(threads.submit(() -> {
                List<Long> out = new ArrayList<>();
                for (int i = 0; i < n / CLIENTS; i++) {
                    long t0 = System.nanoTime();
                    HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                            HttpResponse.BodyHandlers.ofByteArray());
                    if (r.statusCode() != 200) {
                        throw new IllegalStateException("GET " + uri + " answered " + r.statusCode());
                    }
                    out.add(System.nanoTime() - t0);
                }
                return out;
            }));
        }
        List<Long> all = new ArrayList<>();
        for (Future<List<Long>> f : parts) {
            all.addAll(f.get(120, TimeUnit.SECONDS));
        }
        threads.shutdown();
        return all;
    }

    static String difference(String name, List<Long> x, List<Long> y) {
        return String.format(Locale.ROOT, "difference %s: p50 %+.3f ms, p90 %+.3f ms, p99 %+.3f ms", name,
                (pct(x, 50) - pct(y, 50)) / 1e6, (pct(x, 90) - pct(y, 90)) / 1e6, (pct(x, 99) - pct(y, 99)) / 1e6);
    }

    private static String row(String name, List<Long> sorted) {
        return String.format(Locale.ROOT, "| %s | %d | %.3f | %.3f | %.3f |", name, sorted.size(),
                pct(sorted, 50) / 1e6, pct(sorted, 90) / 1e6, pct(sorted, 99) / 1e6);
    }

    private static long pct(List<Long> sorted, int p) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }
}
