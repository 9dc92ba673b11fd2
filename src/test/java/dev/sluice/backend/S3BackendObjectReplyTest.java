package dev.sluice.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.s3.ByteRange;
import dev.sluice.s3.Preconditions;
import dev.sluice.s3.ReadDecision;
import dev.sluice.s3.ResponseOverrides;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.testing.LoopbackServer;
import dev.sluice.time.Ticker;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpHeader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link S3Backend} reads against a server whose requests and replies the test sees and
 * writes: each read is one request carrying only what the server can use, and a reply whose
 * bytes would contradict the decided headers is a backend failure (503), never a body that
 * disagrees with its {@code Content-Length} or {@code Content-Range}.
 */
class S3BackendObjectReplyTest {
    private static final byte[] OBJECT = "0123456789abcdefghijklm".getBytes(StandardCharsets.UTF_8); // 23 bytes
    private static final String ETAG = "\"e\"";
    private static final String MODIFIED = "Mon, 03 Jun 2024 10:15:30 GMT";
    /** Whether the server honours Range, as S3 does, or sends the whole object with 200. */
    private static final AtomicReference<Boolean> HONOURS_RANGE = new AtomicReference<>(true);
    /** What the server was asked: method, Range and If-None-Match of each request. */
    private static final ConcurrentLinkedQueue<String> SEEN = new ConcurrentLinkedQueue<>();
    /** The {@code x-amz-checksum-mode} of each request; the server sends its checksum only when it is ENABLED. */
    private static final ConcurrentLinkedQueue<String> CHECKSUM_MODES = new ConcurrentLinkedQueue<>();
    private static final String CRC32 = "UuVFAg==";
    private static LoopbackServer server;
    private static HttpClient http;
    private static S3Backend backend;

    @BeforeAll
    static void start() throws Exception {
        server = new LoopbackServer((request, response, callback) -> {
            String range = request.getHeaders().get(HttpHeader.RANGE);
            SEEN.add(request.getMethod() + " range=" + range + " if-none-match=" + request.getHeaders().get(HttpHeader.IF_NONE_MATCH));
            response.getHeaders().put("ETag", ETAG);
            response.getHeaders().put("Last-Modified", MODIFIED);
            response.getHeaders().put("Content-Type", "text/plain");
            String checksumMode = String.valueOf(request.getHeaders().get("x-amz-checksum-mode"));
            CHECKSUM_MODES.add(checksumMode);
            if (checksumMode.equals("ENABLED")) {
                response.getHeaders().put("x-amz-checksum-crc32", CRC32);
            }
            if (ETAG.equals(request.getHeaders().get(HttpHeader.IF_NONE_MATCH))) {
                response.setStatus(304);
                callback.succeeded();
                return;
            }
            byte[] body = OBJECT;
            if (range != null && HONOURS_RANGE.get()) {
                ByteRange r = ByteRange.parse(range).orElseThrow().resolve(OBJECT.length);
                response.setStatus(206);
                response.getHeaders().put("Content-Range", r.contentRange(OBJECT.length));
                body = java.util.Arrays.copyOfRange(OBJECT, (int) r.first(), (int) r.last() + 1);
            }
            response.getHeaders().put("Content-Length", body.length);
            response.write(true, ByteBuffer.wrap(request.getMethod().equals("HEAD") ? new byte[0] : body), callback);
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

    @BeforeEach
    void reset() {
        HONOURS_RANGE.set(true);
        SEEN.clear();
        CHECKSUM_MODES.clear();
    }

    private static ObjectResponse read(Optional<ByteRange.Spec> range, Optional<Integer> part, Preconditions p, boolean headOnly) {
        return ObjectResponse.read(backend, new ObjectRead("k.txt",
                new ReadDecision.Request(range, part, p, headOnly, ResponseOverrides.NONE), "req"));
    }

    private static String text(ObjectResponse r) throws IOException {
        try (ObjectBody body = r.body().orElseThrow()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            body.transferTo(out);
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void aRangedGetIsOneRequestForJustThoseBytes() throws IOException {
        ObjectResponse r = read(ByteRange.parse("bytes=5-9"), Optional.empty(), Preconditions.NONE, false);

        assertThat(r.status()).isEqualTo(206);
        assertThat(r.headers()).contains(Map.entry("Content-Range", "bytes 5-9/23"), Map.entry("Content-Length", "5"));
        assertThat(text(r)).isEqualTo("56789");
        assertThat(SEEN).containsExactly("GET range=bytes=5-9 if-none-match=null");
    }

    @Test
    void aHeadWithARangeIsOnePlainHeadAnsweredFromTheSize() {
        ObjectResponse r = read(ByteRange.parse("bytes=-3"), Optional.empty(), Preconditions.NONE, true);

        assertThat(r.status()).isEqualTo(206);
        assertThat(r.headers()).contains(Map.entry("Content-Range", "bytes 20-22/23"), Map.entry("Content-Length", "3"));
        assertThat(r.body()).isEmpty();
        assertThat(SEEN).containsExactly("HEAD range=null if-none-match=null");
    }

    @Test
    void partOneIsOnePlainGetOfTheWholeObjectAnsweredAs206() throws IOException {
        ObjectResponse r = read(Optional.empty(), Optional.of(1), Preconditions.NONE, false);

        assertThat(r.status()).isEqualTo(206);
        assertThat(r.headers()).contains(Map.entry("Content-Range", "bytes 0-22/23"));
        assertThat(text(r)).isEqualTo("0123456789abcdefghijklm");
        assertThat(SEEN).containsExactly("GET range=null if-none-match=null");
    }

    @Test
    void anotherPartIsOneHeadThenInvalidPartNumber() {
        assertThatThrownBy(() -> read(Optional.empty(), Optional.of(2), Preconditions.NONE, false))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.INVALID_PART_NUMBER));
        assertThat(SEEN).containsExactly("HEAD range=null if-none-match=null");
    }

    @Test
    void theServersNotModifiedIsAnswered304WithItsValidators() {
        ObjectResponse r = read(ByteRange.parse("bytes=5-9"), Optional.empty(), Preconditions.of(null, ETAG, null, null), false);

        assertThat(r.status()).isEqualTo(304);
        assertThat(r.headers()).containsExactly(Map.entry("ETag", ETAG), Map.entry("Last-Modified", MODIFIED));
        assertThat(r.body()).isEmpty();
        assertThat(SEEN).containsExactly("GET range=bytes=5-9 if-none-match=\"e\"");
    }

    @Test
    void aServerThatAnswersARangeWithTheWholeObjectIsABackendFailure() {
        HONOURS_RANGE.set(false);

        assertThatThrownBy(() -> read(ByteRange.parse("bytes=5-9"), Optional.empty(), Preconditions.NONE, false))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE));
        assertThat(SEEN).hasSize(1);
    }

    @Test
    void aServerThatIgnoresRangeStillServesWholeObjects() throws IOException {
        HONOURS_RANGE.set(false);

        assertThat(text(read(Optional.empty(), Optional.empty(), Preconditions.NONE, false))).isEqualTo("0123456789abcdefghijklm");
        ObjectResponse part = read(Optional.empty(), Optional.of(1), Preconditions.NONE, false);
        assertThat(part.status()).isEqualTo(206);
        assertThat(text(part)).isEqualTo("0123456789abcdefghijklm");
        assertThat(SEEN).hasSize(2);
    }

    @Test
    void anOpenAsksForStoredChecksumsAndKeepsThemOnlyForTheWholeObject() {
        try (StoredObject whole = backend.open("k.txt", new Fetch(Optional.empty(), Preconditions.NONE, true))) {
            assertThat(whole.meta().stored()).contains(Map.entry("x-amz-checksum-crc32", CRC32));
        }
        try (StoredObject range = backend.open("k.txt", new Fetch(ByteRange.parse("bytes=5-9"), Preconditions.NONE, false))) {
            assertThat(range.meta().stored()).noneMatch(h -> h.getKey().startsWith("x-amz-checksum-"));
        }
        assertThat(CHECKSUM_MODES).containsExactly("ENABLED", "ENABLED");
    }
}
