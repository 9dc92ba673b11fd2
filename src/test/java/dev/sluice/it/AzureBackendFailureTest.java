package dev.sluice.it;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import dev.sluice.it.SluiceUnderTest.RawResponse;
import dev.sluice.testing.AzuriteProcess;
import dev.sluice.testing.LoopbackServer;
import org.eclipse.jetty.io.Content;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

import static dev.sluice.it.S3ErrorAssert.assertS3Error;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What clients see when an Azure Blob store fails, with a loopback server standing in for it:
 * a 5xx is {@code 503 ServiceUnavailable} and Azure's throttling ({@code ServerBusy})
 * {@code 503 SlowDown}, both with {@code Retry-After}; a store that never answers is 503 within
 * the backend's timeout; and neither the account key nor the SAS token appears in any log line,
 * causes included.
 */
class AzureBackendFailureTest {
    static final Duration BACKEND_TIMEOUT = Duration.ofSeconds(1);
    static final Duration DEADLINE = Duration.ofSeconds(5);
    static final String SAS = "sv=2021-12-02&ss=b&srt=sco&sp=rl&se=2099-01-01T00%3A00%3A00Z&spr=https&sig=SECRETSASSIGNATURE0123456789abcdefXYZ%3D";

    @TempDir
    static Path base;
    static LoopbackServer store;
    static SluiceUnderTest sluice;

    final List<String> logLines = new CopyOnWriteArrayList<>();
    final AppenderBase<ILoggingEvent> capture = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent e) {
            logLines.add(e.getFormattedMessage() + (e.getThrowableProxy() == null ? "" : "\n" + ThrowableProxyUtil.asString(e.getThrowableProxy())));
        }
    };

    @BeforeAll
    static void start() throws Exception {
        store = new LoopbackServer((request, response, callback) -> {
            String path = request.getHttpURI().getPath();
            if (path.contains("/stuck")) {
                return; // never answers
            }
            boolean busy = path.contains("/busy");
            String code = busy ? "ServerBusy" : "InternalError";
            response.setStatus(busy ? 503 : 500);
            response.getHeaders().put("x-ms-error-code", code);
            response.getHeaders().put("x-ms-request-id", "azure-request-1");
            response.getHeaders().put("Content-Type", "application/xml");
            Content.Sink.write(response, true, "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>" + code
                    + "</Code><Message>The server is having a bad day.</Message></Error>", callback);
        }, Duration.ZERO);
        String endpoint = store.url() + "/" + AzuriteProcess.ACCOUNT;
        String yaml = """
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
                registry:
                  products:
                    - account: acme
                      product: broken
                      backend:
                        type: azure
                        endpoint: "%1$s"
                        account: %2$s
                        container: broken
                        timeout: %3$s
                        auth: { type: sas, sas_token_env: AZURE_SAS }
                    - account: acme
                      product: busy
                      backend:
                        type: azure
                        endpoint: "%1$s"
                        account: %2$s
                        container: busy
                        timeout: %3$s
                        auth: { type: shared_key, account_key_env: AZURE_KEY }
                    - account: acme
                      product: stuck
                      backend:
                        type: azure
                        endpoint: "%1$s"
                        account: %2$s
                        container: stuck
                        timeout: %3$s
                        auth: { type: sas, sas_token_env: AZURE_SAS }
                """.formatted(endpoint, AzuriteProcess.ACCOUNT, BACKEND_TIMEOUT.toMillis() + "ms");
        sluice = SluiceUnderTest.start(yaml, Map.of("AZURE_SAS", SAS, "AZURE_KEY", AzuriteProcess.ACCOUNT_KEY), base);
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (sluice != null) {
                sluice.close();
            }
        } finally {
            if (store != null) {
                store.close();
            }
        }
    }

    @BeforeEach
    void captureLogs() {
        capture.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(capture);
    }

    @AfterEach
    void stopCapturing() {
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(capture);
        assertThat(logLines).as("log lines").noneMatch(l -> l.contains("SECRETSASSIGNATURE") || l.contains("sig=")
                || l.contains(AzuriteProcess.ACCOUNT_KEY) || l.contains("SharedKey " + AzuriteProcess.ACCOUNT + ":"));
    }

    @Test
    void aStoreAnswering5xxIsServiceUnavailableWithRetryAfter() {
        for (String path : List.of("/acme/broken/x.txt", "/acme?list-type=2&prefix=broken%2F")) {
            RawResponse r = timed(() -> sluice.send("GET", path));
            S3ErrorAssert.ErrorDocument error = assertS3Error(r, 503, "ServiceUnavailable", path.startsWith("/acme?") ? "/acme" : path);
            assertThat(r.header("Retry-After")).isPresent();
            assertThat(error.message()).doesNotContain("bad day").doesNotContain("InternalError").doesNotContain("127.0.0.1");
        }
        RawResponse head = timed(() -> sluice.send("HEAD", "/acme/broken/x.txt"));
        assertThat(head.status()).isEqualTo(503);
        assertThat(head.header("Retry-After")).isPresent();
        // Azure's code, message and request id are in the log for the operator.
        assertThat(logLines).anyMatch(l -> l.contains("InternalError") && l.contains("bad day") && l.contains("azure-request-1"));
    }

    @Test
    void azureThrottlingIsSlowDownWithRetryAfter() {
        RawResponse r = timed(() -> sluice.send("GET", "/acme/busy/x.txt"));

        assertS3Error(r, 503, "SlowDown", "/acme/busy/x.txt");
        assertThat(r.header("Retry-After")).isPresent();
    }

    @Test
    void aStoreThatNeverAnswersIsServiceUnavailableWithinItsTimeout() {
        for (String path : List.of("/acme/stuck/x.txt", "/acme?list-type=2&prefix=stuck%2F")) {
            RawResponse r = timed(() -> sluice.send("GET", path));
            assertS3Error(r, 503, "ServiceUnavailable", path.startsWith("/acme?") ? "/acme" : path);
            assertThat(r.header("Retry-After")).isPresent();
        }
        RawResponse head = timed(() -> sluice.send("HEAD", "/acme/stuck/x.txt"));
        assertThat(head.status()).isEqualTo(503);
    }

    /** A request that must be answered within {@link #DEADLINE}: a deadline, not a benchmark. */
    private static RawResponse timed(Supplier<RawResponse> request) {
        long started = System.nanoTime();
        RawResponse r = request.get();
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        assertThat(took).as("answered after %s; the backend timeout is %s", took, BACKEND_TIMEOUT).isLessThan(DEADLINE);
        return r;
    }
}
