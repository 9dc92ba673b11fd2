package dev.sluice.backend;

import dev.sluice.s3.MultipartChecksum;
import dev.sluice.s3.ObjectClaims;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.sigv4.AwsCredentials;
import dev.sluice.testing.AwsChunked;
import dev.sluice.testing.LoopbackServer;
import dev.sluice.testing.TestUploads;
import dev.sluice.time.Ticker;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link S3Backend}'s writes against a server whose requests and answers the test sees and
 * writes: exactly what goes on the wire (lengths, signed headers, encoded names, XML), how each
 * backend error is answered, and what happens to a body when a check fails or the backend
 * goes away mid-upload.
 */
class S3BackendWriteWireTest {
    /** One request as the server received it; {@code body} holds what arrived before the end or the failure. */
    record Received(String method, String pathQuery, HttpFields headers, byte[] body, boolean complete) {
        String header(String name) {
            return headers.get(name);
        }
    }

    /** What the server does with a request whose head (and, if it reads it, body) it has. */
    @FunctionalInterface
    interface Answer {
        void answer(Request request, Response response, Callback callback) throws Exception;
    }

    private static final ConcurrentLinkedQueue<Received> RECEIVED = new ConcurrentLinkedQueue<>();
    private static final AtomicReference<Answer> ANSWER = new AtomicReference<>();
    private static LoopbackServer server;
    private static HttpClient http;
    private static S3Backend backend;

    @BeforeAll
    static void start() throws Exception {
        server = new LoopbackServer((request, response, callback) -> ANSWER.get().answer(request, response, callback), Duration.ZERO);
        http = new HttpClient();
        http.start();
        backend = backendAt(URI.create(server.url()));
    }

    private static S3Backend backendAt(URI endpoint) {
        // As S3 itself is written to: with the checksum trailers it takes.
        return new S3Backend(http, endpoint, "us-east-1", "bucket", "pre/fix/",
                BackendCredentials.fixed(AwsCredentials.of("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")),
                InstantSource.system(), Ticker.SYSTEM, Duration.ofSeconds(10), true);
    }

    @AfterAll
    static void stop() throws Exception {
        if (http != null) {
            http.stop();
        }
        if (server != null) {
            server.close();
        }
    }

    @BeforeEach
    void clear() {
        RECEIVED.clear();
    }

    @Test
    void putStreamsTheBodyWithItsLengthUnsignedWithAttributesAndChecksumsSigned() {
        byte[] bytes = "hello".getBytes(StandardCharsets.UTF_8);
        ANSWER.set(reading((received, response) -> {
            response.getHeaders().put("ETag", "\"backend-etag\"");
            response.getHeaders().put("x-amz-checksum-crc32", "NhCmhg==");
            response.getHeaders().put("x-amz-checksum-type", "FULL_OBJECT");
            return "";
        }));

        Written written = backend.put("dir/a b.txt", TestUploads.of(bytes, List.of(Map.entry("x-amz-checksum-crc32", "NhCmhg=="))),
                new ObjectAttributes(List.of(Map.entry("content-type", "text/plain"), Map.entry("x-amz-meta-owner", "me"))),
                WriteCondition.NONE);

        Received put = only();
        assertThat(put.method()).isEqualTo("PUT");
        assertThat(put.pathQuery()).isEqualTo("/bucket/pre/fix/dir/a%20b.txt");
        assertThat(put.body()).isEqualTo(bytes);
        assertThat(put.header("Content-Length")).isEqualTo("5");
        assertThat(put.header("Transfer-Encoding")).isNull();
        assertThat(put.header("Expect")).as("a refusal from the head arrives before the body is sent").isEqualTo("100-continue");
        assertThat(put.header("x-amz-content-sha256")).isEqualTo("UNSIGNED-PAYLOAD");
        assertThat(put.header("Content-Type")).isEqualTo("text/plain");
        assertThat(put.header("x-amz-meta-owner")).isEqualTo("me");
        assertThat(put.header("x-amz-checksum-crc32")).isEqualTo("NhCmhg==");
        assertThat(put.header("Authorization"))
                .contains("SignedHeaders=content-type;host;x-amz-checksum-crc32;x-amz-content-sha256;x-amz-date;x-amz-meta-owner,");
        assertThat(written).isEqualTo(new Written("\"backend-etag\"", List.of(Map.entry("x-amz-checksum-crc32", "NhCmhg=="))));
    }

    @Test
    void aChecksumKnownOnlyAfterTheBodyIsSentAsATrailerOfAnAwsChunkedBody() {
        // Two full 256 KiB chunks and a short one.
        byte[] bytes = S3BackendWriteTest.random(2 * S3UploadSender.BUFFER + 1000, 21);
        String crc = crc32(bytes);
        ANSWER.set(reading((received, response) -> {
            response.getHeaders().put("ETag", "\"backend-etag\"");
            response.getHeaders().put("x-amz-checksum-crc32", crc);
            return "";
        }));

        Written written = backend.put("k", TestUploads.withTrailer(bytes, "x-amz-checksum-crc32", crc, null),
                new ObjectAttributes(List.of(Map.entry("content-encoding", "gzip"))), WriteCondition.NONE);

        Received put = only();
        assertThat(put.complete()).isTrue();
        assertThat(put.header("x-amz-content-sha256")).isEqualTo("STREAMING-UNSIGNED-PAYLOAD-TRAILER");
        assertThat(put.header("Content-Encoding")).isEqualTo("aws-chunked,gzip");
        assertThat(put.header("x-amz-decoded-content-length")).isEqualTo(Integer.toString(bytes.length));
        assertThat(put.header("x-amz-trailer")).isEqualTo("x-amz-checksum-crc32");
        assertThat(put.header("Content-Length")).isEqualTo(Integer.toString(put.body().length));
        assertThat(put.header("Transfer-Encoding")).isNull();
        assertThat(put.header("Authorization"))
                .contains("SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-trailer,");
        AwsChunked decoded = AwsChunked.decode(put.body());
        assertThat(decoded.chunkSizes()).containsExactly(S3UploadSender.BUFFER, S3UploadSender.BUFFER, 1000, 0);
        assertThat(decoded.data()).isEqualTo(bytes);
        assertThat(decoded.trailer()).isEqualTo("x-amz-checksum-crc32:" + crc);
        assertThat(written).isEqualTo(new Written("\"backend-etag\"", List.of(Map.entry("x-amz-checksum-crc32", crc))));
    }

    @Test
    void anEmptyBodyWithATrailerIsTheLastChunkAndTheTrailerAlone() {
        ANSWER.set(storing());

        backend.put("k", TestUploads.withTrailer(new byte[0], "x-amz-checksum-crc32c", "AAAAAA==", null),
                ObjectAttributes.NONE, WriteCondition.NONE);

        Received put = only();
        String expected = "0\r\nx-amz-checksum-crc32c:AAAAAA==\r\n\r\n";
        assertThat(new String(put.body(), StandardCharsets.US_ASCII)).isEqualTo(expected);
        assertThat(put.header("Content-Length")).isEqualTo(Integer.toString(expected.length()));
        assertThat(put.header("Content-Encoding")).isEqualTo("aws-chunked");
        assertThat(put.header("x-amz-decoded-content-length")).isEqualTo("0");
    }

    @Test
    void aTrailingChecksumOtherThanTheCrcsIsNotSentOnAndTheBodyGoesPlain() {
        ANSWER.set(storing());
        byte[] bytes = S3BackendWriteTest.random(1000, 23);

        for (String name : List.of("x-amz-checksum-sha256", "x-amz-checksum-sha1", "x-amz-checksum-crc64nvme")) {
            RECEIVED.clear();
            String value = name.endsWith("sha256") ? sha256(bytes) : name.endsWith("sha1") ? "A".repeat(27) + "=" : "A".repeat(11) + "=";
            backend.put("k", TestUploads.withTrailer(bytes, name, value, null), ObjectAttributes.NONE, WriteCondition.NONE);

            Received put = only();
            assertThat(put.header("x-amz-content-sha256")).as(name).isEqualTo("UNSIGNED-PAYLOAD");
            assertThat(put.header("x-amz-trailer")).as(name).isNull();
            assertThat(put.header("Content-Encoding")).as(name).isNull();
            assertThat(put.body()).as(name).isEqualTo(bytes);
        }
    }

    @Test
    void aStoreOtherThanS3IsSentThePlainBodyEvenWhenTheChecksumComesAfterIt() {
        ANSWER.set(storing());
        S3Backend compatible = new S3Backend(http, URI.create(server.url()), "us-east-1", "bucket", "",
                BackendCredentials.anonymous(), InstantSource.system(), Ticker.SYSTEM, Duration.ofSeconds(10));
        byte[] bytes = {1, 2, 3};

        compatible.put("k", TestUploads.withTrailer(bytes, "x-amz-checksum-crc32", crc32(bytes), null),
                ObjectAttributes.NONE, WriteCondition.NONE);

        Received put = only();
        assertThat(put.header("x-amz-content-sha256")).as("anonymous and plain: no payload form to name").isNull();
        assertThat(put.header("x-amz-trailer")).isNull();
        assertThat(put.header("Content-Encoding")).isNull();
        assertThat(put.body()).isEqualTo(bytes);
    }

    @ParameterizedTest
    @CsvSource({
            "https://s3.amazonaws.com, true",
            "https://s3.eu-west-1.amazonaws.com, true",
            "https://s3.dualstack.us-east-2.amazonaws.com:443, true",
            "https://s3.cn-north-1.amazonaws.com.cn, true",
            "https://storage.googleapis.com, false",
            "http://127.0.0.1:9000, false",
            "https://minio.example.com, false",
            "https://amazonaws.com.example.com, false"})
    void onlyS3ItselfIsSentChecksumTrailers(String endpoint, boolean takes) {
        assertThat(BackendSpec.S3.takesChecksumTrailers(URI.create(endpoint))).isEqualTo(takes);
    }

    @Test
    void aBodyWithATrailerThatFailsItsCheckEndsShortOfItsFramingWithoutTheTrailer() throws Exception {
        CompletableFuture<Received> seen = new CompletableFuture<>();
        ANSWER.set((request, response, callback) -> {
            Received r = read(request);
            seen.complete(r);
            callback.failed(new IOException("the client went away"));
        });
        byte[] bytes = S3BackendWriteTest.random(S3UploadSender.BUFFER + 7, 22);

        assertThatThrownBy(() -> backend.put("k", TestUploads.withTrailer(bytes, "x-amz-checksum-crc32", crc32(bytes),
                S3Error.BAD_DIGEST), ObjectAttributes.NONE, WriteCondition.NONE))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.BAD_DIGEST));

        Received put = seen.get(10, TimeUnit.SECONDS);
        assertThat(put.complete()).isFalse();
        assertThat(put.body().length).isLessThan(Integer.parseInt(put.header("Content-Length")));
        assertThat(new String(put.body(), StandardCharsets.US_ASCII)).doesNotContain("x-amz-checksum");
    }

    @Test
    void anAnonymousBackendIsStillToldTheBodysForm() {
        ANSWER.set(storing());
        S3Backend anonymous = new S3Backend(http, URI.create(server.url()), "us-east-1", "bucket", "",
                BackendCredentials.anonymous(), InstantSource.system(), Ticker.SYSTEM, Duration.ofSeconds(10), true);
        byte[] bytes = {1, 2, 3};

        anonymous.put("k", TestUploads.withTrailer(bytes, "x-amz-checksum-crc32", crc32(bytes), null),
                ObjectAttributes.NONE, WriteCondition.NONE);

        Received put = only();
        assertThat(put.header("Authorization")).isNull();
        assertThat(put.header("x-amz-content-sha256")).isEqualTo("STREAMING-UNSIGNED-PAYLOAD-TRAILER");
        assertThat(AwsChunked.decode(put.body()).data()).isEqualTo(bytes);
    }

    private static String crc32(byte[] bytes) {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(bytes);
        return java.util.Base64.getEncoder().encodeToString(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    private static String sha256(byte[] bytes) {
        try {
            return java.util.Base64.getEncoder().encodeToString(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aPutWithTemporaryCredentialsSignsWithTheCurrentOnesAndTheirToken() {
        ANSWER.set(storing());
        AtomicReference<AwsCredentials> current = new AtomicReference<>(AwsCredentials.of("ASIA1", "secret-1", "token-1"));
        S3Backend federated = new S3Backend(http, URI.create(server.url()), "us-east-1", "bucket", "",
                () -> Optional.of(current.get()), InstantSource.system(), Ticker.SYSTEM, Duration.ofSeconds(10));

        federated.put("k", TestUploads.of(new byte[] {1}), ObjectAttributes.NONE, WriteCondition.NONE);
        current.set(AwsCredentials.of("ASIA2", "secret-2", "token-2"));
        federated.uploadPart("k", "id", 1, TestUploads.of(new byte[] {2}));

        List<Received> all = List.copyOf(RECEIVED);
        assertThat(all).extracting(r -> r.header("x-amz-security-token")).containsExactly("token-1", "token-2");
        assertThat(all.get(0).header("Authorization")).contains("Credential=ASIA1/").contains("x-amz-security-token");
        assertThat(all.get(1).header("Authorization")).contains("Credential=ASIA2/");
        assertThat(all).extracting(r -> r.header("x-amz-content-sha256")).containsOnly("UNSIGNED-PAYLOAD");
    }

    @Test
    void aPutWithoutAContentTypeSendsNone() {
        ANSWER.set(storing());

        backend.put("k", TestUploads.of(new byte[] {1}), ObjectAttributes.NONE, WriteCondition.NONE);

        assertThat(only().header("Content-Type")).isNull();
    }

    @Test
    void aBodyThatFailsItsCheckIsAbortedShortOfItsLength() throws Exception {
        CompletableFuture<Received> seen = new CompletableFuture<>();
        ANSWER.set((request, response, callback) -> {
            Received r = read(request);
            seen.complete(r);
            callback.failed(new IOException("the client went away"));
        });
        byte[] bytes = S3BackendWriteTest.random(3 * 1024 * 1024 + 7, 11);

        assertThatThrownBy(() -> backend.put("k", TestUploads.failingAtEnd(bytes, S3Error.BAD_DIGEST), ObjectAttributes.NONE,
                WriteCondition.NONE))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.BAD_DIGEST));

        Received put = seen.get(10, TimeUnit.SECONDS);
        assertThat(put.header("Content-Length")).isEqualTo(Integer.toString(bytes.length));
        assertThat(put.complete()).isFalse();
        assertThat(put.body().length).isLessThan(bytes.length);
    }

    @Test
    void aBackendThatDiesMidUploadIsServiceUnavailable() throws Exception {
        CompletableFuture<Integer> seen = new CompletableFuture<>();
        ANSWER.set((request, response, callback) -> {
            InputStream in = Content.Source.asInputStream(request);
            byte[] half = in.readNBytes(1024 * 1024);
            seen.complete(half.length);
            request.getConnectionMetaData().getConnection().getEndPoint().close();
            callback.failed(new IOException("the backend died"));
        });

        assertThatThrownBy(() -> backend.put("k", TestUploads.of(S3BackendWriteTest.random(8 * 1024 * 1024, 12)),
                ObjectAttributes.NONE, WriteCondition.NONE))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE));
        assertThat(seen.get(10, TimeUnit.SECONDS)).isEqualTo(1024 * 1024);
    }

    @Test
    void aBackendThatStopsReadingMidUploadIsServiceUnavailableAfterItsTimeout() throws Exception {
        java.util.concurrent.CountDownLatch testDone = new java.util.concurrent.CountDownLatch(1);
        CompletableFuture<Integer> seen = new CompletableFuture<>();
        ANSWER.set((request, response, callback) -> {
            InputStream in = Content.Source.asInputStream(request);
            seen.complete(in.readNBytes(1024 * 1024).length);
            testDone.await(30, TimeUnit.SECONDS); // reads nothing more: the client's writes back up
            callback.failed(new IOException("the test is over"));
        });
        S3Backend impatient = new S3Backend(http, URI.create(server.url()), "us-east-1", "bucket", "",
                BackendCredentials.anonymous(), InstantSource.system(), Ticker.SYSTEM, Duration.ofMillis(500));
        try {
            assertThatThrownBy(() -> impatient.put("k", TestUploads.of(S3BackendWriteTest.random(64 * 1024 * 1024, 14)),
                    ObjectAttributes.NONE, WriteCondition.NONE))
                    .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE));
            assertThat(seen.get(10, TimeUnit.SECONDS)).isEqualTo(1024 * 1024);
        } finally {
            testDone.countDown();
        }
    }

    @Test
    void anEmptyBodyIsSentWithALengthOfZero() {
        ANSWER.set(reading((received, response) -> ""));

        // The answer carries no ETag: a server that does not name what it stored cannot be written through.
        assertThatThrownBy(() -> backend.put("empty", TestUploads.of(new byte[0]), ObjectAttributes.NONE, WriteCondition.NONE))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE));

        Received put = only();
        assertThat(put.header("Content-Length")).isEqualTo("0");
        assertThat(put.body()).isEmpty();
    }

    @Test
    void anUnreachableBackendIsServiceUnavailable() throws Exception {
        try (LoopbackServer gone = new LoopbackServer((request, response, callback) -> callback.succeeded(), Duration.ZERO)) {
            gone.refuseConnections();
            S3Backend unreachable = backendAt(URI.create(gone.url()));

            assertThatThrownBy(() -> unreachable.put("k", TestUploads.of(new byte[] {1, 2}), ObjectAttributes.NONE, WriteCondition.NONE))
                    .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE));
            assertThatThrownBy(() -> unreachable.delete("k"))
                    .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE));
        }
    }

    @Test
    void aBackendThatRefusesBeforeReadingTheBodyIsAnsweredWithItsError() {
        ANSWER.set((request, response, callback) -> {
            RECEIVED.add(new Received(request.getMethod(), request.getHttpURI().getPathQuery(), request.getHeaders().asImmutable(),
                    new byte[0], false));
            error(response, callback, 403, "AccessDenied");
        });

        assertThatThrownBy(() -> backend.put("k", TestUploads.of(S3BackendWriteTest.random(4 * 1024 * 1024, 13)),
                ObjectAttributes.NONE, WriteCondition.NONE))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.ACCESS_DENIED));
    }

    @Test
    void aConditionIsCheckedFirstAndSentWithTheWrite() {
        ANSWER.set((request, response, callback) -> {
            if (request.getMethod().equals("HEAD")) {
                RECEIVED.add(new Received("HEAD", request.getHttpURI().getPathQuery(), request.getHeaders().asImmutable(), new byte[0], true));
                response.setStatus(404);
                callback.succeeded();
                return;
            }
            reading((r, resp) -> {
                resp.getHeaders().put("ETag", "\"e\"");
                return "";
            }).answer(request, response, callback);
        });

        backend.put("new.txt", TestUploads.of(new byte[] {1}), ObjectAttributes.NONE, new WriteCondition(true, Optional.empty()));

        List<Received> all = List.copyOf(RECEIVED);
        assertThat(all).extracting(Received::method).containsExactly("HEAD", "PUT");
        assertThat(all.get(1).header("If-None-Match")).isEqualTo("*");
        assertThat(all.get(1).header("Authorization")).contains("if-none-match");
    }

    @Test
    void aConditionOnALargeObjectIsJudgedFromItsHeadAlone() {
        ANSWER.set((request, response, callback) -> {
            RECEIVED.add(new Received(request.getMethod(), request.getHttpURI().getPathQuery(), request.getHeaders().asImmutable(),
                    new byte[0], true));
            response.setStatus(200);
            response.getHeaders().put("ETag", "\"big\"");
            response.getHeaders().put("Content-Length", 10L * 1024 * 1024 * 1024);
            callback.succeeded();
        });

        assertThatThrownBy(() -> backend.put("big", TestUploads.of(new byte[] {1}), ObjectAttributes.NONE,
                new WriteCondition(true, Optional.empty())))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.PRECONDITION_FAILED));
        assertThatThrownBy(() -> backend.put("big", TestUploads.of(new byte[] {1}), ObjectAttributes.NONE,
                new WriteCondition(false, Optional.of("\"other\""))))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.PRECONDITION_FAILED));
        assertThat(RECEIVED).extracting(Received::method).containsExactly("HEAD", "HEAD");
    }

    @Test
    void copyNamesTheSourceEncodedUnderTheBucketAndPrefix() {
        ANSWER.set(reading((received, response) -> "<CopyObjectResult><LastModified>2024-06-03T10:15:30.000Z</LastModified>"
                + "<ETag>\"copied\"</ETag></CopyObjectResult>"));

        Written written = backend.copy("src/ü b+c.txt", "dst.txt",
                Optional.of(new ObjectAttributes(List.of(Map.entry("content-type", "text/csv")))), WriteCondition.NONE);

        Received copy = only();
        assertThat(copy.method()).isEqualTo("PUT");
        assertThat(copy.pathQuery()).isEqualTo("/bucket/pre/fix/dst.txt");
        assertThat(copy.header("x-amz-copy-source")).isEqualTo("/bucket/pre/fix/src/%C3%BC%20b%2Bc.txt");
        assertThat(copy.header("x-amz-metadata-directive")).isEqualTo("REPLACE");
        assertThat(copy.header("Content-Type")).isEqualTo("text/csv");
        assertThat(written.etag()).isEqualTo("\"copied\"");

        RECEIVED.clear();
        backend.copy("a", "b", Optional.empty(), WriteCondition.NONE);
        assertThat(only().header("x-amz-metadata-directive")).isEqualTo("COPY");
    }

    @ParameterizedTest
    @CsvSource({"InternalError, SERVICE_UNAVAILABLE", "NoSuchKey, NO_SUCH_KEY", "SlowDown, SERVICE_UNAVAILABLE"})
    void aCopyAnswered200WithAnErrorDocumentIsThatError(String code, S3Error expected) {
        ANSWER.set(reading((received, response) -> "<Error><Code>" + code + "</Code><Message>m</Message></Error>"));

        assertThatThrownBy(() -> backend.copy("a", "b", Optional.empty(), WriteCondition.NONE))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(expected));
    }

    @Test
    void aCompletionAnswered200WithAnErrorDocumentIsThatError() {
        // S3 sends the head at once and spaces while it works, then the document.
        ANSWER.set(reading((received, response) -> "\n  \n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<Error><Code>InvalidPart</Code><Message>m</Message></Error>"));

        assertThatThrownBy(() -> backend.completeUpload("k", "id", List.of(new Multipart.PartRef(1, "\"e\"")), WriteCondition.NONE))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.INVALID_PART));
    }

    @ParameterizedTest
    @CsvSource({
            "404, NoSuchUpload, NO_SUCH_UPLOAD",
            "400, InvalidPart, INVALID_PART",
            "400, InvalidPartOrder, INVALID_PART_ORDER",
            "400, EntityTooSmall, ENTITY_TOO_SMALL",
            "400, BadDigest, BAD_DIGEST",
            "412, PreconditionFailed, PRECONDITION_FAILED",
            "409, ConditionalRequestConflict, CONDITIONAL_REQUEST_CONFLICT",
            "403, AccessDenied, ACCESS_DENIED",
            "503, SlowDown, SLOW_DOWN",
            "500, InternalError, SERVICE_UNAVAILABLE",
            "400, InvalidRequest, SERVICE_UNAVAILABLE",
            "501, NotImplemented, NOT_IMPLEMENTED"})
    void backendErrorsAreAnsweredWithTheirS3Codes(int status, String code, S3Error expected) {
        ANSWER.set((request, response, callback) -> {
            read(request);
            error(response, callback, status, code);
        });

        assertThatThrownBy(() -> backend.completeUpload("k", "id", List.of(new Multipart.PartRef(1, "\"e\"")), WriteCondition.NONE))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(expected));
        assertThatThrownBy(() -> backend.uploadPart("k", "id", 1, TestUploads.of(new byte[] {1, 2, 3})))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(expected));
    }

    @Test
    void deleteOfAMissingKeyIsNoErrorEvenWhenTheServerSaysNoSuchKey() {
        ANSWER.set((request, response, callback) -> {
            RECEIVED.add(new Received(request.getMethod(), request.getHttpURI().getPathQuery(), request.getHeaders().asImmutable(),
                    new byte[0], true));
            error(response, callback, 404, "NoSuchKey");
        });

        backend.delete("gone.txt");

        assertThat(only().method()).isEqualTo("DELETE");
        ANSWER.set((request, response, callback) -> error(response, callback, 404, "NoSuchBucket"));
        assertThatThrownBy(() -> backend.delete("gone.txt")).isInstanceOf(S3Exception.class);
    }

    @Test
    void multipartCallsMapOneToOne() {
        ANSWER.set(reading((received, response) -> switch (received.method() + " " + received.pathQuery()) {
            case "POST /bucket/pre/fix/k.bin?uploads" ->
                    "<InitiateMultipartUploadResult><Bucket>bucket</Bucket><Key>pre/fix/k.bin</Key><UploadId>id/+=</UploadId>"
                            + "</InitiateMultipartUploadResult>";
            case "PUT /bucket/pre/fix/k.bin?partNumber=2&uploadId=id%2F%2B%3D" -> {
                response.getHeaders().put("ETag", "\"p2\"");
                yield "";
            }
            case "POST /bucket/pre/fix/k.bin?uploadId=id%2F%2B%3D" ->
                    "<CompleteMultipartUploadResult><ETag>\"whole-2\"</ETag></CompleteMultipartUploadResult>";
            case "DELETE /bucket/pre/fix/k.bin?uploadId=id%2F%2B%3D" -> {
                response.setStatus(204);
                yield "";
            }
            default -> throw new AssertionError("unexpected " + received.method() + " " + received.pathQuery());
        }));

        String id = backend.startUpload("k.bin", new ObjectAttributes(List.of(Map.entry("x-amz-meta-a", "1"))));
        Written part = backend.uploadPart("k.bin", id, 2, TestUploads.of(new byte[] {9}));
        Written whole = backend.completeUpload("k.bin", id,
                List.of(new Multipart.PartRef(1, "\"p1\""), new Multipart.PartRef(2, part.etag())), WriteCondition.NONE);
        backend.abortUpload("k.bin", id);

        List<Received> all = List.copyOf(RECEIVED);
        assertThat(id).isEqualTo("id/+=");
        assertThat(all.get(0).header("x-amz-meta-a")).isEqualTo("1");
        assertThat(all.get(0).header("Content-Length")).isEqualTo("0");
        assertThat(all.get(0).header("Content-Type")).isNull();
        assertThat(part.etag()).isEqualTo("\"p2\"");
        assertThat(new String(all.get(2).body(), StandardCharsets.UTF_8)).isEqualTo("<CompleteMultipartUpload>"
                + "<Part><PartNumber>1</PartNumber><ETag>&quot;p1&quot;</ETag></Part>"
                + "<Part><PartNumber>2</PartNumber><ETag>&quot;p2&quot;</ETag></Part></CompleteMultipartUpload>");
        assertThat(whole.etag()).isEqualTo("\"whole-2\"");
        assertThat(all).extracting(Received::method).containsExactly("POST", "PUT", "POST", "DELETE");
    }

    @Test
    void listPartsAsksForThePageAndReadsTheNextMarker() {
        ANSWER.set(reading((received, response) -> "<ListPartsResult><IsTruncated>true</IsTruncated>"
                + "<NextPartNumberMarker>4</NextPartNumberMarker>"
                + part(3, "\"c\"", 5) + part(4, "\"d\"", 6) + "</ListPartsResult>"));

        Multipart.PartsPage page = backend.listParts("k", "id", 2, 2);

        assertThat(only().pathQuery()).isEqualTo("/bucket/pre/fix/k?max-parts=2&part-number-marker=2&uploadId=id");
        assertThat(page.parts()).containsExactly(
                new Multipart.Part(3, "\"c\"", 5, Instant.parse("2024-06-03T10:15:30Z")),
                new Multipart.Part(4, "\"d\"", 6, Instant.parse("2024-06-03T10:15:30Z")));
        assertThat(page.next()).hasValue(4);
    }

    @Test
    void listPartsCutsAPageTheServerDidNotCut() {
        ANSWER.set(reading((received, response) -> "<ListPartsResult><IsTruncated>false</IsTruncated>"
                + part(1, "\"a\"", 5) + part(2, "\"b\"", 5) + part(3, "\"c\"", 5) + "</ListPartsResult>"));

        Multipart.PartsPage page = backend.listParts("k", "id", 0, 2);

        assertThat(only().pathQuery()).isEqualTo("/bucket/pre/fix/k?max-parts=2&uploadId=id");
        assertThat(page.parts()).extracting(Multipart.Part::partNumber).containsExactly(1, 2);
        assertThat(page.next()).hasValue(2);
    }

    @Test
    void listUploadsAsksUnderThePrefixAndStripsIt() {
        ANSWER.set(reading((received, response) -> "<ListMultipartUploadsResult><IsTruncated>true</IsTruncated>"
                + "<NextKeyMarker>pre/fix/d/b</NextKeyMarker><NextUploadIdMarker>u2</NextUploadIdMarker>"
                + "<Upload><Key>pre/fix/d/a</Key><UploadId>u1</UploadId><Initiated>2024-06-03T10:15:30.000Z</Initiated></Upload>"
                + "<Upload><Key>pre/fix/d/b</Key><UploadId>u2</UploadId><Initiated>2024-06-03T10:16:30.000Z</Initiated></Upload>"
                + "</ListMultipartUploadsResult>"));

        Multipart.UploadsPage page = backend.listUploads("d/",
                Optional.of(new Multipart.InProgress("d/0", "u0", Instant.EPOCH)), 2);

        assertThat(only().pathQuery())
                .isEqualTo("/bucket?key-marker=pre%2Ffix%2Fd%2F0&max-uploads=2&prefix=pre%2Ffix%2Fd%2F&upload-id-marker=u0&uploads");
        Multipart.InProgress b = new Multipart.InProgress("d/b", "u2", Instant.parse("2024-06-03T10:16:30Z"));
        assertThat(page.uploads()).containsExactly(new Multipart.InProgress("d/a", "u1", Instant.parse("2024-06-03T10:15:30Z")), b);
        assertThat(page.next()).hasValue(b);
    }

    /** An upload's checksum, as S3 lists it, is passed on; one S3 does not know is listed as none, not a failure. */
    @Test
    void listUploadsKeepsEachUploadsChecksum() {
        ANSWER.set(reading((received, response) -> "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>"
                + "<Upload><Key>pre/fix/a</Key><UploadId>u1</UploadId><Initiated>2024-06-03T10:15:30.000Z</Initiated>"
                + "<ChecksumAlgorithm>CRC32</ChecksumAlgorithm><ChecksumType>FULL_OBJECT</ChecksumType></Upload>"
                + "<Upload><Key>pre/fix/b</Key><UploadId>u2</UploadId><Initiated>2024-06-03T10:15:30.000Z</Initiated>"
                + "<ChecksumAlgorithm>SHA256</ChecksumAlgorithm></Upload>"
                + "<Upload><Key>pre/fix/c</Key><UploadId>u3</UploadId><Initiated>2024-06-03T10:15:30.000Z</Initiated>"
                + "<ChecksumAlgorithm>MD4</ChecksumAlgorithm></Upload>"
                + "</ListMultipartUploadsResult>"));

        Multipart.UploadsPage page = backend.listUploads("", Optional.empty(), 1000);

        assertThat(page.uploads()).extracting(Multipart.InProgress::checksum).containsExactly(
                Optional.of(new MultipartChecksum("crc32", true)), Optional.of(new MultipartChecksum("sha256", false)), Optional.empty());
    }

    /**
     * An upload S3 says it started with the client's checksum: the algorithm and type go with the
     * start, each part's checksum goes with the part (a header as that header, a trailer as a
     * trailer of sluice's), the completion lists the parts' checksums and sends the object's
     * claims, and what the backend answers comes back. The backend's own id is what every later
     * call names, and a listing gives the upload the id its start did.
     */
    @Test
    void aMultipartChecksumTheBackendKeepsGoesWithEveryPartAndTheCompletion() {
        byte[] one = S3BackendWriteTest.random(5 * 1024 * 1024, 31);
        byte[] two = S3BackendWriteTest.random(1000, 32);
        ANSWER.set(reading((received, response) -> switch (received.method() + " " + received.pathQuery()) {
            case "POST /bucket/pre/fix/k.bin?uploads" -> {
                response.getHeaders().put("x-amz-checksum-algorithm", "CRC32");
                response.getHeaders().put("x-amz-checksum-type", "COMPOSITE");
                yield "<InitiateMultipartUploadResult><UploadId>u-1</UploadId></InitiateMultipartUploadResult>";
            }
            case "PUT /bucket/pre/fix/k.bin?partNumber=1&uploadId=u-1", "PUT /bucket/pre/fix/k.bin?partNumber=2&uploadId=u-1" -> {
                response.getHeaders().put("ETag", "\"p" + received.pathQuery().charAt(received.pathQuery().indexOf('=') + 1) + "\"");
                response.getHeaders().put("x-amz-checksum-crc32", received.body().length == one.length ? crc32(one) : crc32(two));
                yield "";
            }
            case "POST /bucket/pre/fix/k.bin?uploadId=u-1" -> "<CompleteMultipartUploadResult><ETag>\"whole-2\"</ETag>"
                    + "<ChecksumCRC32>AAAAAA==-2</ChecksumCRC32><ChecksumType>COMPOSITE</ChecksumType></CompleteMultipartUploadResult>";
            case "GET /bucket/pre/fix/k.bin?uploadId=u-1" -> "<ListPartsResult><IsTruncated>false</IsTruncated>"
                    + "<ChecksumAlgorithm>CRC32</ChecksumAlgorithm><ChecksumType>COMPOSITE</ChecksumType>"
                    + "<Part><PartNumber>1</PartNumber><LastModified>2024-06-03T10:15:30.000Z</LastModified><ETag>&quot;p1&quot;</ETag>"
                    + "<ChecksumCRC32>" + crc32(one) + "</ChecksumCRC32><Size>" + one.length + "</Size></Part></ListPartsResult>";
            case "GET /bucket?prefix=pre%2Ffix%2F&uploads" -> "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>"
                    + "<Upload><Key>pre/fix/k.bin</Key><UploadId>u-1</UploadId><Initiated>2024-06-03T10:15:30.000Z</Initiated>"
                    + "<ChecksumAlgorithm>CRC32</ChecksumAlgorithm><ChecksumType>COMPOSITE</ChecksumType></Upload>"
                    + "</ListMultipartUploadsResult>";
            case "DELETE /bucket/pre/fix/k.bin?uploadId=u-1" -> {
                response.setStatus(204);
                yield "";
            }
            default -> throw new AssertionError("unexpected " + received.method() + " " + received.pathQuery());
        }));
        MultipartChecksum crc32 = new MultipartChecksum("crc32", false);

        String id = backend.startUpload("k.bin", ObjectAttributes.NONE, Optional.of(crc32));
        Written first = backend.uploadPart("k.bin", id, 1, TestUploads.of(one, List.of(Map.entry("x-amz-checksum-crc32", crc32(one)))));
        Written second = backend.uploadPart("k.bin", id, 2, TestUploads.withTrailer(two, "x-amz-checksum-crc32", crc32(two), null));
        Written whole = backend.completeUpload("k.bin", id, List.of(
                        new Multipart.PartRef(1, first.etag(), Map.of("x-amz-checksum-crc32", crc32(one))),
                        new Multipart.PartRef(2, second.etag(), Map.of("x-amz-checksum-crc32", crc32(two)))),
                ObjectClaims.of(h -> Optional.ofNullable(Map.of("x-amz-checksum-crc32", "AAAAAA==-2", "x-amz-checksum-type", "COMPOSITE",
                        "x-amz-mp-object-size", Integer.toString(one.length + two.length)).get(h))),
                WriteCondition.NONE);
        Multipart.PartsPage parts = backend.listParts("k.bin", id, 0, 1000);
        Multipart.UploadsPage uploads = backend.listUploads("", Optional.empty(), 1000);
        backend.abortUpload("k.bin", id);

        List<Received> all = List.copyOf(RECEIVED);
        Received start = all.get(0);
        assertThat(start.header("x-amz-checksum-algorithm")).isEqualTo("CRC32");
        assertThat(start.header("x-amz-checksum-type")).isEqualTo("COMPOSITE");
        assertThat(start.header("Authorization")).contains("x-amz-checksum-algorithm;x-amz-checksum-type;");

        Received headerPart = all.get(1);
        assertThat(headerPart.header("x-amz-checksum-crc32")).isEqualTo(crc32(one));
        assertThat(headerPart.header("x-amz-content-sha256")).isEqualTo("UNSIGNED-PAYLOAD");
        assertThat(headerPart.header("Authorization")).contains("SignedHeaders=host;x-amz-checksum-crc32;x-amz-content-sha256;");
        assertThat(headerPart.body()).isEqualTo(one);
        assertThat(first.checksums()).containsExactly(Map.entry("x-amz-checksum-crc32", crc32(one)));

        Received trailerPart = all.get(2);
        assertThat(trailerPart.header("x-amz-content-sha256")).isEqualTo("STREAMING-UNSIGNED-PAYLOAD-TRAILER");
        assertThat(trailerPart.header("x-amz-trailer")).isEqualTo("x-amz-checksum-crc32");
        AwsChunked decoded = AwsChunked.decode(trailerPart.body());
        assertThat(decoded.data()).isEqualTo(two);
        assertThat(decoded.trailer()).isEqualTo("x-amz-checksum-crc32:" + crc32(two));

        Received complete = all.get(3);
        assertThat(new String(complete.body(), StandardCharsets.UTF_8)).isEqualTo("<CompleteMultipartUpload>"
                + "<Part><PartNumber>1</PartNumber><ETag>&quot;p1&quot;</ETag><ChecksumCRC32>" + crc32(one) + "</ChecksumCRC32></Part>"
                + "<Part><PartNumber>2</PartNumber><ETag>&quot;p2&quot;</ETag><ChecksumCRC32>" + crc32(two) + "</ChecksumCRC32></Part>"
                + "</CompleteMultipartUpload>");
        assertThat(complete.header("x-amz-checksum-crc32")).isEqualTo("AAAAAA==-2");
        assertThat(complete.header("x-amz-checksum-type")).isEqualTo("COMPOSITE");
        assertThat(complete.header("x-amz-mp-object-size")).isEqualTo(Integer.toString(one.length + two.length));
        assertThat(whole).isEqualTo(new Written("\"whole-2\"",
                List.of(Map.entry("x-amz-checksum-crc32", "AAAAAA==-2"), Map.entry("x-amz-checksum-type", "COMPOSITE"))));

        assertThat(parts.checksum()).hasValue(crc32);
        assertThat(parts.parts()).containsExactly(new Multipart.Part(1, "\"p1\"", one.length, Instant.parse("2024-06-03T10:15:30Z"),
                List.of(Map.entry("x-amz-checksum-crc32", crc32(one)))));
        assertThat(uploads.uploads()).extracting(Multipart.InProgress::uploadId).containsExactly(id);
        assertThat(all).extracting(Received::method).containsExactly("POST", "PUT", "PUT", "POST", "GET", "GET", "DELETE");
    }

    /** As S3 refuses it, before any byte goes to the backend: a part without the upload's checksum, or with another. */
    @Test
    void aPartOfAChecksummedUploadWithoutItsChecksumIsRefusedBeforeAnythingIsSent() {
        String id = new S3UploadId("u-1", Optional.of(new MultipartChecksum("crc32c", false))).storeId();
        ANSWER.set(storing());
        byte[] bytes = S3BackendWriteTest.random(100, 33);

        assertThatThrownBy(() -> backend.uploadPart("k", id, 1, TestUploads.of(bytes)))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.error()).isEqualTo(S3Error.INVALID_REQUEST);
                    assertThat(e.getMessage()).contains("crc32c");
                });
        assertThatThrownBy(() -> backend.uploadPart("k", id, 1,
                TestUploads.withTrailer(bytes, "x-amz-checksum-crc32", crc32(bytes), null)))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.error()).isEqualTo(S3Error.INVALID_REQUEST);
                    assertThat(e.getMessage()).contains("expected checksum Type: crc32c, actual checksum Type: crc32");
                });
        assertThat(RECEIVED).isEmpty();
    }

    /**
     * What S3 refuses as the client's mistake on completing a checksummed upload is refused
     * before the backend sees it: the backend's {@code InvalidRequest} would be answered as its
     * own failure (503).
     */
    @Test
    void aCompletionS3WouldRefuseAsTheClientsMistakeIsRefusedBeforeAnythingIsSent() {
        String id = new S3UploadId("u-1", Optional.of(new MultipartChecksum("crc32", false))).storeId();
        ANSWER.set(storing());
        List<Multipart.PartRef> listed = List.of(new Multipart.PartRef(1, "\"p1\"", Map.of("x-amz-checksum-crc32", "AAAAAA==")),
                new Multipart.PartRef(2, "\"p2\""));
        List<Multipart.PartRef> whole = List.of(new Multipart.PartRef(1, "\"p1\"", Map.of("x-amz-checksum-crc32", "AAAAAA==")));

        assertThatThrownBy(() -> backend.completeUpload("k", id, listed, ObjectClaims.NONE, WriteCondition.NONE))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.error()).isEqualTo(S3Error.INVALID_REQUEST);
                    assertThat(e.getMessage()).contains("missing for part 2");
                });
        for (Map<String, String> claim : List.of(Map.of("x-amz-checksum-sha256", "AAAA"), Map.of("x-amz-checksum-type", "FULL_OBJECT"))) {
            assertThatThrownBy(() -> backend.completeUpload("k", id, whole, ObjectClaims.of(h -> Optional.ofNullable(claim.get(h))),
                    WriteCondition.NONE))
                    .as(claim.toString())
                    .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.INVALID_REQUEST));
        }
        assertThat(RECEIVED).isEmpty();
    }

    /**
     * A backend that does not answer the algorithm (S3Proxy 3.0 takes the header and keeps no
     * checksum) gets a plain upload: its id as it is, parts without their checksums, as before.
     */
    @Test
    void aBackendThatDoesNotSayItKeptTheChecksumGetsPlainParts() {
        ANSWER.set(reading((received, response) -> {
            if (received.method().equals("POST")) {
                return "<InitiateMultipartUploadResult><UploadId>u-2</UploadId></InitiateMultipartUploadResult>";
            }
            response.getHeaders().put("ETag", "\"p1\"");
            return "";
        }));
        byte[] bytes = S3BackendWriteTest.random(100, 34);

        String id = backend.startUpload("k", ObjectAttributes.NONE, Optional.of(new MultipartChecksum("sha256", false)));
        backend.uploadPart("k", id, 1, TestUploads.of(bytes, List.of(Map.entry("x-amz-checksum-sha256", sha256(bytes)))));

        List<Received> all = List.copyOf(RECEIVED);
        assertThat(all.get(0).header("x-amz-checksum-algorithm")).as("asked for").isEqualTo("SHA256");
        assertThat(id).isEqualTo("u-2");
        assertThat(all.get(1).pathQuery()).isEqualTo("/bucket/pre/fix/k?partNumber=1&uploadId=u-2");
        assertThat(all.get(1).header("x-amz-checksum-sha256")).isNull();
        assertThat(all.get(1).body()).isEqualTo(bytes);
    }

    /** Most clients send a part's checksum after its bytes: a store not sent trailers is not asked to keep one. */
    @Test
    void aStoreNotSentTrailersIsNotAskedToKeepAMultipartChecksum() {
        ANSWER.set(reading((received, response) -> {
            response.getHeaders().put("x-amz-checksum-algorithm", "CRC32");
            return "<InitiateMultipartUploadResult><UploadId>u-3</UploadId></InitiateMultipartUploadResult>";
        }));
        S3Backend other = new S3Backend(http, URI.create(server.url()), "us-east-1", "bucket", "pre/fix/",
                BackendCredentials.fixed(AwsCredentials.of("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")),
                InstantSource.system(), Ticker.SYSTEM, Duration.ofSeconds(10), false);

        String id = other.startUpload("k", ObjectAttributes.NONE, Optional.of(new MultipartChecksum("crc32", false)));

        assertThat(only().header("x-amz-checksum-algorithm")).isNull();
        assertThat(id).isEqualTo("u-3");
    }

    private static String part(int number, String etag, long size) {
        return "<Part><PartNumber>" + number + "</PartNumber><LastModified>2024-06-03T10:15:30.000Z</LastModified><ETag>"
                + etag.replace("\"", "&quot;") + "</ETag><Size>" + size + "</Size></Part>";
    }

    private static Received only() {
        assertThat(RECEIVED).hasSize(1);
        return RECEIVED.peek();
    }

    /** Reads the whole body, records the request, and answers 200 with an ETag, as a store answers a PUT. */
    private static Answer storing() {
        return reading((received, response) -> {
            response.getHeaders().put("ETag", "\"e\"");
            return "";
        });
    }

    /** Reads the whole body, records the request, and answers 200 with {@code body}'s XML (headers set by it). */
    private static Answer reading(java.util.function.BiFunction<Received, Response, String> body) {
        return (request, response, callback) -> {
            Received r = read(request);
            RECEIVED.add(r);
            response.setStatus(200);
            String xml = body.apply(r, response);
            byte[] bytes = xml.getBytes(StandardCharsets.UTF_8);
            response.getHeaders().put("Content-Length", bytes.length);
            response.write(true, ByteBuffer.wrap(bytes), callback);
        };
    }

    private static Received read(Request request) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        boolean complete;
        try (InputStream in = Content.Source.asInputStream(request)) {
            in.transferTo(body);
            complete = true;
        } catch (IOException | RuntimeException e) {
            complete = false;
        }
        return new Received(request.getMethod(), request.getHttpURI().getPathQuery(), request.getHeaders().asImmutable(),
                body.toByteArray(), complete);
    }

    private static void error(Response response, Callback callback, int status, String code) {
        byte[] bytes = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code + "</Code><Message>m</Message></Error>")
                .getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.getHeaders().put("Content-Type", "application/xml");
        response.getHeaders().put("Content-Length", bytes.length);
        response.write(true, ByteBuffer.wrap(bytes), callback);
    }
}
