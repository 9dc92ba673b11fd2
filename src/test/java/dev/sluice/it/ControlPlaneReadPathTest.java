package dev.sluice.it;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.testing.S3ProxyProcess;
import dev.sluice.testing.TestControlPlane;
import dev.sluice.testing.TestSts;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.sluice.testing.TestControlPlane.ACCOUNT;
import static dev.sluice.testing.TestControlPlane.PRODUCTS;
import static dev.sluice.testing.TestControlPlane.fixtureJson;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sluice with {@code registry.type: control-plane}, end to end: the test control plane
 * describes the products, two S3Proxies hold the bytes (one open, standing in for a public
 * bucket read unsigned; one checking SigV4, reached with credentials the test STS issues for
 * {@code scv1:conn:vault-east} after verifying sluice's JWT against sluice's own JWKS), and an
 * AWS SDK client reads through sluice. Decoys beside each composed prefix prove that prefixes
 * are composed on the way out and stripped on the way back. Failure routes are checked over
 * raw HTTP for status, S3 XML body and deadline.
 */
class ControlPlaneReadPathTest {
    private static final String ROLE = "arn:aws:iam::111122223333:role/sluice-vault-east";
    private static final Duration API_TIMEOUT = Duration.ofSeconds(1);
    private static final String KEY_SECRET = "survey-secret-0123456789abcdefghijklmno";

    @TempDir
    static Path base;

    private static S3ProxyProcess open;
    private static S3ProxyProcess signed;
    private static TestControlPlane cp;
    private static TestSts sts;
    private static SluiceUnderTest sluice;
    private static S3Client s3;

    @BeforeAll
    static void start() throws Exception {
        open = S3ProxyProcess.startWithoutAuthorization();
        signed = S3ProxyProcess.start();
        S3Client openAdmin = open.client();
        openAdmin.createBucket(b -> b.bucket("open-data-west"));
        put(openAdmin, "open-data-west", "parks-dept/city-trees/trees.csv", "id,species\n1,oak\n");
        put(openAdmin, "open-data-west", "parks-dept/city-trees/2024/trees.csv", "id,species\n2,elm\n");
        put(openAdmin, "open-data-west", "parks-dept/city-trees-decoy.txt", "decoy");
        put(openAdmin, "open-data-west", "parks-dept/lidar-2024/backup-only.txt", "from the backup mirror");
        put(openAdmin, "open-data-west", "parks-dept/survey-raw/notes.txt", "field notes");
        S3Client signedAdmin = signed.client();
        signedAdmin.createBucket(b -> b.bucket("vault-east-archive"));
        put(signedAdmin, "vault-east-archive", "tenants/parks-dept/lidar/2024/tile-1.laz", "tile one");
        put(signedAdmin, "vault-east-archive", "tenants/parks-dept/lidar/2024/tiles/tile-2.laz", "tile two");
        put(signedAdmin, "vault-east-archive", "tenants/parks-dept/lidar/2024-decoy.txt", "decoy");
        put(signedAdmin, "vault-east-archive", "tenants/parks-dept/lidar/other.txt", "decoy");

        cp = new TestControlPlane();
        ObjectNode vault = fixtureJson("data-connection-federated.json");
        ((ObjectNode) vault.get("details")).put("endpoint", signed.endpoint().toString());
        cp.put(TestControlPlane.VAULT_EAST, vault.toString());
        // product variants for failure and fallback routes
        ObjectNode fallback = fixtureJson("product-federated.json").put("product_id", "lidar-backup");
        ((ObjectNode) fallback.get("metadata")).remove("primary_mirror");
        ObjectNode mirrors = (ObjectNode) fallback.get("metadata").get("mirrors");
        ObjectNode reordered = mirrors.objectNode();
        reordered.set("backup", mirrors.get("backup"));
        reordered.set("archive-east", mirrors.get("archive-east"));
        ((ObjectNode) fallback.get("metadata")).set("mirrors", reordered);
        cp.put(PRODUCTS + "/lidar-backup", fallback.toString());
        ObjectNode locked = fixtureJson("product-public.json").put("product_id", "locked");
        ((ObjectNode) locked.at("/metadata/mirrors/open-west")).put("connection_id", "bad-auth");
        cp.put(PRODUCTS + "/locked", locked.toString());
        ObjectNode badAuth = fixtureJson("data-connection-public.json").put("data_connection_id", "bad-auth");
        badAuth.putObject("authentication").put("type", "s3_access_key").put("access_key_id", "AKIA");
        cp.put("/api/v1/data-connections/bad-auth", badAuth.toString());
        ObjectNode azure = fixtureJson("product-public.json").put("product_id", "on-azure");
        ((ObjectNode) azure.at("/metadata/mirrors/open-west")).put("connection_id", "blob");
        cp.put(PRODUCTS + "/on-azure", azure.toString());
        ObjectNode blob = fixtureJson("data-connection-public.json").put("data_connection_id", "blob");
        blob.putObject("details").put("provider", "az").put("account_name", "acct").put("container_name", "c")
                .put("endpoint", "http://127.0.0.1:9/acct");
        blob.putObject("authentication").put("type", "s3_web_identity_role").put("role_arn", ROLE);
        cp.put("/api/v1/data-connections/blob", blob.toString());

        int port = freePort();
        String issuer = "http://127.0.0.1:" + port;
        sts = new TestSts(issuer, S3ProxyProcess.IDENTITY, S3ProxyProcess.CREDENTIAL)
                .role(ROLE, subject -> subject.equals("scv1:conn:vault-east"));
        String yaml = """
                server:
                  listen: "127.0.0.1:%d"
                  admin_listen: "127.0.0.1:0"
                oidc:
                  signing_key: { pem_env: SIGNING_KEY, kid: test-a }
                sts:
                  endpoint: "%s"
                  timeout: 3s
                registry:
                  type: control-plane
                  control_plane:
                    url: "%s"
                    s3_endpoint: "%s"
                    timeout: 1s
                inbound:
                  access_keys:
                    - access_key_id: AKIASURVEYOR000001
                      secret_access_key_env: KEY_SECRET
                      name: surveyor
                      scopes: [ { product: parks-dept/survey-raw, actions: [get_object, list_bucket] } ]
                    - access_key_id: AKIAVISITOR0000001
                      secret_access_key_env: KEY_SECRET
                      name: visitor
                """.formatted(port, sts.endpoint(), cp.url(), open.endpoint());
        sluice = SluiceUnderTest.start(yaml, Map.of("SIGNING_KEY", pem("test-rsa-a"), "KEY_SECRET", KEY_SECRET), base);
        // The API verifies sluice's JWTs against sluice's published JWKS, as a real one would.
        cp.trustJwksAt(java.net.URI.create(sluice.s3Endpoint() + "/.well-known/jwks.json"));
        s3 = sluice.anonymousClient();
    }

    @AfterAll
    static void stop() throws Exception {
        try (AutoCloseable a = open; AutoCloseable b = signed; AutoCloseable c = cp; AutoCloseable d = sts;
             AutoCloseable e = sluice) {
            // closed in reverse order, each whatever the others do
        }
    }

    @Test
    void aPublicProductIsReadUnsignedFromItsBucket() {
        assertThat(s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("city-trees/trees.csv")).asUtf8String())
                .isEqualTo("id,species\n1,oak\n");
    }

    @Test
    void aFederatedProductIsReadWithCredentialsFromSts() {
        assertThat(s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("lidar-2024/tile-1.laz")).asUtf8String()).isEqualTo("tile one");
        assertThat(s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("lidar-2024/tiles/tile-2.laz")).asUtf8String())
                .isEqualTo("tile two");

        assertThat(sts.exchanges(ROLE, "scv1:conn:vault-east")).isEqualTo(1);
        assertThat(sts.totalExchanges()).isEqualTo(1);
    }

    @Test
    void withoutAPrimaryMirrorTheFirstMirrorIsRead() {
        assertThat(s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("lidar-backup/backup-only.txt")).asUtf8String())
                .isEqualTo("from the backup mirror");
    }

    @Test
    void keysAreListedUnderTheComposedPrefixOnly() {
        ListObjectsV2Response lidar = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("lidar-2024/"));
        assertThat(lidar.contents()).extracting(S3Object::key)
                .containsExactly("lidar-2024/tile-1.laz", "lidar-2024/tiles/tile-2.laz");

        ListObjectsV2Response trees = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("city-trees/").delimiter("/"));
        assertThat(trees.contents()).extracting(S3Object::key).containsExactly("city-trees/trees.csv");
        assertThat(trees.commonPrefixes()).extracting(CommonPrefix::prefix).containsExactly("city-trees/2024/");
    }

    @Test
    void listBucketsIsEmptyAsTheApiCannotEnumerateAccounts() {
        assertThat(s3.listBuckets().buckets()).isEmpty();
    }

    @Test
    void anAccountListsItsProductsAsCommonPrefixes() {
        ListObjectsV2Response all = s3.listObjectsV2(b -> b.bucket(ACCOUNT).delimiter("/"));
        assertThat(all.commonPrefixes()).extracting(CommonPrefix::prefix).containsExactly("city-trees/", "lidar-2024/");
        assertThat(all.contents()).isEmpty();

        ListObjectsV2Response first = s3.listObjectsV2(b -> b.bucket(ACCOUNT).delimiter("/").maxKeys(1));
        assertThat(first.commonPrefixes()).extracting(CommonPrefix::prefix).containsExactly("city-trees/");
        assertThat(first.isTruncated()).isTrue();
        ListObjectsV2Response second = s3.listObjectsV2(b -> b.bucket(ACCOUNT).delimiter("/").maxKeys(1)
                .continuationToken(first.nextContinuationToken()));
        assertThat(second.commonPrefixes()).extracting(CommonPrefix::prefix).containsExactly("lidar-2024/");
        assertThat(second.isTruncated()).isFalse();

        ListObjectsV2Response after = s3.listObjectsV2(b -> b.bucket(ACCOUNT).delimiter("/").startAfter("city-trees/"));
        assertThat(after.commonPrefixes()).extracting(CommonPrefix::prefix).containsExactly("lidar-2024/");
    }

    @Test
    void anAccountListingWalksEveryProductsKeys() {
        ListObjectsV2Response all = s3.listObjectsV2(b -> b.bucket(ACCOUNT));
        assertThat(all.contents()).extracting(S3Object::key).containsExactly(
                "city-trees/2024/trees.csv", "city-trees/trees.csv", "lidar-2024/tile-1.laz", "lidar-2024/tiles/tile-2.laz");
    }

    // --- failure routes: status, S3 XML, deadline ----------------------------------------------

    @Test
    void anApi500IsServiceUnavailable() {
        var r = timed("/parks-dept/broken/x.txt");
        S3ErrorAssert.assertS3Error(r, 503, "ServiceUnavailable", "/parks-dept/broken/x.txt");
        assertThat(r.header("Retry-After")).isPresent();
    }

    @Test
    void anApiBodyThatIsNotJsonIsServiceUnavailable() {
        var r = timed("/parks-dept/garbled/x.txt");
        S3ErrorAssert.assertS3Error(r, 503, "ServiceUnavailable", "/parks-dept/garbled/x.txt");
        assertThat(r.header("Retry-After")).isPresent();
    }

    @Test
    void aHangingApiIsServiceUnavailableWithinItsTimeout() {
        var r = timed("/parks-dept/stuck/x.txt");
        S3ErrorAssert.assertS3Error(r, 503, "ServiceUnavailable", "/parks-dept/stuck/x.txt");
    }

    @Test
    void anUnknownProductIsNoSuchBucket() {
        S3ErrorAssert.assertS3Error(timed("/parks-dept/nothing-here/x.txt"), 404, "NoSuchBucket", "/parks-dept/nothing-here/x.txt");
    }

    @Test
    void aRestrictedProductIsNoSuchBucketToAnonymousCallers() {
        S3ErrorAssert.assertS3Error(timed("/parks-dept/survey-raw/x.txt"), 404, "NoSuchBucket", "/parks-dept/survey-raw/x.txt");
    }

    @Test
    void aRestrictedProductIsReadByAKeyWhoseNameTheApiIsToldAsTheSubject() {
        S3Client surveyor = sluice.client(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create("AKIASURVEYOR000001", KEY_SECRET)));

        String body = surveyor.getObject(b -> b.bucket(ACCOUNT).key("survey-raw/notes.txt"),
                software.amazon.awssdk.core.sync.ResponseTransformer.toBytes()).asUtf8String();

        assertThat(body).isEqualTo("field notes");
        assertThat(cp.verifiedSubjects()).contains("surveyor");
    }

    @Test
    void aRestrictedProductTheApiShowsToAKeyWithoutAScopeIsAccessDenied() {
        S3Client visitor = sluice.client(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create("AKIAVISITOR0000001", KEY_SECRET)));

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> visitor.getObject(b -> b.bucket(ACCOUNT).key("survey-raw/notes.txt"),
                        software.amazon.awssdk.core.sync.ResponseTransformer.toBytes()))
                .isInstanceOfSatisfying(software.amazon.awssdk.services.s3.model.S3Exception.class,
                        e -> assertThat(e.awsErrorDetails().errorCode()).isEqualTo("AccessDenied"));
        assertThat(cp.verifiedSubjects()).contains("visitor");
    }

    @Test
    void anUnsupportedConnectionAuthenticationIsBackendAuthenticationFailed() {
        S3ErrorAssert.assertS3Error(timed("/parks-dept/locked/trees.csv"), 502, "BackendAuthenticationFailed",
                "/parks-dept/locked/trees.csv");
    }

    @Test
    void anAzureConnectionWithAnAwsRoleIsBackendAuthenticationFailedNeverReadUnsigned() {
        S3ErrorAssert.assertS3Error(timed("/parks-dept/on-azure/x.txt"), 502, "BackendAuthenticationFailed",
                "/parks-dept/on-azure/x.txt");
    }

    @Test
    void anUnknownAccountIsNoSuchBucket() {
        S3ErrorAssert.assertS3Error(timed("/nobody?list-type=2"), 404, "NoSuchBucket", "/nobody");
    }

    /** A GET that must be answered within the API timeout plus slack: nothing hangs. */
    private static SluiceUnderTest.RawResponse timed(String pathAndQuery) {
        long started = System.nanoTime();
        SluiceUnderTest.RawResponse r = sluice.send("GET", pathAndQuery);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(API_TIMEOUT.plusSeconds(3));
        return r;
    }

    private static void put(S3Client admin, String bucket, String key, String content) {
        admin.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromString(content));
    }

    private static String pem(String name) throws IOException {
        try (InputStream in = ControlPlaneReadPathTest.class.getResourceAsStream("/keys/" + name + ".pem")) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    /** A port for sluice fixed before it starts: the test STS must know sluice's issuer URL up front. */
    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
