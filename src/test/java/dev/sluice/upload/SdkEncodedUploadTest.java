package dev.sluice.upload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.auth.AccessKeys;
import dev.sluice.auth.Identifier;
import dev.sluice.backend.Upload;
import dev.sluice.s3.S3Exception;
import dev.sluice.sigv4.SigV4Verifier;
import dev.sluice.sigv4.SignableRequest;
import dev.sluice.testing.LoopbackServer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;

/**
 * The AWS SDK for Java v2's own encoder against the decoder: a PutObject from a real
 * {@link S3Client} (over plain HTTP, where it signs every chunk, with and without its default
 * CRC32 trailer, and with other checksums) lands on a loopback Jetty handler that identifies the
 * caller with {@link Identifier#identifyUpload} and reads the body through
 * {@link UploadBodies#open}, as sluice's write route does.
 */
class SdkEncodedUploadTest {
    static final String KEY_ID = "AKIDSDKENCODER";
    static final String SECRET = "sdk-encoder-secret";

    static LoopbackServer server;
    static final AtomicReference<Received> last = new AtomicReference<>();
    static final BlockingQueue<Received> arrivals = new LinkedBlockingQueue<>();

    record Received(Map<String, String> headers, byte[] body, String md5Hex, List<Map.Entry<String, String>> checksums,
            String error) {
    }

    @BeforeAll
    static void start() throws Exception {
        Identifier identifier = new Identifier(new SigV4Verifier(Clock.systemUTC()),
                new AccessKeys(List.of(new AccessKeys.Entry(KEY_ID, SECRET, "sdk", Optional.empty(), true, List.of()))),
                Optional.empty(), Clock.systemUTC());
        server = new LoopbackServer((request, response, callback) -> receive(identifier, request, response, callback),
                Duration.ZERO);
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void theSdksDefaultSignedChunksWithACrc32TrailerDecodeAndVerify() {
        byte[] body = UploadBodiesTest.random(300_000, 11);
        try (S3Client client = client(RequestChecksumCalculation.WHEN_SUPPORTED)) {
            PutObjectResponse response = client.putObject(b -> b.bucket("bucket").key("key"), RequestBody.fromBytes(body));
            Received got = last.get();
            assertThat(got.error()).isNull();
            assertThat(got.headers()).containsEntry("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")
                    .containsEntry("x-amz-trailer", "x-amz-checksum-crc32");
            assertThat(got.body()).isEqualTo(body);
            assertThat(got.checksums()).containsExactly(Map.entry("x-amz-checksum-crc32", TestDigests.checksum("crc32", body)));
            assertThat(got.md5Hex()).isEqualTo(TestDigests.md5Hex(body));
            assertThat(response.eTag()).isEqualTo("\"" + TestDigests.md5Hex(body) + "\"");
        }
    }

    @Test
    void otherChecksumsTheSdkComputesAreVerifiedToo() {
        byte[] body = UploadBodiesTest.random(70_000, 12);
        try (S3Client client = client(RequestChecksumCalculation.WHEN_SUPPORTED)) {
            for (ChecksumAlgorithm algorithm : List.of(ChecksumAlgorithm.CRC32_C, ChecksumAlgorithm.SHA1, ChecksumAlgorithm.SHA256)) {
                client.putObject(b -> b.bucket("bucket").key("key").checksumAlgorithm(algorithm), RequestBody.fromBytes(body));
                Received got = last.get();
                assertThat(got.error()).isNull();
                String id = algorithm.toString().toLowerCase().replace("_", "");
                assertThat(got.body()).isEqualTo(body);
                assertThat(got.checksums()).containsExactly(Map.entry("x-amz-checksum-" + id, TestDigests.checksum(id, body)));
            }
        }
    }

    @Test
    void withoutChecksumsTheSdksSignedBodyDecodes() {
        byte[] body = UploadBodiesTest.random(200_000, 13);
        try (S3Client client = client(RequestChecksumCalculation.WHEN_REQUIRED)) {
            client.putObject(b -> b.bucket("bucket").key("key"), RequestBody.fromBytes(body));
            Received got = last.get();
            assertThat(got.error()).isNull();
            assertThat(got.headers()).containsEntry("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
                    .containsEntry("content-encoding", "aws-chunked");
            assertThat(got.body()).isEqualTo(body);
            assertThat(got.checksums()).isEmpty();
        }
    }

    @Test
    void theSdksUnsignedChunksWithACrc32TrailerDecodeAndVerify() {
        // What the SDK sends over HTTPS (and aws-cli and boto3 by default).
        byte[] body = UploadBodiesTest.random(150_000, 14);
        try (S3Client client = client(RequestChecksumCalculation.WHEN_SUPPORTED, true)) {
            client.putObject(b -> b.bucket("bucket").key("key"), RequestBody.fromBytes(body));
            Received got = last.get();
            assertThat(got.error()).isNull();
            assertThat(got.headers()).containsEntry("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
                    .containsEntry("x-amz-trailer", "x-amz-checksum-crc32");
            assertThat(got.body()).isEqualTo(body);
            assertThat(got.checksums()).containsExactly(Map.entry("x-amz-checksum-crc32", TestDigests.checksum("crc32", body)));
        }
    }

    @Test
    void aByteOfTheSdksBodyChangedOnTheWayIsRefused() {
        byte[] body = UploadBodiesTest.random(100_000, 15);
        try (S3Client signed = client(RequestChecksumCalculation.WHEN_SUPPORTED, false, 5000)) {
            // The decoder's refusal is what is asserted; the SDK reports it as an S3 error, or, when
            // the answer reaches it while it is still writing the body, as a failure to write.
            last.set(null);
            assertThatThrownBy(() -> signed.putObject(b -> b.bucket("bucket").key("key"), RequestBody.fromBytes(body)))
                    .isInstanceOfAny(software.amazon.awssdk.services.s3.model.S3Exception.class,
                            software.amazon.awssdk.core.exception.SdkClientException.class);
            assertThat(last.get().error()).isEqualTo("SignatureDoesNotMatch");
        }
        try (S3Client unsigned = client(RequestChecksumCalculation.WHEN_SUPPORTED, true, 5000)) {
            last.set(null);
            assertThatThrownBy(() -> unsigned.putObject(b -> b.bucket("bucket").key("key"), RequestBody.fromBytes(body)))
                    .isInstanceOfAny(software.amazon.awssdk.services.s3.model.S3Exception.class,
                            software.amazon.awssdk.core.exception.SdkClientException.class);
            assertThat(last.get().error()).isEqualTo("BadDigest");
        }
    }

    @Test
    void aClientThatGoesAwayMidBodyFailsTheReadWithAnIOExceptionAndNoLastByte() throws Exception {
        byte[] body = UploadBodiesTest.random(100_000, 16);
        byte[] chunked = ChunkedBodies.unsigned(body, 8192, Optional.of(Map.entry("x-amz-checksum-crc32",
                TestDigests.checksum("crc32", body))));
        for (boolean aws : List.of(false, true)) {
            byte[] wire = aws ? chunked : body;
            String head = "PUT /bucket/key HTTP/1.1\r\nHost: 127.0.0.1:" + server.port() + "\r\n"
                    + "Content-Length: " + wire.length + "\r\n"
                    + (aws ? "x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\nContent-Encoding: aws-chunked\r\n"
                            + "x-amz-decoded-content-length: " + body.length + "\r\nx-amz-trailer: x-amz-checksum-crc32\r\n"
                            : "")
                    + "\r\n";
            arrivals.clear();
            try (Socket socket = new Socket("127.0.0.1", server.port())) {
                socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().write(wire, 0, wire.length / 2);
                socket.getOutputStream().flush();
            }
            Received got = arrivals.poll(30, TimeUnit.SECONDS);
            assertThat(got).as("what the handler saw").isNotNull();
            assertThat(got.error()).as("aws-chunked %s", aws).endsWith("Exception");
            assertThat(got.body().length).isLessThan(body.length);
        }
    }

    @Test
    void anEmptyObjectFromTheSdkDecodes() {
        try (S3Client client = client(RequestChecksumCalculation.WHEN_SUPPORTED)) {
            client.putObject(b -> b.bucket("bucket").key("empty"), RequestBody.empty());
            Received got = last.get();
            assertThat(got.error()).isNull();
            assertThat(got.body()).isEmpty();
        }
    }

    private static S3Client client(RequestChecksumCalculation checksums) {
        return client(checksums, false);
    }

    /**
     * @param believesHttps whether the SDK is told the endpoint is {@code https}: it then sends
     *     unsigned chunks, as over TLS, while the bytes still go to the loopback server in plain
     *     HTTP (the SDK signs every chunk of a plain-HTTP upload, whatever it is configured with)
     */
    private static S3Client client(RequestChecksumCalculation checksums, boolean believesHttps) {
        return client(checksums, believesHttps, -1);
    }

    /** @param corruptAt the offset of a byte of the body on the wire to change in transit; -1 for none */
    private static S3Client client(RequestChecksumCalculation checksums, boolean believesHttps, long corruptAt) {
        SdkHttpClient http = corruptAt < 0 ? UrlConnectionHttpClient.create() : corrupting(UrlConnectionHttpClient.create(), corruptAt);
        return S3Client.builder()
                .endpointOverride(URI.create(believesHttps ? server.url().replace("http:", "https:") : server.url()))
                .forcePathStyle(true)
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(KEY_ID, SECRET)))
                .httpClient(believesHttps ? plainHttpUnder(http) : http)
                .requestChecksumCalculation(checksums)
                .serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(true).build())
                .overrideConfiguration(o -> o.retryStrategy(noRetries()))
                .build();
    }

    /** Flips the low bit of the body's byte at {@code offset} on its way to the server. */
    private static SdkHttpClient corrupting(SdkHttpClient delegate, long offset) {
        return new SdkHttpClient() {
            @Override
            public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
                ContentStreamProvider original = request.contentStreamProvider().orElseThrow();
                ContentStreamProvider changed = () -> new java.io.FilterInputStream(original.newStream()) {
                    private long position;

                    @Override
                    public int read() throws java.io.IOException {
                        byte[] one = new byte[1];
                        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                    }

                    @Override
                    public int read(byte[] b, int off, int len) throws java.io.IOException {
                        int n = super.read(b, off, len);
                        if (n > 0 && offset >= position && offset < position + n) {
                            b[off + (int) (offset - position)] ^= 1;
                        }
                        position += Math.max(n, 0);
                        return n;
                    }
                };
                return delegate.prepareRequest(HttpExecuteRequest.builder().request(request.httpRequest())
                        .contentStreamProvider(changed).build());
            }

            @Override
            public void close() {
                delegate.close();
            }
        };
    }

    /** Sends every request in plain HTTP whatever scheme the SDK put on it. */
    private static SdkHttpClient plainHttpUnder(SdkHttpClient delegate) {
        return new SdkHttpClient() {
            @Override
            public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
                return delegate.prepareRequest(HttpExecuteRequest.builder()
                        .request(request.httpRequest().toBuilder().protocol("http").build())
                        .contentStreamProvider(request.contentStreamProvider().orElse(null))
                        .build());
            }

            @Override
            public void close() {
                delegate.close();
            }
        };
    }

    private static RetryStrategy noRetries() {
        return AwsRetryStrategy.doNotRetry();
    }

    private static void record(Received received) {
        last.set(received);
        arrivals.add(received);
    }

    /** What sluice's write route does with a PUT's body, the store being a byte array. */
    private static void receive(Identifier identifier, Request request, Response response, Callback callback) throws Exception {
        Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        List<Map.Entry<String, String>> fields = new ArrayList<>();
        for (HttpField field : request.getHeaders()) {
            headers.put(field.getName(), field.getValue());
            fields.add(Map.entry(field.getName(), field.getValue()));
        }
        String query = request.getHttpURI().getQuery();
        SignableRequest signable = new SignableRequest(request.getMethod(), request.getHttpURI().getPath(),
                query == null ? "" : query, fields);
        ByteArrayOutputStream stored = new ByteArrayOutputStream();
        InputStream raw = Content.Source.asInputStream(request);
        try {
            Identifier.Identified identified = identifier.identifyUpload(signable);
            Upload upload = UploadBodies.open(raw,
                    name -> Optional.ofNullable(request.getHeaders().get(name)), identified.chunkSigning(), 5L << 30);
            try (InputStream in = upload.stream()) {
                in.transferTo(stored);
            }
            record(new Received(headers, stored.toByteArray(), upload.md5Hex(), upload.checksums(), null));
            response.setStatus(200);
            response.getHeaders().put(HttpHeader.ETAG, "\"" + upload.md5Hex() + "\"");
            upload.checksums().forEach(c -> response.getHeaders().put(c.getKey(), c.getValue()));
            response.write(true, null, callback);
        } catch (IOException e) {
            record(new Received(headers, stored.toByteArray(), null, List.of(), e.getClass().getSimpleName()));
            callback.failed(e);
        } catch (S3Exception e) {
            record(new Received(headers, stored.toByteArray(), null, List.of(), e.error().code()));
            // Read what the client still sends before answering: a refusal in the middle of the
            // body would otherwise reach the SDK while it is writing, which it reports as a
            // failure to write, not as the S3 error this test asserts on.
            try {
                raw.transferTo(OutputStream.nullOutputStream());
            } catch (IOException ignored) {
                // the client went away; the answer below is then not read either
            }
            response.setStatus(e.error().status());
            response.write(true, java.nio.ByteBuffer.wrap(("<Error><Code>" + e.error().code() + "</Code></Error>")
                    .getBytes(StandardCharsets.UTF_8)), callback);
        }
    }
}
