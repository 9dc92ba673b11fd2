package dev.sluice.it;

import dev.sluice.it.RawWrite.Form;
import dev.sluice.it.SluiceUnderTest.RawResponse;
import dev.sluice.testing.TestIssuer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.ChecksumType;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadResponse;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CopyObjectResponse;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListPartsResponse;
import software.amazon.awssdk.services.s3.model.MetadataDirective;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.model.Credentials;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;

import static dev.sluice.it.S3ErrorAssert.assertS3Error;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Writes as an S3 client sees them ({@code docs/writes.md}), run unchanged against every
 * backend: each subclass names a backend for three products and how to look at it directly,
 * and every test here must pass on all of them.
 *
 * <ul>
 *   <li>{@code acme/drop}: public and {@code writable: true}; anyone reads, only keys with
 *       write actions write;</li>
 *   <li>{@code acme/other}: restricted and writable, to carry another product's upload ids;</li>
 *   <li>{@code acme/ro}: public and read-only (no {@code writable}), holding {@code existing.txt}.</li>
 * </ul>
 *
 * <p>The SDK client writes with its default checksums ({@code WHEN_SUPPORTED}: CRC32 trailers on
 * aws-chunked bodies) and with them off ({@code WHEN_REQUIRED}); {@link RawWrite} sends every
 * other payload form and every damaged body. Every refusal is checked three ways: the S3 error
 * code, the object (absent, or its earlier version byte for byte), and the backend itself,
 * which must hold nothing more than before (no temporary file, no staged part, no upload).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class WritePathContract {
    static final String ACCOUNT = "acme";
    static final String WRITER_ID = "AKIASLUICEWRITER001";
    static final String WRITER_SECRET = "writer-secret-0123456789abcdefghijklmn";
    static final String TEAM_ID = "AKIASLUICETEAMA0001";
    static final String TEAM_SECRET = "team-a-secret-0123456789abcdefghijklmn";
    static final int MIB = 1024 * 1024;
    private static final String WRITE_ACTIONS =
            "[get_object, head_object, list_bucket, put_object, delete_object, abort_multipart_upload, list_multipart_uploads]";

    protected SluiceUnderTest sluice;
    protected S3Client writer;
    protected S3Client writerWithoutChecksums;
    protected S3Client anonymous;
    protected S3Client teamA;
    private TestIssuer issuer;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final Random random = new Random(14);

    /** A YAML flow mapping for the backend of {@code product} ({@code drop}, {@code other}, {@code ro}). */
    protected abstract String backend(String product);

    /** Environment the backends' configuration reads (secrets). */
    protected abstract Map<String, String> backendEnvironment();

    /** Where relative paths in the configuration resolve. */
    protected abstract Path baseDirectory();

    /** Puts an object straight into the backend, bypassing sluice. */
    protected abstract void seed(String product, String key, byte[] bytes);

    /** The object as the backend itself holds it, bypassing sluice. */
    protected abstract Optional<byte[]> stored(String product, String key);

    /**
     * Everything the backend holds for a product, bypassing sluice: objects, and whatever a
     * write in progress leaves (temporary files, staged parts, multipart uploads).
     */
    protected abstract List<String> backendEntries(String product);

    /**
     * Whether the backend keeps the checksums a client sent: they are then answered on the write
     * and returned with {@code x-amz-checksum-mode} ({@code docs/writes.md}: a write answers the
     * checksums the store kept).
     */
    protected boolean keepsChecksums() {
        return true;
    }

    /**
     * Whether the backend keeps the checksum a multipart upload was started with for the object
     * (composite or full-object), answering it on completion and with {@code x-amz-checksum-mode}.
     */
    protected boolean keepsMultipartChecksums() {
        return false;
    }

    /** Whether an upload that was completed or aborted is gone for ListParts and UploadPart ({@code NoSuchUpload}), as in S3. */
    protected boolean endsUploadsAsS3Does() {
        return true;
    }

    /**
     * Returns once the backend finished any write sluice aborted. Sluice answers a refused body
     * at once and closes its request to the backend; a backend that notices the close later may
     * show that write's leftovers until then. S3 and the file backend show none: nothing to wait for.
     */
    protected void awaitStoreSettled() {
    }

    /** Whether ListMultipartUploads lists in key order and pages, as S3 does. */
    protected boolean listsUploadsInKeyOrder() {
        return true;
    }

    @BeforeAll
    void startSluice() throws Exception {
        issuer = new TestIssuer(InstantSource.system());
        closeables.add(issuer);
        seed("ro", "existing.txt", "read-only\n".getBytes(StandardCharsets.UTF_8));
        String yaml = """
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0", body_timeout: 2s }
                registry:
                  type: static
                  products:
                    - { account: acme, product: drop, visibility: public, writable: true, backend: %1$s }
                    - { account: acme, product: other, visibility: restricted, writable: true, backend: %2$s }
                    - { account: acme, product: ro, visibility: public, backend: %3$s }
                inbound:
                  access_keys:
                    - access_key_id: %4$s
                      secret_access_key_env: WRITER_SECRET
                      name: writer
                      scopes: [ { product: "acme/*", actions: %6$s } ]
                    - access_key_id: %5$s
                      secret_access_key_env: TEAM_SECRET
                      name: team-a
                      scopes:
                        - { product: acme/drop, prefixes: [team-a/], actions: %6$s }
                        - { product: acme/other, prefixes: [team-a/], actions: [get_object, list_bucket] }
                  sts:
                    session_key_env: SESSION_KEY
                    roles:
                      - id: ci-writer
                        trusted_issuers: ["%7$s"]
                        audiences: [sluice]
                        subjects: ["ci-*"]
                        scopes: [ { product: acme/drop, prefixes: ["ci/{sub}/"], actions: %6$s } ]
                """.formatted(backend("drop"), backend("other"), backend("ro"), WRITER_ID, TEAM_ID, WRITE_ACTIONS,
                issuer.issuer());
        byte[] sessionKey = new byte[32];
        new java.security.SecureRandom().nextBytes(sessionKey);
        Map<String, String> env = new java.util.HashMap<>(backendEnvironment());
        env.put("WRITER_SECRET", WRITER_SECRET);
        env.put("TEAM_SECRET", TEAM_SECRET);
        env.put("SESSION_KEY", Base64.getEncoder().encodeToString(sessionKey));
        sluice = SluiceUnderTest.start(yaml, env, baseDirectory());
        writer = client(credentials(WRITER_ID, WRITER_SECRET), RequestChecksumCalculation.WHEN_SUPPORTED);
        writerWithoutChecksums = client(credentials(WRITER_ID, WRITER_SECRET), RequestChecksumCalculation.WHEN_REQUIRED);
        teamA = client(credentials(TEAM_ID, TEAM_SECRET), RequestChecksumCalculation.WHEN_SUPPORTED);
        anonymous = sluice.anonymousClient();
    }

    @AfterAll
    void stopSluice() throws Exception {
        Exception first = null;
        for (AutoCloseable c : closeables.reversed()) {
            try {
                c.close();
            } catch (Exception e) {
                first = first == null ? e : first;
            }
        }
        if (sluice != null) {
            sluice.close();
        }
        if (first != null) {
            throw first;
        }
    }

    private static AwsCredentialsProvider credentials(String id, String secret) {
        return StaticCredentialsProvider.create(AwsBasicCredentials.create(id, secret));
    }

    /** The writers' SDK client: {@link SluiceUnderTest#client(AwsCredentialsProvider, RequestChecksumCalculation)}. */
    S3Client client(AwsCredentialsProvider credentials, RequestChecksumCalculation checksums) {
        return sluice.client(credentials, checksums);
    }

    /** The writer's SDK client with checksums on (the SDK default) and off. */
    Stream<Arguments> writers() {
        return Stream.of(Arguments.of(Named.of("checksums WHEN_SUPPORTED", writer)),
                Arguments.of(Named.of("checksums WHEN_REQUIRED", writerWithoutChecksums)));
    }

    // ---------------------------------------------------------------- helpers

    byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    static String unique(TestInfo info) {
        // One name per test invocation (parameterized ones differ by display name), the same each time asked.
        return info.getTestMethod().orElseThrow().getName() + "-" + Integer.toHexString(info.getDisplayName().hashCode());
    }

    static String quotedMd5(byte[] bytes) {
        return "\"" + Checksums.md5Hex(bytes) + "\"";
    }

    Optional<byte[]> read(String product, String key) {
        try {
            return Optional.of(writer.getObject(b -> b.bucket(ACCOUNT).key(product + "/" + key), ResponseTransformer.toBytes())
                    .asByteArray());
        } catch (S3Exception e) {
            assertThat(e.statusCode()).as("reading %s/%s: %s", product, key, e.getMessage()).isEqualTo(404);
            assertThat(e.awsErrorDetails().errorCode()).isEqualTo("NoSuchKey");
            return Optional.empty();
        }
    }

    /** The object at {@code product/key} is {@code expected} (or absent) both through sluice and in the backend. */
    void assertHolds(String product, String key, Optional<byte[]> expected) {
        Optional<byte[]> viaSluice = read(product, key);
        Optional<byte[]> inBackend = stored(product, key);
        if (expected.isPresent()) {
            assertThat(viaSluice).as("%s/%s through sluice", product, key).hasValueSatisfying(b -> assertThat(b).isEqualTo(expected.get()));
            assertThat(inBackend).as("%s/%s in the backend", product, key).hasValueSatisfying(b -> assertThat(b).isEqualTo(expected.get()));
        } else {
            assertThat(viaSluice).as("%s/%s through sluice", product, key).isEmpty();
            assertThat(inBackend).as("%s/%s in the backend", product, key).isEmpty();
        }
    }

    /**
     * A refused write: the S3 error, the object as it was ({@code earlier}, or absent), and the
     * backend holding exactly what it held before ({@code before}).
     */
    void assertRefused(RawResponse r, int status, String code, String key, Optional<byte[]> earlier, List<String> before) {
        assertS3Error(r, status, code, "/" + ACCOUNT + "/drop/" + key);
        assertHolds("drop", key, earlier);
        assertThat(backendEntries("drop")).as("the backend after a refused write").containsExactlyInAnyOrderElementsOf(before);
    }

    void assertSdkError(Runnable call, int status, String code) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(S3Exception.class, e -> {
            assertThat(e.statusCode()).as(e.getMessage()).isEqualTo(status);
            assertThat(e.awsErrorDetails().errorCode()).isEqualTo(code);
        });
    }

    RawWrite rawPut(String key) {
        return RawWrite.put(sluice.s3Endpoint(), "/" + ACCOUNT + "/drop/" + key).signedBy(WRITER_ID, WRITER_SECRET);
    }

    /** Puts {@code bytes} with the SDK and checks it stored; the earlier version for a refusal test. */
    byte[] putEarlierVersion(String key) {
        byte[] earlier = ("earlier version of " + key + "\n").getBytes(StandardCharsets.UTF_8);
        writer.putObject(b -> b.bucket(ACCOUNT).key("drop/" + key), RequestBody.fromBytes(earlier));
        assertHolds("drop", key, Optional.of(earlier));
        return earlier;
    }

    // ---------------------------------------------------------------- PutObject

    @ParameterizedTest
    @MethodSource("writers")
    void putsAnObjectThatReadsBackByteForByte(S3Client client, TestInfo info) {
        String key = unique(info) + "/data.bin";
        byte[] bytes = randomBytes(3 * MIB + 17);

        PutObjectResponse put = client.putObject(b -> b.bucket(ACCOUNT).key("drop/" + key), RequestBody.fromBytes(bytes));

        assertThat(put.eTag()).isEqualTo(quotedMd5(bytes));
        assertHolds("drop", key, Optional.of(bytes));
        HeadObjectResponse head = writer.headObject(b -> b.bucket(ACCOUNT).key("drop/" + key));
        assertThat(head.contentLength()).isEqualTo(bytes.length);
        assertThat(head.eTag()).isEqualTo(quotedMd5(bytes));
        List<S3Object> listed = writer.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("drop/" + unique(info) + "/")).contents();
        assertThat(listed).extracting(S3Object::key).contains("drop/" + key);
        // Anyone reads a public product, writes included.
        assertThat(anonymous.getObject(b -> b.bucket(ACCOUNT).key("drop/" + key), ResponseTransformer.toBytes()).asByteArray())
                .isEqualTo(bytes);
    }

    /**
     * Uploaders such as rclone make sure the bucket exists first (CreateBucket): a caller who
     * sees the account is answered as S3 answers a bucket's owner, 409 BucketAlreadyOwnedByYou,
     * which they take as "it exists"; nothing is created. An account nobody configured stays 501.
     */
    @Test
    void createBucketOnAnAccountTheWriterSeesIsBucketAlreadyOwnedByYou() {
        assertThatThrownBy(() -> writer.createBucket(b -> b.bucket(ACCOUNT)))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(409);
                    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("BucketAlreadyOwnedByYou");
                });
        assertThatThrownBy(() -> writer.createBucket(b -> b.bucket("no-such-account")))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(501);
                    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("NotImplemented");
                });
    }

    @Test
    void putsAnEmptyObject(TestInfo info) {
        String key = unique(info) + "/empty";

        PutObjectResponse put = writer.putObject(b -> b.bucket(ACCOUNT).key("drop/" + key), RequestBody.empty());

        assertThat(put.eTag()).isEqualTo(quotedMd5(new byte[0]));
        assertHolds("drop", key, Optional.of(new byte[0]));
    }

    @Test
    void aSecondPutReplacesTheObjectWhole(TestInfo info) {
        String key = unique(info) + "/v";
        byte[] first = randomBytes(200_000);
        byte[] second = randomBytes(1000);
        writer.putObject(b -> b.bucket(ACCOUNT).key("drop/" + key), RequestBody.fromBytes(first));

        writer.putObject(b -> b.bucket(ACCOUNT).key("drop/" + key), RequestBody.fromBytes(second));

        assertHolds("drop", key, Optional.of(second));
    }

    @ParameterizedTest
    @MethodSource("writers")
    void storesAndReturnsTheObjectsMetadata(S3Client client, TestInfo info) {
        String key = unique(info) + "/report.csv.gz";
        byte[] bytes = randomBytes(5000);

        client.putObject(b -> b.bucket(ACCOUNT).key("drop/" + key)
                .contentType("text/csv")
                .contentDisposition("attachment; filename=\"report.csv\"")
                .contentEncoding("gzip")
                .cacheControl("max-age=60")
                .metadata(Map.of("origin", "pipeline-7", "Batch", "42")), RequestBody.fromBytes(bytes));

        HeadObjectResponse h = writer.headObject(b -> b.bucket(ACCOUNT).key("drop/" + key));
        assertMetadata(h.contentType(), h.contentDisposition(), h.contentEncoding(), h.cacheControl(), h.metadata());
        GetObjectResponse g = writer.getObject(b -> b.bucket(ACCOUNT).key("drop/" + key), ResponseTransformer.toBytes()).response();
        assertMetadata(g.contentType(), g.contentDisposition(), g.contentEncoding(), g.cacheControl(), g.metadata());
        // The stored metadata is the object's, never a key of its own.
        assertThat(writer.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("drop/" + unique(info) + "/")).contents())
                .extracting(S3Object::key).containsExactly("drop/" + key);
    }

    private static void assertMetadata(String type, String disposition, String encoding, String cacheControl,
                                       Map<String, String> metadata) {
        assertThat(type).isEqualTo("text/csv");
        assertThat(disposition).isEqualTo("attachment; filename=\"report.csv\"");
        assertThat(encoding).isEqualTo("gzip");
        assertThat(cacheControl).isEqualTo("max-age=60");
        assertThat(metadata).containsEntry("origin", "pipeline-7").containsEntry("batch", "42");
    }

    @Test
    void theSdksDefaultChecksumIsStoredAndReturnedInChecksumMode(TestInfo info) {
        String key = unique(info) + "/crc";
        byte[] bytes = randomBytes(300_000);

        PutObjectResponse put = writer.putObject(b -> b.bucket(ACCOUNT).key("drop/" + key).checksumAlgorithm(ChecksumAlgorithm.CRC32),
                RequestBody.fromBytes(bytes));

        if (keepsChecksums()) {
            assertThat(put.checksumCRC32()).isEqualTo(Checksums.CRC32.of(bytes));
            HeadObjectResponse head = writer.headObject(b -> b.bucket(ACCOUNT).key("drop/" + key).checksumMode(ChecksumMode.ENABLED));
            assertThat(head.checksumCRC32()).isEqualTo(Checksums.CRC32.of(bytes));
            RawResponse get = sluice.send("GET", "/acme/drop/" + key, "x-amz-checksum-mode", "ENABLED");
            assertThat(get.header("x-amz-checksum-crc32")).hasValue(Checksums.CRC32.of(bytes));
        }
        // The upload's framing (aws-chunked) is never the object's coding, however the store kept it.
        RawResponse get = sluice.send("GET", "/acme/drop/" + key);
        assertThat(get.status()).isEqualTo(200);
        assertThat(get.header("Content-Encoding")).isEmpty();
        assertHolds("drop", key, Optional.of(bytes));
    }

    // ---------------------------------------------------------------- payload forms

    @ParameterizedTest
    @EnumSource(Form.class)
    void everyPayloadFormStoresTheBytes(Form form, TestInfo info) {
        String key = unique(info) + "/" + form;
        byte[] bytes = randomBytes(200_000); // three 64 KiB chunks and a short last one

        RawResponse r = rawPut(key).form(form).body(bytes).send();

        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.header("ETag")).hasValue(quotedMd5(bytes));
        if (form.trailer() && keepsChecksums()) {
            assertThat(r.header("x-amz-checksum-crc32")).hasValue(Checksums.CRC32.of(bytes));
        }
        assertHolds("drop", key, Optional.of(bytes));
    }

    @ParameterizedTest
    @EnumSource(value = Form.class, names = {"CHUNKED_SIGNED_TRAILER", "CHUNKED_UNSIGNED_TRAILER"})
    void everyTrailingChecksumIsCheckedAndStored(Form form, TestInfo info) {
        for (Checksums algorithm : Checksums.values()) {
            String key = unique(info) + "/" + form + "-" + algorithm;
            byte[] bytes = randomBytes(100_000);

            RawResponse r = rawPut(key).form(form).trailer(algorithm).body(bytes).send();

            assertThat(r.status()).as("%s: %s", algorithm, r.text()).isEqualTo(200);
            assertHolds("drop", key, Optional.of(bytes));
            if (keepsChecksums()) {
                assertThat(r.header(algorithm.header())).as(algorithm.header()).hasValue(algorithm.of(bytes));
                RawResponse head = sluice.send("HEAD", "/acme/drop/" + key, "x-amz-checksum-mode", "ENABLED");
                assertThat(head.header(algorithm.header())).as(algorithm.header()).hasValue(algorithm.of(bytes));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Checksums.class)
    void eachChecksumHeaderIsCheckedAndStored(Checksums algorithm, TestInfo info) {
        String key = unique(info) + "/" + algorithm;
        byte[] bytes = randomBytes(70_000);

        RawResponse r = rawPut(key).form(Form.UNSIGNED).header(algorithm.header(), algorithm.of(bytes)).body(bytes).send();

        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertHolds("drop", key, Optional.of(bytes));
        if (keepsChecksums()) {
            assertThat(r.header(algorithm.header())).hasValue(algorithm.of(bytes));
            RawResponse head = sluice.send("HEAD", "/acme/drop/" + key, "x-amz-checksum-mode", "ENABLED");
            assertThat(head.header(algorithm.header())).hasValue(algorithm.of(bytes));
        }
    }

    @Test
    void aRightContentMd5IsAccepted(TestInfo info) {
        String key = unique(info) + "/md5";
        byte[] bytes = randomBytes(10_000);

        RawResponse r = rawPut(key).header("content-md5", Checksums.md5Base64(bytes)).body(bytes).send();

        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertHolds("drop", key, Optional.of(bytes));
    }

    // ---------------------------------------------------------------- refused bodies

    @ParameterizedTest
    @EnumSource(Checksums.class)
    void aWrongChecksumHeaderIsBadDigestAndStoresNothing(Checksums algorithm, TestInfo info) {
        String key = unique(info) + "/" + algorithm;
        byte[] earlier = putEarlierVersion(key);
        List<String> before = backendEntries("drop");
        byte[] bytes = randomBytes(70_000);
        byte[] other = bytes.clone();
        other[0] ^= 1;

        RawResponse r = rawPut(key).form(Form.UNSIGNED).header(algorithm.header(), algorithm.of(other)).body(bytes).send();

        assertRefused(r, 400, "BadDigest", key, Optional.of(earlier), before);
    }

    @Test
    void aWrongContentMd5IsBadDigestAndStoresNothing(TestInfo info) {
        String key = unique(info) + "/md5";
        byte[] earlier = putEarlierVersion(key);
        List<String> before = backendEntries("drop");
        byte[] bytes = randomBytes(10_000);

        RawResponse r = rawPut(key).header("content-md5", Checksums.md5Base64(randomBytes(10))).body(bytes).send();

        assertRefused(r, 400, "BadDigest", key, Optional.of(earlier), before);
    }

    @Test
    void aContentMd5ThatIsNotAnMd5IsInvalidDigest(TestInfo info) {
        String key = unique(info) + "/md5";
        List<String> before = backendEntries("drop");

        RawResponse r = rawPut(key).header("content-md5", "not-base64-md5").body(randomBytes(100)).send();

        assertRefused(r, 400, "InvalidDigest", key, Optional.empty(), before);
    }

    @Test
    void aBodyThatDisagreesWithItsSignedSha256IsXAmzContentSHA256Mismatch(TestInfo info) {
        String key = unique(info) + "/sha";
        byte[] earlier = putEarlierVersion(key);
        List<String> before = backendEntries("drop");
        byte[] bytes = randomBytes(150_000);

        RawResponse r = rawPut(key).body(bytes).payloadHash(Checksums.sha256Hex(randomBytes(10))).send();

        assertRefused(r, 400, "XAmzContentSHA256Mismatch", key, Optional.of(earlier), before);
    }

    @ParameterizedTest
    @EnumSource(value = Form.class, names = {"CHUNKED_SIGNED", "CHUNKED_SIGNED_TRAILER"})
    void aChunkChangedAfterSigningIsSignatureDoesNotMatch(Form form, TestInfo info) {
        String key = unique(info) + "/" + form;
        byte[] earlier = putEarlierVersion(key);
        List<String> before = backendEntries("drop");
        byte[] bytes = randomBytes(200_000);

        // A byte in the second chunk's data, well past the first chunk and its framing.
        RawResponse r = rawPut(key).form(form).body(bytes).tamper(wire -> flip(wire, 64 * 1024 + 500)).send();

        assertRefused(r, 403, "SignatureDoesNotMatch", key, Optional.of(earlier), before);
    }

    @ParameterizedTest
    @EnumSource(value = Form.class, names = {"CHUNKED_SIGNED_TRAILER", "CHUNKED_UNSIGNED_TRAILER"})
    void aWrongTrailingChecksumIsBadDigestAndStoresNothing(Form form, TestInfo info) {
        String key = unique(info) + "/" + form;
        byte[] earlier = putEarlierVersion(key);
        List<String> before = backendEntries("drop");
        byte[] bytes = randomBytes(100_000);

        RawResponse r = rawPut(key).form(form).body(bytes).trailerValue(Checksums.CRC32.of(randomBytes(5))).send();

        assertRefused(r, 400, "BadDigest", key, Optional.of(earlier), before);
    }

    @ParameterizedTest
    @EnumSource(Form.class)
    void aBodyShorterThanDeclaredIsIncompleteBodyAndStoresNothing(Form form, TestInfo info) {
        String key = unique(info) + "/" + form;
        byte[] earlier = putEarlierVersion(key);
        List<String> before = backendEntries("drop");
        byte[] bytes = randomBytes(150_000);

        RawResponse r = rawPut(key).form(form).body(bytes).sendOnly(100_000).send();

        assertRefused(r, 400, "IncompleteBody", key, Optional.of(earlier), before);
    }

    @Test
    void aChunkedBodyShorterThanItsDecodedLengthIsIncompleteBody(TestInfo info) {
        String key = unique(info) + "/decoded";
        byte[] earlier = putEarlierVersion(key);
        List<String> before = backendEntries("drop");
        byte[] bytes = randomBytes(100_000);

        // Well framed, every chunk signed, but the declared decoded length is longer than the chunks.
        RawResponse r = rawPut(key).form(Form.CHUNKED_SIGNED).body(bytes).decodedLength(120_000).send();

        assertRefused(r, 400, "IncompleteBody", key, Optional.of(earlier), before);
    }

    /**
     * S3 refuses a chunk under 8 KiB before the last ({@code InvalidChunkSizeError}) in every
     * chunked form, and so does sluice (docs/writes.md, "Integrity"): nothing is stored.
     */
    @ParameterizedTest
    @EnumSource(value = Form.class, names = {"CHUNKED_SIGNED", "CHUNKED_SIGNED_TRAILER", "CHUNKED_UNSIGNED_TRAILER"})
    void aChunkUnder8KiBBeforeTheLastIsInvalidChunkSizeErrorAndStoresNothing(Form form, TestInfo info) {
        String key = unique(info) + "/small-chunks";
        byte[] earlier = putEarlierVersion(key);
        List<String> before = backendEntries("drop");

        RawResponse r = rawPut(key).form(form).chunkSize(1000).body(randomBytes(5000)).send();

        assertRefused(r, 400, "InvalidChunkSizeError", key, Optional.of(earlier), before);
    }

    /** Every chunk's signature is checked, not only the first and the last. */
    @ParameterizedTest
    @EnumSource(value = Form.class, names = {"CHUNKED_SIGNED", "CHUNKED_SIGNED_TRAILER"})
    void aTamperedMiddleChunkIsSignatureDoesNotMatch(Form form, TestInfo info) {
        String key = unique(info) + "/middle-chunk";
        byte[] bytes = randomBytes(30_000);
        RawResponse ok = rawPut(key).form(form).chunkSize(8192).body(bytes).send();
        assertThat(ok.status()).as(ok.text()).isEqualTo(200);
        assertHolds("drop", key, Optional.of(bytes));

        List<String> before = backendEntries("drop");
        RawResponse tampered = rawPut(key).form(form).chunkSize(8192).body(randomBytes(30_000))
                // A signed 8192-byte chunk is 8281 bytes on the wire (an 87-byte size line, the data,
                // CRLF): this byte is in the third chunk's data.
                .tamper(wire -> flip(wire, 2 * 8281 + 200)).send();
        assertRefused(tampered, 403, "SignatureDoesNotMatch", key, Optional.of(bytes), before);
    }

    @ParameterizedTest
    @EnumSource(value = Form.class, names = {"CHUNKED_SIGNED", "CHUNKED_UNSIGNED_TRAILER"})
    void malformedChunkFramingIsRefusedAndStoresNothing(Form form, TestInfo info) {
        String key = unique(info) + "/" + form;
        byte[] earlier = putEarlierVersion(key);
        List<String> before = backendEntries("drop");
        byte[] bytes = randomBytes(100_000);

        // The first chunk's size line says "zz" where its hex size belongs.
        RawResponse r = rawPut(key).form(form).body(bytes).tamper(wire -> {
            byte[] w = wire.clone();
            w[0] = 'z';
            w[1] = 'z';
            return w;
        }).send();

        // S3 answers every framing fault of an aws-chunked body IncompleteBody (docs/writes.md, "Refusals").
        assertRefused(r, 400, "IncompleteBody", key, Optional.of(earlier), before);
    }

    @Test
    void aDeclaredLengthOverFiveGibibytesIsEntityTooLargeBeforeTheBodyIsRead(TestInfo info) {
        String key = unique(info) + "/huge";
        List<String> before = backendEntries("drop");

        RawResponse r = rawPut(key).form(Form.UNSIGNED).declaredLength(5L * 1024 * MIB + 1).sendHeadOnly();

        assertRefused(r, 400, "EntityTooLarge", key, Optional.empty(), before);
    }

    @Test
    void aDecodedLengthOverFiveGibibytesIsEntityTooLarge(TestInfo info) {
        String key = unique(info) + "/huge-chunked";
        List<String> before = backendEntries("drop");

        RawResponse r = rawPut(key).form(Form.CHUNKED_SIGNED).body(randomBytes(100)).decodedLength(5L * 1024 * MIB + 1)
                .sendHeadOnly();

        assertRefused(r, 400, "EntityTooLarge", key, Optional.empty(), before);
    }

    private static byte[] flip(byte[] wire, int at) {
        byte[] w = wire.clone();
        w[at] ^= 0x01;
        return w;
    }

    // ---------------------------------------------------------------- conditional writes

    @Test
    void ifNoneMatchStarCreatesOnceAndTheSecondIsPreconditionFailed(TestInfo info) {
        String key = unique(info) + "/once";
        byte[] first = randomBytes(1000);
        byte[] second = randomBytes(1000);

        writer.putObject(b -> b.bucket(ACCOUNT).key("drop/" + key).ifNoneMatch("*"), RequestBody.fromBytes(first));
        List<String> before = backendEntries("drop");
        assertSdkError(() -> writer.putObject(b -> b.bucket(ACCOUNT).key("drop/" + key).ifNoneMatch("*"),
                RequestBody.fromBytes(second)), 412, "PreconditionFailed");

        assertHolds("drop", key, Optional.of(first));
        assertThat(backendEntries("drop")).containsExactlyInAnyOrderElementsOf(before);
    }

    @Test
    void ifMatchReplacesOnlyTheVersionItNames(TestInfo info) {
        String key = unique(info) + "/cas";
        byte[] first = randomBytes(1000);
        byte[] second = randomBytes(1000);
        String etag = writer.putObject(b -> b.bucket(ACCOUNT).key("drop/" + key), RequestBody.fromBytes(first)).eTag();

        assertSdkError(() -> writer.putObject(b -> b.bucket(ACCOUNT).key("drop/" + key).ifMatch("\"0123456789abcdef0123456789abcdef\""),
                RequestBody.fromBytes(second)), 412, "PreconditionFailed");
        assertHolds("drop", key, Optional.of(first));

        writer.putObject(b -> b.bucket(ACCOUNT).key("drop/" + key).ifMatch(etag), RequestBody.fromBytes(second));
        assertHolds("drop", key, Optional.of(second));
    }

    @Test
    void ifMatchOnAMissingObjectIsNoSuchKeyOrPreconditionFailedAndCreatesNothing(TestInfo info) {
        String key = unique(info) + "/absent";

        assertThatThrownBy(() -> writer.putObject(b -> b.bucket(ACCOUNT).key("drop/" + key).ifMatch("\"0123456789abcdef0123456789abcdef\""),
                RequestBody.fromBytes(randomBytes(10)))).isInstanceOfSatisfying(S3Exception.class, e ->
                // S3 answers 404 NoSuchKey for If-Match on a missing key.
                assertThat(e.awsErrorDetails().errorCode()).isIn("NoSuchKey", "PreconditionFailed"));
        assertHolds("drop", key, Optional.empty());
    }

    // ---------------------------------------------------------------- multipart

    @ParameterizedTest
    @MethodSource("writers")
    void aMultipartUploadIsInvisibleUntilCompletedAndThenWhole(S3Client client, TestInfo info) {
        String key = unique(info) + "/big.bin";
        byte[] p1 = randomBytes(5 * MIB);
        byte[] p2 = randomBytes(5 * MIB);
        byte[] p3 = randomBytes(1234);

        String uploadId = client.createMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key).contentType("application/x-test")
                .metadata(Map.of("origin", "multipart"))).uploadId();
        List<CompletedPart> parts = new ArrayList<>();
        int n = 1;
        for (byte[] part : List.of(p1, p2, p3)) {
            int number = n++;
            UploadPartResponse up = client.uploadPart(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId).partNumber(number),
                    RequestBody.fromBytes(part));
            assertThat(up.eTag()).isEqualTo(quotedMd5(part));
            parts.add(CompletedPart.builder().partNumber(number).eTag(up.eTag()).build());
        }

        assertHolds("drop", key, Optional.empty());
        assertThat(writer.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("drop/" + key)).contents()).isEmpty();
        ListPartsResponse listed = client.listParts(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId));
        assertThat(listed.parts()).extracting(p -> p.partNumber()).containsExactly(1, 2, 3);
        assertThat(listed.parts()).extracting(p -> p.size()).containsExactly((long) p1.length, (long) p2.length, (long) p3.length);
        assertThat(listed.parts()).extracting(p -> p.eTag()).containsExactly(quotedMd5(p1), quotedMd5(p2), quotedMd5(p3));
        assertThat(client.listMultipartUploads(b -> b.bucket(ACCOUNT).prefix("drop/" + key)).uploads())
                .extracting(MultipartUpload::key, MultipartUpload::uploadId).containsExactly(org.assertj.core.groups.Tuple.tuple("drop/" + key, uploadId));

        String etag = client.completeMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId)
                .multipartUpload(m -> m.parts(parts))).eTag();

        byte[] whole = concat(p1, p2, p3);
        assertThat(etag).isEqualTo(Checksums.multipartEtag(p1, p2, p3));
        assertHolds("drop", key, Optional.of(whole));
        HeadObjectResponse head = writer.headObject(b -> b.bucket(ACCOUNT).key("drop/" + key));
        assertThat(head.eTag()).isEqualTo(etag);
        assertThat(head.contentType()).isEqualTo("application/x-test");
        assertThat(head.metadata()).containsEntry("origin", "multipart");
        assertThat(client.listMultipartUploads(b -> b.bucket(ACCOUNT).prefix("drop/" + key)).uploads()).isEmpty();
        if (endsUploadsAsS3Does()) {
            assertSdkError(() -> client.listParts(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId)), 404, "NoSuchUpload");
        }
    }

    // ------------------------------------------------------- multipart checksums

    @ParameterizedTest
    @EnumSource(value = Checksums.class, names = {"CRC32", "CRC32C", "SHA1", "SHA256"})
    void aMultipartUploadStartedWithAChecksumKeepsTheCompositeOfItsParts(Checksums algorithm, TestInfo info) {
        String key = unique(info) + "/composite.bin";
        byte[] p1 = randomBytes(5 * MIB);
        byte[] p2 = randomBytes(1000);
        ChecksumAlgorithm sdk = ChecksumAlgorithm.fromValue(algorithm.sdkName());

        String uploadId = writer.createMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key).checksumAlgorithm(sdk)).uploadId();
        List<CompletedPart> parts = uploadParts(key, uploadId, algorithm, p1, p2);
        if (keepsMultipartChecksums()) {
            // What a client resuming the upload lists its parts by, to complete it.
            ListPartsResponse listed = writer.listParts(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId));
            assertThat(listed.parts())
                    .extracting(p -> checksumIn(algorithm, p.checksumCRC32(), p.checksumCRC32C(), p.checksumCRC64NVME(),
                            p.checksumSHA1(), p.checksumSHA256()))
                    .containsExactly(algorithm.of(p1), algorithm.of(p2));
            assertThat(listed.checksumAlgorithm()).isEqualTo(sdk);
            assertThat(listed.checksumType()).isEqualTo(ChecksumType.COMPOSITE);
            assertThat(writer.listMultipartUploads(b -> b.bucket(ACCOUNT).prefix("drop/" + key)).uploads())
                    .singleElement().satisfies(u -> {
                        assertThat(u.checksumAlgorithm()).isEqualTo(sdk);
                        assertThat(u.checksumType()).isEqualTo(ChecksumType.COMPOSITE);
                    });
        }
        CompleteMultipartUploadResponse done = writer.completeMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key)
                .uploadId(uploadId).multipartUpload(m -> m.parts(parts)));

        byte[] whole = concat(p1, p2);
        assertHolds("drop", key, Optional.of(whole));
        if (keepsMultipartChecksums()) {
            String expected = algorithm.composite(p1, p2);
            assertThat(checksumIn(algorithm, done.checksumCRC32(), done.checksumCRC32C(), done.checksumCRC64NVME(),
                    done.checksumSHA1(), done.checksumSHA256())).isEqualTo(expected);
            assertThat(done.checksumType()).isEqualTo(ChecksumType.COMPOSITE);
            HeadObjectResponse head = writer.headObject(b -> b.bucket(ACCOUNT).key("drop/" + key).checksumMode(ChecksumMode.ENABLED));
            assertThat(checksumIn(algorithm, head.checksumCRC32(), head.checksumCRC32C(), head.checksumCRC64NVME(),
                    head.checksumSHA1(), head.checksumSHA256())).isEqualTo(expected);
            assertThat(head.checksumType()).isEqualTo(ChecksumType.COMPOSITE);
            assertThat(writer.headObject(b -> b.bucket(ACCOUNT).key("drop/" + key)).checksumType()).isNull();
        }
        // The SDK validates no composite checksum on a read; the bytes arrive whole either way.
        assertThat(writer.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("drop/" + key).checksumMode(ChecksumMode.ENABLED))
                .asByteArray()).isEqualTo(whole);
    }

    @ParameterizedTest
    @EnumSource(value = Checksums.class, names = {"CRC32", "CRC32C", "CRC64NVME"})
    void aFullObjectChecksumIsTheCrcOfTheWholeObjectWhichTheSdkChecksOnRead(Checksums algorithm, TestInfo info) {
        String key = unique(info) + "/full.bin";
        byte[] p1 = randomBytes(5 * MIB);
        byte[] p2 = randomBytes(5 * MIB + 3);
        byte[] p3 = randomBytes(1);
        ChecksumAlgorithm sdk = ChecksumAlgorithm.fromValue(algorithm.sdkName());

        String uploadId = writer.createMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key).checksumAlgorithm(sdk)
                .checksumType(ChecksumType.FULL_OBJECT)).uploadId();
        List<CompletedPart> parts = uploadParts(key, uploadId, algorithm, p1, p2, p3);
        byte[] whole = concat(p1, p2, p3);
        // The completion says what the object will be, as an SDK does that was given the
        // whole object's checksum: its CRC, its checksum type and its size.
        CompleteMultipartUploadResponse done = writer.completeMultipartUpload(b -> objectChecksum(b.bucket(ACCOUNT).key("drop/" + key)
                .uploadId(uploadId).multipartUpload(m -> m.parts(parts)).checksumType(ChecksumType.FULL_OBJECT)
                .mpuObjectSize((long) whole.length), algorithm, algorithm.of(whole)));

        assertHolds("drop", key, Optional.of(whole));
        if (keepsMultipartChecksums()) {
            assertThat(checksumIn(algorithm, done.checksumCRC32(), done.checksumCRC32C(), done.checksumCRC64NVME(),
                    done.checksumSHA1(), done.checksumSHA256())).isEqualTo(algorithm.of(whole));
            assertThat(done.checksumType()).isEqualTo(ChecksumType.FULL_OBJECT);
            HeadObjectResponse head = writer.headObject(b -> b.bucket(ACCOUNT).key("drop/" + key).checksumMode(ChecksumMode.ENABLED));
            assertThat(checksumIn(algorithm, head.checksumCRC32(), head.checksumCRC32C(), head.checksumCRC64NVME(),
                    head.checksumSHA1(), head.checksumSHA256())).isEqualTo(algorithm.of(whole));
            assertThat(head.checksumType()).isEqualTo(ChecksumType.FULL_OBJECT);
        }
        // With the mode on, the SDK computes the CRC of what it reads and fails the read if the
        // answered full-object checksum differs (CRC64NVME only with the CRT library: not here).
        if (algorithm != Checksums.CRC64NVME) {
            assertThat(writer.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("drop/" + key).checksumMode(ChecksumMode.ENABLED))
                    .asByteArray()).isEqualTo(whole);
        }
    }

    /** Uploads {@code parts} one after another with {@code algorithm}'s checksum; the list to complete with, checksums included. */
    List<CompletedPart> uploadParts(String key, String uploadId, Checksums algorithm, byte[]... parts) {
        ChecksumAlgorithm sdk = ChecksumAlgorithm.fromValue(algorithm.sdkName());
        List<CompletedPart> listed = new ArrayList<>();
        for (int i = 0; i < parts.length; i++) {
            int number = i + 1;
            byte[] part = parts[i];
            // The SDK computes CRC64NVME only with the CRT library, which the tests do without:
            // that value is computed here and sent as a header, the others by the SDK in a trailer.
            String etag = writer.uploadPart(b -> {
                b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId).partNumber(number);
                if (algorithm == Checksums.CRC64NVME) {
                    b.checksumCRC64NVME(algorithm.of(part));
                } else {
                    b.checksumAlgorithm(sdk);
                }
            }, RequestBody.fromBytes(part)).eTag();
            listed.add(listedPart(number, etag, algorithm, algorithm.of(part)));
        }
        return listed;
    }

    /** A completion claiming {@code checksum} as the object's {@code algorithm} checksum. */
    static CompleteMultipartUploadRequest.Builder objectChecksum(CompleteMultipartUploadRequest.Builder b, Checksums algorithm,
                                                                 String checksum) {
        return switch (algorithm) {
            case CRC32 -> b.checksumCRC32(checksum);
            case CRC32C -> b.checksumCRC32C(checksum);
            case CRC64NVME -> b.checksumCRC64NVME(checksum);
            case SHA1 -> b.checksumSHA1(checksum);
            case SHA256 -> b.checksumSHA256(checksum);
        };
    }

    /** A part as CompleteMultipartUpload lists it, with {@code checksum} as {@code algorithm}'s element. */
    static CompletedPart listedPart(int number, String etag, Checksums algorithm, String checksum) {
        CompletedPart.Builder b = CompletedPart.builder().partNumber(number).eTag(etag);
        switch (algorithm) {
            case CRC32 -> b.checksumCRC32(checksum);
            case CRC32C -> b.checksumCRC32C(checksum);
            case CRC64NVME -> b.checksumCRC64NVME(checksum);
            case SHA1 -> b.checksumSHA1(checksum);
            case SHA256 -> b.checksumSHA256(checksum);
        }
        return b.build();
    }

    /** Of a response's checksums (in the SDK's order: CRC32, CRC32C, CRC64NVME, SHA1, SHA256), {@code algorithm}'s. */
    static String checksumIn(Checksums algorithm, String crc32, String crc32c, String crc64nvme, String sha1, String sha256) {
        return switch (algorithm) {
            case CRC32 -> crc32;
            case CRC32C -> crc32c;
            case CRC64NVME -> crc64nvme;
            case SHA1 -> sha1;
            case SHA256 -> sha256;
        };
    }

    @Test
    void aPartUploadedAgainReplacesTheFirst(TestInfo info) {
        String key = unique(info) + "/replaced";
        byte[] wrong = randomBytes(5 * MIB);
        byte[] right = randomBytes(5 * MIB);
        byte[] last = randomBytes(10);
        String uploadId = writer.createMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key)).uploadId();
        writer.uploadPart(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId).partNumber(1), RequestBody.fromBytes(wrong));
        String e1 = writer.uploadPart(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId).partNumber(1), RequestBody.fromBytes(right)).eTag();
        String e2 = writer.uploadPart(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId).partNumber(2), RequestBody.fromBytes(last)).eTag();

        writer.completeMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId).multipartUpload(m -> m.parts(
                CompletedPart.builder().partNumber(1).eTag(e1).build(), CompletedPart.builder().partNumber(2).eTag(e2).build())));

        assertHolds("drop", key, Optional.of(concat(right, last)));
    }

    @Test
    void abortingDiscardsEveryPartAndLeavesNothingBehind(TestInfo info) {
        String key = unique(info) + "/aborted";
        List<String> before = backendEntries("drop");
        String uploadId = writer.createMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key)).uploadId();
        writer.uploadPart(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId).partNumber(1), RequestBody.fromBytes(randomBytes(5 * MIB)));

        writer.abortMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId));

        assertHolds("drop", key, Optional.empty());
        if (endsUploadsAsS3Does()) {
            assertSdkError(() -> writer.listParts(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId)), 404, "NoSuchUpload");
            assertSdkError(() -> writer.uploadPart(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId).partNumber(2),
                    RequestBody.fromBytes(randomBytes(10))), 404, "NoSuchUpload");
        }
        assertThat(writer.listMultipartUploads(b -> b.bucket(ACCOUNT).prefix("drop/" + key)).uploads()).isEmpty();
        assertThat(backendEntries("drop")).containsExactlyInAnyOrderElementsOf(before);
    }

    @Test
    void completingWithAWrongPartEtagIsInvalidPartAndShowsNothing(TestInfo info) {
        String key = unique(info) + "/wrong-etag";
        String uploadId = writer.createMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key)).uploadId();
        writer.uploadPart(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId).partNumber(1), RequestBody.fromBytes(randomBytes(1000)));

        assertSdkError(() -> writer.completeMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId)
                .multipartUpload(m -> m.parts(CompletedPart.builder().partNumber(1).eTag("\"0123456789abcdef0123456789abcdef\"").build()))),
                400, "InvalidPart");
        assertSdkError(() -> writer.completeMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId)
                .multipartUpload(m -> m.parts(CompletedPart.builder().partNumber(7).eTag("\"0123456789abcdef0123456789abcdef\"").build()))),
                400, "InvalidPart");
        assertHolds("drop", key, Optional.empty());
        writer.abortMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId));
    }

    @Test
    void aSmallPartBeforeTheLastIsEntityTooSmallAndPartsOutOfOrderAreInvalidPartOrder(TestInfo info) {
        String key = unique(info) + "/small";
        String uploadId = writer.createMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key)).uploadId();
        String e1 = writer.uploadPart(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId).partNumber(1),
                RequestBody.fromBytes(randomBytes(1000))).eTag();
        String e2 = writer.uploadPart(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId).partNumber(2),
                RequestBody.fromBytes(randomBytes(1000))).eTag();
        CompletedPart c1 = CompletedPart.builder().partNumber(1).eTag(e1).build();
        CompletedPart c2 = CompletedPart.builder().partNumber(2).eTag(e2).build();

        assertSdkError(() -> writer.completeMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId)
                .multipartUpload(m -> m.parts(c2, c1))), 400, "InvalidPartOrder");
        assertSdkError(() -> writer.completeMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId)
                .multipartUpload(m -> m.parts(c1, c2))), 400, "EntityTooSmall");
        assertHolds("drop", key, Optional.empty());
        writer.abortMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId));
    }

    @Test
    void aPartNumberOutsideOneToTenThousandIsRefused(TestInfo info) {
        String key = unique(info) + "/numbers";
        String uploadId = writer.createMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key)).uploadId();
        for (String number : List.of("0", "10001", "x")) {
            RawResponse r = rawPut(key).query("partNumber", number, "uploadId", uploadId).body(randomBytes(10)).send();
            assertThat(r.status()).as("partNumber=%s: %s", number, r.text()).isEqualTo(400);
            assertThat(S3ErrorAssert.parse(r.body()).code()).isIn("InvalidArgument", "InvalidPart");
        }
        writer.abortMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId));
    }

    @Test
    void aPartWithABadBodyIsRefusedAndTheUploadKeepsItsEarlierPart(TestInfo info) {
        String key = unique(info) + "/bad-part";
        byte[] good = randomBytes(5 * MIB);
        byte[] last = randomBytes(100);
        String uploadId = writer.createMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key)).uploadId();
        String e1 = writer.uploadPart(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId).partNumber(1),
                RequestBody.fromBytes(good)).eTag();

        RawResponse r = rawPut(key).query("partNumber", "1", "uploadId", uploadId).form(Form.CHUNKED_SIGNED_TRAILER)
                .body(randomBytes(200_000)).trailerValue(Checksums.CRC32.of(randomBytes(3))).send();
        assertS3Error(r, 400, "BadDigest", "/acme/drop/" + key);
        RawResponse cut = rawPut(key).query("partNumber", "1", "uploadId", uploadId).form(Form.UNSIGNED)
                .body(randomBytes(200_000)).sendOnly(1000).send();
        assertS3Error(cut, 400, "IncompleteBody", "/acme/drop/" + key);

        awaitStoreSettled();
        ListPartsResponse parts = writer.listParts(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId));
        assertThat(parts.parts()).extracting(p -> p.eTag()).containsExactly(e1);
        String e2 = writer.uploadPart(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId).partNumber(2),
                RequestBody.fromBytes(last)).eTag();
        writer.completeMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId).multipartUpload(m -> m.parts(
                CompletedPart.builder().partNumber(1).eTag(e1).build(), CompletedPart.builder().partNumber(2).eTag(e2).build())));
        assertHolds("drop", key, Optional.of(concat(good, last)));
    }

    @Test
    void listMultipartUploadsListsOnlyUploadsInProgressUnderThePrefix(TestInfo info) {
        String prefix = unique(info) + "/";
        String a = writer.createMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + prefix + "a")).uploadId();
        String b2 = writer.createMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + prefix + "b")).uploadId();
        String other = writer.createMultipartUpload(b -> b.bucket(ACCOUNT).key("other/" + prefix + "c")).uploadId();

        List<MultipartUpload> listed = new ArrayList<>(writer.listMultipartUploads(b -> b.bucket(ACCOUNT).prefix("drop/" + prefix)).uploads());
        if (!listsUploadsInKeyOrder()) {
            listed.sort(java.util.Comparator.comparing(MultipartUpload::key));
        }

        assertThat(listed).extracting(MultipartUpload::key).containsExactly("drop/" + prefix + "a", "drop/" + prefix + "b");
        // The listed ids continue the uploads ...
        for (MultipartUpload u : listed) {
            assertThat(writer.listParts(x -> x.bucket(ACCOUNT).key(u.key()).uploadId(u.uploadId())).parts()).isEmpty();
        }
        // ... and are the ids CreateMultipartUpload answered, as S3 lists them (clients match uploads by id).
        assertThat(listed).extracting(MultipartUpload::uploadId).containsExactly(a, b2);
        if (listsUploadsInKeyOrder()) {
            var page = writer.listMultipartUploads(b -> b.bucket(ACCOUNT).prefix("drop/" + prefix).maxUploads(1));
            assertThat(page.uploads()).extracting(MultipartUpload::key).containsExactly("drop/" + prefix + "a");
            assertThat(page.isTruncated()).isTrue();
            var next = writer.listMultipartUploads(b -> b.bucket(ACCOUNT).prefix("drop/" + prefix).maxUploads(1)
                    .keyMarker(page.nextKeyMarker()).uploadIdMarker(page.nextUploadIdMarker()));
            assertThat(next.uploads()).extracting(MultipartUpload::key).containsExactly("drop/" + prefix + "b");
        }
        writer.abortMultipartUpload(x -> x.bucket(ACCOUNT).key("drop/" + prefix + "a").uploadId(a));
        writer.abortMultipartUpload(x -> x.bucket(ACCOUNT).key("drop/" + prefix + "b").uploadId(b2));
        writer.abortMultipartUpload(x -> x.bucket(ACCOUNT).key("other/" + prefix + "c").uploadId(other));
    }

    // ---------------------------------------------------------------- sealed upload ids

    /** Every use of an upload id: each must answer NoSuchUpload for an id sluice did not issue for this key's product. */
    List<Function<String, RawResponse>> usesOfAnUploadId(String key) {
        String path = "/acme/drop/" + key;
        return List.of(
                id -> rawPut(key).query("partNumber", "1", "uploadId", id).body(randomBytes(100)).send(),
                id -> RawWrite.request(sluice.s3Endpoint(), "GET", path).query("uploadId", id).signedBy(WRITER_ID, WRITER_SECRET).send(),
                id -> RawWrite.request(sluice.s3Endpoint(), "DELETE", path).query("uploadId", id).signedBy(WRITER_ID, WRITER_SECRET).send(),
                id -> RawWrite.request(sluice.s3Endpoint(), "POST", path).query("uploadId", id).signedBy(WRITER_ID, WRITER_SECRET)
                        .body(("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"" + Checksums.md5Hex(new byte[0])
                                + "\"</ETag></Part></CompleteMultipartUpload>").getBytes(StandardCharsets.UTF_8)).send());
    }

    @Test
    void aForgedTamperedOrOtherProductsUploadIdIsNoSuchUpload(TestInfo info) {
        String key = unique(info) + "/sealed";
        String real = writer.createMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key)).uploadId();
        String elsewhere = writer.createMultipartUpload(b -> b.bucket(ACCOUNT).key("other/" + key)).uploadId();
        char c = real.charAt(real.length() / 2);
        String tampered = real.substring(0, real.length() / 2) + (c == 'A' ? 'B' : 'A') + real.substring(real.length() / 2 + 1);
        List<String> before = backendEntries("drop");

        for (String id : List.of("forged-upload-id", "", tampered, elsewhere, real + "x")) {
            for (Function<String, RawResponse> use : usesOfAnUploadId(key)) {
                RawResponse r = use.apply(id);
                assertThat(r.status()).as("upload id '%s': %s", id, r.text()).isEqualTo(404);
                assertS3Error(r, 404, "NoSuchUpload", "/acme/drop/" + key);
            }
        }

        assertThat(backendEntries("drop")).containsExactlyInAnyOrderElementsOf(before);
        // The real upload was not touched by any of it.
        assertThat(writer.listParts(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(real)).parts()).isEmpty();
        writer.abortMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(real));
        writer.abortMultipartUpload(b -> b.bucket(ACCOUNT).key("other/" + key).uploadId(elsewhere));
    }

    @Test
    void anUploadIdIsBoundToItsKey(TestInfo info) {
        String key = unique(info) + "/one";
        String real = writer.createMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key)).uploadId();

        assertSdkError(() -> writer.uploadPart(b -> b.bucket(ACCOUNT).key("drop/" + key + "-another").uploadId(real).partNumber(1),
                RequestBody.fromBytes(randomBytes(10))), 404, "NoSuchUpload");

        assertHolds("drop", key + "-another", Optional.empty());
        writer.abortMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(real));
    }

    // ---------------------------------------------------------------- DeleteObject(s)

    @Test
    void deleteRemovesTheObjectAndAMissingKeyIsNoError(TestInfo info) {
        String key = unique(info) + "/gone";
        writer.putObject(b -> b.bucket(ACCOUNT).key("drop/" + key), RequestBody.fromBytes(randomBytes(100)));

        RawResponse first = RawWrite.request(sluice.s3Endpoint(), "DELETE", "/acme/drop/" + key).signedBy(WRITER_ID, WRITER_SECRET).send();
        RawResponse again = RawWrite.request(sluice.s3Endpoint(), "DELETE", "/acme/drop/" + key).signedBy(WRITER_ID, WRITER_SECRET).send();

        assertThat(first.status()).as(first.text()).isEqualTo(204);
        assertThat(again.status()).as(again.text()).isEqualTo(204);
        assertHolds("drop", key, Optional.empty());
    }

    @Test
    void deleteObjectsAnswersEachKeyAndDeniesKeysOutsideTheScope(TestInfo info) {
        String base = unique(info);
        List<String> mine = List.of("team-a/" + base + "/1", "team-a/" + base + "/2");
        String theirs = "team-b/" + base + "/3";
        for (String k : mine) {
            writer.putObject(b -> b.bucket(ACCOUNT).key("drop/" + k), RequestBody.fromBytes(randomBytes(10)));
        }
        byte[] kept = randomBytes(10);
        writer.putObject(b -> b.bucket(ACCOUNT).key("drop/" + theirs), RequestBody.fromBytes(kept));

        DeleteObjectsResponse r = teamA.deleteObjects(b -> b.bucket(ACCOUNT).delete(d -> d.objects(
                ObjectIdentifier.builder().key("drop/" + mine.get(0)).build(),
                ObjectIdentifier.builder().key("drop/" + mine.get(1)).build(),
                ObjectIdentifier.builder().key("drop/team-a/" + base + "/never-existed").build(),
                ObjectIdentifier.builder().key("drop/" + theirs).build())));

        assertThat(r.deleted()).extracting(d -> d.key()).containsExactlyInAnyOrder(
                "drop/" + mine.get(0), "drop/" + mine.get(1), "drop/team-a/" + base + "/never-existed");
        assertThat(r.errors()).extracting(e -> e.key(), e -> e.code())
                .containsExactly(org.assertj.core.groups.Tuple.tuple("drop/" + theirs, "AccessDenied"));
        assertHolds("drop", mine.get(0), Optional.empty());
        assertHolds("drop", mine.get(1), Optional.empty());
        assertHolds("drop", theirs, Optional.of(kept));
    }

    @Test
    void quietDeleteObjectsAnswersOnlyTheErrors(TestInfo info) {
        String base = unique(info);
        writer.putObject(b -> b.bucket(ACCOUNT).key("drop/team-a/" + base + "/1"), RequestBody.fromBytes(randomBytes(10)));
        byte[] roBefore = read("ro", "existing.txt").orElseThrow();

        DeleteObjectsResponse r = writer.deleteObjects(b -> b.bucket(ACCOUNT).delete(d -> d.quiet(true).objects(
                ObjectIdentifier.builder().key("drop/team-a/" + base + "/1").build(),
                ObjectIdentifier.builder().key("ro/existing.txt").build())));

        assertThat(r.deleted()).isEmpty();
        assertThat(r.errors()).extracting(e -> e.key(), e -> e.code())
                .containsExactly(org.assertj.core.groups.Tuple.tuple("ro/existing.txt", "AccessDenied"));
        assertHolds("drop", "team-a/" + base + "/1", Optional.empty());
        assertHolds("ro", "existing.txt", Optional.of(roBefore));
    }

    // ---------------------------------------------------------------- CopyObject

    @Test
    void copyKeepsTheSourcesMetadataAndReplaceSetsNewOnes(TestInfo info) {
        String base = unique(info);
        byte[] bytes = randomBytes(300_000);
        writer.putObject(b -> b.bucket(ACCOUNT).key("drop/" + base + "/src").contentType("text/plain")
                .metadata(Map.of("origin", "source")), RequestBody.fromBytes(bytes));

        CopyObjectResponse copied = writer.copyObject(b -> b.sourceBucket(ACCOUNT).sourceKey("drop/" + base + "/src")
                .destinationBucket(ACCOUNT).destinationKey("drop/" + base + "/copy"));
        CopyObjectResponse replaced = writer.copyObject(b -> b.sourceBucket(ACCOUNT).sourceKey("drop/" + base + "/src")
                .destinationBucket(ACCOUNT).destinationKey("drop/" + base + "/replaced")
                .metadataDirective(MetadataDirective.REPLACE).contentType("application/json").metadata(Map.of("origin", "replaced")));

        assertThat(copied.copyObjectResult().eTag()).isEqualTo(quotedMd5(bytes));
        assertThat(replaced.copyObjectResult().eTag()).isEqualTo(quotedMd5(bytes));
        assertHolds("drop", base + "/copy", Optional.of(bytes));
        assertHolds("drop", base + "/replaced", Optional.of(bytes));
        HeadObjectResponse c = writer.headObject(b -> b.bucket(ACCOUNT).key("drop/" + base + "/copy"));
        assertThat(c.contentType()).isEqualTo("text/plain");
        assertThat(c.metadata()).containsEntry("origin", "source");
        HeadObjectResponse r = writer.headObject(b -> b.bucket(ACCOUNT).key("drop/" + base + "/replaced"));
        assertThat(r.contentType()).isEqualTo("application/json");
        assertThat(r.metadata()).containsEntry("origin", "replaced").doesNotContainKey("source");
    }

    @Test
    void copyBetweenProductsReadsTheSourceAndWritesTheTarget(TestInfo info) {
        String base = unique(info);
        byte[] source = read("ro", "existing.txt").orElseThrow();

        writer.copyObject(b -> b.sourceBucket(ACCOUNT).sourceKey("ro/existing.txt")
                .destinationBucket(ACCOUNT).destinationKey("drop/" + base + "/from-ro"));
        writer.copyObject(b -> b.sourceBucket(ACCOUNT).sourceKey("ro/existing.txt")
                .destinationBucket(ACCOUNT).destinationKey("other/" + base + "/from-ro"));

        assertHolds("drop", base + "/from-ro", Optional.of(source));
        assertHolds("other", base + "/from-ro", Optional.of(source));
    }

    @Test
    void copySourceConditionsAreHonoured(TestInfo info) {
        String base = unique(info);
        byte[] bytes = randomBytes(1000);
        String etag = writer.putObject(b -> b.bucket(ACCOUNT).key("drop/" + base + "/src"), RequestBody.fromBytes(bytes)).eTag();

        assertSdkError(() -> writer.copyObject(b -> b.sourceBucket(ACCOUNT).sourceKey("drop/" + base + "/src")
                .destinationBucket(ACCOUNT).destinationKey("drop/" + base + "/a").copySourceIfMatch("\"0123456789abcdef0123456789abcdef\"")),
                412, "PreconditionFailed");
        assertSdkError(() -> writer.copyObject(b -> b.sourceBucket(ACCOUNT).sourceKey("drop/" + base + "/src")
                .destinationBucket(ACCOUNT).destinationKey("drop/" + base + "/b").copySourceIfNoneMatch(etag)),
                412, "PreconditionFailed");
        assertHolds("drop", base + "/a", Optional.empty());
        assertHolds("drop", base + "/b", Optional.empty());

        writer.copyObject(b -> b.sourceBucket(ACCOUNT).sourceKey("drop/" + base + "/src")
                .destinationBucket(ACCOUNT).destinationKey("drop/" + base + "/c").copySourceIfMatch(etag));
        assertHolds("drop", base + "/c", Optional.of(bytes));
    }

    @Test
    void copyOfAMissingSourceIsNoSuchKey(TestInfo info) {
        String base = unique(info);

        assertSdkError(() -> writer.copyObject(b -> b.sourceBucket(ACCOUNT).sourceKey("drop/" + base + "/nothing")
                .destinationBucket(ACCOUNT).destinationKey("drop/" + base + "/copy")), 404, "NoSuchKey");

        assertHolds("drop", base + "/copy", Optional.empty());
    }

    @Test
    void copyAuthorizesTheSourceAndTheTargetEachOnItsOwn(TestInfo info) {
        String base = unique(info);
        byte[] outside = randomBytes(100);
        writer.putObject(b -> b.bucket(ACCOUNT).key("drop/" + base + "/outside"), RequestBody.fromBytes(outside));
        writer.putObject(b -> b.bucket(ACCOUNT).key("other/" + base + "/outside"), RequestBody.fromBytes(outside));
        writer.putObject(b -> b.bucket(ACCOUNT).key("other/team-a/" + base + "/inside"), RequestBody.fromBytes(outside));

        // team-a reads other/ only under team-a/: it may copy from there into its own prefix ...
        teamA.copyObject(b -> b.sourceBucket(ACCOUNT).sourceKey("other/team-a/" + base + "/inside")
                .destinationBucket(ACCOUNT).destinationKey("drop/team-a/" + base + "/copied"));
        assertHolds("drop", "team-a/" + base + "/copied", Optional.of(outside));
        // ... but not copy what lies outside it, though it may write the target ...
        assertSdkError(() -> teamA.copyObject(b -> b.sourceBucket(ACCOUNT).sourceKey("other/" + base + "/outside")
                .destinationBucket(ACCOUNT).destinationKey("drop/team-a/" + base + "/stolen")), 403, "AccessDenied");
        // ... nor copy what it may read to where it may not write ...
        assertSdkError(() -> teamA.copyObject(b -> b.sourceBucket(ACCOUNT).sourceKey("other/team-a/" + base + "/inside")
                .destinationBucket(ACCOUNT).destinationKey("drop/" + base + "/planted")), 403, "AccessDenied");
        assertHolds("drop", base + "/planted", Optional.empty());
        // ... and the writer may read ro but not write it.
        assertSdkError(() -> writer.copyObject(b -> b.sourceBucket(ACCOUNT).sourceKey("drop/" + base + "/outside")
                .destinationBucket(ACCOUNT).destinationKey("ro/" + base + "/planted")), 403, "AccessDenied");

        assertHolds("drop", "team-a/" + base + "/stolen", Optional.empty());
        assertHolds("ro", base + "/planted", Optional.empty());
    }

    // ---------------------------------------------------------------- who may write

    @Test
    void anonymousWritesAreAccessDeniedAndStoreNothing(TestInfo info) {
        String key = unique(info) + "/anon";
        byte[] earlier = putEarlierVersion(key);
        List<String> before = backendEntries("drop");
        String path = "/acme/drop/" + key;

        assertRefused(RawWrite.put(sluice.s3Endpoint(), path).body(randomBytes(100)).send(), 403, "AccessDenied", key,
                Optional.of(earlier), before);
        assertRefused(RawWrite.request(sluice.s3Endpoint(), "DELETE", path).send(), 403, "AccessDenied", key,
                Optional.of(earlier), before);
        assertRefused(RawWrite.request(sluice.s3Endpoint(), "POST", path).query("uploads", null).send(), 403, "AccessDenied", key,
                Optional.of(earlier), before);
        assertRefused(RawWrite.put(sluice.s3Endpoint(), path).header("x-amz-copy-source", "/acme/ro/existing.txt").send(), 403,
                "AccessDenied", key, Optional.of(earlier), before);
        // A key sluice does not know cannot write, as S3 answers it: with a body sent as it is ...
        assertRefused(RawWrite.put(sluice.s3Endpoint(), path).signedBy("AKIDUNKNOWNTOSLUICE", "not-a-secret-sluice-knows")
                .form(Form.UNSIGNED).body(randomBytes(100)).send(), 403, "InvalidAccessKeyId", key, Optional.of(earlier), before);
        // ... and with the SDK's default, chunks signed with that key.
        S3Client unknown = client(credentials("AKIDUNKNOWNTOSLUICE", "not-a-secret-sluice-knows"), RequestChecksumCalculation.WHEN_SUPPORTED);
        assertSdkError(() -> unknown.putObject(b -> b.bucket(ACCOUNT).key("drop/" + key), RequestBody.fromBytes(randomBytes(10))),
                403, "InvalidAccessKeyId");
        assertHolds("drop", key, Optional.of(earlier));
    }

    @Test
    void writesOutsideTheScopesPrefixAreAccessDenied(TestInfo info) {
        String base = unique(info);
        byte[] mine = randomBytes(100);
        List<String> before = backendEntries("drop");

        assertSdkError(() -> teamA.putObject(b -> b.bucket(ACCOUNT).key("drop/team-b/" + base), RequestBody.fromBytes(mine)), 403, "AccessDenied");
        assertSdkError(() -> teamA.putObject(b -> b.bucket(ACCOUNT).key("drop/team-ab/" + base), RequestBody.fromBytes(mine)), 403, "AccessDenied");
        assertSdkError(() -> teamA.createMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/team-b/" + base)), 403, "AccessDenied");
        assertSdkError(() -> teamA.putObject(b -> b.bucket(ACCOUNT).key("other/team-a/" + base), RequestBody.fromBytes(mine)), 403, "AccessDenied");
        assertThat(backendEntries("drop")).containsExactlyInAnyOrderElementsOf(before);
        assertHolds("drop", "team-b/" + base, Optional.empty());

        teamA.putObject(b -> b.bucket(ACCOUNT).key("drop/team-a/" + base), RequestBody.fromBytes(mine));
        assertHolds("drop", "team-a/" + base, Optional.of(mine));
    }

    @Test
    void aReadOnlyProductRefusesEveryWriteEvenToAKeyThatMayWrite(TestInfo info) {
        byte[] existing = read("ro", "existing.txt").orElseThrow();
        List<String> before = backendEntries("ro");
        String key = unique(info);

        assertSdkError(() -> writer.putObject(b -> b.bucket(ACCOUNT).key("ro/existing.txt"), RequestBody.fromBytes(randomBytes(10))), 403, "AccessDenied");
        assertSdkError(() -> writer.putObject(b -> b.bucket(ACCOUNT).key("ro/" + key), RequestBody.fromBytes(randomBytes(10))), 403, "AccessDenied");
        assertSdkError(() -> writer.deleteObject(b -> b.bucket(ACCOUNT).key("ro/existing.txt")), 403, "AccessDenied");
        assertSdkError(() -> writer.createMultipartUpload(b -> b.bucket(ACCOUNT).key("ro/" + key)), 403, "AccessDenied");

        assertHolds("ro", "existing.txt", Optional.of(existing));
        assertHolds("ro", key, Optional.empty());
        assertThat(backendEntries("ro")).containsExactlyInAnyOrderElementsOf(before);
    }

    @Test
    void aPresignedPutWorksWithAPlainClientAndOnlyForItsKey(TestInfo info) throws Exception {
        String key = unique(info) + "/presigned.bin";
        byte[] bytes = randomBytes(50_000);
        URI url;
        try (S3Presigner presigner = S3Presigner.builder()
                .endpointOverride(sluice.s3Endpoint())
                .region(Region.US_EAST_1)
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build())
                .credentialsProvider(credentials(WRITER_ID, WRITER_SECRET))
                .build()) {
            url = URI.create(presigner.presignPutObject(p -> p.signatureDuration(Duration.ofMinutes(5))
                    .putObjectRequest(o -> o.bucket(ACCOUNT).key("drop/" + key))).url().toString());
        }
        URI elsewhere = URI.create(url.toString().replace("/presigned.bin?", "/elsewhere.bin?"));
        List<String> before = backendEntries("drop");

        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> moved = http.send(HttpRequest.newBuilder(elsewhere).PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(moved.statusCode()).as(moved.body()).isEqualTo(403);
            assertThat(moved.body()).contains("<Code>SignatureDoesNotMatch</Code>");
            assertThat(backendEntries("drop")).containsExactlyInAnyOrderElementsOf(before);

            HttpResponse<String> put = http.send(HttpRequest.newBuilder(url).PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
            assertThat(put.headers().firstValue("ETag")).hasValue(quotedMd5(bytes));
        }
        assertHolds("drop", key, Optional.of(bytes));
        assertHolds("drop", unique(info) + "/elsewhere.bin", Optional.empty());
    }

    @Test
    void aRoleScopeTemplatedOnTheSubjectWritesOnlyUnderItsOwnPrefix(TestInfo info) {
        String base = unique(info);
        StsClient sts = StsClient.builder()
                .endpointOverride(URI.create(sluice.s3Endpoint() + "/.sts"))
                .region(Region.US_EAST_1)
                .credentialsProvider(software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider.create())
                .httpClient(UrlConnectionHttpClient.create())
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
                .build();
        closeables.add(sts);
        String token = issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().subject("ci-alpha").build());
        Credentials c = sts.assumeRoleWithWebIdentity(b -> b.roleArn("ci-writer").roleSessionName("ci").webIdentityToken(token))
                .credentials();
        S3Client ci = client(StaticCredentialsProvider.create(
                AwsSessionCredentials.create(c.accessKeyId(), c.secretAccessKey(), c.sessionToken())), RequestChecksumCalculation.WHEN_SUPPORTED);
        byte[] bytes = randomBytes(1000);

        ci.putObject(b -> b.bucket(ACCOUNT).key("drop/ci/ci-alpha/" + base), RequestBody.fromBytes(bytes));
        assertSdkError(() -> ci.putObject(b -> b.bucket(ACCOUNT).key("drop/ci/ci-beta/" + base), RequestBody.fromBytes(bytes)),
                403, "AccessDenied");
        assertSdkError(() -> ci.putObject(b -> b.bucket(ACCOUNT).key("drop/" + base), RequestBody.fromBytes(bytes)),
                403, "AccessDenied");

        assertHolds("drop", "ci/ci-alpha/" + base, Optional.of(bytes));
        assertHolds("drop", "ci/ci-beta/" + base, Optional.empty());
        assertHolds("drop", base, Optional.empty());
    }

    static byte[] concat(byte[]... parts) {
        int n = Arrays.stream(parts).mapToInt(p -> p.length).sum();
        byte[] out = new byte[n];
        int pos = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, pos, p.length);
            pos += p.length;
        }
        return out;
    }
}
