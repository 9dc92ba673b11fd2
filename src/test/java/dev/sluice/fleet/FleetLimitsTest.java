package dev.sluice.fleet;

import dev.sluice.testing.RedisProcess;
import dev.sluice.testing.SluiceProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Limits held for a fleet (docs/protection.md): two sluice processes sharing one real
 * {@code redis-server} admit together what one product limit allows, not twice it; and with
 * Redis killed, then paused, each falls back to its own share and no request fails for Redis's
 * sake (every answer is a 200 or the limit's own 503 SlowDown, each within a bound).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FleetLimitsTest {
    /** The limited product: a burst of 20, then one request a second, for the whole fleet. */
    private static final int BURST = 20;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    static Path dir;

    private RedisProcess redis;
    private final List<SluiceProcess> instances = new ArrayList<>();

    @BeforeAll
    void start() throws Exception {
        Files.createDirectories(dir.resolve("limited"));
        Files.createDirectories(dir.resolve("open"));
        Files.writeString(dir.resolve("limited/x.txt"), "limited\n");
        Files.writeString(dir.resolve("open/x.txt"), "open\n");
        redis = RedisProcess.start();
        byte[] sealKey = new byte[32];
        new SecureRandom().nextBytes(sealKey);
        Map<String, String> env = Map.of("SLUICE_CACHE_KEY", Base64.getEncoder().encodeToString(sealKey));
        for (int i = 0; i < 2; i++) {
            int[] ports = freePorts();
            Path config = dir.resolve("sluice-" + i + ".yaml");
            Files.writeString(config, """
                    server: { listen: "127.0.0.1:%d", admin_listen: "127.0.0.1:%d", shutdown_timeout: 1s }
                    cache:
                      shared: { type: redis, uri: "%s", timeout: 100ms, seal_key_env: SLUICE_CACHE_KEY }
                    registry:
                      products:
                        - { account: acme, product: limited, backend: { type: file, path: "%s" },
                            limits: { requests_per_second: 1, burst: %d } }
                        - { account: acme, product: open, backend: { type: file, path: "%s" },
                            limits: { requests_per_second: 1000, burst: 1000 } }
                    """.formatted(ports[0], ports[1], redis.uri(), dir.resolve("limited"), BURST, dir.resolve("open")));
            instances.add(SluiceProcess.start(config, ports[0], ports[1], env, dir.resolve("sluice-" + i + ".log")));
        }
    }

    @AfterAll
    void stop() {
        for (SluiceProcess p : instances) {
            p.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    @Order(1)
    void twoInstancesTogetherAdmitWhatOneLimitAllows() throws Exception {
        long started = System.nanoTime();
        Map<Integer, Integer> statuses = new HashMap<>();
        for (int n = 0; n < 3 * BURST; n++) {
            HttpResponse<String> r = get(instances.get(n % 2), "/acme/limited/x.txt");
            statuses.merge(r.statusCode(), 1, Integer::sum);
            if (r.statusCode() == 503) {
                assertThat(r.body()).contains("<Code>SlowDown</Code>");
                assertThat(r.headers().firstValue("Retry-After")).hasValueSatisfying(v -> assertThat(Integer.parseInt(v)).isPositive());
            }
        }
        double elapsed = (System.nanoTime() - started) / 1e9;

        assertThat(statuses.keySet()).as("only admitted or limited: %s", statuses).containsOnly(200, 503);
        // One bucket for the fleet: its burst plus what it refilled meanwhile (one token of slack),
        // where each instance's own bucket would have admitted a whole burst each.
        assertThat(statuses.get(200)).as("admitted by two instances in %.2f s", elapsed)
                .isBetween(BURST, (int) Math.floor(BURST + elapsed + 1));
        assertThat(metric(0, "sluice_limit_decisions_total", "store=\"local\"") + metric(1, "sluice_limit_decisions_total", "store=\"local\""))
                .as("no decision fell back while Redis was up").isZero();
    }

    @Test
    @Order(2)
    void redisKilledFailsNoRequestEachInstanceDecidesAlone() throws Exception {
        redis.kill();
        try {
            assertEveryAnswerIsAdmittedOrLimited();
        } finally {
            redis.restart();
        }
    }

    @Test
    @Order(3)
    void redisPausedFailsNoRequestAndStallsNone() throws Exception {
        redis.pause();
        try {
            assertEveryAnswerIsAdmittedOrLimited();
        } finally {
            redis.resume();
        }
    }

    /** 40 reads of the open product across both instances while Redis cannot answer: every one a 200, each within a second. */
    private void assertEveryAnswerIsAdmittedOrLimited() throws Exception {
        double fallbacksBefore = metric(0, "sluice_limit_fallbacks_total") + metric(1, "sluice_limit_fallbacks_total");
        for (int n = 0; n < 40; n++) {
            long t0 = System.nanoTime();
            HttpResponse<String> r = get(instances.get(n % 2), "/acme/open/x.txt");
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(r.statusCode()).as("read %d: %s", n, r.body()).isEqualTo(200);
            assertThat(took).as("read %d", n).isLessThan(Duration.ofSeconds(1));
        }
        double fallbacks = metric(0, "sluice_limit_fallbacks_total") + metric(1, "sluice_limit_fallbacks_total") - fallbacksBefore;
        assertThat(fallbacks).as("decisions made by the instances' own buckets").isPositive();
    }

    private static HttpResponse<String> get(SluiceProcess instance, String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(instance.endpoint().resolve(path)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    private double metric(int instance, String name, String... labels) throws IOException, InterruptedException {
        return instances.get(instance).metric(name, labels);
    }

    private static int[] freePorts() throws IOException {
        try (ServerSocket a = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             ServerSocket b = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return new int[] {a.getLocalPort(), b.getLocalPort()};
        }
    }
}
