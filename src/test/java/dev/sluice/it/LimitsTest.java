package dev.sluice.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.testing.AccessLogCapture;
import dev.sluice.testing.LoopbackServer;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.sluice.it.S3ErrorAssert.assertS3Error;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The limits of docs/protection.md on a real sluice started from YAML: which S3 answer each
 * refusal is (status, code, {@code Retry-After}), whose bucket a request takes from (its
 * address, its principal, its product), that only a trusted proxy names the client, that a
 * quota lets the download that crosses it finish, that an address's open requests are capped
 * and given back however they end, and that {@code /metrics} counts the refusals by kind.
 * Rates are a token per 1000 s, so no bucket refills while a test runs.
 */
class LimitsTest {
    private static final String READER_ID = "AKIASLUICEREADER01";
    private static final String INTERNAL_ID = "AKIAINTERNAL0001";
    private static final String SECRET = "limits-secret-0123456789abcdefghijklmnop";
    private static final String SLOW = "requests_per_second: 0.001";

    @TempDir
    Path dir;

    @RegisterExtension
    final AccessLogCapture accessLog = new AccessLogCapture();

    private final List<AutoCloseable> started = new ArrayList<>();
    private final ExecutorService requests = Executors.newVirtualThreadPerTaskExecutor();

    @BeforeEach
    void files() throws Exception {
        Files.createDirectories(dir.resolve("files"));
        Files.createDirectories(dir.resolve("other"));
        Files.writeString(dir.resolve("files/small.txt"), "small\n");
        Files.writeString(dir.resolve("other/small.txt"), "small\n");
        Files.write(dir.resolve("files/600.bin"), new byte[600]);
    }

    @AfterEach
    void stop() throws Exception {
        requests.shutdownNow();
        for (AutoCloseable c : started.reversed()) {
            c.close();
        }
    }

    /** A sluice serving acme/files and acme/other (whose own limits are {@code filesLimits}), with the two access keys, and {@code limits}. */
    private SluiceUnderTest sluice(String limits, String filesLimits) {
        String yaml = """
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
                registry:
                  products:
                    - account: acme
                      product: files
                      backend: { type: file, path: ./files }
                      limits: %s
                    - { account: acme, product: other, backend: { type: file, path: ./other } }
                inbound:
                  access_keys:
                    - access_key_id: %s
                      secret_access_key_env: SECRET
                      name: reader
                      scopes: [ { product: "acme/*", actions: [get_object, head_object, list_bucket] } ]
                    - access_key_id: %s
                      secret_access_key_env: SECRET
                      name: internal
                      scopes: [ { product: "acme/*", actions: [get_object, head_object, list_bucket] } ]
                limits:
                %s
                """.formatted(filesLimits, READER_ID, INTERNAL_ID, limits.indent(2));
        SluiceUnderTest sluice = SluiceUnderTest.start(yaml, Map.of("SECRET", SECRET), dir);
        started.add(sluice);
        return sluice;
    }

    private static SluiceUnderTest.RawResponse get(SluiceUnderTest sluice, String path, String... headers) {
        return sluice.send("GET", path, headers);
    }

    private static SluiceUnderTest.RawResponse from(SluiceUnderTest sluice, String address) {
        return get(sluice, "/acme/files/small.txt", "X-Forwarded-For", address);
    }

    private static void assertSlowDown(SluiceUnderTest.RawResponse r, String resource) {
        assertS3Error(r, 503, "SlowDown", resource);
        assertThat(r.header("Retry-After")).hasValueSatisfying(v -> assertThat(Long.parseLong(v)).isGreaterThanOrEqualTo(1));
    }

    private static S3Client as(SluiceUnderTest sluice, String id) {
        return sluice.client(StaticCredentialsProvider.create(AwsBasicCredentials.create(id, SECRET)));
    }

    private static byte[] read(S3Client client, String product, String key) {
        return client.getObject(b -> b.bucket("acme").key(product + "/" + key), ResponseTransformer.toBytes()).asByteArray();
    }

    private static String metrics(SluiceUnderTest sluice) {
        return sluice.admin("/metrics").text();
    }

    @Test
    void anAnonymousAddressOverItsRateIsToldToSlowDownAndOtherAddressesAreNot() {
        SluiceUnderTest sluice = sluice("""
                anonymous: { %s, burst: 2 }
                trusted_proxies: ["127.0.0.1/32"]
                """.formatted(SLOW), "{}");
        assertThat(from(sluice, "192.0.2.1").status()).isEqualTo(200);
        assertThat(from(sluice, "192.0.2.1").status()).isEqualTo(200);

        SluiceUnderTest.RawResponse refused = from(sluice, "192.0.2.1");

        assertSlowDown(refused, "/acme/files/small.txt");
        assertThat(Long.parseLong(refused.header("Retry-After").orElseThrow())).isGreaterThan(900);
        // A forged entry left of the one the trusted proxy appended changes nothing.
        assertSlowDown(get(sluice, "/acme/files/small.txt", "X-Forwarded-For", "198.51.100.1, 192.0.2.1"), "/acme/files/small.txt");
        assertThat(from(sluice, "192.0.2.2").status()).isEqualTo(200);
        assertThat(get(sluice, "/acme/files/small.txt").status()).isEqualTo(200);
        assertThat(metrics(sluice)).containsPattern("sluice_limit_hits_total\\{kind=\"address\"} 2(\\.0)?\\n")
                .doesNotContain("192.0.2.1");
    }

    @Test
    void aForgedForwardedForFromAPeerThatIsNoTrustedProxyIsIgnored() {
        SluiceUnderTest sluice = sluice("""
                anonymous: { %s, burst: 2 }
                trusted_proxies: ["10.0.0.0/8"]
                """.formatted(SLOW), "{}");
        assertThat(from(sluice, "192.0.2.1").status()).isEqualTo(200);
        assertThat(from(sluice, "192.0.2.2").status()).isEqualTo(200);

        assertSlowDown(from(sluice, "192.0.2.3"), "/acme/files/small.txt");
    }

    @Test
    void anAuthenticatedPrincipalHasItsOwnBucketAndAnExemptKeyIsNeverLimited() {
        SluiceUnderTest sluice = sluice("""
                anonymous: { %s, burst: 1 }
                principal: { %s, burst: 2 }
                exempt: [%s]
                """.formatted(SLOW, SLOW, INTERNAL_ID), "{}");
        assertThat(get(sluice, "/acme/files/small.txt").status()).isEqualTo(200);
        assertSlowDown(get(sluice, "/acme/files/small.txt"), "/acme/files/small.txt");

        S3Client reader = as(sluice, READER_ID);
        assertThat(read(reader, "files", "small.txt")).hasSize(6);
        assertThat(read(reader, "other", "small.txt")).hasSize(6);
        assertThatThrownBy(() -> read(reader, "files", "small.txt")).isInstanceOfSatisfying(S3Exception.class, e -> {
            assertThat(e.statusCode()).isEqualTo(503);
            assertThat(e.awsErrorDetails().errorCode()).isEqualTo("SlowDown");
            assertThat(e.awsErrorDetails().sdkHttpResponse().firstMatchingHeader("Retry-After")).isPresent();
        });

        S3Client internal = as(sluice, INTERNAL_ID);
        for (int i = 0; i < 5; i++) {
            assertThat(read(internal, "files", "small.txt")).hasSize(6);
        }
        assertThat(metrics(sluice)).containsPattern("sluice_limit_hits_total\\{kind=\"principal\"} 1(\\.0)?\\n")
                .containsPattern("sluice_limit_hits_total\\{kind=\"address\"} 1(\\.0)?\\n")
                .doesNotContain(READER_ID);
    }

    @Test
    void aProductLimitAppliesToEveryoneTogether() {
        SluiceUnderTest sluice = sluice("""
                trusted_proxies: ["127.0.0.1"]
                """, "{ %s, burst: 3 }".formatted(SLOW));
        assertThat(from(sluice, "192.0.2.1").status()).isEqualTo(200);
        assertThat(from(sluice, "192.0.2.2").status()).isEqualTo(200);
        assertThat(read(as(sluice, READER_ID), "files", "small.txt")).hasSize(6);

        assertSlowDown(from(sluice, "192.0.2.3"), "/acme/files/small.txt");
        assertThat(get(sluice, "/acme/other/small.txt", "X-Forwarded-For", "192.0.2.3").status()).isEqualTo(200);
        assertThat(metrics(sluice)).containsPattern("sluice_limit_hits_total\\{kind=\"product\"} 1(\\.0)?\\n");
    }

    @Test
    void theDownloadThatCrossesAQuotaCompletesWholeAndTheNextIsRefused() throws Exception {
        SluiceUnderTest sluice = sluice("""
                product: { bytes_per_day: 1000 }
                """, "{}");
        SluiceUnderTest.RawResponse first = get(sluice, "/acme/files/600.bin");
        assertThat(first.body()).hasSize(600);
        SluiceUnderTest.RawResponse crossing = get(sluice, "/acme/files/600.bin");
        assertThat(crossing.status()).isEqualTo(200);
        assertThat(crossing.body()).hasSize(600);
        // Its bytes are charged once it has been sent, before it is logged.
        String id = crossing.header("x-amz-request-id").orElseThrow();
        accessLog.await(line -> line.path("request_id").asText().equals(id), "the crossing download");

        SluiceUnderTest.RawResponse refused = get(sluice, "/acme/files/small.txt");

        S3ErrorAssert.ErrorDocument doc = assertS3Error(refused, 403, "AccessDenied", "/acme/files/small.txt");
        assertThat(doc.message()).isEqualTo("This product's daily download quota is used up.");
        assertThat(read(as(sluice, READER_ID), "other", "small.txt")).hasSize(6);
        assertThat(metrics(sluice)).containsPattern("sluice_limit_hits_total\\{kind=\"quota\"} 1(\\.0)?\\n");
    }

    @Test
    void aRangedReadIsChargedTheBytesItSent() throws Exception {
        SluiceUnderTest sluice = sluice("product: { bytes_per_hour: 1000 }\n", "{}");
        for (int i = 0; i < 10; i++) {
            SluiceUnderTest.RawResponse r = get(sluice, "/acme/files/600.bin", "Range", "bytes=0-99");
            assertThat(r.status()).isEqualTo(206);
            String id = r.header("x-amz-request-id").orElseThrow();
            accessLog.await(line -> line.path("request_id").asText().equals(id), "ranged read " + i);
        }
        assertS3Error(get(sluice, "/acme/files/600.bin", "Range", "bytes=0-99"), 403, "AccessDenied", "/acme/files/600.bin");
    }

    /** Reads {@code files/<key>} as {@code client} and waits until its bytes are charged (just before its access-log line). */
    private byte[] readCharged(S3Client client, String key, String range) throws Exception {
        var got = client.getObject(b -> b.bucket("acme").key("files/" + key).range(range), ResponseTransformer.toBytes());
        String id = got.response().responseMetadata().requestId();
        accessLog.await(line -> line.path("request_id").asText().equals(id), "read " + key + " " + range);
        return got.asByteArray();
    }

    @Test
    void aPrincipalsDailyQuotaRefusesItsNextReadAfterTheCrossingOneAndOnlyItsOwn() throws Exception {
        SluiceUnderTest sluice = sluice("principal: { bytes_per_day: 1000 }\n", "{}");
        S3Client reader = as(sluice, READER_ID);
        assertThat(readCharged(reader, "600.bin", null)).hasSize(600);
        // A range is charged the bytes it sent (100), not the object's size: 700 so far.
        assertThat(readCharged(reader, "600.bin", "bytes=0-99")).hasSize(100);
        // Under the quota when it starts, so it is served whole, and it crosses the quota.
        assertThat(readCharged(reader, "600.bin", null)).hasSize(600);

        assertThatThrownBy(() -> read(reader, "other", "small.txt")).isInstanceOfSatisfying(S3Exception.class, e -> {
            assertThat(e.statusCode()).isEqualTo(403);
            assertThat(e.awsErrorDetails().errorCode()).isEqualTo("AccessDenied");
            assertThat(e.awsErrorDetails().errorMessage()).isEqualTo("Your daily download quota is used up.");
        });
        // Another principal has its own quota (1000 bytes: two reads), anonymous callers none.
        S3Client internal = as(sluice, INTERNAL_ID);
        for (int i = 0; i < 2; i++) {
            assertThat(read(internal, "files", "600.bin")).hasSize(600);
        }
        assertThat(get(sluice, "/acme/files/600.bin").body()).hasSize(600);
        assertThat(get(sluice, "/acme/files/600.bin").body()).hasSize(600);
        assertThat(metrics(sluice)).containsPattern("sluice_limit_hits_total\\{kind=\"principal_quota\"} 1(\\.0)?\\n")
                .containsPattern("sluice_limit_hits_total\\{kind=\"quota\"} 0(\\.0)?\\n");
    }

    @Test
    void anExemptPrincipalHasNoQuotaAndAProductQuotaAppliesBesideAPrincipalOne() throws Exception {
        SluiceUnderTest sluice = sluice("""
                principal: { bytes_per_hour: 500 }
                exempt: [%s]
                """.formatted(INTERNAL_ID), "{ bytes_per_day: 1000 }");
        S3Client internal = as(sluice, INTERNAL_ID);
        for (int i = 0; i < 3; i++) {
            assertThat(readCharged(internal, "600.bin", null)).hasSize(600);
        }
        S3Client reader = as(sluice, READER_ID);
        assertThat(readCharged(reader, "600.bin", null)).hasSize(600);
        SluiceUnderTest.RawResponse anonymous = get(sluice, "/acme/files/600.bin");
        assertThat(anonymous.body()).hasSize(600);
        String id = anonymous.header("x-amz-request-id").orElseThrow();
        accessLog.await(line -> line.path("request_id").asText().equals(id), "the anonymous read");

        // The reader's own quota is used up (and the product's too: its own is named first).
        assertThatThrownBy(() -> read(reader, "other", "small.txt")).isInstanceOfSatisfying(S3Exception.class, e -> {
            assertThat(e.statusCode()).isEqualTo(403);
            assertThat(e.awsErrorDetails().errorMessage()).isEqualTo("Your hourly download quota is used up.");
        });
        // The product's quota (1200 of 1000 bytes) refuses everyone else, the exempt key excepted.
        S3ErrorAssert.ErrorDocument doc = assertS3Error(get(sluice, "/acme/files/small.txt"), 403, "AccessDenied",
                "/acme/files/small.txt");
        assertThat(doc.message()).isEqualTo("This product's daily download quota is used up.");
        assertThat(read(internal, "files", "600.bin")).hasSize(600);
        assertThat(get(sluice, "/acme/other/small.txt").status()).isEqualTo(200);
    }

    @Test
    void requestsWhoseSignatureFailsTakeFromTheirAddressesBucketUntilTheyAreToldToSlowDown() {
        SluiceUnderTest sluice = sluice("anonymous: { %s, burst: 3 }\n".formatted(SLOW), "{}");
        S3Client guessing = sluice.client(StaticCredentialsProvider.create(
                AwsBasicCredentials.create(READER_ID, "not-the-secret-0123456789abcdefghijklmn")));
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> read(guessing, "files", "small.txt")).isInstanceOfSatisfying(S3Exception.class, e -> {
                assertThat(e.statusCode()).isEqualTo(403);
                assertThat(e.awsErrorDetails().errorCode()).isEqualTo("SignatureDoesNotMatch");
            });
        }

        assertThatThrownBy(() -> read(guessing, "files", "small.txt")).isInstanceOfSatisfying(S3Exception.class, e -> {
            assertThat(e.statusCode()).isEqualTo(503);
            assertThat(e.awsErrorDetails().errorCode()).isEqualTo("SlowDown");
            assertThat(e.awsErrorDetails().sdkHttpResponse().firstMatchingHeader("Retry-After"))
                    .hasValueSatisfying(v -> assertThat(Long.parseLong(v)).isGreaterThan(900));
        });
        // A failed signature over raw HTTP is refused the same way, with S3's error document.
        assertSlowDown(get(sluice, "/acme/files/small.txt", "Authorization",
                "AWS4-HMAC-SHA256 Credential=" + READER_ID + "/20261207/us-east-1/s3/aws4_request, "
                        + "SignedHeaders=host, Signature=0000000000000000000000000000000000000000000000000000000000000000"),
                "/acme/files/small.txt");
        // The same address's bucket: its anonymous requests wait too; the key's rightful holder does not.
        assertSlowDown(get(sluice, "/acme/files/small.txt"), "/acme/files/small.txt");
        assertThat(read(as(sluice, READER_ID), "files", "small.txt")).hasSize(6);
        assertThat(metrics(sluice)).containsPattern("sluice_limit_hits_total\\{kind=\"address\"} 3(\\.0)?\\n")
                .doesNotContain(READER_ID);
    }

    @Test
    void refusedExchangesAtTheStsEndpointTakeFromTheAddressesBucketUntilTheyAreThrottled() {
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        String yaml = """
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
                registry:
                  products:
                    - { account: acme, product: files, backend: { type: file, path: ./files } }
                inbound:
                  sts:
                    session_key_env: SESSION_KEY
                    roles:
                      - id: reader
                        trusted_issuers: ["https://issuer.invalid"]
                        audiences: [sluice]
                        subjects: ["*"]
                        scopes: [ { product: acme/files, actions: [get_object] } ]
                limits:
                  anonymous: { %s, burst: 2 }
                """.formatted(SLOW);
        SluiceUnderTest sluice = SluiceUnderTest.start(yaml, Map.of("SESSION_KEY", java.util.Base64.getEncoder().encodeToString(key)), dir);
        started.add(sluice);
        String exchange = "/.sts?Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=reader&RoleSessionName=guess"
                + "&WebIdentityToken=not.a.token";

        for (int i = 0; i < 2; i++) {
            SluiceUnderTest.RawResponse refused = get(sluice, exchange);
            assertThat(refused.status()).isEqualTo(400);
            assertThat(refused.text()).contains("<Code>InvalidIdentityToken</Code>");
        }
        SluiceUnderTest.RawResponse throttled = get(sluice, exchange);

        // STS's own answer to a caller that is too fast, which the SDKs' STS clients back off on.
        assertThat(throttled.status()).isEqualTo(400);
        assertThat(throttled.text()).contains("<ErrorResponse").contains("<Code>Throttling</Code>").contains("<Message>Rate exceeded</Message>");
        assertThat(throttled.header("Retry-After")).hasValueSatisfying(v -> assertThat(Long.parseLong(v)).isGreaterThan(900));
        // The same address's S3 requests wait too: one bucket per address, whatever it asks.
        assertSlowDown(get(sluice, "/acme/files/small.txt"), "/acme/files/small.txt");
        assertThat(metrics(sluice)).containsPattern("sluice_limit_hits_total\\{kind=\"address\"} 2(\\.0)?\\n");
    }

    // --- the concurrency cap: an S3 backend that answers when the test lets it --------------------

    private CountDownLatch arrived;
    private CountDownLatch release;

    private SluiceUnderTest heldBackend(String limits) throws Exception {
        arrived = new CountDownLatch(1);
        release = new CountDownLatch(1);
        LoopbackServer backend = new LoopbackServer((request, response, callback) -> {
            arrived.countDown();
            if (!release.await(30, TimeUnit.SECONDS)) {
                callback.failed(new IllegalStateException("never released"));
                return;
            }
            if (request.getHttpURI().getPath().endsWith("/broken")) {
                response.setStatus(500);
                response.getHeaders().put("Content-Type", "application/xml");
                response.write(true, ByteBuffer.wrap("<Error><Code>InternalError</Code></Error>".getBytes(StandardCharsets.UTF_8)),
                        callback);
                return;
            }
            response.setStatus(200);
            response.getHeaders().put("Content-Length", 5);
            response.getHeaders().put("Content-Type", "application/octet-stream");
            response.getHeaders().put("ETag", "\"0123456789abcdef0123456789abcdef\"");
            response.getHeaders().put("Last-Modified", "Sun, 06 Dec 2026 12:00:00 GMT");
            response.write(true, ByteBuffer.wrap("held\n".getBytes(StandardCharsets.UTF_8)), callback);
        }, Duration.ZERO);
        started.add(backend);
        String yaml = """
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
                registry:
                  products:
                    - { account: acme, product: files, backend: { type: file, path: ./files } }
                    - account: acme
                      product: remote
                      backend: { type: s3, endpoint: "%s", bucket: data, timeout: 30s, auth: { type: anonymous } }
                limits:
                %s
                """.formatted(backend.url(), limits.indent(2));
        SluiceUnderTest sluice = SluiceUnderTest.start(yaml, Map.of(), dir);
        started.add(sluice);
        return sluice;
    }

    /** Until the gauge of held slots is back at zero: the pass is closed just after the response's last byte. */
    private static void awaitNoSlotHeld(SluiceUnderTest sluice) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (sluice.sluice().metrics().registry().get("sluice.limit.concurrent.requests").gauge().value() > 0) {
            assertThat(System.nanoTime()).as("a concurrency slot given back").isLessThan(deadline);
            Thread.yield();
        }
    }

    @Test
    void anAddressOverItsConcurrencyCapIsToldToSlowDownUntilItsRequestEnds() throws Exception {
        SluiceUnderTest sluice = heldBackend("anonymous: { concurrent: 1 }\n");
        Future<SluiceUnderTest.RawResponse> held = requests.submit(() -> get(sluice, "/acme/remote/object"));
        assertThat(arrived.await(30, TimeUnit.SECONDS)).isTrue();

        SluiceUnderTest.RawResponse refused = get(sluice, "/acme/files/small.txt");

        assertS3Error(refused, 503, "SlowDown", "/acme/files/small.txt");
        assertThat(refused.header("Retry-After")).hasValue("1");
        release.countDown();
        assertThat(held.get(30, TimeUnit.SECONDS).text()).isEqualTo("held\n");
        awaitNoSlotHeld(sluice);
        assertThat(get(sluice, "/acme/files/small.txt").status()).isEqualTo(200);
        assertThat(metrics(sluice)).containsPattern("sluice_limit_hits_total\\{kind=\"concurrency\"} 1(\\.0)?\\n");
    }

    @Test
    void aFailedRequestGivesItsSlotBack() throws Exception {
        SluiceUnderTest sluice = heldBackend("anonymous: { concurrent: 1 }\n");
        Future<SluiceUnderTest.RawResponse> failing = requests.submit(() -> get(sluice, "/acme/remote/broken"));
        assertThat(arrived.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(get(sluice, "/acme/files/small.txt").status()).isEqualTo(503);

        release.countDown();

        assertThat(failing.get(30, TimeUnit.SECONDS).status()).isGreaterThanOrEqualTo(500);
        awaitNoSlotHeld(sluice);
        assertThat(get(sluice, "/acme/files/small.txt").status()).isEqualTo(200);
    }

    @Test
    void anAbortedRequestGivesItsSlotBack() throws Exception {
        SluiceUnderTest sluice = heldBackend("anonymous: { concurrent: 1 }\n");
        try (Socket socket = new Socket(sluice.s3Endpoint().getHost(), sluice.s3Endpoint().getPort())) {
            OutputStream out = socket.getOutputStream();
            out.write("GET /acme/remote/object HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertThat(arrived.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(get(sluice, "/acme/files/small.txt").status()).isEqualTo(503);
            socket.setSoLinger(true, 0); // reset, as a client that gives up does
        }
        release.countDown();

        awaitNoSlotHeld(sluice);
        assertThat(get(sluice, "/acme/files/small.txt").status()).isEqualTo(200);
    }
}
