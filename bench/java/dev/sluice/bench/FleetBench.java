package dev.sluice.bench;

import dev.sluice.testing.RedisProcess;
import dev.sluice.testing.S3ProxyProcess;
import dev.sluice.testing.SluiceProcess;
import dev.sluice.testing.TestKeys;
import dev.sluice.testing.TestSts;
import software.amazon.awssdk.core.sync.RequestBody;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Exchanges made by a fleet, side by side in one run: N sluice instances (separate JVMs) for
 * one federated product, started together, hit by a cold burst and then a steady load over
 * two credential lifetimes, for (a) L1 only, (b) L1 + Redis, (c) an exchange per request.
 * Also (d) L1 + Redis with Redis paused (SIGSTOP) during the cold start, to show what a stuck
 * Redis adds to clients' latency. Credentials are short (20 s) with the leads scaled down.
 *
 * <p>Usage: {@code bench/fleet.sh [instances]} (default 4).
 */
public final class FleetBench {
    private static final String ROLE = "arn:aws:iam::123456789012:role/fleet-bench";
    private static final Duration LIFETIME = Duration.ofSeconds(20);
    private static final int LIFETIMES = 2;

    public static void main(String[] args) throws Exception {
        int instances = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        Path work = Files.createTempDirectory("sluice-fleet-bench");
        Path pem = work.resolve("oidc.pem");
        Files.writeString(pem, TestKeys.pem("test-rsa-a"));
        byte[] seal = new byte[32];
        new SecureRandom().nextBytes(seal);
        Map<String, String> env = Map.of("SLUICE_CACHE_KEY", Base64.getEncoder().encodeToString(seal));
        List<String> rows = new ArrayList<>();
        try (S3ProxyProcess s3 = S3ProxyProcess.start(); RedisProcess redis = RedisProcess.start()) {
            s3.client().createBucket(b -> b.bucket("fleet"));
            s3.client().putObject(b -> b.bucket("fleet").key("object.bin"), RequestBody.fromBytes(new byte[1024]));
            for (String mode : List.of("l1_only", "l1_redis", "per_request", "l1_redis_paused")) {
                rows.add(run(mode, instances, s3, redis, pem, env, work));
            }
        }
        System.out.println();
        System.out.println("| mode | instances | cold burst requests | cold exchanges | cold p50 ms | cold p99 ms | steady requests | "
                + "steady exchanges per lifetime | failed requests |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        rows.forEach(System.out::println);
    }

    private static String run(String mode, int n, S3ProxyProcess s3, RedisProcess redis, Path pem, Map<String, String> env,
                              Path work) throws Exception {
        int[] s3Ports = new int[n];
        int[] adminPorts = new int[n];
        for (int i = 0; i < n; i++) {
            s3Ports[i] = freePort();
            adminPorts[i] = freePort();
        }
        String issuer = "http://127.0.0.1:" + s3Ports[0];
        String subject = "fleet:" + mode;
        boolean shared = mode.startsWith("l1_redis");
        try (TestSts sts = new TestSts(issuer, S3ProxyProcess.IDENTITY, S3ProxyProcess.CREDENTIAL)) {
            sts.role(ROLE, s -> s.startsWith("fleet:"));
            sts.credentialLifetime(LIFETIME);
            List<SluiceProcess> fleet = new ArrayList<>();
            try {
                List<Future<SluiceProcess>> starting = new ArrayList<>();
                ExecutorService starter = Executors.newFixedThreadPool(n);
                for (int i = 0; i < n; i++) {
                    Path config = work.resolve(mode + "-" + i + ".yaml");
                    Files.writeString(config, """
                            server: { listen: "127.0.0.1:%d", admin_listen: "127.0.0.1:%d" }
                            oidc: { issuer: "%s", signing_key: { pem_file: "%s", kid: fleet } }
                            sts: { endpoint: "%s", timeout: 5s }
                            cache:
                              credentials: { refresh_lead: 5s, min_serve: 2s }
                              shared: %s
                            registry:
                              type: static
                              products:
                                - account: fleet
                                  product: data
                                  backend:
                                    type: s3
                                    endpoint: "%s"
                                    bucket: fleet
                                    auth: { type: web_identity_role, role_arn: "%s", subject: "%s" }
                            """.formatted(s3Ports[i], adminPorts[i], issuer, pem, sts.endpoint(),
                            shared ? "{ type: redis, uri: \"" + redis.uri() + "\", lead: 8s, seal_key_env: SLUICE_CACHE_KEY }" : "{ type: none }",
                            s3.endpoint(), ROLE, subject));
                    int idx = i;
                    // The baseline's front is built in code (CredentialBaselines), not set in the config.
                    List<String> main = List.of(CredentialBaselines.class.getName(), mode.equals("per_request") ? "per_request" : "normal",
                            config.toString());
                    starting.add(starter.submit(() -> SluiceProcess.start(main, s3Ports[idx], adminPorts[idx], env,
                            work.resolve(mode + "-" + idx + ".log"))));
                }
                for (Future<SluiceProcess> f : starting) {
                    fleet.add(f.get(120, TimeUnit.SECONDS));
                }
                starter.shutdown();
                if (mode.equals("l1_redis_paused")) {
                    redis.pause();
                }
                List<Long> cold;
                AtomicInteger failed = new AtomicInteger();
                try {
                    cold = burst(fleet, 32, failed);
                } finally {
                    if (mode.equals("l1_redis_paused")) {
                        redis.resume();
                    }
                }
                int coldExchanges = sts.exchanges(ROLE, subject);
                int steadyRequests = steady(fleet, LIFETIME.multipliedBy(LIFETIMES), failed);
                int steadyExchanges = sts.exchanges(ROLE, subject) - coldExchanges;
                return "| " + mode + " | " + n + " | " + (n * 32) + " | " + coldExchanges + " | " + ms(pct(cold, 50)) + " | "
                        + ms(pct(cold, 99)) + " | " + steadyRequests + " | "
                        + String.format(Locale.ROOT, "%.1f", steadyExchanges / (double) LIFETIMES) + " | " + failed.get() + " |";
            } finally {
                fleet.forEach(SluiceProcess::close);
            }
        }
    }

    /** {@code perInstance} concurrent GETs on every instance at once; returns sorted latencies. */
    private static List<Long> burst(List<SluiceProcess> fleet, int perInstance, AtomicInteger failed) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Long>> results = new ArrayList<>();
        for (SluiceProcess s : fleet) {
            URI uri = s.endpoint().resolve("/fleet/data/object.bin");
            for (int i = 0; i < perInstance; i++) {
                results.add(threads.submit(() -> {
                    go.await();
                    long t0 = System.nanoTime();
                    int status = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode();
                    if (status != 200) {
                        failed.incrementAndGet();
                    }
                    return System.nanoTime() - t0;
                }));
            }
        }
        go.countDown();
        List<Long> latencies = new ArrayList<>();
        for (Future<Long> f : results) {
            latencies.add(f.get(60, TimeUnit.SECONDS));
        }
        threads.shutdown();
        Collections.sort(latencies);
        return latencies;
    }

    /** One client per instance, a GET every 50 ms, for {@code duration}; returns the request count. */
    private static int steady(List<SluiceProcess> fleet, Duration duration, AtomicInteger failed) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
        AtomicInteger requests = new AtomicInteger();
        long end = System.nanoTime() + duration.toNanos();
        List<Future<?>> loops = new ArrayList<>();
        for (SluiceProcess s : fleet) {
            URI uri = s.endpoint().resolve("/fleet/data/object.bin");
            loops.add(threads.submit(() -> {
                while (System.nanoTime() < end) {
                    int status = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode();
                    requests.incrementAndGet();
                    if (status != 200) {
                        failed.incrementAndGet();
                    }
                    TimeUnit.MILLISECONDS.sleep(50); // the load's pace
                }
                return null;
            }));
        }
        for (Future<?> f : loops) {
            f.get(duration.toSeconds() + 60, TimeUnit.SECONDS);
        }
        threads.shutdown();
        return requests.get();
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static long pct(List<Long> sorted, int p) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }

    private static String ms(long nanos) {
        return String.format(Locale.ROOT, "%.1f", nanos / 1e6);
    }
}
