package dev.sluice.it;

import dev.sluice.testing.RecordingProxy;
import dev.sluice.testing.S3ProxyExtension;
import dev.sluice.testing.TestSts;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static dev.sluice.it.FederatedSluice.GREETING;
import static dev.sluice.it.FederatedSluice.greeting;
import static dev.sluice.it.FederatedSluice.path;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reads of federated products end to end: an anonymous AWS SDK client reads through sluice,
 * sluice exchanges its own JWT with the test STS (which verifies it against sluice's JWKS over
 * HTTP), and signs for S3Proxy with the temporary credentials. Exchanges stay off the request
 * path: one per (role, subject), whatever the number of reads or their concurrency, and none
 * at all while a cached credential is fresh, even with STS hanging.
 */
class FederatedReadTest {
    @RegisterExtension
    static final S3ProxyExtension S3PROXY = new S3ProxyExtension();

    /** Backend requests of this product pass through {@link #wire}, so the test sees the tokens sluice sent. */
    static final String READ = "read";
    static final String STEADY = "steady";
    static final String BURST = "burst";

    @TempDir
    static Path base;

    static RecordingProxy wire;
    static FederatedSluice federation;

    @BeforeAll
    static void start() throws Exception {
        S3Client admin = S3PROXY.get().client();
        FederatedSluice.createBucket(admin);
        for (String product : List.of(READ, STEADY, BURST, "metrics")) {
            FederatedSluice.putProduct(admin, product);
        }
        wire = RecordingProxy.start(S3PROXY.get().endpoint(), InstantSource.system());
        federation = FederatedSluice.builder(S3PROXY.get())
                .product(READ, wire.endpoint())
                .product(STEADY)
                .product(BURST)
                .start(base);
    }

    @AfterAll
    static void stop() throws Exception {
        try (RecordingProxy w = wire; FederatedSluice f = federation) {
            // closed in reverse order
        }
    }

    @AfterEach
    void stsAnswersNormallyAgain() {
        federation.sts.fault(TestSts.Fault.NONE);
    }

    @Test
    void readsAndListsAFederatedProductWithOneExchange() {
        S3Client s3 = federation.sluice.anonymousClient();

        assertThat(s3.getObjectAsBytes(b -> b.bucket("acme").key(READ + "/" + GREETING)).asUtf8String())
                .isEqualTo(greeting(READ));
        ListObjectsV2Response listing = s3.listObjectsV2(b -> b.bucket("acme").prefix(READ + "/"));
        assertThat(listing.contents()).extracting(S3Object::key)
                .containsExactly(READ + "/data/a.csv", READ + "/data/b.csv", READ + "/" + GREETING);
        for (int i = 0; i < 5; i++) {
            assertThat(s3.getObjectAsBytes(b -> b.bucket("acme").key(READ + "/data/a.csv")).asUtf8String()).isEqualTo("data/a.csv\n");
        }

        assertThat(federation.exchanges(READ)).isEqualTo(1);
        List<TestSts.Issued> issued = federation.issued(READ);
        assertThat(issued).hasSize(1);
        // Every backend request carried the session token the STS issued, and S3Proxy accepted it.
        List<RecordingProxy.Forwarded> sent = wire.forwarded();
        assertThat(sent).hasSize(7).allSatisfy(f -> {
            assertThat(f.securityToken()).hasValue(issued.get(0).sessionToken());
            assertThat(f.status()).isEqualTo(200);
        });
    }

    @Test
    void cachedCredentialsKeepServingAtUnchangedLatencyWhileStsHangs() {
        String object = path(STEADY, GREETING);
        assertThat(federation.sluice.send("GET", object).status()).isEqualTo(200);
        List<Long> before = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            before.add(timedGet(object));
        }

        federation.sts.fault(TestSts.Fault.HANG);
        int stsRequests = federation.sts.requests();
        List<Long> during = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            during.add(timedGet(object));
        }

        assertThat(during).as("latency of each GET in ms while STS hangs").allSatisfy(ms -> assertThat(ms).isLessThan(500));
        assertThat(median(during)).as("median ms while STS hangs (before: %s)", median(before))
                .isLessThanOrEqualTo(5 * median(before) + 20);
        assertThat(federation.sts.requests()).as("requests that reached STS").isEqualTo(stsRequests);
        assertThat(federation.exchanges(STEADY)).isEqualTo(1);
    }

    @Test
    void coldBurstOfConcurrentReadsMakesOneExchange() throws Exception {
        federation.sts.delay(Duration.ofMillis(200));
        int callers = 100;
        CountDownLatch go = new CountDownLatch(1);
        List<Future<SluiceUnderTest.RawResponse>> answers = new ArrayList<>();
        try (ExecutorService threads = Executors.newFixedThreadPool(callers)) {
            for (int i = 0; i < callers; i++) {
                answers.add(threads.submit(() -> {
                    go.await();
                    return federation.sluice.send("GET", path(BURST, GREETING));
                }));
            }
            go.countDown();
            for (Future<SluiceUnderTest.RawResponse> answer : answers) {
                SluiceUnderTest.RawResponse r = answer.get();
                assertThat(r.status()).as("status of %s", r.text()).isEqualTo(200);
                assertThat(r.text()).isEqualTo(greeting(BURST));
            }
        }
        assertThat(federation.exchanges(BURST)).isEqualTo(1);
    }

    @Test
    void metricsCountLookupsAndTheExchange() throws Exception {
        // A sluice of its own: its metrics count this test's reads only.
        try (FederatedSluice own = FederatedSluice.builder(S3PROXY.get()).product("metrics").start(base)) {
            assertThat(own.sluice.send("GET", path("metrics", GREETING)).status()).isEqualTo(200);
            String first = own.sluice.admin("/metrics").text();
            assertThat(sample(first, "sluice_credential_lookups_total", Map.of("tier", "l1", "outcome", "miss"))).isGreaterThanOrEqualTo(1);

            assertThat(own.sluice.send("GET", path("metrics", GREETING)).status()).isEqualTo(200);
            String second = own.sluice.admin("/metrics").text();
            assertThat(sample(second, "sluice_credential_lookups_total", Map.of("tier", "l1", "outcome", "hit"))).isGreaterThanOrEqualTo(1);
            assertThat(sample(second, "sluice_sts_exchanges_total", Map.of("outcome", "success"))).isEqualTo(1);
            assertThat(sample(second, "sluice_sts_exchange_seconds_count", Map.of())).isEqualTo(1);
            assertThat(own.exchanges("metrics")).isEqualTo(1);
        }
    }

    private long timedGet(String path) {
        long started = System.nanoTime();
        SluiceUnderTest.RawResponse r = federation.sluice.send("GET", path);
        long ms = (System.nanoTime() - started) / 1_000_000;
        assertThat(r.status()).as("status of %s", r.text()).isEqualTo(200);
        return ms;
    }

    private static long median(List<Long> values) {
        List<Long> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }

    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{([^}]*)})? (\\S+)$", Pattern.MULTILINE);
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    /**
     * The value of the one sample of {@code name} whose labels include {@code labels}, from a
     * Prometheus text exposition; fails when there is none or more than one.
     */
    private static double sample(String exposition, String name, Map<String, String> labels) {
        List<Double> values = new ArrayList<>();
        Matcher m = SAMPLE.matcher(exposition);
        while (m.find()) {
            if (!m.group(1).equals(name)) {
                continue;
            }
            Map<String, String> present = new java.util.HashMap<>();
            if (m.group(2) != null) {
                Matcher l = LABEL.matcher(m.group(2));
                while (l.find()) {
                    present.put(l.group(1), l.group(2));
                }
            }
            if (present.entrySet().containsAll(labels.entrySet())) {
                values.add(Double.parseDouble(m.group(3)));
            }
        }
        Set<String> names = SAMPLE.matcher(exposition).results().map(r -> r.group(1)).filter(n -> n.startsWith("sluice_"))
                .collect(Collectors.toCollection(java.util.TreeSet::new));
        assertThat(values).as("samples of %s%s among %s", name, labels, names).hasSize(1);
        return values.get(0);
    }
}
