package dev.sluice.it;

import dev.sluice.it.S3ErrorAssert.ErrorDocument;
import dev.sluice.it.SluiceUnderTest.RawResponse;
import dev.sluice.testing.TestGcs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;

import static dev.sluice.it.S3ErrorAssert.assertS3Error;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What clients see when the GCS backend fails, as for the s3 backend: throttling is
 * {@code 503 SlowDown}, an error, a reply that is not the JSON API's or no reply within the
 * backend's timeout is {@code 503 ServiceUnavailable}, each with {@code Retry-After}, and never
 * with a hint of what is behind sluice; a bucket that refuses anonymous reads is
 * {@code 403 AccessDenied}.
 */
class GcsBackendFailureTest {
    static final Duration BACKEND_TIMEOUT = Duration.ofSeconds(1);
    static final Duration DEADLINE = Duration.ofSeconds(6);

    @TempDir
    static Path base;
    static TestGcs gcs;
    static SluiceUnderTest sluice;

    @BeforeAll
    static void start() throws Exception {
        gcs = new TestGcs();
        gcs.bucket("open").bucket("closed").makePublic("open").requireTokens(t -> false);
        gcs.put("open", "data/greeting.txt", "hello\n".getBytes(StandardCharsets.UTF_8), TestGcs.Attributes.of("text/plain"));
        gcs.put("closed", "greeting.txt", "hello\n".getBytes(StandardCharsets.UTF_8), TestGcs.Attributes.of("text/plain"));
        String yaml = """
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
                registry:
                  products:
                    - account: acme
                      product: good
                      backend: { type: gcs, endpoint: "%1$s", bucket: open, prefix: data/, timeout: 1s }
                    - account: acme
                      product: closed
                      backend: { type: gcs, endpoint: "%1$s", bucket: closed, timeout: 1s, auth: { type: anonymous } }
                """.formatted(gcs.endpoint());
        sluice = SluiceUnderTest.start(yaml, Map.of(), base);
    }

    @AfterAll
    static void stop() throws Exception {
        if (sluice != null) {
            sluice.close();
        }
        if (gcs != null) {
            gcs.close();
        }
    }

    @AfterEach
    void clearFaults() {
        gcs.fault(TestGcs.Fault.NONE, 0);
    }

    @Test
    void aBucketThatRefusesSluiceIsAccessDenied() {
        assertThat(sluice.send("GET", "/acme/good/greeting.txt").text()).isEqualTo("hello\n");

        assertS3Error(sluice.send("GET", "/acme/closed/greeting.txt"), 403, "AccessDenied", "/acme/closed/greeting.txt");
        assertS3Error(sluice.send("GET", "/acme?list-type=2&prefix=closed%2F"), 403, "AccessDenied", "/acme");
    }

    @ParameterizedTest
    @EnumSource(value = TestGcs.Fault.class, names = {"INTERNAL_ERROR", "UNAVAILABLE", "GARBAGE", "HANG"})
    void aFailingBackendIsServiceUnavailableWithRetryAfterWithinItsTimeout(TestGcs.Fault fault) {
        gcs.fault(fault);

        assertUnavailableInTime(() -> sluice.send("GET", "/acme/good/greeting.txt"), "ServiceUnavailable", "/acme/good/greeting.txt");
        assertUnavailableInTime(() -> sluice.send("GET", "/acme?list-type=2&prefix=good%2F"), "ServiceUnavailable", "/acme");
        RawResponse head = timed(() -> sluice.send("HEAD", "/acme/good/greeting.txt"));
        assertThat(head.status()).isEqualTo(503);
        assertThat(head.header("Retry-After")).isPresent();

        gcs.fault(TestGcs.Fault.NONE, 0);
        assertThat(sluice.send("GET", "/acme/good/greeting.txt").text()).isEqualTo("hello\n");
    }

    @Test
    void throttlingIsSlowDownWithRetryAfter() {
        gcs.fault(TestGcs.Fault.THROTTLE);

        assertUnavailableInTime(() -> sluice.send("GET", "/acme/good/greeting.txt"), "SlowDown", "/acme/good/greeting.txt");
        assertUnavailableInTime(() -> sluice.send("GET", "/acme?list-type=2&prefix=good%2F"), "SlowDown", "/acme");
    }

    private static void assertUnavailableInTime(Supplier<RawResponse> request, String code, String resource) {
        RawResponse r = timed(request);
        ErrorDocument error = assertS3Error(r, 503, code, resource);
        assertThat(r.header("Retry-After")).hasValueSatisfying(v -> assertThat(Integer.parseInt(v)).isNotNegative());
        assertThat(error.message()).doesNotContain("127.0.0.1").doesNotContain("open").doesNotContainIgnoringCase("gcs")
                .doesNotContainIgnoringCase("backend error");
        assertThat(r.text()).doesNotContain(String.valueOf(gcs.port()));
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
