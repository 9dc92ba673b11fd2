package dev.sluice.it;

import static dev.sluice.it.S3ErrorAssert.assertS3Error;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.Version;
import dev.sluice.it.SluiceUnderTest.RawResponse;
import dev.sluice.sigv4.AwsCredentials;
import dev.sluice.sigv4.RequestSigner;
import dev.sluice.sigv4.SigV4;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.Bucket;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListBucketsResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * S3 behaviours that common clients rely on beyond plain reads and listings: ListBuckets at
 * the root, {@code +} in a query read as a space, {@code partNumber} and {@code versionId=null}
 * on reads, authentication of requests answered 501, content types of the data formats served,
 * virtual-hosted-style addressing, and the byte count of every response in the access log.
 * One real sluice over directories; AWS SDK v2 clients and raw HTTP.
 */
class S3CompatibilityTest {
    private static final String READER_ID = "AKIASLUICEREADER01";
    private static final String READER_SECRET = "reader-secret-0123456789abcdefghijklmnop";
    private static final String DOMAIN = "s3.example.test";
    private static final String GREETING = "hello, world\n";

    @TempDir
    static Path dir;
    static SluiceUnderTest sluice;

    @BeforeAll
    static void start() throws IOException {
        write("hello/greeting.txt", GREETING);
        write("hello/empty.txt", "");
        write("hello/a b/inside.txt", "inside a space\n");
        write("hello/a+b/plus.txt", "inside a plus\n");
        for (String name : List.of("places.geojson", "part-0.parquet", "dem.tif", "cube.nc", "roads.fgb", "tiles.pmtiles",
                "households.csv", "index.html", "cube.zarr/.zarray", "cube.zarr/.zattrs", "cube.zarr/.zgroup",
                "v3.zarr/zarr.json", "blob.unknownext")) {
            write("hello/formats/" + name, "x");
        }
        write("private/secret.txt", "secret\n");
        write("vault/hidden.txt", "hidden\n");
        write("pub/readme.txt", "open\n");
        String yaml = """
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0", virtual_host_domain: %s }
                registry:
                  products:
                    - { account: demo, product: hello, backend: { type: file, path: ./hello } }
                    - { account: demo, product: private, visibility: restricted, backend: { type: file, path: ./private } }
                    - { account: other, product: vault, visibility: restricted, backend: { type: file, path: ./vault } }
                    - { account: open, product: pub, backend: { type: file, path: ./pub } }
                inbound:
                  access_keys:
                    - access_key_id: %s
                      secret_access_key_env: READER_SECRET
                      name: reader
                      scopes:
                        - { product: "demo/*", actions: [get_object, head_object, list_bucket] }
                        - { product: "other/vault", actions: [get_object, list_bucket] }
                """.formatted(DOMAIN, READER_ID);
        sluice = SluiceUnderTest.start(yaml, Map.of("READER_SECRET", READER_SECRET), dir);
    }

    @AfterAll
    static void stop() throws Exception {
        if (sluice != null) {
            sluice.close();
        }
    }

    private static void write(String path, String content) throws IOException {
        Path p = dir.resolve(path);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
    }

    private static S3Client reader() {
        return sluice.client(StaticCredentialsProvider.create(AwsBasicCredentials.create(READER_ID, READER_SECRET)));
    }

    // --- ListBuckets ---------------------------------------------------------------------------

    @Test
    void listBucketsNamesTheAccountsWithAPublicProductToAnonymousCallers() {
        ListBucketsResponse r = sluice.anonymousClient().listBuckets();

        assertThat(r.buckets()).extracting(Bucket::name).containsExactly("demo", "open");
        assertThat(r.buckets()).extracting(Bucket::creationDate).containsOnly(Instant.EPOCH);
        assertThat(r.owner().id()).isEqualTo("sluice");
        assertThat(sluice.unknownKeyClient().listBuckets().buckets()).extracting(Bucket::name).containsExactly("demo", "open");
    }

    @Test
    void listBucketsAlsoNamesTheAccountsAKeysScopesCover() {
        assertThat(reader().listBuckets().buckets()).extracting(Bucket::name).containsExactly("demo", "open", "other");
    }

    @Test
    void listBucketsIsS3sXmlDocumentAndFiltersByPrefix() throws Exception {
        RawResponse r = sluice.send("GET", "/");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/xml"));
        Element root = xml(r.body());
        assertThat(root.getTagName()).isEqualTo("ListAllMyBucketsResult");
        assertThat(root.getNamespaceURI()).isEqualTo("http://s3.amazonaws.com/doc/2006-03-01/");
        assertThat(text(root, "Owner", "ID")).isEqualTo("sluice");
        assertThat(text(root, "Owner", "DisplayName")).isEqualTo("sluice");
        assertThat(names(root)).containsExactly("demo", "open");
        assertThat(root.getElementsByTagName("CreationDate").item(0).getTextContent()).isEqualTo("1970-01-01T00:00:00.000Z");

        assertThat(names(xml(sluice.send("GET", "/?prefix=o").body()))).containsExactly("open");
        assertThat(names(xml(sluice.send("GET", "/?prefix=nothing").body()))).isEmpty();
    }

    @Test
    void theServiceDescriptionIsTheRootAskedForJson() throws IOException {
        RawResponse r = sluice.send("GET", "/", "Accept", "application/json");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
        var json = new ObjectMapper().readTree(r.body());
        assertThat(json.path("name").asText()).isEqualTo("sluice");
        assertThat(json.path("version").asText()).isEqualTo(Version.current());
    }

    @Test
    void anStsCallOnTheRootIsStillAnStsCall() {
        // This server has no STS endpoint configured, so the call is refused as such rather than listed.
        assertS3Error(sluice.send("GET", "/?Action=AssumeRoleWithWebIdentity&Version=2011-06-15"), 501, "NotImplemented", "/");
    }

    // --- '+' in a query --------------------------------------------------------------------------

    @Test
    void aPlusInAQueryIsASpace() throws Exception {
        assertThat(keys(sluice.send("GET", "/demo?list-type=2&prefix=hello/a+b/"))).containsExactly("hello/a b/inside.txt");
        assertThat(keys(sluice.send("GET", "/demo?list-type=2&prefix=hello/a%20b/"))).containsExactly("hello/a b/inside.txt");
        assertThat(keys(sluice.send("GET", "/demo?list-type=2&prefix=hello/a%2Bb/"))).containsExactly("hello/a+b/plus.txt");
        assertThat(keys(sluice.send("GET", "/demo?prefix=hello/a+b/"))).containsExactly("hello/a b/inside.txt");
        // Response overrides are for signed requests only (anonymous ones are refused, as by S3).
        String override = "response-content-disposition=attachment%3B+filename%3Dg+h.txt";
        RawResponse overridden = sluice.send("GET", "/demo/hello/greeting.txt?" + override,
                signed("GET", "/demo/hello/greeting.txt", override, sluice.s3Endpoint().getAuthority()));
        assertThat(overridden.status()).as(overridden.text()).isEqualTo(200);
        assertThat(overridden.header("Content-Disposition")).hasValue("attachment; filename=g h.txt");
    }

    @Test
    void aSignedQueryWithAPlusIsVerifiedAsSentAndReadAsASpace() throws Exception {
        String query = "list-type=2&prefix=hello%2Fa+b%2F";

        RawResponse r = sluice.send("GET", "/demo?" + query, signed("GET", "/demo", query, sluice.s3Endpoint().getAuthority()));

        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(keys(r)).containsExactly("hello/a b/inside.txt");
        // Signed with '+', sent with '%20': the same listing, but not the query that was signed.
        assertS3Error(sluice.send("GET", "/demo?list-type=2&prefix=hello%2Fa%20b%2F",
                signed("GET", "/demo", query, sluice.s3Endpoint().getAuthority())), 403, "SignatureDoesNotMatch", "/demo");
    }

    // --- partNumber ------------------------------------------------------------------------------

    @Test
    void partOneOfAnObjectIsTheWholeObjectAsARange() {
        S3Client s3 = sluice.anonymousClient();

        ResponseBytes<GetObjectResponse> part = s3.getObjectAsBytes(b -> b.bucket("demo").key("hello/greeting.txt").partNumber(1));

        assertThat(part.asUtf8String()).isEqualTo(GREETING);
        assertThat(part.response().sdkHttpResponse().statusCode()).isEqualTo(206);
        assertThat(part.response().contentRange()).isEqualTo("bytes 0-12/13");
        assertThat(part.response().partsCount()).isNull();
        HeadObjectResponse head = s3.headObject(b -> b.bucket("demo").key("hello/greeting.txt").partNumber(1));
        assertThat(head.contentLength()).isEqualTo(13);
        assertThat(head.partsCount()).isNull();
    }

    @Test
    void partOneOfAnEmptyObjectIsTheEmptyObject() {
        RawResponse r = sluice.send("GET", "/demo/hello/empty.txt?partNumber=1");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEmpty();
    }

    @Test
    void anotherPartIsInvalidPartNumberOnceTheObjectIsKnown() {
        assertS3Error(sluice.send("GET", "/demo/hello/greeting.txt?partNumber=2"), 416, "InvalidPartNumber",
                "/demo/hello/greeting.txt");
        assertThat(sluice.send("HEAD", "/demo/hello/greeting.txt?partNumber=10000").status()).isEqualTo(416);
        assertThatThrownBy(() -> sluice.anonymousClient().getObjectAsBytes(b -> b.bucket("demo").key("hello/greeting.txt").partNumber(2)))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InvalidPartNumber"));
        assertS3Error(sluice.send("GET", "/demo/hello/missing.txt?partNumber=2"), 404, "NoSuchKey", "/demo/hello/missing.txt");
        assertS3Error(sluice.send("GET", "/demo/private/secret.txt?partNumber=1"), 404, "NoSuchBucket", "/demo/private/secret.txt");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-1", "10001", "one", ""})
    void aPartNumberOutsideOneToTenThousandIsInvalidArgument(String value) {
        String path = "/demo/hello/greeting.txt";
        assertS3Error(sluice.send("GET", path + "?partNumber=" + value), 400, "InvalidArgument", path);
    }

    @Test
    void aPartNumberWithARangeIsInvalidRequest() {
        String path = "/demo/hello/greeting.txt";
        assertS3Error(sluice.send("GET", path + "?partNumber=1", "Range", "bytes=0-3"), 400, "InvalidRequest", path);
    }

    @Test
    void theSdksMultipartDownloadReadsAnObjectThroughPartNumbers() {
        List<String> lines = accessLogOf(() -> {
            try (S3AsyncClient async = S3AsyncClient.builder()
                    .endpointOverride(sluice.s3Endpoint())
                    .forcePathStyle(true)
                    .region(Region.US_EAST_1)
                    .credentialsProvider(AnonymousCredentialsProvider.create())
                    .multipartEnabled(true)
                    .build()) {
                ResponseBytes<GetObjectResponse> r = async.getObject(b -> b.bucket("demo").key("hello/greeting.txt"),
                        AsyncResponseTransformer.toBytes()).get(30, TimeUnit.SECONDS);
                assertThat(r.asUtf8String()).isEqualTo(GREETING);
            } catch (Exception e) {
                throw new AssertionError("multipart download failed", e);
            }
        }, 1, line -> line.contains("\"operation\":\"GetObject\""));

        // The downloader asks for part 1 and, told of no other part, has the whole object.
        assertThat(lines.get(0)).contains("\"status\":206");
    }

    // --- versionId -------------------------------------------------------------------------------

    @Test
    void versionIdNullReadsTheCurrentObject() {
        RawResponse get = sluice.send("GET", "/demo/hello/greeting.txt?versionId=null");
        assertThat(get.status()).isEqualTo(200);
        assertThat(get.text()).isEqualTo(GREETING);
        assertThat(sluice.send("HEAD", "/demo/hello/greeting.txt?versionId=null").status()).isEqualTo(200);
        assertThat(sluice.anonymousClient().getObjectAsBytes(b -> b.bucket("demo").key("hello/greeting.txt").versionId("null"))
                .asUtf8String()).isEqualTo(GREETING);
    }

    @Test
    void anotherVersionIdIsInvalidArgumentAsOnAnUnversionedBucket() {
        String path = "/demo/hello/greeting.txt";
        S3ErrorAssert.ErrorDocument doc = assertS3Error(sluice.send("GET", path + "?versionId=3HL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY"),
                400, "InvalidArgument", path);
        assertThat(doc.message()).isEqualTo("Invalid version id specified");
        assertThat(sluice.send("HEAD", path + "?versionId=abc").status()).isEqualTo(400);
    }

    // --- 501 after authentication -----------------------------------------------------------------

    @Test
    void anUnsupportedRequestWithAWrongSignatureIsSignatureDoesNotMatch() {
        String path = "/demo/hello/greeting.txt";
        String[] headers = signed("GET", path, "acl", sluice.s3Endpoint().getAuthority());
        assertS3Error(sluice.send("GET", path + "?acl", tamper(headers)), 403, "SignatureDoesNotMatch", path);
        assertS3Error(sluice.send("DELETE", path, signed("GET", path, "", sluice.s3Endpoint().getAuthority())), 403,
                "SignatureDoesNotMatch", path);
    }

    @Test
    void anUnsupportedRequestWithAValidSignatureIsNotImplementedAndLoggedWithItsPrincipal() {
        String path = "/demo/hello/greeting.txt";
        List<String> lines = accessLogOf(() -> {
            assertS3Error(sluice.send("GET", path + "?acl", signed("GET", path, "acl", sluice.s3Endpoint().getAuthority())),
                    501, "NotImplemented", path);
            assertS3Error(sluice.send("GET", path + "?acl"), 501, "NotImplemented", path);
        }, 2, line -> line.contains("\"operation\":\"Unsupported\""));

        assertThat(lines.stream().map(l -> l.replaceAll(".*\"principal\":\"([^\"]*)\".*", "$1")).sorted().toList())
                .containsExactly("access_key:reader", "anonymous");
    }

    @Test
    void aWriteTheCallerMayNotMakeIsRefusedWithoutReadingItsBody() {
        // A signed PUT declaring a 100 MiB body, of which nothing is sent, by a key that may only
        // read: answered at once, so the body was not waited for (docs/writes.md, "Who may write").
        String path = "/demo/hello/new.bin";
        String declared = SigV4.sha256Hex("a body that is never sent".getBytes(StandardCharsets.UTF_8));
        String host = sluice.s3Endpoint().getAuthority();
        List<Map.Entry<String, String>> h = new RequestSigner("us-east-1", "s3").sign("PUT", host, path, "",
                List.of(), declared, AwsCredentials.of(READER_ID, READER_SECRET), Instant.now());
        List<String> headers = new ArrayList<>(List.of("Host", host, "Content-Length", Long.toString(100L << 20)));
        h.forEach(e -> {
            headers.add(e.getKey());
            headers.add(e.getValue());
        });

        RawResponse r = socket("PUT", path, headers.toArray(String[]::new));

        assertS3Error(r, 403, "AccessDenied", path);
    }

    // --- content types ---------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
        places.geojson         | application/geo+json
        part-0.parquet         | application/vnd.apache.parquet
        dem.tif                | image/tiff; application=geotiff
        cube.nc                | application/x-netcdf
        roads.fgb              | application/vnd.flatgeobuf
        tiles.pmtiles          | application/vnd.pmtiles
        households.csv         | text/csv
        index.html             | text/html
        cube.zarr/.zarray      | application/json
        cube.zarr/.zattrs      | application/json
        cube.zarr/.zgroup      | application/json
        v3.zarr/zarr.json      | application/json
        blob.unknownext        | application/octet-stream
        """)
    void getAndHeadCarryTheContentTypeOfTheFormat(String name, String type) {
        String path = "/demo/hello/formats/" + name;
        assertThat(sluice.send("GET", path).header("Content-Type")).hasValue(type);
        assertThat(sluice.send("HEAD", path).header("Content-Type")).hasValue(type);
    }

    // --- virtual-hosted style --------------------------------------------------------------------

    @Test
    void aHostNamingAnAccountAddressesIt() throws Exception {
        RawResponse get = socket("GET", "/hello/greeting.txt", "Host", "demo." + DOMAIN);
        assertThat(get.status()).isEqualTo(200);
        assertThat(get.text()).isEqualTo(GREETING);

        RawResponse list = socket("GET", "/?list-type=2&prefix=hello/a+b/", "Host", "demo." + DOMAIN + ":" + sluice.s3Endpoint().getPort());
        assertThat(list.status()).isEqualTo(200);
        assertThat(keys(list)).containsExactly("hello/a b/inside.txt");
        assertThat(xml(list.body()).getElementsByTagName("Name").item(0).getTextContent()).isEqualTo("demo");

        assertThat(socket("HEAD", "/", "Host", "DEMO." + DOMAIN.toUpperCase()).status()).isEqualTo(200);
        assertS3Error(socket("GET", "/hello/greeting.txt", "Host", "nobody." + DOMAIN), 404, "NoSuchBucket", "/hello/greeting.txt");
    }

    @Test
    void theBareDomainAndOtherHostsArePathStyle() throws Exception {
        assertThat(socket("GET", "/demo/hello/greeting.txt", "Host", DOMAIN).text()).isEqualTo(GREETING);
        assertThat(socket("GET", "/demo/hello/greeting.txt", "Host", "demo.elsewhere.test").text()).isEqualTo(GREETING);
        assertThat(sluice.send("GET", "/demo/hello/greeting.txt").text()).isEqualTo(GREETING);
        assertThat(names(xml(socket("GET", "/", "Host", DOMAIN).body()))).containsExactly("demo", "open");
    }

    @Test
    void aVirtualHostedSigV2UrlIsVerifiedOverTheBucketAndPath() throws Exception {
        // SigV2 signs "/{bucket}/{key}" whatever the addressing: botocore's HmacV1QueryAuth for a
        // virtual-hosted URL puts the bucket from the host back in front of the path.
        String host = "demo." + DOMAIN + ":" + sluice.s3Endpoint().getPort();
        long expires = Instant.now().plusSeconds(300).getEpochSecond();
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA1");
        mac.init(new javax.crypto.spec.SecretKeySpec(READER_SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
        String signature = java.util.Base64.getEncoder().encodeToString(
                mac.doFinal(("GET\n\n\n" + expires + "\n/demo/private/secret.txt").getBytes(StandardCharsets.UTF_8)));
        String query = "AWSAccessKeyId=" + READER_ID + "&Expires=" + expires + "&Signature="
                + java.net.URLEncoder.encode(signature, StandardCharsets.UTF_8);

        RawResponse r = socket("GET", "/private/secret.txt?" + query, "Host", host);

        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.text()).isEqualTo("secret\n");
    }

    @Test
    void aVirtualHostedRequestIsVerifiedOverThePathAndHostAsSent() {
        String host = "demo." + DOMAIN + ":" + sluice.s3Endpoint().getPort();
        String[] headers = concat(new String[]{"Host", host}, signed("GET", "/private/secret.txt", "", host));

        RawResponse r = socket("GET", "/private/secret.txt", headers);

        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.text()).isEqualTo("secret\n");
        // Signed for the path-style form of the same object: not what was sent.
        String[] pathStyle = concat(new String[]{"Host", host}, signed("GET", "/demo/private/secret.txt", "", host));
        assertS3Error(socket("GET", "/private/secret.txt", pathStyle), 403, "SignatureDoesNotMatch", "/private/secret.txt");
    }

    // --- byte counts ---------------------------------------------------------------------------------

    @Test
    void everyResponsesBytesAreCountedInTheAccessLog() {
        List<RawResponse> responses = new ArrayList<>();
        List<String> lines = accessLogOf(() -> {
            responses.add(sluice.send("GET", "/"));
            responses.add(sluice.send("GET", "/", "Accept", "application/json"));
            responses.add(sluice.send("GET", "/demo?location"));
        }, 3, line -> line.matches(".*\"operation\":\"(ListBuckets|ServiceInfo|GetBucketLocation)\".*"));

        List<Long> logged = lines.stream().map(l -> Long.parseLong(l.replaceAll(".*\"bytes\":(\\d+).*", "$1"))).sorted().toList();
        assertThat(logged).containsExactlyElementsOf(responses.stream().map(r -> (long) r.body().length).sorted().toList());
        assertThat(logged).allSatisfy(b -> assertThat(b).isPositive());
    }

    // --- helpers ---------------------------------------------------------------------------------

    /** SigV4 headers for a GET/DELETE of {@code path} with {@code query} (as it will be sent) by the reader key. */
    private static String[] signed(String method, String path, String query, String host) {
        List<Map.Entry<String, String>> h = new RequestSigner("us-east-1", "s3").sign(method, host, path, query, List.of(),
                SigV4.EMPTY_SHA256, AwsCredentials.of(READER_ID, READER_SECRET), Instant.now());
        List<String> flat = new ArrayList<>();
        for (Map.Entry<String, String> e : h) {
            flat.add(e.getKey());
            flat.add(e.getValue());
        }
        return flat.toArray(String[]::new);
    }

    /** The same headers with the signature's last hex digit changed. */
    private static String[] tamper(String[] headers) {
        String[] out = headers.clone();
        for (int i = 0; i < out.length; i += 2) {
            if (out[i].equalsIgnoreCase("Authorization")) {
                String v = out[i + 1];
                out[i + 1] = v.substring(0, v.length() - 1) + (v.endsWith("0") ? "1" : "0");
            }
        }
        return out;
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = new String[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /**
     * A request written onto a socket, for headers java.net.http will not set (Host). Without a
     * Host among {@code headers} the listener's own address is sent. The response is read until
     * the server closes the connection, within a 10 s socket timeout.
     */
    private static RawResponse socket(String method, String pathAndQuery, String... headers) {
        URI endpoint = sluice.s3Endpoint();
        StringBuilder head = new StringBuilder(method + " " + pathAndQuery + " HTTP/1.1\r\n");
        boolean host = false;
        for (int i = 0; i < headers.length; i += 2) {
            host |= headers[i].equalsIgnoreCase("Host");
            head.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        }
        if (!host) {
            head.append("Host: ").append(endpoint.getAuthority()).append("\r\n");
        }
        head.append("Connection: close\r\n\r\n");
        try (Socket socket = new Socket(endpoint.getHost(), endpoint.getPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            RawResponse r = RawHttp.parse(all.toByteArray());
            return method.equals("HEAD") ? new RawResponse(r.status(), r.headers(), new byte[0]) : r;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The access-log lines matching {@code which} written while {@code requests} ran (waits, bounded, for {@code count}). */
    private static List<String> accessLogOf(Runnable requests, int count, Predicate<String> which) {
        ch.qos.logback.classic.Logger access = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("sluice.access");
        CountDownLatch written = new CountDownLatch(count);
        List<String> logged = new CopyOnWriteArrayList<>();
        ch.qos.logback.core.AppenderBase<ch.qos.logback.classic.spi.ILoggingEvent> lines = new ch.qos.logback.core.AppenderBase<>() {
            @Override
            protected void append(ch.qos.logback.classic.spi.ILoggingEvent e) {
                String line = e.getFormattedMessage();
                if (which.test(line)) {
                    logged.add(line);
                    written.countDown();
                }
            }
        };
        lines.start();
        ch.qos.logback.classic.Level before = access.getLevel();
        access.setLevel(ch.qos.logback.classic.Level.INFO);
        access.addAppender(lines);
        try {
            requests.run();
            // A line is written after its response is sent, so it may lag the client.
            assertThat(written.await(10, TimeUnit.SECONDS)).as("%d access-log lines", count).isTrue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            access.detachAppender(lines);
            access.setLevel(before);
        }
        assertThat(logged).hasSize(count);
        return List.copyOf(logged);
    }

    private static Element xml(byte[] body) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            Document d = f.newDocumentBuilder().parse(new ByteArrayInputStream(body));
            return d.getDocumentElement();
        } catch (Exception e) {
            throw new AssertionError("not XML: " + new String(body, StandardCharsets.UTF_8), e);
        }
    }

    private static String text(Element root, String parent, String child) {
        Element p = (Element) root.getElementsByTagName(parent).item(0);
        return p.getElementsByTagName(child).item(0).getTextContent();
    }

    private static List<String> names(Element root) {
        List<String> out = new ArrayList<>();
        NodeList buckets = root.getElementsByTagName("Bucket");
        for (int i = 0; i < buckets.getLength(); i++) {
            out.add(((Element) buckets.item(i)).getElementsByTagName("Name").item(0).getTextContent());
        }
        return out;
    }

    private static List<String> keys(RawResponse r) {
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        List<String> out = new ArrayList<>();
        NodeList contents = xml(r.body()).getElementsByTagName("Contents");
        for (int i = 0; i < contents.getLength(); i++) {
            out.add(((Element) contents.item(i)).getElementsByTagName("Key").item(0).getTextContent());
        }
        return out;
    }
}
