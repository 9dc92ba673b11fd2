package dev.sluice.it;

import dev.sluice.it.S3ErrorAssert.ErrorDocument;
import dev.sluice.it.SluiceUnderTest.RawResponse;
import dev.sluice.testing.S3ProxyExtension;
import dev.sluice.testing.S3ProxyProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;

import static dev.sluice.it.S3ErrorAssert.assertS3Error;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What clients see when the S3 backend fails: refused credentials are {@code 403 AccessDenied};
 * a backend that hangs or is gone is {@code 503 ServiceUnavailable} with {@code Retry-After},
 * within the backend's configured timeout and never with a hint of what is behind sluice.
 *
 * <p>This class has its own S3Proxy because it freezes and then kills it; the test that kills
 * it runs last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class S3BackendFailureTest {
    @RegisterExtension
    static final S3ProxyExtension S3PROXY = new S3ProxyExtension();

    /** The backend timeout configured below; answers must come well within {@link #DEADLINE}. */
    static final Duration BACKEND_TIMEOUT = Duration.ofSeconds(2);
    static final Duration DEADLINE = Duration.ofSeconds(5);
    static final String BUCKET = "failures";

    @TempDir
    static Path base;
    static SluiceUnderTest sluice;
    static S3Client s3;

    @BeforeAll
    static void start() {
        S3ProxyProcess s3proxy = S3PROXY.get();
        s3proxy.client().createBucket(b -> b.bucket(BUCKET));
        s3proxy.client().putObject(b -> b.bucket(BUCKET).key("data/greeting.txt"), RequestBody.fromString("hello\n"));
        String yaml = """
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
                registry:
                  products:
                    - account: acme
                      product: good
                      backend:
                        type: s3
                        endpoint: "%1$s"
                        bucket: %2$s
                        prefix: data/
                        timeout: 2s
                        auth: { type: static, access_key_id: "%3$s", secret_access_key_env: GOOD_SECRET }
                    - account: acme
                      product: wrong-secret
                      backend:
                        type: s3
                        endpoint: "%1$s"
                        bucket: %2$s
                        prefix: data/
                        timeout: 2s
                        auth: { type: static, access_key_id: "%3$s", secret_access_key_env: WRONG_SECRET }
                    - account: acme
                      product: unknown-key
                      backend:
                        type: s3
                        endpoint: "%1$s"
                        bucket: %2$s
                        prefix: data/
                        timeout: 2s
                        auth: { type: static, access_key_id: "AKIDNOTKNOWNTOS3PROXY", secret_access_key_env: GOOD_SECRET }
                """.formatted(s3proxy.endpoint(), BUCKET, S3ProxyProcess.IDENTITY);
        sluice = SluiceUnderTest.start(yaml,
                Map.of("GOOD_SECRET", S3ProxyProcess.CREDENTIAL, "WRONG_SECRET", "not-the-secret"), base);
        s3 = sluice.anonymousClient();
    }

    @AfterAll
    static void stop() throws Exception {
        if (sluice != null) {
            sluice.close();
        }
    }

    @Test
    @Order(1)
    void credentialsTheBackendRefusesAreAccessDenied() {
        assertThat(sluice.send("GET", "/acme/good/greeting.txt").text()).isEqualTo("hello\n");

        for (String product : new String[]{"wrong-secret", "unknown-key"}) {
            String path = "/acme/" + product + "/greeting.txt";
            assertS3Error(sluice.send("GET", path), 403, "AccessDenied", path);
            assertS3Error(sluice.send("GET", "/acme?list-type=2&prefix=" + product + "%2F"), 403, "AccessDenied", "/acme");
            RawResponse head = sluice.send("HEAD", path);
            assertThat(head.status()).isEqualTo(403);
            assertThat(head.body()).isEmpty();
            assertThatThrownBy(() -> s3.getObjectAsBytes(b -> b.bucket("acme").key(product + "/greeting.txt")))
                    .isInstanceOfSatisfying(S3Exception.class, e -> {
                        assertThat(e.statusCode()).isEqualTo(403);
                        assertThat(e.awsErrorDetails().errorCode()).isEqualTo("AccessDenied");
                    });
        }
    }

    @Test
    @Order(2)
    void aBackendThatStopsAnsweringIsServiceUnavailableWithinItsTimeout() {
        S3ProxyProcess s3proxy = S3PROXY.get();
        s3proxy.pause();
        try {
            assertUnavailableInTime(() -> sluice.send("GET", "/acme/good/greeting.txt"), "/acme/good/greeting.txt");
            assertUnavailableInTime(() -> sluice.send("GET", "/acme?list-type=2&prefix=good%2F"), "/acme");
            RawResponse head = timed(() -> sluice.send("HEAD", "/acme/good/greeting.txt"));
            assertThat(head.status()).isEqualTo(503);
            assertThat(head.header("Retry-After")).isPresent();
        } finally {
            s3proxy.resume();
        }
        // Once it answers again, so does sluice.
        assertThat(sluice.send("GET", "/acme/good/greeting.txt").text()).isEqualTo("hello\n");
    }

    @Test
    @Order(3)
    void aBackendThatIsGoneIsServiceUnavailable() {
        S3ProxyProcess s3proxy = S3PROXY.get();
        assertThat(sluice.send("GET", "/acme/good/greeting.txt").status()).isEqualTo(200);

        s3proxy.kill();

        assertUnavailableInTime(() -> sluice.send("GET", "/acme/good/greeting.txt"), "/acme/good/greeting.txt");
        assertUnavailableInTime(() -> sluice.send("GET", "/acme?list-type=2&prefix=good%2F&delimiter=%2F"), "/acme");
        assertUnavailableInTime(() -> sluice.send("GET", "/acme?prefix=good%2F"), "/acme");
        RawResponse head = timed(() -> sluice.send("HEAD", "/acme/good/greeting.txt"));
        assertThat(head.status()).isEqualTo(503);
        assertThat(head.header("Retry-After")).isPresent();
        assertThat(head.body()).isEmpty();
        assertThatThrownBy(() -> s3.getObjectAsBytes(b -> b.bucket("acme").key("good/greeting.txt")))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(503);
                    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("ServiceUnavailable");
                });
        // Sluice itself is healthy; only one dependency is down.
        assertThat(sluice.admin("/readyz").status()).isEqualTo(200);
        assertThat(sluice.admin("/metrics").text())
                .containsPattern("sluice_requests_seconds_count\\{operation=\"GetObject\",status=\"503\"} [1-9]");
    }

    private static void assertUnavailableInTime(Supplier<RawResponse> request, String resource) {
        RawResponse r = timed(request);
        ErrorDocument error = assertS3Error(r, 503, "ServiceUnavailable", resource);
        assertThat(r.header("Retry-After")).hasValueSatisfying(v -> assertThat(Integer.parseInt(v)).isNotNegative());
        // 5xx messages are generic: nothing about the backend, its address or the failure.
        assertThat(error.message()).doesNotContain("127.0.0.1").doesNotContain(BUCKET).doesNotContainIgnoringCase("timeout");
        assertThat(r.text()).doesNotContain(String.valueOf(S3PROXY.get().endpoint().getPort()));
    }

    /** Runs a request that must be answered within {@link #DEADLINE}: a deadline, not a benchmark. */
    private static RawResponse timed(Supplier<RawResponse> request) {
        long started = System.nanoTime();
        RawResponse r = request.get();
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        assertThat(took).as("answered after %s; the backend timeout is %s", took, BACKEND_TIMEOUT).isLessThan(DEADLINE);
        return r;
    }
}
