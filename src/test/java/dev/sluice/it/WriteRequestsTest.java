package dev.sluice.it;

import static dev.sluice.it.S3ErrorAssert.assertS3Error;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Error;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The write requests a stock client sends (AWS SDK for Java v2, with its default checksums),
 * routed and refused as docs/writes.md says, over HTTP, against file backends: parsing, the
 * body of DeleteObjects and CompleteMultipartUpload read and its signature and checksum checked,
 * who may write, and sealed upload ids. Each case here is decided before a store writes; what
 * stores do with writes they accept is the write-path contract's.
 */
class WriteRequestsTest {
    private static final String PUBLISHER_ID = "AKIASLUICEPUBLISH1";
    private static final String PUBLISHER_SECRET = "publisher-secret-0123456789abcdefghijkl";

    @TempDir
    static Path dir;
    static SluiceUnderTest sluice;
    static S3Client publisher;

    @BeforeAll
    static void start() throws IOException {
        Files.createDirectories(dir.resolve("drop"));
        Files.createDirectories(dir.resolve("fixed"));
        Files.writeString(dir.resolve("fixed/source.txt"), "source\n");
        String yaml = """
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
                registry:
                  products:
                    - { account: demo, product: drop, visibility: restricted, writable: true, backend: { type: file, path: ./drop } }
                    - { account: demo, product: fixed, backend: { type: file, path: ./fixed } }
                inbound:
                  access_keys:
                    - access_key_id: %s
                      secret_access_key_env: PUBLISHER_SECRET
                      name: publisher
                      scopes:
                        - { product: "demo/*", actions: [get_object, put_object, delete_object, abort_multipart_upload, list_multipart_uploads] }
                """.formatted(PUBLISHER_ID);
        sluice = SluiceUnderTest.start(yaml, Map.of("PUBLISHER_SECRET", PUBLISHER_SECRET), dir);
        publisher = sluice.client(StaticCredentialsProvider.create(AwsBasicCredentials.create(PUBLISHER_ID, PUBLISHER_SECRET)));
    }

    @AfterAll
    static void stop() throws Exception {
        if (sluice != null) {
            sluice.close();
        }
    }

    private static Consumer<S3Exception> error(int status, String code) {
        return e -> {
            assertThat(e.statusCode()).isEqualTo(status);
            assertThat(e.awsErrorDetails().errorCode()).isEqualTo(code);
        };
    }

    @Test
    void aWriteToAReadOnlyProductIsAccessDeniedAndChangesNothing() throws IOException {
        assertThatThrownBy(() -> publisher.deleteObject(b -> b.bucket("demo").key("fixed/source.txt")))
                .isInstanceOfSatisfying(S3Exception.class, error(403, "AccessDenied"));
        assertThatThrownBy(() -> publisher.createMultipartUpload(b -> b.bucket("demo").key("fixed/big.bin")))
                .isInstanceOfSatisfying(S3Exception.class, error(403, "AccessDenied"));
        assertThatThrownBy(() -> publisher.copyObject(b -> b.sourceBucket("demo").sourceKey("fixed/source.txt")
                .destinationBucket("demo").destinationKey("fixed/copy.txt")))
                .isInstanceOfSatisfying(S3Exception.class, error(403, "AccessDenied"));
        assertThat(Files.readString(dir.resolve("fixed/source.txt"))).isEqualTo("source\n");
        assertThat(dir.resolve("fixed/copy.txt")).doesNotExist();
    }

    @Test
    void anAnonymousWriteIsRefusedAndHidesARestrictedProduct() {
        S3Client anonymous = sluice.anonymousClient();

        assertThatThrownBy(() -> anonymous.deleteObject(b -> b.bucket("demo").key("fixed/source.txt")))
                .isInstanceOfSatisfying(S3Exception.class, error(403, "AccessDenied"));
        assertThatThrownBy(() -> anonymous.deleteObject(b -> b.bucket("demo").key("drop/a.txt")))
                .isInstanceOfSatisfying(S3Exception.class, error(404, "NoSuchBucket"));
        assertThatThrownBy(() -> anonymous.deleteObjects(b -> b.bucket("demo")
                .delete(d -> d.objects(ObjectIdentifier.builder().key("fixed/source.txt").build()))))
                .isInstanceOfSatisfying(S3Exception.class, error(403, "AccessDenied"));
    }

    @Test
    void deleteObjectsFromTheSdkIsReadCheckedAndAnsweredKeyByKey() throws IOException {
        DeleteObjectsResponse r = publisher.deleteObjects(b -> b.bucket("demo").delete(d -> d.objects(
                ObjectIdentifier.builder().key("fixed/source.txt").build(),
                ObjectIdentifier.builder().key("nope/x.txt").build(),
                ObjectIdentifier.builder().key("no-product").build())));

        assertThat(r.errors()).extracting(S3Error::key, S3Error::code).containsExactly(
                org.assertj.core.groups.Tuple.tuple("fixed/source.txt", "AccessDenied"),
                org.assertj.core.groups.Tuple.tuple("nope/x.txt", "NoSuchBucket"),
                org.assertj.core.groups.Tuple.tuple("no-product", "InvalidArgument"));
        assertThat(r.deleted()).isEmpty();
        assertThat(Files.readString(dir.resolve("fixed/source.txt"))).isEqualTo("source\n");
    }

    /** A signed POST with {@code body} and the headers given (name, value, …), as a client that computed its own digest sends it. */
    private static java.net.http.HttpResponse<String> signedPost(String path, String query, String body, String... headers)
            throws Exception {
        byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String host = sluice.s3Endpoint().getAuthority();
        List<Map.Entry<String, String>> signed = new dev.sluice.sigv4.RequestSigner("us-east-1", "s3").sign("POST", host, path,
                query, List.of(), dev.sluice.sigv4.SigV4.sha256Hex(bytes),
                dev.sluice.sigv4.AwsCredentials.of(PUBLISHER_ID, PUBLISHER_SECRET), java.time.Instant.now());
        java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(sluice.s3Endpoint() + path + "?" + query))
                .timeout(java.time.Duration.ofSeconds(30))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(bytes));
        signed.forEach(h -> b.header(h.getKey(), h.getValue()));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        try (java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient()) {
            return http.send(b.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        }
    }

    @Test
    void aDeleteObjectsBodyWithoutADigestOrWithOneThatDisagreesIsRefusedWhole() throws Exception {
        String body = "<Delete><Object><Key>drop/a.txt</Key></Object></Delete>";

        java.net.http.HttpResponse<String> missing = signedPost("/demo", "delete", body);
        java.net.http.HttpResponse<String> wrong = signedPost("/demo", "delete", body, "Content-MD5", "AAAAAAAAAAAAAAAAAAAAAA==");
        java.net.http.HttpResponse<String> garbage = signedPost("/demo", "delete", body, "x-amz-checksum-crc32", "not base64!");

        assertThat(missing.statusCode()).isEqualTo(400);
        assertThat(S3ErrorAssert.parse(missing.body().getBytes(java.nio.charset.StandardCharsets.UTF_8)).code()).isEqualTo("InvalidRequest");
        assertThat(wrong.statusCode()).isEqualTo(400);
        assertThat(S3ErrorAssert.parse(wrong.body().getBytes(java.nio.charset.StandardCharsets.UTF_8)).code()).isEqualTo("BadDigest");
        assertThat(garbage.statusCode()).isEqualTo(400);
        assertThat(S3ErrorAssert.parse(garbage.body().getBytes(java.nio.charset.StandardCharsets.UTF_8)).code()).isEqualTo("InvalidDigest");
    }

    @Test
    void aCompleteMultipartUploadBodyThatIsNotTheSignedOneIsRefused() throws Exception {
        // The signature covers the body's hash: a body changed on the way is XAmzContentSHA256Mismatch.
        String path = "/demo/drop/big.bin";
        byte[] signedBody = "<CompleteMultipartUpload/>".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String host = sluice.s3Endpoint().getAuthority();
        List<Map.Entry<String, String>> signed = new dev.sluice.sigv4.RequestSigner("us-east-1", "s3").sign("POST", host, path,
                "uploadId=forged", List.of(), dev.sluice.sigv4.SigV4.sha256Hex(signedBody),
                dev.sluice.sigv4.AwsCredentials.of(PUBLISHER_ID, PUBLISHER_SECRET), java.time.Instant.now());
        java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(sluice.s3Endpoint() + path + "?uploadId=forged"))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("<CompleteMultipartUpload><Part/></CompleteMultipartUpload>"));
        signed.forEach(h -> b.header(h.getKey(), h.getValue()));

        java.net.http.HttpResponse<String> r;
        try (java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient()) {
            r = http.send(b.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        }

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(S3ErrorAssert.parse(r.body().getBytes(java.nio.charset.StandardCharsets.UTF_8)).code())
                .isEqualTo("XAmzContentSHA256Mismatch");
    }

    @Test
    void forgedUploadIdsAreNoSuchUpload() {
        assertThatThrownBy(() -> publisher.abortMultipartUpload(b -> b.bucket("demo").key("drop/big.bin").uploadId("forged")))
                .isInstanceOfSatisfying(S3Exception.class, error(404, "NoSuchUpload"));
        assertThatThrownBy(() -> publisher.listParts(b -> b.bucket("demo").key("drop/big.bin").uploadId("forged")))
                .isInstanceOfSatisfying(S3Exception.class, error(404, "NoSuchUpload"));
        assertThatThrownBy(() -> publisher.completeMultipartUpload(b -> b.bucket("demo").key("drop/big.bin").uploadId("forged")
                .multipartUpload(m -> m.parts(CompletedPart.builder().partNumber(1).eTag("\"e\"").build()))))
                .isInstanceOfSatisfying(S3Exception.class, error(404, "NoSuchUpload"));
    }

    @Test
    void listingUploadsWithoutAProductPrefixListsNone() {
        assertThat(publisher.listMultipartUploads(b -> b.bucket("demo")).uploads()).isEmpty();
        assertThat(publisher.listMultipartUploads(b -> b.bucket("demo").prefix("dr")).uploads()).isEmpty();
    }

    @Test
    void aCopyWhoseSourceConditionFailsIsPreconditionFailed() {
        assertThatThrownBy(() -> publisher.copyObject(b -> b.sourceBucket("demo").sourceKey("fixed/source.txt")
                .destinationBucket("demo").destinationKey("drop/copy.txt").copySourceIfMatch("\"not-its-etag\"")))
                .isInstanceOfSatisfying(S3Exception.class, error(412, "PreconditionFailed"));
        assertThat(dir.resolve("drop/copy.txt")).doesNotExist();
    }

    @Test
    void uploadPartCopyIsNotImplemented() {
        assertThatThrownBy(() -> publisher.uploadPartCopy(b -> b.sourceBucket("demo").sourceKey("fixed/source.txt")
                .destinationBucket("demo").destinationKey("drop/big.bin").uploadId("any").partNumber(1)))
                .isInstanceOfSatisfying(S3Exception.class, error(501, "NotImplemented"));
    }
}
