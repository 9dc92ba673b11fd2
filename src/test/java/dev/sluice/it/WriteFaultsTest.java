package dev.sluice.it;

import dev.sluice.it.RawWrite.Form;
import dev.sluice.it.SluiceUnderTest.RawResponse;
import dev.sluice.testing.FileTree;
import dev.sluice.testing.S3ProxyExtension;
import dev.sluice.testing.S3ProxyProcess;
import dev.sluice.testing.TcpRelay;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static dev.sluice.it.S3ErrorAssert.assertS3Error;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Writes that fail on the way ({@code docs/writes.md}): a client that goes away mid-body, and a
 * backend that dies mid-upload. Whatever happens, an object is visible whole or not at all,
 * and nothing is left behind in the store: no temporary file, no staged part, no backend
 * upload. {@code files} is a directory; {@code bucket} a prefix of an S3Proxy bucket reached
 * through a {@link TcpRelay} the test can cut.
 */
class WriteFaultsTest {
    @RegisterExtension
    static final S3ProxyExtension S3PROXY = new S3ProxyExtension();

    static final String BUCKET = "sluice-faults";
    static final String WRITER_ID = "AKIASLUICEWRITER001";
    static final String WRITER_SECRET = "writer-secret-0123456789abcdefghijklmn";
    static final int MIB = 1024 * 1024;
    /** How long cleanup after a failed request may take: it runs when sluice notices the failure, not when the test looks. */
    static final Duration CLEANUP = Duration.ofSeconds(10);

    @TempDir
    static Path root;
    static TcpRelay relay;
    static SluiceUnderTest sluice;
    static S3Client writer;
    static S3Client admin;
    final Random random = new Random(7);

    @BeforeAll
    static void start() throws Exception {
        S3ProxyProcess s3proxy = S3PROXY.get();
        admin = s3proxy.client();
        admin.createBucket(b -> b.bucket(BUCKET));
        relay = TcpRelay.start(s3proxy.endpoint());
        Files.createDirectories(root.resolve("files"));
        String yaml = """
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0", body_timeout: 5s, idle_timeout: 2s }
                registry:
                  products:
                    - { account: acme, product: files, visibility: public, writable: true, backend: { type: file, path: ./files } }
                    - account: acme
                      product: bucket
                      visibility: public
                      writable: true
                      backend:
                        type: s3
                        endpoint: "%s"
                        region: us-east-1
                        bucket: %s
                        prefix: data/
                        timeout: 5s
                        auth: { type: static, access_key_id: "%s", secret_access_key_env: S3PROXY_SECRET }
                inbound:
                  access_keys:
                    - access_key_id: %s
                      secret_access_key_env: WRITER_SECRET
                      scopes: [ { product: "acme/*", actions: [get_object, head_object, list_bucket, put_object, delete_object,
                                                               abort_multipart_upload, list_multipart_uploads] } ]
                """.formatted(relay.endpoint(), BUCKET, S3ProxyProcess.IDENTITY, WRITER_ID);
        sluice = SluiceUnderTest.start(yaml, Map.of("S3PROXY_SECRET", S3ProxyProcess.CREDENTIAL, "WRITER_SECRET", WRITER_SECRET), root);
        writer = sluice.client(StaticCredentialsProvider.create(AwsBasicCredentials.create(WRITER_ID, WRITER_SECRET)));
    }

    @AfterAll
    static void stop() throws Exception {
        try (TcpRelay r = relay; SluiceUnderTest s = sluice) {
            // closed in reverse order, each even if another fails
        }
    }

    @AfterEach
    void relayCarriesAgain() {
        relay.restore();
    }

    byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    /** Everything the store holds for a product, bypassing sluice: files (hidden ones too) or objects and uploads. */
    static List<String> backendEntries(String product) {
        if (product.equals("files")) {
            return FileTree.regularFiles(root);
        }
        List<String> entries = new ArrayList<>();
        for (S3Object o : admin.listObjectsV2Paginator(b -> b.bucket(BUCKET).prefix("data/")).contents()) {
            entries.add(o.key() + " " + o.size());
        }
        try {
            admin.listMultipartUploads(b -> b.bucket(BUCKET).prefix("data/")).uploads()
                    .forEach(u -> entries.add("upload " + u.key() + " " + u.uploadId()));
        } catch (S3Exception e) {
            if (e.statusCode() != 501) {
                throw e;
            }
        }
        entries.sort(null);
        return entries;
    }

    static Optional<byte[]> read(String product, String key) {
        try {
            return Optional.of(writer.getObject(b -> b.bucket("acme").key(product + "/" + key), ResponseTransformer.toBytes()).asByteArray());
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        }
    }

    /**
     * Waits, within {@link #CLEANUP}, for {@code condition}: cleanup after a failure happens on
     * sluice's side when it notices, so the test watches for its result and fails if it never comes.
     */
    static void eventually(String what, Supplier<Boolean> condition) throws InterruptedException {
        long deadline = System.nanoTime() + CLEANUP.toNanos();
        while (!condition.get()) {
            if (System.nanoTime() > deadline) {
                fail("not within " + CLEANUP + ": " + what);
            }
            TimeUnit.MILLISECONDS.sleep(50); // polling an outcome, bounded by the deadline above
        }
    }

    /**
     * Sends a signed PUT's head and the first {@code sent} bytes of its {@code total}-byte body,
     * waits (bounded) until the bytes are evidently on their way into the store, then resets the
     * connection: a client that died mid-upload.
     */
    void sendPartOfTheBodyAndDisconnect(String product, String key, String[] query, int total, int sent) throws Exception {
        List<String> before = backendEntries(product);
        long relayedBefore = relay.upstreamBytes();
        RawWrite.Wire wire = RawWrite.put(sluice.s3Endpoint(), "/acme/" + product + "/" + key).query(query)
                .signedBy(WRITER_ID, WRITER_SECRET).form(Form.UNSIGNED).body(randomBytes(total)).wire();
        URI endpoint = sluice.s3Endpoint();
        try (Socket socket = new Socket(endpoint.getHost(), endpoint.getPort())) {
            OutputStream out = socket.getOutputStream();
            out.write(wire.head());
            out.write(wire.body(), 0, sent);
            out.flush();
            if (product.equals("bucket")) {
                assertThat(relay.awaitUpstreamBytes(relayedBefore + sent / 2, Duration.ofSeconds(10)))
                        .as("sluice streams the body into the backend as it arrives").isTrue();
            } else {
                // A temporary file or staged part appears once bytes are being written; when none
                // appears, the check after the disconnect still holds, only less sharply.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (backendEntries(product).equals(before) && System.nanoTime() < deadline) {
                    TimeUnit.MILLISECONDS.sleep(20); // bounded wait for evidence of streaming
                }
            }
            socket.setSoLinger(true, 0);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"files", "bucket"})
    void aClientThatDisconnectsMidPutLeavesNothingVisibleAndNothingBehind(String product) throws Exception {
        String key = "mid-put/object.bin";
        byte[] earlier = randomBytes(1000);
        writer.putObject(b -> b.bucket("acme").key(product + "/" + key), RequestBody.fromBytes(earlier));
        List<String> before = backendEntries(product);

        sendPartOfTheBodyAndDisconnect(product, key, new String[0], 8 * MIB, 3 * MIB);

        eventually("the store holds what it held before the upload", () -> backendEntries(product).equals(before));
        assertThat(read(product, key)).hasValueSatisfying(b -> assertThat(b).isEqualTo(earlier));
        assertThat(writer.listObjectsV2(b -> b.bucket("acme").prefix(product + "/mid-put/")).contents())
                .extracting(S3Object::key, S3Object::size).containsExactly(org.assertj.core.groups.Tuple.tuple(product + "/" + key, 1000L));
    }

    /**
     * A client that stops sending mid-body and keeps its connection open is cut off by the idle
     * timeout (2 s here): it gets S3's {@code 400 RequestTimeout} if it still reads, the store keeps
     * what it held, and nothing waits on the client for longer.
     */
    @ParameterizedTest
    @ValueSource(strings = {"files", "bucket"})
    void aClientThatStallsMidPutIsCutOffByTheIdleTimeoutAndNothingIsStored(String product) throws Exception {
        String key = "stalled/object.bin";
        byte[] earlier = randomBytes(1000);
        writer.putObject(b -> b.bucket("acme").key(product + "/" + key), RequestBody.fromBytes(earlier));
        List<String> before = backendEntries(product);
        RawWrite.Wire wire = RawWrite.put(sluice.s3Endpoint(), "/acme/" + product + "/" + key)
                .signedBy(WRITER_ID, WRITER_SECRET).form(Form.UNSIGNED).body(randomBytes(4 * MIB)).wire();
        URI endpoint = sluice.s3Endpoint();
        try (Socket socket = new Socket(endpoint.getHost(), endpoint.getPort())) {
            socket.setSoTimeout(20_000);
            long started = System.nanoTime();
            OutputStream out = socket.getOutputStream();
            out.write(wire.head());
            out.write(wire.body(), 0, MIB);
            out.flush();
            // Now silence, connection open: what comes back, and when, is sluice's doing alone.
            byte[] answer = socket.getInputStream().readAllBytes();
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            String text = new String(answer, StandardCharsets.ISO_8859_1);
            assertThat(took).as("cut off after the 2 s idle timeout, not left waiting").isBetween(Duration.ofMillis(1500),
                    Duration.ofSeconds(15));
            assertThat(text).as("the answer to a stalled body").startsWith("HTTP/1.1 400 ").contains("<Code>RequestTimeout</Code>")
                    .doesNotContain("Exception");
        }
        eventually("the store holds what it held before the upload", () -> backendEntries(product).equals(before));
        assertThat(read(product, key)).hasValueSatisfying(b -> assertThat(b).isEqualTo(earlier));
    }

    @ParameterizedTest
    @ValueSource(strings = {"files", "bucket"})
    void aClientThatDisconnectsMidPartLosesOnlyThatPart(String product) throws Exception {
        String key = "mid-part/object.bin";
        byte[] first = randomBytes(5 * MIB);
        String uploadId = writer.createMultipartUpload(b -> b.bucket("acme").key(product + "/" + key)).uploadId();
        String e1 = writer.uploadPart(b -> b.bucket("acme").key(product + "/" + key).uploadId(uploadId).partNumber(1),
                RequestBody.fromBytes(first)).eTag();
        List<String> before = backendEntries(product);

        sendPartOfTheBodyAndDisconnect(product, key, new String[] {"partNumber", "2", "uploadId", uploadId}, 8 * MIB, 3 * MIB);

        eventually("the store holds what it held before the part", () -> backendEntries(product).equals(before));
        // S3Proxy's store may still be removing the aborted part's file for a moment, and
        // answers ListParts 400 meanwhile (503 here): ask until it has settled, then assert.
        eventually("the store answers ListParts", () -> {
            try {
                writer.listParts(b -> b.bucket("acme").key(product + "/" + key).uploadId(uploadId));
                return true;
            } catch (software.amazon.awssdk.services.s3.model.S3Exception e) {
                return false;
            }
        });
        assertThat(writer.listParts(b -> b.bucket("acme").key(product + "/" + key).uploadId(uploadId)).parts())
                .extracting(p -> p.partNumber()).containsExactly(1);
        assertThat(read(product, key)).isEmpty();
        writer.completeMultipartUpload(b -> b.bucket("acme").key(product + "/" + key).uploadId(uploadId)
                .multipartUpload(m -> m.parts(CompletedPart.builder().partNumber(1).eTag(e1).build())));
        assertThat(read(product, key)).hasValueSatisfying(b -> assertThat(b).isEqualTo(first));
    }

    @Test
    void aBackendThatDiesMidUploadIsServiceUnavailableAndNothingIsHalfVisible() throws Exception {
        String key = "backend-dies/object.bin";
        byte[] earlier = randomBytes(1000);
        writer.putObject(b -> b.bucket("acme").key("bucket/" + key), RequestBody.fromBytes(earlier));
        long relayedBefore = relay.upstreamBytes();
        RawWrite.Wire wire = RawWrite.put(sluice.s3Endpoint(), "/acme/bucket/" + key).signedBy(WRITER_ID, WRITER_SECRET)
                .form(Form.UNSIGNED).body(randomBytes(16 * MIB)).wire();
        URI endpoint = sluice.s3Endpoint();
        RawResponse r;
        try (Socket socket = new Socket(endpoint.getHost(), endpoint.getPort())) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            out.write(wire.head());
            out.write(wire.body(), 0, 4 * MIB);
            out.flush();
            assertThat(relay.awaitUpstreamBytes(relayedBefore + 2 * MIB, Duration.ofSeconds(10)))
                    .as("sluice streams the body into the backend as it arrives").isTrue();

            relay.cut();
            try {
                out.write(wire.body(), 4 * MIB, wire.body().length - 4 * MIB);
                out.flush();
            } catch (IOException e) {
                // sluice may answer and close before taking the rest; its answer is still readable
            }
            r = RawWrite.readResponse(socket.getInputStream());
        }

        assertS3Error(r, 503, "ServiceUnavailable", "/acme/bucket/" + key);
        assertThat(r.header("Retry-After")).isPresent();
        relay.restore();
        assertThat(read("bucket", key)).hasValueSatisfying(b -> assertThat(b).isEqualTo(earlier));
        assertThat(admin.getObject(b -> b.bucket(BUCKET).key("data/" + key), ResponseTransformer.toBytes()).asByteArray())
                .isEqualTo(earlier);
    }
}
