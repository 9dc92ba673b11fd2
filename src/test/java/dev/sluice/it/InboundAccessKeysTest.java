package dev.sluice.it;

import static dev.sluice.it.S3ErrorAssert.assertS3Error;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.sigv4.AwsCredentials;
import dev.sluice.sigv4.RequestSigner;
import dev.sluice.sigv4.SigV4;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * Long-lived access keys end to end: the AWS SDK for Java v2 signs with keys from
 * {@code inbound.access_keys}, sluice verifies them and applies their scopes; presigned URLs
 * made by the SDK's presigner are fetched with a plain HTTP client; every rejection arrives as
 * an S3 error document with its status.
 */
class InboundAccessKeysTest {

    private static final String READER_ID = "AKIASLUICEREADER01";
    private static final String READER_SECRET = "reader-secret-0123456789abcdefghijklmnop";
    private static final String LIMITED_ID = "AKIASLUICELIMITED1";
    private static final String LIMITED_SECRET = "limited-secret-0123456789abcdefghijklmno";
    private static final String DISABLED_ID = "AKIASLUICEDISABLED";
    private static final String EXPIRED_ID = "AKIASLUICEEXPIRED1";

    @TempDir
    static Path dir;
    static SluiceUnderTest sluice;

    @BeforeAll
    static void start() throws Exception {
        write("hello/greeting.txt", "hello, world\n");
        write("private/a/x.csv", "a,x\n");
        write("private/a/y.csv", "a,y\n");
        write("private/b/z.csv", "b,z\n");
        write("private/key with space=1.txt", "spaced\n");
        write("other/secret.txt", "other\n");
        String yaml = """
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0", body_timeout: 1s }
                registry:
                  products:
                    - { account: demo, product: hello, backend: { type: file, path: ./hello } }
                    - { account: demo, product: private, visibility: restricted, backend: { type: file, path: ./private } }
                    - { account: other, product: vault, visibility: restricted, backend: { type: file, path: ./other } }
                inbound:
                  access_keys:
                    - access_key_id: %s
                      secret_access_key_env: READER_SECRET
                      name: reader
                      scopes: [ { product: "demo/*", actions: [get_object, head_object, list_bucket] } ]
                    - access_key_id: %s
                      secret_access_key_env: LIMITED_SECRET
                      name: limited
                      scopes: [ { product: demo/private, prefixes: [a/], actions: [get_object, list_bucket] } ]
                    - access_key_id: %s
                      secret_access_key_env: READER_SECRET
                      enabled: false
                    - access_key_id: %s
                      secret_access_key_env: READER_SECRET
                      expires_at: "2020-01-01T00:00:00Z"
                      scopes: [ { product: "demo/*", actions: [get_object] } ]
                """.formatted(READER_ID, LIMITED_ID, DISABLED_ID, EXPIRED_ID);
        sluice = SluiceUnderTest.start(yaml, Map.of("READER_SECRET", READER_SECRET, "LIMITED_SECRET", LIMITED_SECRET), dir);
    }

    @AfterAll
    static void stop() throws Exception {
        if (sluice != null) {
            sluice.close();
        }
    }

    private static void write(String path, String content) throws Exception {
        Path p = dir.resolve(path);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
    }

    private static S3Client as(String id, String secret) {
        return sluice.client(StaticCredentialsProvider.create(AwsBasicCredentials.create(id, secret)));
    }

    private static String get(S3Client client, String bucket, String key) {
        return client.getObject(b -> b.bucket(bucket).key(key), ResponseTransformer.toBytes()).asUtf8String();
    }

    /** Reads {@code key} of demo and answers the request id sluice gave the read. */
    private static String requestId(S3Client client, String key) {
        return client.getObject(b -> b.bucket("demo").key(key), ResponseTransformer.toBytes()).response().responseMetadata().requestId();
    }

    private static void assertSdkError(Runnable call, int status, String code) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(S3Exception.class, e -> {
            assertThat(e.statusCode()).isEqualTo(status);
            if (code != null) { // a HEAD response has no body, so the SDK cannot know the code
                assertThat(e.awsErrorDetails().errorCode()).isEqualTo(code);
            }
        });
    }

    // --- keys and scopes through the SDK ----------------------------------------------------------

    @Test
    void aKeyWithAScopeReadsARestrictedProduct() {
        S3Client reader = as(READER_ID, READER_SECRET);

        assertThat(get(reader, "demo", "private/a/x.csv")).isEqualTo("a,x\n");
        assertThat(get(reader, "demo", "private/key with space=1.txt")).isEqualTo("spaced\n");
        assertThat(reader.headObject(b -> b.bucket("demo").key("private/b/z.csv")).contentLength()).isEqualTo(4);
        ListObjectsV2Response list = reader.listObjectsV2(b -> b.bucket("demo").prefix("private/"));
        assertThat(list.contents()).extracting(S3Object::key)
                .containsExactly("private/a/x.csv", "private/a/y.csv", "private/b/z.csv", "private/key with space=1.txt");
    }

    @Test
    void anAccountListingShowsARestrictedProductOnlyToCallersWithAScope() {
        List<String> asReader = as(READER_ID, READER_SECRET)
                .listObjectsV2(b -> b.bucket("demo").delimiter("/")).commonPrefixes().stream().map(p -> p.prefix()).toList();
        List<String> anonymous = sluice.anonymousClient()
                .listObjectsV2(b -> b.bucket("demo").delimiter("/")).commonPrefixes().stream().map(p -> p.prefix()).toList();

        assertThat(asReader).containsExactly("hello/", "private/");
        assertThat(anonymous).containsExactly("hello/");
    }

    @Test
    void aKeyLimitedToAPrefixReadsAndListsOnlyInsideIt() {
        S3Client limited = as(LIMITED_ID, LIMITED_SECRET);

        assertThat(get(limited, "demo", "private/a/y.csv")).isEqualTo("a,y\n");
        assertSdkError(() -> get(limited, "demo", "private/b/z.csv"), 403, "AccessDenied");
        assertThat(limited.listObjectsV2(b -> b.bucket("demo").prefix("private/a/")).contents()).extracting(S3Object::key)
                .containsExactly("private/a/x.csv", "private/a/y.csv");
        assertSdkError(() -> limited.listObjectsV2(b -> b.bucket("demo").prefix("private/")), 403, "AccessDenied");
        assertSdkError(() -> limited.headObject(b -> b.bucket("demo").key("private/a/x.csv")), 403, null);
    }

    @Test
    void authenticatedCallersReadPublicProductsWithoutAScope() {
        assertThat(get(as(LIMITED_ID, LIMITED_SECRET), "demo", "hello/greeting.txt")).isEqualTo("hello, world\n");
    }

    @Test
    void aKeyWithoutAScopeForAProductIsDeniedAndAMissingProductIsNoSuchBucket() {
        S3Client reader = as(READER_ID, READER_SECRET);
        assertSdkError(() -> get(reader, "other", "vault/secret.txt"), 403, "AccessDenied");
        assertSdkError(() -> get(reader, "demo", "missing/x"), 404, "NoSuchBucket");
    }

    @Test
    void anonymousAndUnknownKeysAreAnsweredWithoutRevealingRestrictedProducts() {
        assertSdkError(() -> get(sluice.anonymousClient(), "demo", "private/a/x.csv"), 404, "NoSuchBucket");
        assertThat(get(sluice.unknownKeyClient(), "demo", "hello/greeting.txt")).isEqualTo("hello, world\n");
        assertSdkError(() -> get(sluice.unknownKeyClient(), "demo", "private/a/x.csv"), 403, "InvalidAccessKeyId");
        assertSdkError(() -> get(sluice.unknownKeyClient(), "demo", "nothing/x"), 403, "InvalidAccessKeyId");
    }

    @Test
    void aWrongSecretIsSignatureDoesNotMatch() {
        assertSdkError(() -> get(as(READER_ID, "not-the-secret"), "demo", "private/a/x.csv"), 403, "SignatureDoesNotMatch");
        // Even where anonymous reading is allowed: a known key with a bad signature is an error.
        assertSdkError(() -> get(as(READER_ID, "not-the-secret"), "demo", "hello/greeting.txt"), 403, "SignatureDoesNotMatch");
    }

    @Test
    void disabledAndExpiredKeysAreRefused() {
        assertSdkError(() -> get(as(DISABLED_ID, READER_SECRET), "demo", "hello/greeting.txt"), 403, "InvalidAccessKeyId");
        assertSdkError(() -> get(as(EXPIRED_ID, READER_SECRET), "demo", "private/a/x.csv"), 403, "ExpiredToken");
    }

    // --- presigned URLs ----------------------------------------------------------------------------

    private static URI presign(String id, String secret, String key, Duration validity) {
        try (S3Presigner presigner = S3Presigner.builder()
                .endpointOverride(sluice.s3Endpoint())
                .region(Region.US_EAST_1)
                .serviceConfiguration(software.amazon.awssdk.services.s3.S3Configuration.builder().pathStyleAccessEnabled(true).build())
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(id, secret)))
                .build()) {
            return URI.create(presigner.presignGetObject(p -> p.signatureDuration(validity)
                    .getObjectRequest(g -> g.bucket("demo").key(key))).url().toString());
        }
    }

    private static String pathAndQuery(URI url) {
        return url.getRawPath() + "?" + url.getRawQuery();
    }

    /** Signed callers keep S3's response header overrides: presigned links for downloads depend on them. */
    @Test
    void signedCallersMayOverrideResponseHeaders() {
        S3Client reader = as(READER_ID, READER_SECRET);
        var got = reader.getObject(b -> b.bucket("demo").key("hello/greeting.txt")
                .responseContentType("text/csv").responseContentDisposition("attachment; filename=x.csv"),
                ResponseTransformer.toBytes()).response();
        URI presigned;
        try (S3Presigner presigner = S3Presigner.builder()
                .endpointOverride(sluice.s3Endpoint())
                .region(Region.US_EAST_1)
                .serviceConfiguration(software.amazon.awssdk.services.s3.S3Configuration.builder().pathStyleAccessEnabled(true).build())
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(READER_ID, READER_SECRET)))
                .build()) {
            presigned = URI.create(presigner.presignGetObject(p -> p.signatureDuration(Duration.ofMinutes(5))
                    .getObjectRequest(g -> g.bucket("demo").key("hello/greeting.txt").responseContentType("text/csv")))
                    .url().toString());
        }
        SluiceUnderTest.RawResponse r = sluice.send("GET", pathAndQuery(presigned));

        assertThat(got.contentType()).isEqualTo("text/csv");
        assertThat(got.contentDisposition()).isEqualTo("attachment; filename=x.csv");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Content-Type")).hasValue("text/csv");
        assertThat(r.header("X-Content-Type-Options")).hasValue("nosniff");
    }

    @Test
    void aPresignedUrlFromTheSdkIsFetchedWithAPlainClient() {
        URI url = presign(READER_ID, READER_SECRET, "private/key with space=1.txt", Duration.ofMinutes(5));

        SluiceUnderTest.RawResponse r = sluice.send("GET", pathAndQuery(url));

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text()).isEqualTo("spaced\n");
    }

    @Test
    void aTamperedPresignedUrlIsRejected() {
        URI url = presign(READER_ID, READER_SECRET, "private/a/x.csv", Duration.ofMinutes(5));
        String tamperedKey = pathAndQuery(url).replace("private/a/x.csv", "private/a/y.csv");
        String tamperedExpiry = pathAndQuery(url).replace("X-Amz-Expires=300", "X-Amz-Expires=600");

        assertS3Error(sluice.send("GET", tamperedKey), 403, "SignatureDoesNotMatch", "/demo/private/a/y.csv");
        assertS3Error(sluice.send("GET", tamperedExpiry), 403, "SignatureDoesNotMatch", "/demo/private/a/x.csv");
    }

    @Test
    void anExpiredPresignedUrlIsAccessDenied() {
        Instant signedAt = Instant.now().minus(Duration.ofHours(2));
        String query = presignedQuery(READER_ID, READER_SECRET, "/demo/private/a/x.csv", signedAt, 60);

        SluiceUnderTest.RawResponse r = sluice.send("GET", "/demo/private/a/x.csv?" + query);

        assertS3Error(r, 403, "AccessDenied", "/demo/private/a/x.csv");
        assertThat(r.text()).contains("expired");
    }

    /** A presigned query built by hand, for times the SDK's presigner will not produce. */
    private static String presignedQuery(String id, String secret, String path, Instant at, int expires) {
        String scope = SigV4.credentialScope(SigV4.scopeDate(at), "us-east-1", "s3");
        String query = "X-Amz-Algorithm=AWS4-HMAC-SHA256"
                + "&X-Amz-Credential=" + id + "%2F" + scope.replace("/", "%2F")
                + "&X-Amz-Date=" + SigV4.amzDate(at)
                + "&X-Amz-Expires=" + expires
                + "&X-Amz-SignedHeaders=host";
        String host = sluice.s3Endpoint().getAuthority();
        String creq = SigV4.canonicalRequest("GET", path, query, List.of(Map.entry("host", host)), List.of("host"),
                SigV4.UNSIGNED_PAYLOAD);
        String sig = SigV4.signature(SigV4.signingKey(secret, SigV4.scopeDate(at), "us-east-1", "s3"),
                SigV4.stringToSign(at, "us-east-1", "s3", creq));
        return query + "&X-Amz-Signature=" + sig;
    }

    // --- header rejections on the wire ------------------------------------------------------------

    private static String[] signedHeaders(String path, Instant at, String secret, String payloadHash) {
        List<Map.Entry<String, String>> h = new RequestSigner("us-east-1", "s3").sign("GET",
                sluice.s3Endpoint().getAuthority(), path, "", List.of(), payloadHash,
                AwsCredentials.of(READER_ID, secret), at);
        List<String> flat = new ArrayList<>();
        for (Map.Entry<String, String> e : h) {
            flat.add(e.getKey());
            flat.add(e.getValue());
        }
        return flat.toArray(String[]::new);
    }

    @Test
    void aRequestSignedTwentyMinutesAgoIsRequestTimeTooSkewed() {
        String path = "/demo/private/a/x.csv";
        assertS3Error(sluice.send("GET", path, signedHeaders(path, Instant.now().minus(Duration.ofMinutes(20)), READER_SECRET,
                SigV4.EMPTY_SHA256)), 403, "RequestTimeTooSkewed", path);
        assertThat(sluice.send("GET", path, signedHeaders(path, Instant.now().minus(Duration.ofMinutes(10)), READER_SECRET,
                SigV4.EMPTY_SHA256)).status()).isEqualTo(200);
    }

    @Test
    void aDeclaredPayloadHashThatIsNotTheBodysIsRefused() {
        String path = "/demo/private/a/x.csv";
        String wrong = SigV4.sha256Hex("not the body".getBytes(StandardCharsets.UTF_8));
        assertS3Error(sluice.send("GET", path, signedHeaders(path, Instant.now(), READER_SECRET, wrong)), 400,
                "XAmzContentSHA256Mismatch", path);
        assertThat(sluice.send("GET", path, signedHeaders(path, Instant.now(), READER_SECRET, SigV4.UNSIGNED_PAYLOAD)).status())
                .isEqualTo(200);
    }

    @Test
    void malformedAuthorizationHeadersAreBadRequests() {
        String path = "/demo/hello/greeting.txt";
        for (String header : List.of(
                "AWS4-HMAC-SHA256 Credential=" + READER_ID + "/20261126/us-east-1/s3/aws4_request, SignedHeaders=host",
                "AWS4-HMAC-SHA256 garbage",
                "AWS " + READER_ID,
                "AWS4-HMAC-SHA256 Credential=x, SignedHeaders=host, Signature=zz")) {
            SluiceUnderTest.RawResponse r = sluice.send("GET", path, "Authorization", header, "x-amz-date", SigV4.amzDate(Instant.now()));
            assertThat(r.status()).as(header).isEqualTo(400);
            assertThat(S3ErrorAssert.parse(r.body()).code()).as(header).isIn("AuthorizationHeaderMalformed", "InvalidArgument",
                    "InvalidRequest");
        }
        // A well-formed SigV2 header is checked as one (InboundSigV2Test), never served as anonymous.
        assertS3Error(sluice.send("GET", path, "Authorization", "AWS " + READER_ID + ":c2lnbmF0dXJl", "x-amz-date",
                SigV4.amzDate(Instant.now())), 403, "SignatureDoesNotMatch", path);
    }

    @Test
    void headerAndQueryAuthTogetherAreRefused() {
        String path = "/demo/private/a/x.csv";
        String query = presignedQuery(READER_ID, READER_SECRET, path, Instant.now(), 60);
        SluiceUnderTest.RawResponse r = sluice.send("GET", path + "?" + query,
                signedHeaders(path, Instant.now(), READER_SECRET, SigV4.EMPTY_SHA256));
        assertThat(r.status()).isEqualTo(400);
    }

    // --- the access log -----------------------------------------------------------------------------

    @Test
    void theAccessLogNamesThePrincipalAndNeverASecretSignatureOrToken() throws InterruptedException {
        ch.qos.logback.classic.Logger access = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("sluice.access");
        // Lines are written by one thread after their responses, so an earlier test's may still
        // arrive here: this test's four are told by their request ids, and waited for (bounded).
        java.util.Set<String> ids = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.Map<String, String> logged = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.concurrent.BlockingQueue<String> arrived = new java.util.concurrent.LinkedBlockingQueue<>();
        ch.qos.logback.core.AppenderBase<ch.qos.logback.classic.spi.ILoggingEvent> lines = new ch.qos.logback.core.AppenderBase<>() {
            @Override
            protected void append(ch.qos.logback.classic.spi.ILoggingEvent e) {
                String line = e.getFormattedMessage();
                String id = line.replaceAll(".*\"request_id\":\"([^\"]*)\".*", "$1");
                logged.put(id, line);
                arrived.add(id);
            }
        };
        lines.start();
        ch.qos.logback.classic.Level before = access.getLevel();
        access.setLevel(ch.qos.logback.classic.Level.INFO);
        access.addAppender(lines);
        URI presigned = presign(READER_ID, READER_SECRET, "private/a/x.csv", Duration.ofMinutes(5));
        try {
            ids.add(requestId(as(READER_ID, READER_SECRET), "private/a/x.csv"));
            ids.add(requestId(sluice.anonymousClient(), "hello/greeting.txt"));
            ids.add(requestId(sluice.unknownKeyClient(), "hello/greeting.txt"));
            SluiceUnderTest.RawResponse raw = sluice.send("GET", pathAndQuery(presigned));
            assertThat(raw.status()).isEqualTo(200);
            ids.add(raw.header("x-amz-request-id").orElseThrow());
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
            while (!logged.keySet().containsAll(ids) && System.nanoTime() < deadline) {
                arrived.poll(Math.max(1, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
            }
        } finally {
            access.detachAppender(lines);
            access.setLevel(before);
        }

        assertThat(logged.keySet()).as("a line for each of the four requests").containsAll(ids);
        assertThat(ids.stream().map(logged::get).map(l -> l.replaceAll(".*\"principal\":\"([^\"]*)\".*", "$1")).sorted().toList())
                .containsExactly("access_key:reader", "access_key:reader", "anonymous", "unknown_key");
        List<String> mine = ids.stream().map(logged::get).toList();
        String signature = presigned.getRawQuery().replaceAll(".*X-Amz-Signature=([0-9a-f]+).*", "$1");
        assertThat(String.join("\n", mine)).doesNotContain(READER_SECRET).doesNotContain(signature)
                .doesNotContain("AKIDUNKNOWNTOSLUICE")
                .doesNotContain("X-Amz-").doesNotContain("Authorization");
    }

    @Test
    void metricsCountCallersByKindAndErrorsByCode() {
        get(as(READER_ID, READER_SECRET), "demo", "hello/greeting.txt");
        get(sluice.unknownKeyClient(), "demo", "hello/greeting.txt");
        assertSdkError(() -> get(as(READER_ID, "not-the-secret"), "demo", "hello/greeting.txt"), 403, "SignatureDoesNotMatch");

        // Counters are recorded once the response is out: wait (bounded) for the last one.
        String metrics = sluice.admin("/metrics").text();
        for (long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
             !metrics.contains("code=\"SignatureDoesNotMatch\"") && System.nanoTime() < deadline; ) {
            Thread.onSpinWait();
            metrics = sluice.admin("/metrics").text();
        }

        assertThat(metrics).containsPattern("sluice_callers_total\\{kind=\"access_key\"[^}]*\\} [1-9]")
                .containsPattern("sluice_callers_total\\{kind=\"unknown_key\"[^}]*\\} [1-9]")
                .containsPattern("sluice_errors_total\\{code=\"SignatureDoesNotMatch\"[^}]*\\} [1-9]")
                .doesNotContain(READER_ID);
    }

    // --- bodies of signed reads ---------------------------------------------------------------------

    /** A GET of {@code path} with a body that declares {@code declaredLength} bytes and sends {@code sent}. */
    private static SluiceUnderTest.RawResponse getWithBody(String path, int declaredLength, byte[] sent) throws Exception {
        URI endpoint = sluice.s3Endpoint();
        try (java.net.Socket socket = new java.net.Socket(endpoint.getHost(), endpoint.getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + endpoint.getAuthority()
                    + "\r\nAuthorization: AWS4-HMAC-SHA256 Credential=" + READER_ID + "/20261126/us-east-1/s3/aws4_request, "
                    + "SignedHeaders=host, Signature=" + "0".repeat(64)
                    + "\r\nContent-Length: " + declaredLength + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().write(sent);
            socket.getOutputStream().flush();
            return RawHttp.parse(socket.getInputStream().readAllBytes());
        }
    }

    @Test
    void aSignedReadWithABodyIsRefusedWithoutWaitingForTheBody() throws Exception {
        // 100 bytes declared, 10 sent: waiting for the rest would take the body timeout (1 s) and end in RequestTimeout.
        SluiceUnderTest.RawResponse r = getWithBody("/demo/private/a/x.csv", 100, new byte[10]);

        assertS3Error(r, 400, "InvalidRequest", "/demo/private/a/x.csv");
        assertThat(r.header("Connection")).hasValue("close");
    }

    @Test
    void aSignedReadWithABodyOver64KiBIsRefusedUnread() throws Exception {
        SluiceUnderTest.RawResponse r = getWithBody("/demo/private/a/x.csv", 70 * 1024, new byte[70 * 1024]);

        assertS3Error(r, 400, "InvalidRequest", "/demo/private/a/x.csv");
    }
}
