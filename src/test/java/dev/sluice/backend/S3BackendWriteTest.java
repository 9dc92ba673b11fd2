package dev.sluice.backend;

import dev.sluice.s3.Preconditions;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.sigv4.AwsCredentials;
import dev.sluice.testing.S3ProxyExtension;
import dev.sluice.testing.S3ProxyProcess;
import dev.sluice.testing.TestUploads;
import dev.sluice.time.Ticker;
import org.eclipse.jetty.client.HttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link S3Backend}'s writes against a real, signature-checking S3 server (S3Proxy): what a
 * write stores is read back with S3Proxy's own client, under the product's prefix, and a write
 * that fails leaves the bucket as it was.
 */
class S3BackendWriteTest {
    @RegisterExtension
    static final S3ProxyExtension S3PROXY = new S3ProxyExtension();

    private static final String BUCKET = "write-test";
    private static final String PREFIX = "p/";
    private static final int MIB = 1024 * 1024;

    static HttpClient http;
    static S3Backend backend;
    static S3Client admin;

    @BeforeAll
    static void start() throws Exception {
        S3ProxyProcess s3proxy = S3PROXY.get();
        admin = s3proxy.client();
        admin.createBucket(b -> b.bucket(BUCKET));
        http = new HttpClient();
        http.start();
        backend = new S3Backend(http, s3proxy.endpoint(), "us-east-1", BUCKET, PREFIX,
                BackendCredentials.fixed(AwsCredentials.of(S3ProxyProcess.IDENTITY, S3ProxyProcess.CREDENTIAL)),
                InstantSource.system(), Ticker.SYSTEM, Duration.ofSeconds(10));
    }

    @AfterAll
    static void stop() throws Exception {
        if (http != null) {
            http.stop();
        }
    }

    @Test
    void putStoresTheBytesUnderThePrefixAndAnswersTheirEtag() {
        byte[] bytes = "hello, store".getBytes(StandardCharsets.UTF_8);

        Written written = backend.put("put/plain.txt", TestUploads.of(bytes), ObjectAttributes.NONE, WriteCondition.NONE);

        assertThat(written.etag()).isEqualTo("\"" + TestUploads.md5Hex(bytes) + "\"");
        assertThat(stored("put/plain.txt")).isEqualTo(bytes);
    }

    @Test
    void attributesRoundTripThroughOpen() {
        List<Map.Entry<String, String>> attributes = List.of(
                Map.entry("content-type", "text/csv"),
                Map.entry("content-disposition", "attachment; filename=\"t.csv\""),
                Map.entry("content-encoding", "gzip"),
                Map.entry("cache-control", "max-age=60"),
                Map.entry("content-language", "fr"),
                Map.entry("expires", "Wed, 21 Oct 2015 07:28:00 GMT"),
                Map.entry("x-amz-meta-owner", "publisher-1"));

        backend.put("put/attributes.csv", TestUploads.of(new byte[] {1, 2, 3}), new ObjectAttributes(attributes), WriteCondition.NONE);

        assertThat(lowerCased(openMeta("put/attributes.csv"))).containsAll(attributes);
    }

    /**
     * The form a PutObject takes to S3 when the client's checksum comes after the body, here
     * into S3Proxy: stored whole, and read back without the framing's coding.
     */
    @Test
    void aBodyFramedWithAChecksumTrailerIsStoredAndReadBackWithoutTheFraming() {
        S3Backend trailing = new S3Backend(http, S3PROXY.get().endpoint(), "us-east-1", BUCKET, PREFIX,
                BackendCredentials.fixed(AwsCredentials.of(S3ProxyProcess.IDENTITY, S3ProxyProcess.CREDENTIAL)),
                InstantSource.system(), Ticker.SYSTEM, Duration.ofSeconds(10), true);
        byte[] bytes = random(S3UploadSender.BUFFER * 2 + 5, 3);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(bytes);
        String value = java.util.Base64.getEncoder().encodeToString(java.nio.ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());

        trailing.put("put/trailer.bin", TestUploads.withTrailer(bytes, "x-amz-checksum-crc32", value, null),
                new ObjectAttributes(List.of(Map.entry("content-encoding", "gzip"))), WriteCondition.NONE);

        assertThat(stored("put/trailer.bin")).isEqualTo(bytes);
        // S3Proxy keeps the request's coding as sent; S3 would keep "gzip", and so is it read.
        assertThat(admin.headObject(b -> b.bucket(BUCKET).key(PREFIX + "put/trailer.bin")).contentEncoding())
                .isEqualTo("aws-chunked,gzip");
        assertThat(lowerCased(openMeta("put/trailer.bin"))).contains(Map.entry("content-encoding", "gzip"));
    }

    @Test
    void aBodyThatFailsItsCheckStoresNothingAndLeavesTheOldObject() {
        byte[] old = "the old object".getBytes(StandardCharsets.UTF_8);
        backend.put("put/kept.txt", TestUploads.of(old), ObjectAttributes.NONE, WriteCondition.NONE);
        byte[] replacement = random(3 * MIB, 1);

        assertThatThrownBy(() -> backend.put("put/kept.txt", TestUploads.failingAtEnd(replacement, S3Error.BAD_DIGEST),
                ObjectAttributes.NONE, WriteCondition.NONE))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.BAD_DIGEST));
        assertThatThrownBy(() -> backend.put("put/never.txt", TestUploads.failingAtEnd(replacement, S3Error.INCOMPLETE_BODY),
                ObjectAttributes.NONE, WriteCondition.NONE))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.INCOMPLETE_BODY));

        assertThat(stored("put/kept.txt")).isEqualTo(old);
        assertThat(exists("put/never.txt")).isFalse();
    }

    @Test
    void aClientThatGoesAwayMidBodyStoresNothing() {
        byte[] bytes = random(2 * MIB, 2);

        assertThatThrownBy(() -> backend.put("put/gone.bin", goneAfter(bytes, MIB), ObjectAttributes.NONE, WriteCondition.NONE))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.INCOMPLETE_BODY));

        assertThat(exists("put/gone.bin")).isFalse();
    }

    @Test
    void createOnlyRefusesAnExistingKeyAndWritesANewOne() {
        backend.put("cond/taken.txt", TestUploads.of(bytes("first")), ObjectAttributes.NONE, WriteCondition.NONE);
        WriteCondition createOnly = new WriteCondition(true, Optional.empty());

        assertThatThrownBy(() -> backend.put("cond/taken.txt", TestUploads.of(bytes("second")), ObjectAttributes.NONE, createOnly))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.PRECONDITION_FAILED));
        backend.put("cond/free.txt", TestUploads.of(bytes("new")), ObjectAttributes.NONE, createOnly);

        assertThat(stored("cond/taken.txt")).isEqualTo(bytes("first"));
        assertThat(stored("cond/free.txt")).isEqualTo(bytes("new"));
    }

    @Test
    void ifMatchReplacesOnlyThatVersion() {
        Written first = backend.put("cond/versioned.txt", TestUploads.of(bytes("v1")), ObjectAttributes.NONE, WriteCondition.NONE);

        assertThatThrownBy(() -> backend.put("cond/versioned.txt", TestUploads.of(bytes("v2")), ObjectAttributes.NONE,
                new WriteCondition(false, Optional.of("\"0123456789abcdef0123456789abcdef\""))))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.PRECONDITION_FAILED));
        assertThatThrownBy(() -> backend.put("cond/absent.txt", TestUploads.of(bytes("v2")), ObjectAttributes.NONE,
                new WriteCondition(false, Optional.of(first.etag()))))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.NO_SUCH_KEY));
        assertThat(stored("cond/versioned.txt")).isEqualTo(bytes("v1"));

        backend.put("cond/versioned.txt", TestUploads.of(bytes("v2")), ObjectAttributes.NONE,
                new WriteCondition(false, Optional.of(first.etag())));
        assertThat(stored("cond/versioned.txt")).isEqualTo(bytes("v2"));
    }

    @Test
    void deleteRemovesTheObjectAndAMissingKeyIsNoError() {
        backend.put("del/x.txt", TestUploads.of(bytes("x")), ObjectAttributes.NONE, WriteCondition.NONE);

        backend.delete("del/x.txt");
        backend.delete("del/never-there.txt");

        assertThat(exists("del/x.txt")).isFalse();
    }

    @Test
    void copyKeepsOrReplacesAttributesAndEncodesAwkwardKeys() {
        String source = "copy/a b+c ü&.txt";
        backend.put(source, TestUploads.of(bytes("copied")),
                new ObjectAttributes(List.of(Map.entry("content-type", "text/plain"), Map.entry("x-amz-meta-origin", "source"))),
                WriteCondition.NONE);

        Written kept = backend.copy(source, "copy/kept 1.txt", Optional.empty(), WriteCondition.NONE);
        backend.copy(source, "copy/replaced.txt",
                Optional.of(new ObjectAttributes(List.of(Map.entry("content-type", "text/csv"), Map.entry("x-amz-meta-origin", "copy")))),
                WriteCondition.NONE);

        assertThat(kept.etag()).isEqualTo("\"" + TestUploads.md5Hex(bytes("copied")) + "\"");
        assertThat(stored("copy/kept 1.txt")).isEqualTo(bytes("copied"));
        assertThat(lowerCased(openMeta("copy/kept 1.txt")))
                .contains(Map.entry("content-type", "text/plain"), Map.entry("x-amz-meta-origin", "source"));
        assertThat(lowerCased(openMeta("copy/replaced.txt")))
                .contains(Map.entry("content-type", "text/csv"), Map.entry("x-amz-meta-origin", "copy"));
    }

    @Test
    void copyOfAMissingSourceIsNoSuchKey() {
        assertThatThrownBy(() -> backend.copy("copy/missing.txt", "copy/target.txt", Optional.empty(), WriteCondition.NONE))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.NO_SUCH_KEY));
        assertThat(exists("copy/target.txt")).isFalse();
    }

    @Test
    void createOnlyCopyOntoAnExistingKeyIsRefusedThoughTheServerIgnoresTheHeader() {
        // S3Proxy 3.0 copies over an existing object despite If-None-Match: *.
        backend.put("copy/src.txt", TestUploads.of(bytes("src")), ObjectAttributes.NONE, WriteCondition.NONE);
        backend.put("copy/existing.txt", TestUploads.of(bytes("existing")), ObjectAttributes.NONE, WriteCondition.NONE);

        assertThatThrownBy(() -> backend.copy("copy/src.txt", "copy/existing.txt", Optional.empty(),
                new WriteCondition(true, Optional.empty())))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.PRECONDITION_FAILED));
        assertThat(stored("copy/existing.txt")).isEqualTo(bytes("existing"));
    }

    @Test
    void aMultipartUploadOfThreePartsCompletesAndReadsBackByteIdentical() {
        byte[] whole = random(10 * MIB + 1, 3);
        byte[][] parts = {Arrays.copyOfRange(whole, 0, 5 * MIB), Arrays.copyOfRange(whole, 5 * MIB, 10 * MIB),
                Arrays.copyOfRange(whole, 10 * MIB, whole.length)};
        String id = backend.startUpload("mpu/big.bin", new ObjectAttributes(List.of(Map.entry("content-type", "application/x-test"))));

        List<Multipart.PartRef> refs = new ArrayList<>();
        for (int i = 0; i < parts.length; i++) {
            Written part = backend.uploadPart("mpu/big.bin", id, i + 1, TestUploads.of(parts[i]));
            assertThat(part.etag()).isEqualTo("\"" + TestUploads.md5Hex(parts[i]) + "\"");
            refs.add(new Multipart.PartRef(i + 1, part.etag()));
        }
        assertThat(exists("mpu/big.bin")).isFalse();
        Written done = backend.completeUpload("mpu/big.bin", id, refs, WriteCondition.NONE);

        assertThat(done.etag()).endsWith("-3\"");
        assertThat(stored("mpu/big.bin")).isEqualTo(whole);
        assertThat(lowerCased(openMeta("mpu/big.bin"))).contains(Map.entry("content-type", "application/x-test"));
        // The completed upload is no longer in progress (other tests' uploads may be).
        assertThat(backend.listUploads("mpu/", Optional.empty(), 1000).uploads())
                .extracting(Multipart.InProgress::uploadId).doesNotContain(id);
    }

    @Test
    void partsAndUploadsAreListedPageByPageWithoutThePrefix() {
        String id = backend.startUpload("list/a.bin", ObjectAttributes.NONE);
        for (int n = 1; n <= 3; n++) {
            backend.uploadPart("list/a.bin", id, n, TestUploads.of(bytes("part " + n)));
        }

        Multipart.PartsPage first = backend.listParts("list/a.bin", id, 0, 2);
        assertThat(first.parts()).extracting(Multipart.Part::partNumber).containsExactly(1, 2);
        assertThat(first.parts().getFirst().etag()).isEqualTo("\"" + TestUploads.md5Hex(bytes("part 1")) + "\"");
        assertThat(first.parts().getFirst().size()).isEqualTo(6);
        assertThat(first.next()).hasValue(2);
        Multipart.PartsPage all = backend.listParts("list/a.bin", id, 0, 1000);
        assertThat(all.parts()).extracting(Multipart.Part::partNumber).containsExactly(1, 2, 3);
        assertThat(all.next()).isEmpty();

        Multipart.UploadsPage uploads = backend.listUploads("list/", Optional.empty(), 1000);
        assertThat(uploads.uploads()).extracting(Multipart.InProgress::key, Multipart.InProgress::uploadId)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("list/a.bin", id));
        backend.abortUpload("list/a.bin", id);
    }

    @Test
    void anAbortedUploadIsGoneAndAbortingItAgainIsNoSuchUpload() {
        String id = backend.startUpload("abort/a.bin", ObjectAttributes.NONE);
        backend.uploadPart("abort/a.bin", id, 1, TestUploads.of(bytes("part")));

        backend.abortUpload("abort/a.bin", id);

        assertThat(backend.listUploads("abort/", Optional.empty(), 1000).uploads()).isEmpty();
        assertThatThrownBy(() -> backend.abortUpload("abort/a.bin", id))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.NO_SUCH_UPLOAD));
        assertThat(exists("abort/a.bin")).isFalse();
    }

    @Test
    void completingWithAPartThatWasNotUploadedIsInvalidPart() {
        String id = backend.startUpload("mpu/invalid.bin", ObjectAttributes.NONE);
        backend.uploadPart("mpu/invalid.bin", id, 1, TestUploads.of(bytes("only part")));

        assertThatThrownBy(() -> backend.completeUpload("mpu/invalid.bin", id,
                List.of(new Multipart.PartRef(1, "\"" + TestUploads.md5Hex(bytes("another part")) + "\"")), WriteCondition.NONE))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.INVALID_PART));
        assertThat(exists("mpu/invalid.bin")).isFalse();
        backend.abortUpload("mpu/invalid.bin", id);
    }

    @Test
    void aPartThatFailsItsCheckIsNeverPartOfTheObject() {
        // Listing the parts right after the failure would race S3Proxy, whose filesystem store
        // lists its partial temporary file until it notices the aborted connection; the object
        // the upload completes to shows which bytes were kept. Its key is under a prefix of its
        // own, so an upload it leaves behind on failure is not seen by another test's listing.
        byte[] first = random(5 * MIB, 5);
        byte[] failing = random(MIB, 6);
        byte[] second = random(MIB, 7);
        String id = backend.startUpload("mpu-failing/failing.bin", ObjectAttributes.NONE);
        Written one = backend.uploadPart("mpu-failing/failing.bin", id, 1, TestUploads.of(first));

        assertThatThrownBy(() -> backend.uploadPart("mpu-failing/failing.bin", id, 2, TestUploads.failingAtEnd(failing, S3Error.BAD_DIGEST)))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.BAD_DIGEST));
        // Completing with the failed part right away races S3Proxy too (its store may still hold
        // the partial file and answer 500); that the failed bytes never reach the object is
        // shown by the object below, assembled after the part is sent again.
        Written two = backend.uploadPart("mpu-failing/failing.bin", id, 2, TestUploads.of(second));
        backend.completeUpload("mpu-failing/failing.bin", id, List.of(new Multipart.PartRef(1, one.etag()), new Multipart.PartRef(2, two.etag())),
                WriteCondition.NONE);

        byte[] whole = new byte[first.length + second.length];
        System.arraycopy(first, 0, whole, 0, first.length);
        System.arraycopy(second, 0, whole, first.length, second.length);
        assertThat(stored("mpu-failing/failing.bin")).isEqualTo(whole);
    }

    @Test
    void createOnlyCompletionOntoAnExistingKeyIsRefused() {
        // S3Proxy 3.0 completes over an existing object despite If-None-Match: *.
        backend.put("mpu/taken.bin", TestUploads.of(bytes("taken")), ObjectAttributes.NONE, WriteCondition.NONE);
        String id = backend.startUpload("mpu/taken.bin", ObjectAttributes.NONE);
        Written part = backend.uploadPart("mpu/taken.bin", id, 1, TestUploads.of(bytes("late")));

        assertThatThrownBy(() -> backend.completeUpload("mpu/taken.bin", id, List.of(new Multipart.PartRef(1, part.etag())),
                new WriteCondition(true, Optional.empty())))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.PRECONDITION_FAILED));
        assertThat(stored("mpu/taken.bin")).isEqualTo(bytes("taken"));
        backend.abortUpload("mpu/taken.bin", id);
    }

    private static byte[] stored(String key) {
        return admin.getObjectAsBytes(b -> b.bucket(BUCKET).key(PREFIX + key)).asByteArray();
    }

    private static boolean exists(String key) {
        try {
            admin.headObject(b -> b.bucket(BUCKET).key(PREFIX + key));
            return true;
        } catch (NoSuchKeyException e) {
            return false;
        }
    }

    private static List<Map.Entry<String, String>> openMeta(String key) {
        try (StoredObject object = backend.open(key, new Fetch(Optional.empty(), Preconditions.NONE, true))) {
            return object.meta().stored();
        }
    }

    private static List<Map.Entry<String, String>> lowerCased(List<Map.Entry<String, String>> headers) {
        return headers.stream().map(h -> Map.entry(h.getKey().toLowerCase(java.util.Locale.ROOT), h.getValue())).toList();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] random(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    /** A body whose client disconnects after {@code delivered} bytes: the stream throws an I/O error. */
    static Upload goneAfter(byte[] bytes, int delivered) {
        return new Upload() {
            @Override
            public InputStream stream() {
                InputStream head = new java.io.ByteArrayInputStream(bytes, 0, delivered);
                return new InputStream() {
                    @Override
                    public int read() throws IOException {
                        byte[] one = new byte[1];
                        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                    }

                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        int n = head.read(b, off, len);
                        if (n < 0) {
                            throw new IOException("the client closed the connection");
                        }
                        return n;
                    }
                };
            }

            @Override
            public long length() {
                return bytes.length;
            }

            @Override
            public String md5Hex() {
                throw new IllegalStateException("the body was never read to its end");
            }

            @Override
            public List<Map.Entry<String, String>> checksums() {
                return List.of();
            }
        };
    }
}
