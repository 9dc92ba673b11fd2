package dev.sluice.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.testing.LoopbackServer;
import dev.sluice.time.Ticker;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.client.HttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link S3Backend} against listing replies no well-behaved S3 server sends: every one is a
 * backend failure (503 with {@code Retry-After}), never a bug (500), and a large but legal page
 * is read whole up to the documented limit.
 */
class S3BackendListingReplyTest {
    private static final AtomicReference<String> REPLY = new AtomicReference<>("");
    private static LoopbackServer server;
    private static HttpClient http;
    private static S3Backend backend;

    @BeforeAll
    static void start() throws Exception {
        server = new LoopbackServer((request, response, callback) -> {
            response.getHeaders().put("Content-Type", "application/xml");
            response.write(true, ByteBuffer.wrap(REPLY.get().getBytes(StandardCharsets.UTF_8)), callback);
        }, Duration.ZERO);
        http = new HttpClient();
        http.start();
        backend = new S3Backend(http, URI.create(server.url()), "us-east-1", "bucket", "",
                BackendCredentials.anonymous(), InstantSource.system(), Ticker.SYSTEM, Duration.ofSeconds(10));
    }

    @AfterAll
    static void stop() throws Exception {
        http.stop();
        server.close();
    }

    private static ListPage list() {
        return backend.list(new ListQuery("", Optional.empty(), 1000, new ListPosition.Start()));
    }

    private static String page(String contents) {
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + "<Name>bucket</Name><IsTruncated>false</IsTruncated>" + contents + "</ListBucketResult>";
    }

    private static String entry(String key, String size, String modified) {
        return entry(key, size, modified, "e");
    }

    private static String entry(String key, String size, String modified, String etag) {
        return "<Contents><Key>" + key + "</Key><LastModified>" + modified + "</LastModified><ETag>\"" + etag + "\"</ETag><Size>"
                + size + "</Size></Contents>";
    }

    @Test
    void anUnparseableSizeIsABackendFailureNotABug() {
        REPLY.set(page(entry("a.txt", "twelve", "2026-01-01T00:00:00.000Z")));

        assertThatThrownBy(S3BackendListingReplyTest::list).isInstanceOfSatisfying(S3Exception.class,
                e -> assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE));
    }

    @Test
    void anUnparseableLastModifiedIsABackendFailureNotABug() {
        REPLY.set(page(entry("a.txt", "12", "yesterday")));

        assertThatThrownBy(S3BackendListingReplyTest::list).isInstanceOfSatisfying(S3Exception.class,
                e -> assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE));
    }

    @Test
    void aPageLargerThanTheHttpClientsDefaultBufferIsReadWhole() {
        // 1,000 entries of about 3 KiB each (a 1 KiB key, a long ETag some servers send) make a
        // 3 MiB page: beyond the 2 MiB that the HTTP client's send() buffers by default.
        StringBuilder contents = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            contents.append(entry(String.format("%04d-", i) + "k".repeat(1000), "1", "2026-01-01T00:00:00.000Z", "e".repeat(2000)));
        }
        assertThat(contents.length()).isGreaterThan(3_000_000);
        REPLY.set(page(contents.toString()));

        assertThat(list().objects()).hasSize(1000);
    }

    @Test
    void aPageOverTheListingLimitIsABackendFailure() {
        REPLY.set(page(entry("a.txt", "1", "2026-01-01T00:00:00.000Z") + "<Padding>" + "x".repeat(17 * 1024 * 1024)
                + "</Padding>"));

        assertThatThrownBy(S3BackendListingReplyTest::list).isInstanceOfSatisfying(S3Exception.class,
                e -> {
                    assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE);
                    assertThat(e.logCause().map(Throwable::getMessage).orElse("")).contains("too large");
                });
    }
}
