package dev.sluice.it;

import dev.sluice.s3.XmlReader;
import dev.sluice.testing.AwsChunked;
import dev.sluice.testing.LoopbackServer;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.ChecksumType;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadResponse;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.ListPartsResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A client's multipart checksum through the s3 store, with the AWS SDK for Java v2 (default
 * checksums on) against a store that keeps it and is as strict about it as S3
 * ({@link StrictStore}): S3Proxy takes the algorithm and keeps nothing, so it cannot show what
 * reaches the store. The upload is started with the algorithm, every part carries its checksum
 * (the SDK sends it as a trailer) and the completion lists them, and the store's composite
 * checksum comes back to the client; an upload started without one sends no part checksum to
 * a store that would refuse it (docs/writes.md, "Multipart checksums").
 */
class S3MultipartChecksumTest {
    private static final int MIB = 1024 * 1024;
    private static final String WRITER_ID = "AKIDCHECKSUMWRITER01";
    private static final String WRITER_SECRET = "checksum-writer-secret-0123456789abcdef";

    @TempDir
    static Path root;
    static StrictStore store;
    static LoopbackServer server;
    static SluiceUnderTest sluice;
    static S3Client writer;
    final Random random = new Random(11);

    @BeforeAll
    static void start() throws Exception {
        store = new StrictStore();
        server = new LoopbackServer(store::answer, java.time.Duration.ZERO);
        String yaml = """
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
                registry:
                  products:
                    - account: acme
                      product: bucket
                      visibility: public
                      writable: true
                      backend:
                        type: s3
                        endpoint: "%s"
                        region: us-east-1
                        bucket: data
                        timeout: 5s
                        checksum_trailers: true
                        auth: { type: anonymous }
                inbound:
                  access_keys:
                    - access_key_id: %s
                      secret_access_key_env: WRITER_SECRET
                      scopes: [ { product: "acme/*", actions: [get_object, put_object, abort_multipart_upload, list_multipart_uploads] } ]
                """.formatted(server.url(), WRITER_ID);
        sluice = SluiceUnderTest.start(yaml, Map.of("WRITER_SECRET", WRITER_SECRET), root);
        writer = sluice.client(StaticCredentialsProvider.create(AwsBasicCredentials.create(WRITER_ID, WRITER_SECRET)));
    }

    @AfterAll
    static void stop() throws Exception {
        try (LoopbackServer s = server; SluiceUnderTest u = sluice) {
            // closed in reverse order, each even if another fails
        }
    }

    @BeforeEach
    void clear() {
        store.requests.clear();
    }

    @Test
    void aCrc32UploadKeepsItsChecksumInTheStoreAndTheClientGetsTheComposite() {
        String key = "bucket/composite.bin";
        byte[] one = bytes(5 * MIB);
        byte[] two = bytes(1000);
        String uploadId = writer.createMultipartUpload(b -> b.bucket("acme").key(key).checksumAlgorithm(ChecksumAlgorithm.CRC32))
                .uploadId();
        UploadPartResponse p1 = writer.uploadPart(b -> b.bucket("acme").key(key).uploadId(uploadId).partNumber(1)
                .checksumAlgorithm(ChecksumAlgorithm.CRC32), RequestBody.fromBytes(one));
        UploadPartResponse p2 = writer.uploadPart(b -> b.bucket("acme").key(key).uploadId(uploadId).partNumber(2)
                .checksumAlgorithm(ChecksumAlgorithm.CRC32), RequestBody.fromBytes(two));
        ListPartsResponse listed = writer.listParts(b -> b.bucket("acme").key(key).uploadId(uploadId));
        CompleteMultipartUploadResponse done = writer.completeMultipartUpload(b -> b.bucket("acme").key(key).uploadId(uploadId)
                .multipartUpload(m -> m.parts(
                        CompletedPart.builder().partNumber(1).eTag(p1.eTag()).checksumCRC32(p1.checksumCRC32()).build(),
                        CompletedPart.builder().partNumber(2).eTag(p2.eTag()).checksumCRC32(p2.checksumCRC32()).build())));

        assertThat(p1.checksumCRC32()).isEqualTo(crc32(one));
        assertThat(p2.checksumCRC32()).isEqualTo(crc32(two));
        assertThat(listed.checksumAlgorithm()).isEqualTo(ChecksumAlgorithm.CRC32);
        assertThat(listed.parts()).extracting(p -> p.checksumCRC32()).containsExactly(crc32(one), crc32(two));
        String composite = Checksums.CRC32.composite(one, two);
        assertThat(done.checksumCRC32()).isEqualTo(composite);
        assertThat(done.checksumType()).isEqualTo(ChecksumType.COMPOSITE);
        assertThat(store.objects.get("composite.bin")).as("the object").isEqualTo(concat(one, two));
        assertThat(store.requests).containsExactly("POST uploads CRC32", "PUT part 1 crc32 trailer", "PUT part 2 crc32 trailer",
                "GET parts", "POST complete crc32");
    }

    @Test
    void aListingGivesAChecksummedUploadTheIdItsStartGave() {
        String key = "bucket/listed.bin";
        String uploadId = writer.createMultipartUpload(b -> b.bucket("acme").key(key).checksumAlgorithm(ChecksumAlgorithm.CRC32))
                .uploadId();
        try {
            assertThat(writer.listMultipartUploads(b -> b.bucket("acme").prefix("bucket/listed")).uploads())
                    .singleElement().satisfies(u -> {
                        assertThat(u.uploadId()).isEqualTo(uploadId);
                        assertThat(u.checksumAlgorithm()).isEqualTo(ChecksumAlgorithm.CRC32);
                    });
        } finally {
            writer.abortMultipartUpload(b -> b.bucket("acme").key(key).uploadId(uploadId));
        }
    }

    /** The SDK sends each part's CRC32 by default; to an upload the store started without a checksum it does not go on. */
    @Test
    void anUploadStartedWithoutAChecksumSendsTheStoreNoPartChecksum() {
        String key = "bucket/plain.bin";
        byte[] one = bytes(5 * MIB);
        String uploadId = writer.createMultipartUpload(b -> b.bucket("acme").key(key)).uploadId();
        UploadPartResponse p1 = writer.uploadPart(b -> b.bucket("acme").key(key).uploadId(uploadId).partNumber(1),
                RequestBody.fromBytes(one));
        CompleteMultipartUploadResponse done = writer.completeMultipartUpload(b -> b.bucket("acme").key(key).uploadId(uploadId)
                .multipartUpload(m -> m.parts(CompletedPart.builder().partNumber(1).eTag(p1.eTag()).build())));

        assertThat(done.eTag()).endsWith("-1\"");
        assertThat(done.checksumCRC32()).isNull();
        assertThat(store.objects.get("plain.bin")).as("the object").isEqualTo(one);
        assertThat(store.requests).containsExactly("POST uploads none", "PUT part 1 none plain", "POST complete none");
    }

    /** A client that sends a part of a CRC32 upload without its checksum is refused as S3 refuses it, and the store sees nothing. */
    @Test
    void aPartWithoutTheUploadsChecksumIsRefusedBeforeTheStoreSeesIt() {
        String key = "bucket/unchecked.bin";
        String uploadId = writer.createMultipartUpload(b -> b.bucket("acme").key(key).checksumAlgorithm(ChecksumAlgorithm.CRC32))
                .uploadId();
        S3Client bare = sluice.client(StaticCredentialsProvider.create(AwsBasicCredentials.create(WRITER_ID, WRITER_SECRET)),
                RequestChecksumCalculation.WHEN_REQUIRED);
        try {
            assertThatThrownBy(() -> bare.uploadPart(b -> b.bucket("acme").key(key).uploadId(uploadId).partNumber(1),
                    RequestBody.fromBytes(bytes(1000))))
                    .isInstanceOfSatisfying(S3Exception.class, e -> {
                        assertThat(e.statusCode()).as(e.toString()).isEqualTo(400);
                        assertThat(e.awsErrorDetails().errorCode()).as(e.toString()).isEqualTo("InvalidRequest");
                    });
        } finally {
            writer.abortMultipartUpload(b -> b.bucket("acme").key(key).uploadId(uploadId));
        }
        assertThat(store.requests).containsExactly("POST uploads CRC32", "DELETE upload");
    }

    byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static String crc32(byte[] bytes) {
        return Checksums.CRC32.of(bytes);
    }

    /**
     * A multipart store as strict as S3 about checksums, CRC32 only, bucket {@code data}: an
     * upload started with an algorithm says so in its answer and lists it, and each part must carry
     * that checksum, in a header or as an aws-chunked trailer (verified); a part of an upload
     * started without one must carry none; a completion lists each part's checksum and is
     * answered with the composite. Each request is recorded in words the test asserts on.
     */
    static final class StrictStore {
        record Upload(String key, boolean crc32, TreeMap<Integer, byte[]> parts, Map<Integer, String> crcs) {
        }

        final Map<String, Upload> uploads = new ConcurrentHashMap<>();
        final Map<String, byte[]> objects = new ConcurrentHashMap<>();
        final List<String> requests = new CopyOnWriteArrayList<>();
        private final AtomicInteger ids = new AtomicInteger();

        boolean answer(Request request, Response response, Callback callback) throws Exception {
            String path = request.getHttpURI().getPath();
            String query = Optional.ofNullable(request.getHttpURI().getQuery()).orElse("");
            Map<String, String> params = new TreeMap<>();
            for (String pair : query.split("&")) {
                int eq = pair.indexOf('=');
                params.put(eq < 0 ? pair : pair.substring(0, eq),
                        eq < 0 ? "" : java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
            byte[] body;
            try (InputStream in = Content.Source.asInputStream(request)) {
                body = in.readAllBytes();
            }
            String key = path.startsWith("/data/") ? path.substring("/data/".length()) : "";
            String method = request.getMethod();
            if (method.equals("POST") && params.containsKey("uploads")) {
                String algorithm = request.getHeaders().get("x-amz-checksum-algorithm");
                requests.add("POST uploads " + (algorithm == null ? "none" : algorithm));
                boolean crc = "CRC32".equals(algorithm);
                String id = "u-" + ids.incrementAndGet();
                uploads.put(id, new Upload(key, crc, new TreeMap<>(), new ConcurrentHashMap<>()));
                if (crc) {
                    response.getHeaders().put("x-amz-checksum-algorithm", "CRC32");
                    response.getHeaders().put("x-amz-checksum-type", "COMPOSITE");
                }
                return xml(response, callback, "<InitiateMultipartUploadResult><Bucket>data</Bucket><Key>" + key
                        + "</Key><UploadId>" + id + "</UploadId></InitiateMultipartUploadResult>");
            }
            if (method.equals("GET") && params.containsKey("uploads")) {
                StringBuilder xml = new StringBuilder("<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>");
                uploads.forEach((id, u) -> xml.append("<Upload><Key>").append(u.key()).append("</Key><UploadId>").append(id)
                        .append("</UploadId><Initiated>2026-12-08T00:00:00.000Z</Initiated>")
                        .append(u.crc32() ? "<ChecksumAlgorithm>CRC32</ChecksumAlgorithm><ChecksumType>COMPOSITE</ChecksumType>" : "")
                        .append("</Upload>"));
                return xml(response, callback, xml.append("</ListMultipartUploadsResult>").toString());
            }
            Upload upload = uploads.get(params.getOrDefault("uploadId", ""));
            if (upload == null || !upload.key().equals(key)) {
                return error(response, callback, 404, "NoSuchUpload");
            }
            if (method.equals("PUT")) {
                int number = Integer.parseInt(params.get("partNumber"));
                boolean chunked = "STREAMING-UNSIGNED-PAYLOAD-TRAILER".equals(request.getHeaders().get("x-amz-content-sha256"));
                byte[] data = body;
                String sum = request.getHeaders().get("x-amz-checksum-crc32");
                String form = sum == null ? "plain" : "header";
                if (chunked) {
                    AwsChunked decoded = AwsChunked.decode(body);
                    data = decoded.data();
                    if (decoded.trailer().startsWith("x-amz-checksum-crc32:")) {
                        sum = decoded.trailer().substring("x-amz-checksum-crc32:".length());
                        form = "trailer";
                    }
                }
                requests.add("PUT part " + number + " " + (sum == null ? "none" : "crc32") + " " + form);
                if (upload.crc32() != (sum != null)) {
                    return error(response, callback, 400, "InvalidRequest");
                }
                if (sum != null && !sum.equals(crc32(data))) {
                    return error(response, callback, 400, "BadDigest");
                }
                upload.parts().put(number, data);
                if (sum != null) {
                    upload.crcs().put(number, sum);
                    response.getHeaders().put("x-amz-checksum-crc32", sum);
                }
                response.getHeaders().put("ETag", "\"" + HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data)) + "\"");
                return xml(response, callback, "");
            }
            if (method.equals("GET")) {
                requests.add("GET parts");
                StringBuilder xml = new StringBuilder("<ListPartsResult><IsTruncated>false</IsTruncated>")
                        .append(upload.crc32() ? "<ChecksumAlgorithm>CRC32</ChecksumAlgorithm><ChecksumType>COMPOSITE</ChecksumType>" : "");
                upload.parts().forEach((n, data) -> xml.append("<Part><PartNumber>").append(n)
                        .append("</PartNumber><LastModified>2026-12-08T00:00:00.000Z</LastModified><ETag>\"x\"</ETag>")
                        .append(upload.crc32() ? "<ChecksumCRC32>" + upload.crcs().get(n) + "</ChecksumCRC32>" : "")
                        .append("<Size>").append(data.length).append("</Size></Part>"));
                return xml(response, callback, xml.append("</ListPartsResult>").toString());
            }
            if (method.equals("DELETE")) {
                requests.add("DELETE upload");
                uploads.values().remove(upload);
                response.setStatus(204);
                callback.succeeded();
                return true;
            }
            // CompleteMultipartUpload
            Element complete = XmlReader.parse(body).orElseThrow().getDocumentElement();
            requests.add("POST complete " + (upload.crc32() ? "crc32" : "none"));
            ByteArrayOutputStream object = new ByteArrayOutputStream();
            List<byte[]> listedParts = new ArrayList<>();
            for (Node n = complete.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (n instanceof Element part) {
                    int number = Integer.parseInt(XmlReader.text(part, "PartNumber").orElseThrow().strip());
                    Optional<String> listed = XmlReader.text(part, "ChecksumCRC32").map(String::strip);
                    if (!upload.parts().containsKey(number) || (upload.crc32() && !listed.equals(Optional.of(upload.crcs().get(number))))) {
                        return error(response, callback, 400, "InvalidPart");
                    }
                    object.writeBytes(upload.parts().get(number));
                    listedParts.add(upload.parts().get(number));
                }
            }
            String checksum = upload.crc32() ? Checksums.CRC32.composite(listedParts.toArray(byte[][]::new)) : null;
            String claimed = request.getHeaders().get("x-amz-checksum-crc32");
            if (claimed != null && !claimed.equals(checksum)) {
                return error(response, callback, 400, "BadDigest");
            }
            objects.put(key, object.toByteArray());
            uploads.values().remove(upload);
            return xml(response, callback, "<CompleteMultipartUploadResult><Bucket>data</Bucket><Key>" + key
                    + "</Key><ETag>" + Checksums.multipartEtag(listedParts.toArray(byte[][]::new)) + "</ETag>"
                    + (checksum == null ? "" : "<ChecksumCRC32>" + checksum + "</ChecksumCRC32><ChecksumType>COMPOSITE</ChecksumType>")
                    + "</CompleteMultipartUploadResult>");
        }

        private static boolean xml(Response response, Callback callback, String xml) {
            byte[] bytes = xml.getBytes(StandardCharsets.UTF_8);
            response.setStatus(200);
            response.getHeaders().put("Content-Length", bytes.length);
            response.write(true, ByteBuffer.wrap(bytes), callback);
            return true;
        }

        private static boolean error(Response response, Callback callback, int status, String code) {
            byte[] bytes = ("<Error><Code>" + code + "</Code><Message>m</Message></Error>").getBytes(StandardCharsets.UTF_8);
            response.setStatus(status);
            response.getHeaders().put("Content-Length", bytes.length);
            response.write(true, ByteBuffer.wrap(bytes), callback);
            return true;
        }
    }
}
