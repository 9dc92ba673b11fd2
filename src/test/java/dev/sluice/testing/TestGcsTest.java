package dev.sluice.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.api.gax.paging.Page;
import com.google.cloud.NoCredentials;
import com.google.cloud.ReadChannel;
import com.google.cloud.ServiceOptions;
import com.google.cloud.storage.Blob;
import com.google.cloud.storage.BlobId;
import com.google.cloud.storage.BlobInfo;
import com.google.cloud.storage.Bucket;
import com.google.cloud.storage.BucketInfo;
import com.google.cloud.storage.Storage;
import com.google.cloud.storage.StorageException;
import com.google.cloud.storage.StorageOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Keeps {@link TestGcs} honest: Google's official Java client (over the JSON API on HTTP, as it
 * talks to storage.googleapis.com) creates a bucket, uploads, reads whole and by range, reads
 * metadata, lists with a prefix, a delimiter and pages, and deletes against it. Where the
 * client and the server disagree, the server is wrong. What the client cannot show (the
 * authorization answers, the injected faults, a range past the end) is checked with plain HTTP
 * against the JSON API reference.
 */
class TestGcsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TestGcs gcs;
    private Storage storage;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void start() throws Exception {
        gcs = new TestGcs();
        storage = StorageOptions.newBuilder()
                .setHost(gcs.endpoint().toString())
                .setProjectId("test")
                .setCredentials(NoCredentials.getInstance())
                .setRetrySettings(ServiceOptions.getNoRetrySettings())
                .build()
                .getService();
    }

    @AfterEach
    void stop() throws Exception {
        storage.close();
        http.close();
        gcs.close();
    }

    @Test
    void officialClientCreatesABucketAndReadsItBack() {
        Bucket created = storage.create(BucketInfo.of("data"));

        assertThat(created.getName()).isEqualTo("data");
        assertThat(storage.get("data").getName()).isEqualTo("data");
        assertThat(storage.get("missing")).isNull();
    }

    @Test
    void officialClientUploadsAndReadsObjectsWithTheirMetadata() throws Exception {
        storage.create(BucketInfo.of("data"));
        byte[] bytes = "hello, gcs\n".getBytes(StandardCharsets.UTF_8);
        storage.create(BlobInfo.newBuilder("data", "dir/hello world.txt")
                .setContentType("text/plain")
                .setCacheControl("max-age=60")
                .setContentDisposition("attachment")
                .setContentLanguage("en")
                .setMetadata(Map.of("origin", "test"))
                .build(), bytes);

        Blob blob = storage.get(BlobId.of("data", "dir/hello world.txt"));

        assertThat(blob.getSize()).isEqualTo(bytes.length);
        assertThat(blob.getMd5()).isEqualTo(Base64.getEncoder().encodeToString(MessageDigest.getInstance("MD5").digest(bytes)));
        assertThat(blob.getCrc32c()).isEqualTo(crc32c(bytes));
        assertThat(blob.getContentType()).isEqualTo("text/plain");
        assertThat(blob.getCacheControl()).isEqualTo("max-age=60");
        assertThat(blob.getContentDisposition()).isEqualTo("attachment");
        assertThat(blob.getContentLanguage()).isEqualTo("en");
        assertThat(blob.getMetadata()).containsExactly(Map.entry("origin", "test"));
        assertThat(blob.getGeneration()).isPositive();
        assertThat(blob.getMetageneration()).isEqualTo(1L);
        assertThat(blob.getUpdateTimeOffsetDateTime()).isNotNull();
        assertThat(blob.getCreateTimeOffsetDateTime()).isNotNull();
        assertThat(blob.getEtag()).isNotBlank();
        assertThat(storage.readAllBytes(BlobId.of("data", "dir/hello world.txt"))).isEqualTo(bytes);
    }

    @Test
    void officialClientReadsARange() throws IOException {
        storage.create(BucketInfo.of("data"));
        byte[] bytes = "0123456789abcdefghij".getBytes(StandardCharsets.US_ASCII);
        storage.create(BlobInfo.newBuilder("data", "digits").build(), bytes);

        ByteBuffer read = ByteBuffer.allocate(64);
        try (ReadChannel channel = storage.reader(BlobId.of("data", "digits"))) {
            channel.seek(5);
            channel.limit(12);
            for (int reads = 0; reads < 100 && channel.read(read) >= 0; reads++) {
                assertThat(read.position()).isLessThanOrEqualTo(7);
            }
        }
        read.flip();
        byte[] got = new byte[read.remaining()];
        read.get(got);

        assertThat(new String(got, StandardCharsets.US_ASCII)).isEqualTo("56789ab");
    }

    @Test
    void officialClientListsWithPrefixDelimiterAndPages() {
        storage.create(BucketInfo.of("data"));
        for (String name : List.of("a/1", "a/2", "a/b/3", "a/c/4", "a/c/5", "a/d", "b/6", "a0")) {
            storage.create(BlobInfo.newBuilder("data", name).build(), name.getBytes(StandardCharsets.UTF_8));
        }

        List<String> all = new ArrayList<>();
        storage.list("data", Storage.BlobListOption.prefix("a/")).iterateAll().forEach(b -> all.add(b.getName()));
        assertThat(all).containsExactly("a/1", "a/2", "a/b/3", "a/c/4", "a/c/5", "a/d");

        List<String> level = new ArrayList<>();
        List<Boolean> directories = new ArrayList<>();
        List<Integer> pageSizes = new ArrayList<>();
        Page<Blob> page = storage.list("data", Storage.BlobListOption.prefix("a/"), Storage.BlobListOption.delimiter("/"),
                Storage.BlobListOption.pageSize(2));
        for (int pages = 0; page != null && pages < 10; pages++) {
            int n = 0;
            for (Blob b : page.getValues()) {
                level.add(b.getName());
                directories.add(b.isDirectory());
                n++;
            }
            pageSizes.add(n);
            page = page.hasNextPage() ? page.getNextPage() : null;
        }

        assertThat(level).containsExactlyInAnyOrder("a/1", "a/2", "a/b/", "a/c/", "a/d");
        assertThat(directories).containsExactlyInAnyOrder(false, false, true, true, false);
        assertThat(pageSizes).containsExactly(2, 2, 1);
    }

    @Test
    void officialClientDeletesAndSeesAMissingObject() {
        storage.create(BucketInfo.of("data"));
        storage.create(BlobInfo.newBuilder("data", "gone").build(), new byte[] {1});

        assertThat(storage.delete(BlobId.of("data", "gone"))).isTrue();
        assertThat(storage.delete(BlobId.of("data", "gone"))).isFalse();
        assertThat(storage.get(BlobId.of("data", "gone"))).isNull();
        assertThatThrownBy(() -> storage.readAllBytes(BlobId.of("data", "gone")))
                .isInstanceOfSatisfying(StorageException.class, e -> assertThat(e.getCode()).isEqualTo(404));
    }

    @Test
    void namesTravelAsOnePercentEncodedPathSegment() throws Exception {
        gcs.bucket("data").put("data", "dir/100%/ü x.txt", new byte[] {7, 8}, TestGcs.Attributes.of("text/plain"));

        HttpResponse<String> meta = get("/storage/v1/b/data/o/dir%2F100%25%2F%C3%BC%20x.txt");
        HttpResponse<byte[]> media = getBytes("/storage/v1/b/data/o/dir%2F100%25%2F%C3%BC%20x.txt?alt=media", Map.of());

        assertThat(meta.statusCode()).isEqualTo(200);
        JsonNode resource = JSON.readTree(meta.body());
        assertThat(resource.path("name").asText()).isEqualTo("dir/100%/ü x.txt");
        assertThat(resource.path("size").isTextual()).isTrue();
        assertThat(resource.path("size").asText()).isEqualTo("2");
        assertThat(resource.path("generation").isTextual()).isTrue();
        assertThat(resource.path("updated").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        assertThat(media.body()).containsExactly(7, 8);
    }

    @Test
    void rangesAreAnsweredAsGcsDoes() throws Exception {
        gcs.bucket("data").put("data", "ten", "0123456789".getBytes(StandardCharsets.US_ASCII), TestGcs.Attributes.of(null));

        HttpResponse<byte[]> part = getBytes("/storage/v1/b/data/o/ten?alt=media", Map.of("Range", "bytes=2-4"));
        HttpResponse<byte[]> suffix = getBytes("/storage/v1/b/data/o/ten?alt=media", Map.of("Range", "bytes=-3"));
        HttpResponse<byte[]> past = getBytes("/storage/v1/b/data/o/ten?alt=media", Map.of("Range", "bytes=10-"));

        assertThat(part.statusCode()).isEqualTo(206);
        assertThat(part.headers().firstValue("Content-Range")).hasValue("bytes 2-4/10");
        assertThat(new String(part.body(), StandardCharsets.US_ASCII)).isEqualTo("234");
        assertThat(suffix.statusCode()).isEqualTo(206);
        assertThat(new String(suffix.body(), StandardCharsets.US_ASCII)).isEqualTo("789");
        assertThat(past.statusCode()).isEqualTo(416);
        assertThat(JSON.readTree(past.body()).path("error").path("errors").path(0).path("reason").asText())
                .isEqualTo("requestedRangeNotSatisfiable");
    }

    @Test
    void tokensAreCheckedUnlessTheBucketIsPublic() throws Exception {
        gcs.bucket("private").bucket("open").makePublic("open").requireTokens("good"::equals);
        gcs.put("private", "x", new byte[] {1}, TestGcs.Attributes.of(null));
        gcs.put("open", "x", new byte[] {1}, TestGcs.Attributes.of(null));

        HttpResponse<String> anonymous = get("/storage/v1/b/private/o/x");
        HttpResponse<String> refused = send("/storage/v1/b/private/o/x", Map.of("Authorization", "Bearer bad"));
        HttpResponse<String> accepted = send("/storage/v1/b/private/o/x", Map.of("Authorization", "Bearer good"));
        HttpResponse<String> open = get("/storage/v1/b/open/o/x");

        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(reason(anonymous)).isEqualTo("required");
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(reason(refused)).isEqualTo("forbidden");
        assertThat(accepted.statusCode()).isEqualTo(200);
        assertThat(open.statusCode()).isEqualTo(200);
        assertThat(gcs.authorizations()).containsExactly("", "Bearer bad", "Bearer good", "");
    }

    @Test
    void missingBucketAndObjectAreGcsErrorDocuments() throws Exception {
        gcs.bucket("data");

        HttpResponse<String> noBucket = get("/storage/v1/b/nope/o/x");
        HttpResponse<String> noObject = get("/storage/v1/b/data/o/x");

        assertThat(noBucket.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(noBucket.body()).path("error").path("message").asText()).isEqualTo("The specified bucket does not exist.");
        assertThat(noObject.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(noObject.body()).path("error").path("code").asInt()).isEqualTo(404);
        assertThat(reason(noObject)).isEqualTo("notFound");
    }

    @Test
    void injectsFaultsAndCountsRequests() throws Exception {
        gcs.bucket("data");
        gcs.fault(TestGcs.Fault.THROTTLE, 1);
        assertThat(get("/storage/v1/b/data").statusCode()).isEqualTo(429);
        gcs.fault(TestGcs.Fault.INTERNAL_ERROR, 1);
        assertThat(get("/storage/v1/b/data").statusCode()).isEqualTo(500);
        gcs.fault(TestGcs.Fault.UNAVAILABLE, 1);
        assertThat(get("/storage/v1/b/data").statusCode()).isEqualTo(503);
        gcs.fault(TestGcs.Fault.GARBAGE, 1);
        HttpResponse<String> garbage = get("/storage/v1/b/data");
        assertThat(garbage.statusCode()).isEqualTo(200);
        assertThat(garbage.body()).startsWith("<html>");
        assertThat(get("/storage/v1/b/data").statusCode()).isEqualTo(200);
        assertThat(gcs.requests()).isEqualTo(5);
    }

    private static String reason(HttpResponse<String> r) throws IOException {
        return JSON.readTree(r.body()).path("error").path("errors").path(0).path("reason").asText();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return send(path, Map.of());
    }

    private HttpResponse<String> send(String path, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gcs.endpoint() + path)).timeout(Duration.ofSeconds(10));
        headers.forEach(b::header);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<byte[]> getBytes(String path, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gcs.endpoint() + path)).timeout(Duration.ofSeconds(10));
        headers.forEach(b::header);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String crc32c(byte[] bytes) {
        CRC32C c = new CRC32C();
        c.update(bytes);
        return Base64.getEncoder().encodeToString(ByteBuffer.allocate(4).putInt((int) c.getValue()).array());
    }
}
