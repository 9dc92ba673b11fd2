package dev.sluice.it;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.it.SluiceUnderTest.RawResponse;
import dev.sluice.testing.AzuriteExtension;
import dev.sluice.testing.AzuriteProcess;
import dev.sluice.testing.IdentityFaults;
import dev.sluice.testing.LoopbackServer;
import dev.sluice.testing.TestControlPlane;
import dev.sluice.testing.TestEntra;
import dev.sluice.testing.TestGcs;
import dev.sluice.testing.TestGoogle;
import dev.sluice.testing.TestKeys;
import org.eclipse.jetty.io.Content;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static dev.sluice.it.S3ErrorAssert.assertS3Error;
import static dev.sluice.testing.TestControlPlane.ACCOUNT;
import static dev.sluice.testing.TestControlPlane.PRODUCTS;
import static dev.sluice.testing.TestControlPlane.fixtureJson;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sluice with {@code registry.type: control-plane} in front of Azure Blob and GCS, end to end,
 * with the test control plane's Azure and GCS fixtures ({@code aerial-2023} on connection
 * {@code azure-north}, {@code soil-samples} on {@code gcs-south}) pointed at local servers:
 *
 * <ul>
 *   <li>Azurite over HTTPS with bearer tokens checked ({@code --oauth basic}), its certificate
 *       trusted through {@code backend_tls.ca_file}, and the test Entra ID as the connection's
 *       {@code token_endpoint}: it verifies sluice's JWT against sluice's own JWKS and admits only
 *       the subject {@code scv1:conn:azure-north};</li>
 *   <li>the test GCS server, which admits only tokens the test Google issued to the connection's
 *       service account, with the test Google as {@code sts_endpoint} and {@code iam_endpoint}:
 *       its pool provider and the service account's workload identity binding admit only
 *       {@code scv1:conn:gcs-south}.</li>
 * </ul>
 *
 * An AWS SDK client reads and lists through sluice; failures are checked over raw HTTP for
 * status, S3 XML error and deadline (docs/control-plane.md, "Resolution"; docs/federation.md,
 * "Azure Blob and GCS tokens").
 */
class ControlPlaneCloudsTest {
    @RegisterExtension
    static final AzuriteExtension AZURITE = new AzuriteExtension();

    /** {@code sts.timeout}: the deadline of every token exchange. */
    static final Duration TOKEN_DEADLINE = Duration.ofSeconds(2);
    /** How long any answer may take: the deadline, {@code cache.credentials.max_wait}'s second beyond it, and slack. */
    static final Duration ANSWERED_WITHIN = TOKEN_DEADLINE.plusSeconds(3);

    static final String CONTAINER = "imagery";
    static final String BUCKET = "parks-dept-south";
    static final String AZURE_CLIENT = "8d4e6f2a-1b3c-4d5e-8f70-9a1b2c3d4e5f";
    static final String OTHER_CLIENT = "0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d";
    static final String POOL = "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/sluice-pool/providers/sluice-oidc";
    static final String SERVICE_ACCOUNT = "parks-reader@parks-dept-data.iam.gserviceaccount.com";

    @TempDir
    static Path base;

    static TestEntra entra;
    /** A second Entra ID, for the connections whose token endpoint is made to hang. */
    static TestEntra hangingEntra;
    static TestGoogle google;
    static TestGcs gcs;
    /** Stands in for an Azure account that must never be asked anything. */
    static LoopbackServer untouchedStore;
    static final AtomicInteger untouchedStoreRequests = new AtomicInteger();
    static TestControlPlane cp;
    static SluiceUnderTest sluice;
    static S3Client s3;

    @BeforeAll
    static void start() throws Exception {
        AzuriteProcess azurite = AZURITE.get();
        azurite.createContainer(CONTAINER, null);
        for (String[] blob : new String[][] {
                {"parks-dept/aerial/2023/tile-1.tif", "tile one"},
                {"parks-dept/aerial/2023/tiles/tile-2.tif", "tile two"},
                {"parks-dept/aerial/2023-decoy.txt", "decoy"},
                {"parks-dept/other.txt", "decoy"}}) {
            azurite.putBlob(CONTAINER, blob[0], blob[1].getBytes(StandardCharsets.UTF_8), "image/tiff", Map.of());
        }

        // The issuer is sluice's own URL, known once it listens: the providers are told afterwards.
        String unknownIssuer = "http://issuer-not-yet-known.invalid";
        entra = new TestEntra(unknownIssuer, "3f1c2a9e-5b7d-4c8e-9a1f-0d2e4b6c8a10")
                .application(AZURE_CLIENT, "scv1:conn:azure-north"::equals)
                .application(OTHER_CLIENT, "scv1:conn:somewhere-else"::equals);
        hangingEntra = new TestEntra(unknownIssuer, "3f1c2a9e-5b7d-4c8e-9a1f-0d2e4b6c8a10")
                .application(AZURE_CLIENT, s -> s.equals("scv1:conn:azure-warm") || s.equals("scv1:conn:azure-cold"));
        google = new TestGoogle(unknownIssuer)
                .pool(POOL, "scv1:conn:gcs-south"::equals)
                .serviceAccount(SERVICE_ACCOUNT, "scv1:conn:gcs-south"::equals);
        gcs = new TestGcs();
        gcs.bucket(BUCKET).requireTokens(t -> google.accepts(t)
                && google.issued(t).map(i -> i.principal().equals(SERVICE_ACCOUNT)).orElse(false));
        for (String[] object : new String[][] {
                {"field/soil/sample-1.csv", "id,ph\n1,6.5\n"},
                {"field/soil/2024/sample-2.csv", "id,ph\n2,7.1\n"},
                {"field/soil-decoy.txt", "decoy"}}) {
            gcs.put(BUCKET, object[0], object[1].getBytes(StandardCharsets.UTF_8), TestGcs.Attributes.of("text/csv"));
        }
        untouchedStore = new LoopbackServer((request, response, callback) -> {
            untouchedStoreRequests.incrementAndGet();
            response.setStatus(500);
            Content.Sink.write(response, true, "", callback);
        }, Duration.ZERO);

        cp = new TestControlPlane();
        ObjectNode azureNorth = azureConnection("azure-north", entra);
        cp.put(TestControlPlane.AZURE_NORTH, azureNorth.toString());
        ObjectNode gcsSouth = fixtureJson("data-connection-gcs-federated.json");
        ((ObjectNode) gcsSouth.get("details")).put("endpoint", gcs.endpoint().toString());
        ((ObjectNode) gcsSouth.get("authentication")).put("sts_endpoint", google.stsEndpoint().toString())
                .put("iam_endpoint", google.iamEndpoint().toString());
        cp.put(TestControlPlane.GCS_SOUTH, gcsSouth.toString());

        // Variants: a subject Entra ID refuses, two connections at a token endpoint made to hang,
        // and auth types that do not fit their provider.
        ObjectNode refused = azureConnection("azure-refused", entra);
        ((ObjectNode) refused.get("authentication")).put("client_id", OTHER_CLIENT);
        product("aerial-refused", refused);
        product("aerial-warm", azureConnection("azure-warm", hangingEntra));
        product("aerial-cold", azureConnection("azure-cold", hangingEntra));
        ObjectNode azureWithGoogle = azureConnection("azure-mismatched", entra);
        ((ObjectNode) azureWithGoogle.get("details")).put("endpoint", untouchedStore.url() + "/" + AzuriteProcess.ACCOUNT);
        azureWithGoogle.set("authentication", gcsSouth.get("authentication").deepCopy());
        product("aerial-mismatched", azureWithGoogle);
        ObjectNode gcsWithEntra = gcsSouth.deepCopy().put("data_connection_id", "gcs-mismatched");
        gcsWithEntra.set("authentication", azureNorth.get("authentication").deepCopy());
        product("soil-mismatched", gcsWithEntra);
        // The fixtures' product list names only the S3 products; a listing walks only listed ones.
        ObjectNode list = fixtureJson("product-list.json");
        list.putArray("products").add(fixtureJson("product-azure-federated.json"))
                .add(fixtureJson("product-gcs-federated.json"))
                .add(fixtureJson("product-gcs-federated.json").put("product_id", "soil-mismatched"));
        ((ObjectNode) list.at("/products/2/metadata/mirrors/gcs-south")).put("connection_id", "gcs-mismatched");
        cp.put(PRODUCTS, list.toString());

        String yaml = """
                server:
                  listen: "127.0.0.1:0"
                  admin_listen: "127.0.0.1:0"
                oidc:
                  signing_key: { pem_env: SIGNING_KEY, kid: test-a }
                sts:
                  timeout: %dms
                backend_tls:
                  ca_file: "%s"
                registry:
                  type: control-plane
                  control_plane:
                    url: "%s"
                    timeout: 2s
                """.formatted(TOKEN_DEADLINE.toMillis(), azurite.certificate(), cp.url());
        sluice = SluiceUnderTest.start(yaml, Map.of("SIGNING_KEY", TestKeys.pem("test-rsa-a")), base);
        String issuer = sluice.s3Endpoint().toString();
        entra.trustIssuer(issuer);
        hangingEntra.trustIssuer(issuer);
        google.trustIssuer(issuer);
        s3 = sluice.anonymousClient();
    }

    @AfterAll
    static void stop() throws Exception {
        try (AutoCloseable a = entra; AutoCloseable b = hangingEntra; AutoCloseable c = google; AutoCloseable d = gcs;
             AutoCloseable e = untouchedStore; AutoCloseable f = cp; AutoCloseable g = sluice) {
            // closed in reverse order, each whatever the others do
        }
    }

    /** The Azure fixture connection as {@code id}, in Azurite's account, getting tokens from {@code idp}. */
    private static ObjectNode azureConnection(String id, TestEntra idp) {
        ObjectNode c = fixtureJson("data-connection-azure-federated.json").put("data_connection_id", id);
        ((ObjectNode) c.get("details")).put("account_name", AzuriteProcess.ACCOUNT)
                .put("endpoint", AZURITE.get().endpoint().toString());
        ((ObjectNode) c.get("authentication")).put("token_endpoint", idp.tokenEndpoint().toString());
        return c;
    }

    /** Serves product {@code name} on {@code connection}, under the Azure or GCS fixture product's mirror prefix. */
    private static void product(String name, ObjectNode connection) {
        String id = connection.get("data_connection_id").asText();
        ObjectNode p = fixtureJson(id.startsWith("gcs") ? "product-gcs-federated.json" : "product-azure-federated.json")
                .put("product_id", name);
        ((ObjectNode) p.at("/metadata/mirrors").elements().next()).put("connection_id", id);
        cp.put(PRODUCTS + "/" + name, p.toString());
        cp.put("/api/v1/data-connections/" + id, connection.toString());
    }

    @Test
    void anAzureProductIsReadAndListedWithATokenEntraIssuedForItsConnection() {
        assertThat(s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("aerial-2023/tile-1.tif")).asUtf8String()).isEqualTo("tile one");
        assertThat(s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("aerial-2023/tiles/tile-2.tif")).asUtf8String())
                .isEqualTo("tile two");

        ListObjectsV2Response all = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("aerial-2023/"));
        assertThat(all.contents()).extracting(S3Object::key)
                .containsExactly("aerial-2023/tile-1.tif", "aerial-2023/tiles/tile-2.tif");
        ListObjectsV2Response top = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("aerial-2023/").delimiter("/"));
        assertThat(top.contents()).extracting(S3Object::key).containsExactly("aerial-2023/tile-1.tif");
        assertThat(top.commonPrefixes()).extracting(CommonPrefix::prefix).containsExactly("aerial-2023/tiles/");

        // Entra ID verified sluice's assertion and the subject the connection's credential names.
        assertThat(entra.exchanges(AZURE_CLIENT, "scv1:conn:azure-north")).isEqualTo(1);
    }

    @Test
    void aGcsProductIsReadAndListedWithTheServiceAccountsTokenFederatedForItsConnection() {
        assertThat(s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("soil-samples/sample-1.csv")).asUtf8String())
                .isEqualTo("id,ph\n1,6.5\n");

        ListObjectsV2Response all = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("soil-samples/"));
        assertThat(all.contents()).extracting(S3Object::key)
                .containsExactly("soil-samples/2024/sample-2.csv", "soil-samples/sample-1.csv");
        ListObjectsV2Response top = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("soil-samples/").delimiter("/"));
        assertThat(top.contents()).extracting(S3Object::key).containsExactly("soil-samples/sample-1.csv");
        assertThat(top.commonPrefixes()).extracting(CommonPrefix::prefix).containsExactly("soil-samples/2024/");

        // Google's STS verified the subject (the pool admits only it), then IAM let it impersonate.
        assertThat(google.issuedTokens()).map(t -> google.issued(t).orElseThrow().principal())
                .contains("principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/sluice-pool"
                        + "/providers/sluice-oidc/subject/scv1:conn:gcs-south", SERVICE_ACCOUNT);
        assertThat(google.exchanges("sts")).isEqualTo(1);
        assertThat(google.exchanges("iam")).isEqualTo(1);
    }

    @Test
    void manyConcurrentReadsMakeOneExchangePerConnection() throws Exception {
        int callers = 24;
        CountDownLatch go = new CountDownLatch(1);
        List<Future<String>> answers = new ArrayList<>();
        try (ExecutorService threads = Executors.newFixedThreadPool(callers)) {
            for (int i = 0; i < callers; i++) {
                String key = i % 2 == 0 ? "aerial-2023/tile-1.tif" : "soil-samples/sample-1.csv";
                answers.add(threads.submit(() -> {
                    go.await(10, TimeUnit.SECONDS);
                    return s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key(key)).asUtf8String();
                }));
            }
            go.countDown();
            for (int i = 0; i < callers; i++) {
                assertThat(answers.get(i).get(30, TimeUnit.SECONDS)).isEqualTo(i % 2 == 0 ? "tile one" : "id,ph\n1,6.5\n");
            }
        }
        for (int i = 0; i < 10; i++) {
            s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("aerial-2023/"));
            s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("soil-samples/"));
        }

        assertThat(entra.exchanges(AZURE_CLIENT, "scv1:conn:azure-north")).isEqualTo(1);
        assertThat(google.exchanges("sts")).isEqualTo(1);
        assertThat(google.exchanges("iam")).isEqualTo(1);
    }

    @Test
    void aSubjectEntraRefusesIsAccessDenied() {
        RawResponse r = timed(() -> sluice.send("GET", "/parks-dept/aerial-refused/tile-1.tif"));

        assertS3Error(r, 403, "AccessDenied", "/parks-dept/aerial-refused/tile-1.tif");
        assertThat(entra.errors()).contains("invalid_client");
        assertThat(entra.exchanges(OTHER_CLIENT, "scv1:conn:azure-refused")).isZero();
    }

    @Test
    void aHangingTokenEndpointIsServiceUnavailableWithinTheDeadlineAndSparesCachedTokens() throws Exception {
        assertThat(sluice.send("GET", "/parks-dept/aerial-warm/tile-1.tif").text()).isEqualTo("tile one");
        hangingEntra.faults().set(IdentityFaults.Fault.HANG);

        RawResponse cold = timed(() -> sluice.send("GET", "/parks-dept/aerial-cold/tile-1.tif"));
        assertS3Error(cold, 503, "ServiceUnavailable", "/parks-dept/aerial-cold/tile-1.tif");
        assertThat(cold.header("Retry-After")).isPresent();
        assertThat(hangingEntra.faults().awaitHanging(0)).as("the exchange reached the token endpoint and hung there").isTrue();
        RawResponse warm = timed(() -> sluice.send("GET", "/parks-dept/aerial-warm/tile-1.tif"));
        assertThat(warm.status()).isEqualTo(200);
        assertThat(warm.text()).isEqualTo("tile one");
        assertThat(hangingEntra.exchanges(AZURE_CLIENT, "scv1:conn:azure-warm")).isEqualTo(1);
    }

    @Test
    void anAuthTypeThatDoesNotFitTheProviderIsRefusedWithoutAskingTheStore() {
        int gcsRequests = gcs.requests();

        assertS3Error(timed(() -> sluice.send("GET", "/parks-dept/aerial-mismatched/tile-1.tif")), 502,
                "BackendAuthenticationFailed", "/parks-dept/aerial-mismatched/tile-1.tif");
        assertS3Error(timed(() -> sluice.send("GET", "/parks-dept/soil-mismatched/sample-1.csv")), 502,
                "BackendAuthenticationFailed", "/parks-dept/soil-mismatched/sample-1.csv");
        assertS3Error(timed(() -> sluice.send("GET", "/parks-dept?list-type=2&prefix=soil-mismatched%2F")), 502,
                "BackendAuthenticationFailed", "/parks-dept");

        assertThat(untouchedStoreRequests).hasValue(0);
        assertThat(gcs.requests()).isEqualTo(gcsRequests);
        assertThat(gcs.authorizations()).as("Authorization of every request the GCS server saw").noneMatch(String::isEmpty);
    }

    /** A request that must be answered within {@link #ANSWERED_WITHIN}: a deadline, not a benchmark. */
    private static RawResponse timed(Supplier<RawResponse> request) {
        long started = System.nanoTime();
        RawResponse r = request.get();
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        assertThat(took).as("answered after %s; the token deadline is %s", took, TOKEN_DEADLINE).isLessThan(ANSWERED_WITHIN);
        return r;
    }
}
