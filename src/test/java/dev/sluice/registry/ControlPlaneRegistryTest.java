package dev.sluice.registry;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sluice.backend.Backend;
import dev.sluice.backend.AzureAuth;
import dev.sluice.backend.GcsAuth;
import dev.sluice.backend.TokenGrant;
import dev.sluice.backend.BackendAuth;
import dev.sluice.backend.BackendSpec;
import dev.sluice.backend.Backends;
import dev.sluice.time.Ticker;
import dev.sluice.federation.OidcProvider;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.testing.StubBackend;
import dev.sluice.testing.MutableClock;
import dev.sluice.testing.TestControlPlane;
import dev.sluice.testing.TestKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.eclipse.jetty.client.HttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.sluice.testing.TestControlPlane.ACCOUNT;
import static dev.sluice.testing.TestControlPlane.CITY_TREES;
import static dev.sluice.testing.TestControlPlane.LIDAR;
import static dev.sluice.testing.TestControlPlane.OPEN_WEST;
import static dev.sluice.testing.TestControlPlane.PRODUCTS;
import static dev.sluice.testing.TestControlPlane.VAULT_EAST;
import static dev.sluice.testing.TestControlPlane.fixtureJson;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The control-plane registry against a real HTTP control plane serving the fixtures, with a
 * controlled clock: every rule of {@code testdata/control-plane/README.md} as its own test,
 * then caching, failures, identity on the wire, listings and permissions. Backends are
 * recorded instead of built; reading bytes through them is {@code ControlPlaneReadPathTest}'s job.
 */
class ControlPlaneRegistryTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(1);
    private static final String S3_ENDPOINT = "http://s3.test:9000";

    private final MutableClock clock = new MutableClock(Instant.now().truncatedTo(ChronoUnit.SECONDS));
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final List<BackendSpec> built = new CopyOnWriteArrayList<>();
    private ExecutorService loads;
    private TestControlPlane cp;
    private HttpClient http;
    private OidcProvider oidc;
    private ControlPlaneRegistry registry;

    @BeforeEach
    void start() throws Exception {
        loads = Executors.newVirtualThreadPerTaskExecutor();
        cp = new TestControlPlane();
        http = new HttpClient();
        http.start();
        oidc = new OidcProvider("http://sluice.test", TestKeys.load("test-rsa-a", "kid-a"), Optional.empty(), clock);
        cp.trustJwks(oidc.jwksDocument());
        registry = registry(Optional.of(S3_ENDPOINT));
    }

    private ControlPlaneRegistry registry(Optional<String> s3Endpoint) {
        return new ControlPlaneRegistry(new ControlPlaneApi(http, cp.url(), Optional.of(oidc), TIMEOUT),
                new ControlPlaneRegistry.Settings(s3Endpoint, Duration.ofSeconds(300), Duration.ofSeconds(300),
                        Duration.ofSeconds(60), Duration.ofSeconds(60), TIMEOUT, Duration.ofMinutes(10)),
                location -> {
                    built.add(location);
                    return new StubBackend<>(location);
                }, clock, loads, () -> 0.0, meters);
    }

    @AfterEach
    void stop() throws Exception {
        registry.close();
        http.stop();
        cp.close();
        loads.shutdownNow();
    }

    private static Caller anonymous() {
        return Caller.anonymous("req-1");
    }

    private static ProductRef ref(String product) {
        return new ProductRef(ACCOUNT, product);
    }

    private Optional<Product> find(String product) {
        return registry.find(ref(product), anonymous());
    }

    private BackendSpec.S3 locate(String product) {
        return (BackendSpec.S3) registry.locate(ref(product), anonymous()).orElseThrow();
    }

    /** Serves {@code doc} as product {@code name}. */
    private void product(String name, ObjectNode doc) {
        cp.put(PRODUCTS + "/" + name, doc.toString());
    }

    private static void assertS3Error(ThrowingCallable call, S3Error expected) {
        assertThatThrownBy(call).isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(expected));
    }

    // --- README: visibility --------------------------------------------------------------------

    @Test
    void publicVisibilityIsPublic() {
        assertThat(find("city-trees")).hasValueSatisfying(p -> assertThat(p.visibility()).isEqualTo(Visibility.PUBLIC));
    }

    @ParameterizedTest
    @ValueSource(strings = {"<missing>", "restricted", "unlisted", "Public", "internal"})
    void anyVisibilityOtherThanPublicIsNotPublic(String visibility) {
        ObjectNode doc = fixtureJson("product-public.json");
        if (visibility.equals("<missing>")) {
            doc.remove("visibility");
        } else {
            doc.put("visibility", visibility);
        }
        product("odd", doc);

        assertThat(find("odd")).hasValueSatisfying(p -> assertThat(p.visibility()).isEqualTo(Visibility.RESTRICTED));
        assertThat(built).as("a product not public is not resolved for a caller who may not see it").isEmpty();
    }

    // --- README: disabled ----------------------------------------------------------------------

    @Test
    void disabledProductsAreNotServed() {
        ObjectNode doc = fixtureJson("product-public.json").put("disabled", true);
        product("off", doc);

        assertThat(find("off")).isEmpty();
    }

    @Test
    void aDisabledFlagThatIsNotFalseCountsAsDisabled() {
        product("odd", fixtureJson("product-public.json").put("disabled", "yes"));

        assertThat(find("odd")).isEmpty();
    }

    // --- README: mirrors -----------------------------------------------------------------------

    @Test
    void thePrimaryMirrorIsUsed() {
        assertThat(locate("lidar-2024").bucket()).isEqualTo("vault-east-archive");
    }

    @Test
    void withoutAPrimaryMirrorTheFirstIsUsed() {
        ObjectNode doc = fixtureJson("product-federated.json");
        ((ObjectNode) doc.get("metadata")).remove("primary_mirror");
        // make the document's first mirror the public one, so "first" is not also "primary"
        ObjectNode mirrors = (ObjectNode) doc.get("metadata").get("mirrors");
        ObjectNode reordered = JsonNodeFactory.instance.objectNode();
        reordered.set("backup", mirrors.get("backup"));
        reordered.set("archive-east", mirrors.get("archive-east"));
        ((ObjectNode) doc.get("metadata")).set("mirrors", reordered);
        product("no-primary", doc);

        BackendSpec.S3 l = locate("no-primary");
        assertThat(l.bucket()).isEqualTo("open-data-west");
        assertThat(l.prefix()).isEqualTo("parks-dept/lidar-2024/");
    }

    @Test
    void aPrimaryMirrorNamingNoMirrorFallsBackToTheFirst() {
        ObjectNode doc = fixtureJson("product-federated.json");
        ((ObjectNode) doc.get("metadata")).put("primary_mirror", "gone");
        product("dangling", doc);

        assertThat(locate("dangling").bucket()).isEqualTo("vault-east-archive");
    }

    @Test
    void aProductWithoutMirrorsIsAnError() {
        ObjectNode doc = fixtureJson("product-public.json");
        ((ObjectNode) doc.get("metadata")).set("mirrors", JsonNodeFactory.instance.objectNode());
        product("nowhere", doc);

        assertS3Error(() -> find("nowhere"), S3Error.BACKEND_AUTHENTICATION_FAILED);
    }

    // --- README: prefix ------------------------------------------------------------------------

    @Test
    void theBackendPrefixIsBasePrefixThenMirrorPrefix() {
        assertThat(locate("lidar-2024").prefix()).isEqualTo("tenants/parks-dept/lidar/2024/");
        assertThat(locate("city-trees").prefix()).isEqualTo("parks-dept/city-trees/");
    }

    // --- README: read_only ---------------------------------------------------------------------

    @Test
    void aConnectionWithoutReadOnlyIsRejected() {
        cp.put(OPEN_WEST, fixtureJson("data-connection-public.json").without("read_only").toString());

        assertS3Error(() -> find("city-trees"), S3Error.BACKEND_AUTHENTICATION_FAILED);
        assertThat(built).isEmpty();
    }

    @Test
    void aReadOnlyThatIsNotABooleanIsRejected() {
        cp.put(OPEN_WEST, fixtureJson("data-connection-public.json").put("read_only", "true").toString());

        assertS3Error(() -> find("city-trees"), S3Error.BACKEND_AUTHENTICATION_FAILED);
    }

    // --- README: authentication ----------------------------------------------------------------

    @Test
    void absentAuthenticationReadsUnsigned() {
        assertThat(locate("city-trees").auth()).isEqualTo(new BackendAuth.Anonymous());
    }

    @Test
    void nullAuthenticationReadsUnsigned() {
        ObjectNode conn = fixtureJson("data-connection-public.json");
        conn.putNull("authentication");
        cp.put(OPEN_WEST, conn.toString());

        assertThat(locate("city-trees").auth()).isEqualTo(new BackendAuth.Anonymous());
    }

    @Test
    void webIdentityRoleFederatesAsTheDataConnection() {
        assertThat(locate("lidar-2024").auth()).isEqualTo(new BackendAuth.WebIdentity(
                "arn:aws:iam::111122223333:role/sluice-vault-east", "scv1:conn:vault-east"));
    }

    @Test
    void aFederatedLocationWithoutAnOidcSigningKeyIsBackendAuthenticationFailedWithTheDetailLogged() {
        registry.close();
        registry = new ControlPlaneRegistry(new ControlPlaneApi(http, cp.url(), Optional.of(oidc), TIMEOUT),
                new ControlPlaneRegistry.Settings(Optional.of(S3_ENDPOINT), Duration.ofSeconds(300), Duration.ofSeconds(300),
                        Duration.ofSeconds(60), Duration.ofSeconds(60), TIMEOUT, Duration.ofMinutes(10)),
                BackendLocation.Factory.building(new Backends(http, Runnable::run, Optional.empty(), grant -> { throw new AssertionError("no token expected"); }, clock, Ticker.SYSTEM)),
                clock, loads, () -> 0.0, meters);

        assertThat(find("city-trees")).as("an unsigned location needs no federation").isPresent();
        assertThatThrownBy(() -> find("lidar-2024")).isInstanceOfSatisfying(S3Exception.class, e -> {
            assertThat(e.error()).isEqualTo(S3Error.BACKEND_AUTHENTICATION_FAILED);
            assertThat(e.getCause()).hasMessage("control plane: needs federation "
                    + "(role arn:aws:iam::111122223333:role/sluice-vault-east) but oidc.signing_key is not configured");
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"type\":\"s3_access_key\",\"access_key_id\":\"AKIA\",\"secret_access_key\":\"x\"}",
            "{\"type\":\"s3_web_identity_role\"}",
            "{\"type\":\"s3_web_identity_role\",\"role_arn\":\"not-an-arn\"}",
            "{\"type\":\"s3_web_identity_role\",\"role_arn\":42}",
            "{\"role_arn\":\"arn:aws:iam::111122223333:role/x\"}",
            "\"s3_web_identity_role\"",
            "[]",
            "false"})
    void anyOtherAuthenticationFailsClosed(String authentication) throws Exception {
        ObjectNode conn = fixtureJson("data-connection-federated.json");
        conn.set("authentication", new com.fasterxml.jackson.databind.ObjectMapper().readTree(authentication));
        cp.put(VAULT_EAST, conn.toString());

        assertS3Error(() -> find("lidar-2024"), S3Error.BACKEND_AUTHENTICATION_FAILED);
        assertThat(built).as("never falls back to an unsigned backend").isEmpty();
    }

    // --- README: providers ---------------------------------------------------------------------

    @Test
    void theS3ProviderIsServed() {
        assertThat(find("city-trees")).isPresent();
        assertThat(built).hasSize(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"az", "azure"})
    void anAzureConnectionIsAContainerOfItsAccount(String provider) {
        ObjectNode conn = fixtureJson("data-connection-public.json");
        ((ObjectNode) conn.get("details")).put("provider", provider).put("account_name", "parksdata").put("container_name", "lidar")
                .put("base_prefix", "tenants/parks/");
        cp.put(OPEN_WEST, conn.toString());

        assertThat(registry.locate(ref("city-trees"), anonymous()).orElseThrow()).isEqualTo(new BackendSpec.Azure(
                URI.create("https://parksdata.blob.core.windows.net"), "parksdata", "lidar", "tenants/parks/" + "parks-dept/city-trees/",
                new AzureAuth.Anonymous(), Duration.ofSeconds(30)));
    }

    @Test
    void anAzureWorkloadIdentityFederatesAsTheDataConnectionAtItsTenant() {
        ObjectNode conn = fixtureJson("data-connection-public.json");
        ((ObjectNode) conn.get("details")).put("provider", "az").put("account_name", "parksdata").put("container_name", "lidar");
        conn.putObject("authentication").put("type", "azure_workload_identity").put("tenant_id", "tenant-1").put("client_id", "app-2");
        cp.put(OPEN_WEST, conn.toString());

        BackendSpec.Azure spec = (BackendSpec.Azure) registry.locate(ref("city-trees"), anonymous()).orElseThrow();

        assertThat(spec.auth()).isEqualTo(new AzureAuth.Federated(new TokenGrant.Entra(
                URI.create("https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token"), "tenant-1", "app-2", "scv1:conn:open-west")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"gcs", "gs"})
    void aGcsConnectionIsABucketFederatedThroughItsPoolProvider(String provider) {
        ObjectNode conn = fixtureJson("data-connection-public.json");
        ((ObjectNode) conn.get("details")).put("provider", provider).put("bucket", "parks-gcs");
        String audience = "//iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools/sluice/providers/sluice-oidc";
        conn.putObject("authentication").put("type", "gcp_workload_identity").put("audience", audience)
                .put("service_account", "reader@parks.iam.gserviceaccount.com");
        cp.put(OPEN_WEST, conn.toString());

        BackendSpec.Gcs spec = (BackendSpec.Gcs) registry.locate(ref("city-trees"), anonymous()).orElseThrow();

        assertThat(spec.endpoint()).isEqualTo(URI.create("https://storage.googleapis.com"));
        assertThat(spec.bucket()).isEqualTo("parks-gcs");
        assertThat(spec.auth()).isEqualTo(new GcsAuth.Token(new TokenGrant.GoogleFederation(URI.create("https://sts.googleapis.com/v1/token"),
                audience, Optional.of("reader@parks.iam.gserviceaccount.com"), URI.create("https://iamcredentials.googleapis.com"),
                "scv1:conn:open-west")));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "az|{\"type\":\"s3_web_identity_role\",\"role_arn\":\"arn:aws:iam::111122223333:role/r\"}",
            "gcs|{\"type\":\"azure_workload_identity\",\"tenant_id\":\"t\",\"client_id\":\"c\"}",
            "s3|{\"type\":\"gcp_workload_identity\",\"audience\":\"//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/pool1/providers/prov1\"}",
            "az|{\"type\":\"azure_workload_identity\",\"tenant_id\":\"t\"}",
            "gcs|{\"type\":\"gcp_workload_identity\",\"audience\":\"projects/1/pools/p\"}",
            "gcs|{\"type\":\"gcp_workload_identity\",\"audience\":\"//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/pool1/providers/prov1\",\"service_account\":\"nobody\"}",
            "az|null-account", "az|null-container"})
    void anAuthenticationThatDoesNotFitTheProviderOrANamelessLocationIsRefusedNeverReadUnsigned(String provider)
            throws Exception {
        String[] parts = provider.split("\\|", 2);
        ObjectNode conn = fixtureJson("data-connection-public.json");
        ObjectNode details = ((ObjectNode) conn.get("details")).put("provider", parts[0]).put("account_name", "parksdata")
                .put("container_name", "lidar");
        switch (parts[1]) {
            case "null-account" -> details.remove("account_name");
            case "null-container" -> details.remove("container_name");
            default -> conn.set("authentication", new com.fasterxml.jackson.databind.ObjectMapper().readTree(parts[1]));
        }
        cp.put(OPEN_WEST, conn.toString());

        assertS3Error(() -> find("city-trees").orElseThrow().resolveBackend(), S3Error.BACKEND_AUTHENTICATION_FAILED);
        assertThat(built).as("never falls back to an unsigned backend").isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"ftp", "S3", ""})
    void unknownProvidersAreAnError(String provider) {
        ObjectNode conn = fixtureJson("data-connection-public.json");
        ((ObjectNode) conn.get("details")).put("provider", provider);
        cp.put(OPEN_WEST, conn.toString());

        assertS3Error(() -> find("city-trees"), S3Error.BACKEND_AUTHENTICATION_FAILED);
    }

    // --- README: restricted products -----------------------------------------------------------

    @Test
    void aRestrictedProductIsUnknownToAnonymousCallers() {
        assertThat(find("survey-raw")).isEmpty();
        assertThat(cp.count(TestControlPlane.SURVEY)).isEqualTo(1);
    }

    @Test
    void aRestrictedProductIsAnsweredToAnAuthenticatedCaller() {
        Optional<Product> p = registry.find(ref("survey-raw"), Caller.authenticated("user:alice", "req-2"));

        assertThat(p).hasValueSatisfying(x -> assertThat(x.visibility()).isEqualTo(Visibility.RESTRICTED));
        assertThat(cp.verifiedSubjects()).containsExactly("user:alice");
    }

    @Test
    void aRestrictedProductsBackendIsResolvedOnlyWhenTheReadPathAsksForIt() {
        Product p = registry.find(ref("survey-raw"), Caller.authenticated("user:alice", "req-2")).orElseThrow();

        assertThat(built).as("nothing is built before authorization").isEmpty();

        Backend backend = p.resolveBackend();

        assertThat(built).hasSize(1);
        assertThat(backend).isInstanceOfSatisfying(StubBackend.class,
                b -> assertThat(b.target()).as("the real backend, not a stand-in doing I/O on read").isEqualTo(built.get(0)));
    }

    // --- README: failure routes ----------------------------------------------------------------

    @Test
    void anApi500IsServiceUnavailable() {
        assertS3Error(() -> find("broken"), S3Error.SERVICE_UNAVAILABLE);
    }

    @Test
    void aBodyThatIsNotJsonIsServiceUnavailable() {
        assertS3Error(() -> find("garbled"), S3Error.SERVICE_UNAVAILABLE);
    }

    @Test
    void aHangingApiIsServiceUnavailableWithinTheTimeout() {
        long started = System.nanoTime();
        assertS3Error(() -> find("stuck"), S3Error.SERVICE_UNAVAILABLE);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(TIMEOUT.plusSeconds(2));
    }

    @Test
    void anUnreachableApiIsServiceUnavailable() throws Exception {
        cp.close();
        assertS3Error(() -> find("city-trees"), S3Error.SERVICE_UNAVAILABLE);
    }

    @Test
    void jsonThatIsNotAnObjectIsServiceUnavailable() {
        cp.put(CITY_TREES, "[1, 2]");
        assertS3Error(() -> find("city-trees"), S3Error.SERVICE_UNAVAILABLE);
    }

    @Test
    void anUnknownProductIsNotFound() {
        assertThat(find("no-such-product")).isEmpty();
    }

    @Test
    void aRefusedProductIsNotFoundRatherThanRevealed() {
        cp.put(CITY_TREES, 403, "{}");
        assertThat(find("city-trees")).isEmpty();
        cp.put(LIDAR, 401, "{}");
        assertThat(find("lidar-2024")).isEmpty();
    }

    @Test
    void aRefusedDataConnectionIsAccessDenied() {
        cp.put(OPEN_WEST, 403, "{}");
        assertS3Error(() -> find("city-trees"), S3Error.ACCESS_DENIED);
    }

    @Test
    void aMissingDataConnectionIsAnError() {
        cp.put(OPEN_WEST, 404, "{}");
        assertS3Error(() -> find("city-trees"), S3Error.BACKEND_AUTHENTICATION_FAILED);
    }

    @Test
    void namesThatWouldChangeTheApiPathNeverReachTheApi() {
        assertThat(registry.find(new ProductRef(ACCOUNT, ".."), anonymous())).isEmpty();
        assertThat(registry.find(new ProductRef("..", "x"), anonymous())).isEmpty();
        assertThat(registry.find(new ProductRef(ACCOUNT, "a%2Fb"), anonymous())).isEmpty();
        assertThat(registry.list("a/b", anonymous())).isEmpty();
        assertThat(cp.total()).isZero();
    }

    // --- endpoints -----------------------------------------------------------------------------

    @Test
    void theConfiguredS3EndpointReplacesAws() {
        assertThat(locate("city-trees").endpoint()).isEqualTo(URI.create(S3_ENDPOINT));
        assertThat(locate("city-trees").region()).isEqualTo("us-west-2");
    }

    @Test
    void aConnectionsOwnEndpointWins() {
        ObjectNode conn = fixtureJson("data-connection-public.json");
        ((ObjectNode) conn.get("details")).put("endpoint", "https://storage.example.org/");
        cp.put(OPEN_WEST, conn.toString());

        assertThat(locate("city-trees").endpoint()).isEqualTo(URI.create("https://storage.example.org"));
    }

    @Test
    void withoutAnEndpointTheRegionalAwsEndpointIsUsed() {
        registry.close();
        registry = registry(Optional.empty());

        assertThat(locate("city-trees").endpoint()).isEqualTo(URI.create("https://s3.us-west-2.amazonaws.com"));
    }

    @Test
    void aBackendIsBuiltOncePerLocation() {
        Backend first = find("city-trees").orElseThrow().resolveBackend();
        clock.advance(Duration.ofSeconds(301));
        Backend second = find("city-trees").orElseThrow().resolveBackend();

        assertThat(second).isSameAs(first);
        assertThat(built).hasSize(1);
    }

    @Test
    void aChangedDataConnectionIsFollowedOnceItsAnswerIsRefetched() {
        Backend first = find("city-trees").orElseThrow().resolveBackend();
        ObjectNode moved = fixtureJson("data-connection-public.json");
        ((ObjectNode) moved.get("details")).put("bucket", "moved-west");
        cp.put(OPEN_WEST, moved.toString());
        clock.advance(Duration.ofSeconds(200));
        assertThat(find("city-trees").orElseThrow().resolveBackend()).as("within the TTL").isSameAs(first);

        clock.advance(Duration.ofSeconds(100));
        Backend after = find("city-trees").orElseThrow().resolveBackend();

        assertThat(((BackendSpec.S3) ((StubBackend<?>) after).target()).bucket()).isEqualTo("moved-west");
    }

    @Test
    void aConnectionThatBecomesUnusableIsRefusedOnceRefetched() {
        find("city-trees").orElseThrow();
        ObjectNode broken = fixtureJson("data-connection-public.json");
        broken.remove("read_only");
        cp.put(OPEN_WEST, broken.toString());
        clock.advance(Duration.ofSeconds(300));

        assertS3Error(() -> find("city-trees"), S3Error.BACKEND_AUTHENTICATION_FAILED);
    }

    // --- caching -------------------------------------------------------------------------------

    @Test
    void answersAreServedFromCacheWithinTheirTtl() {
        find("city-trees");
        clock.advance(Duration.ofSeconds(200));
        find("city-trees");
        find("city-trees");

        assertThat(cp.count(CITY_TREES)).isEqualTo(1);
        assertThat(cp.count(OPEN_WEST)).isEqualTo(1);
    }

    @Test
    void answersAreFetchedAgainAfterTheirTtl() {
        find("city-trees");
        clock.advance(Duration.ofSeconds(300));
        find("city-trees");

        assertThat(cp.count(CITY_TREES)).isEqualTo(2);
        assertThat(cp.count(OPEN_WEST)).isEqualTo(2);
    }

    @Test
    void productListsHaveTheirOwnShorterTtl() {
        registry.list(ACCOUNT, anonymous());
        // 53 s: fresh and not yet inside the 6 s refresh lead (TTL/10), so no background reload
        // can race the count. (At 59 s one starts, and the count depends on its timing.)
        clock.advance(Duration.ofSeconds(53));
        registry.list(ACCOUNT, anonymous());
        assertThat(cp.count(PRODUCTS)).isEqualTo(1);

        clock.advance(Duration.ofSeconds(8)); // 61 s: past the 60 s TTL, far short of a product's 300 s
        registry.list(ACCOUNT, anonymous());
        assertThat(cp.count(PRODUCTS)).isEqualTo(2);
    }

    @Test
    void callersWithDifferentSubjectsAreCachedApart() {
        registry.find(ref("city-trees"), anonymous());
        registry.find(ref("city-trees"), Caller.authenticated("user:alice", "r"));
        registry.find(ref("city-trees"), Caller.authenticated("user:bob", "r"));
        registry.find(ref("city-trees"), Caller.authenticated("user:alice", "r"));
        registry.find(ref("city-trees"), anonymous());

        assertThat(cp.count(CITY_TREES)).isEqualTo(3);
    }

    @Test
    void failedAnswersAreNotCached() {
        cp.put(CITY_TREES, 500, "{}");
        assertS3Error(() -> find("city-trees"), S3Error.SERVICE_UNAVAILABLE);
        cp.put(CITY_TREES, TestControlPlane.fixture("product-public.json"));

        // within the failure backoff (1-2 s) the error is replayed, not refetched
        assertS3Error(() -> find("city-trees"), S3Error.SERVICE_UNAVAILABLE);
        assertThat(cp.count(CITY_TREES)).isEqualTo(1);

        clock.advance(Duration.ofSeconds(2));
        assertThat(find("city-trees")).isPresent();
        assertThat(cp.count(CITY_TREES)).isEqualTo(2);
    }

    @Test
    void notFoundIsNotCachedAsAnAnswer() {
        assertThat(find("later")).isEmpty();
        product("later", fixtureJson("product-public.json"));
        clock.advance(Duration.ofSeconds(2));

        assertThat(find("later")).isPresent();
    }

    @Test
    void aStaleAnswerIsServedWhenTheApiFails() {
        Backend before = find("city-trees").orElseThrow().resolveBackend();
        clock.advance(Duration.ofSeconds(301));
        cp.put(CITY_TREES, 500, "{}");
        cp.put(OPEN_WEST, 200, "not json");

        assertThat(find("city-trees")).hasValueSatisfying(p -> assertThat(p.resolveBackend()).isSameAs(before));
        assertThat(meters.counter("sluice.control_plane.stale_served", "kind", "product").count()).isEqualTo(1);
        assertThat(meters.counter("sluice.control_plane.stale_served", "kind", "data_connection").count()).isEqualTo(1);
    }

    @Test
    void staleAnswersAreServedOnlyWithinStaleIfError() {
        find("city-trees");
        cp.put(CITY_TREES, 503, "{}");
        clock.advance(Duration.ofSeconds(300 + 600 - 1));
        assertThat(find("city-trees")).isPresent();

        clock.advance(Duration.ofSeconds(2));
        assertS3Error(() -> find("city-trees"), S3Error.SERVICE_UNAVAILABLE);
    }

    @Test
    void aProductThatDisappearsIsNotServedStale() {
        find("city-trees");
        clock.advance(Duration.ofSeconds(301));
        cp.put(CITY_TREES, 404, "{}");

        assertThat(find("city-trees")).isEmpty();
    }

    @Test
    void concurrentColdLookupsMakeOneApiCall() throws Exception {
        CountDownLatch release = cp.hold(CITY_TREES);
        CountDownLatch started = new CountDownLatch(200);
        List<Future<Optional<Product>>> results = new ArrayList<>();
        try (ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 200; i++) {
                String requestId = "req-" + i;
                results.add(callers.submit(() -> {
                    started.countDown();
                    return registry.find(ref("city-trees"), Caller.anonymous(requestId));
                }));
            }
            assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
            release.countDown();
            for (Future<Optional<Product>> r : results) {
                assertThat(r.get(10, TimeUnit.SECONDS)).isPresent();
            }
        }
        assertThat(cp.count(CITY_TREES)).isEqualTo(1);
        assertThat(cp.count(OPEN_WEST)).isEqualTo(1);
        assertThat(built).hasSize(1);
    }

    // --- identity on the wire ------------------------------------------------------------------

    @Test
    void anonymousLookupsCarryTheRequestIdAndNoToken() {
        registry.find(ref("city-trees"), Caller.anonymous("req-abc"));

        assertThat(cp.lastHeader(CITY_TREES, "x-request-id")).hasValue("req-abc");
        assertThat(cp.lastHeader(OPEN_WEST, "x-request-id")).hasValue("req-abc");
        assertThat(cp.lastHeader(CITY_TREES, "authorization")).isEmpty();
    }

    @Test
    void authenticatedLookupsCarryAShortJwtForTheCallerAndTheApi() throws Exception {
        registry.find(ref("city-trees"), Caller.authenticated("user:alice", "req-xyz"));

        String auth = cp.lastHeader(CITY_TREES, "authorization").orElseThrow();
        assertThat(auth).startsWith("Bearer ");
        JWTClaimsSet claims = SignedJWT.parse(auth.substring(7)).getJWTClaimsSet();
        assertThat(claims.getSubject()).isEqualTo("user:alice");
        assertThat(claims.getAudience()).containsExactly(cp.url());
        assertThat(claims.getIssuer()).isEqualTo("http://sluice.test");
        assertThat(Duration.between(claims.getIssueTime().toInstant(), claims.getExpirationTime().toInstant()))
                .isEqualTo(Duration.ofSeconds(60));
        assertThat(cp.lastHeader(CITY_TREES, "x-request-id")).hasValue("req-xyz");
    }

    // --- listing -------------------------------------------------------------------------------

    @Test
    void anAccountListsItsProductsInKeyOrder() {
        List<Product> products = registry.list(ACCOUNT, anonymous());

        assertThat(products).extracting(p -> p.ref().product()).containsExactly("city-trees", "lidar-2024");
        assertThat(products).allSatisfy(p -> assertThat(p.visibility()).isEqualTo(Visibility.PUBLIC));
        assertThat(built).as("listing products resolves no backend").isEmpty();
    }

    @Test
    void disabledProductsAreNotListedAndRestrictedOnesAreMarked() {
        var list = JsonNodeFactory.instance.objectNode();
        var array = list.putArray("products");
        array.add(fixtureJson("product-public.json").put("disabled", true));
        array.add(fixtureJson("product-restricted.json"));
        array.add(fixtureJson("product-federated.json"));
        cp.put(PRODUCTS, list.toString());

        List<Product> products = registry.list(ACCOUNT, anonymous());

        assertThat(products).extracting(p -> p.ref().product() + ":" + p.visibility())
                .containsExactly("lidar-2024:PUBLIC", "survey-raw:RESTRICTED");
    }

    @Test
    void anUnknownAccountHasNoProducts() {
        assertThat(registry.list("nobody", anonymous())).isEmpty();
    }

    @Test
    void aFailingProductListIsServiceUnavailable() {
        cp.put(PRODUCTS, 502, "bad gateway");
        assertS3Error(() -> registry.list(ACCOUNT, anonymous()), S3Error.SERVICE_UNAVAILABLE);
    }

    // --- permissions ---------------------------------------------------------------------------

    @Test
    void permissionsAreLookedUpForAuthenticatedCallers() {
        Set<String> p = registry.permissions(ref("lidar-2024"), Caller.authenticated("user:alice", "r"));

        assertThat(p).containsExactlyInAnyOrder("read", "write");
        assertThat(cp.lastHeader(LIDAR + "/permissions", "authorization")).isPresent();
    }

    @Test
    void anonymousCallersHaveNoPermissionsAndCostNoCall() {
        assertThat(registry.permissions(ref("lidar-2024"), anonymous())).isEmpty();
        assertThat(cp.total()).isZero();
    }

    @Test
    void permissionsAreCachedForTheirTtl() {
        Caller alice = Caller.authenticated("user:alice", "r");
        registry.permissions(ref("lidar-2024"), alice);
        // 53 s: not yet inside the 6 s refresh lead, where a background reload would race the count
        clock.advance(Duration.ofSeconds(53));
        registry.permissions(ref("lidar-2024"), alice);
        assertThat(cp.count(LIDAR + "/permissions")).isEqualTo(1);
    }

    // --- writes ------------------------------------------------------------------------------------

    private static final Caller ALICE = Caller.authenticated("user:alice", "r");

    @Test
    void aCallerWithWritePermissionWritesThroughAWritableFederatedConnection() {
        Product lidar = registry.find(ref("lidar-2024"), ALICE).orElseThrow();

        assertThat(cp.count(LIDAR + "/permissions")).as("a read asks no permissions").isZero();
        assertThat(lidar.acceptsWrites()).isTrue();
        assertThat(cp.count(LIDAR + "/permissions")).isEqualTo(1);
    }

    @Test
    void withoutWritePermissionAProductTakesNoWrites() {
        cp.put(LIDAR + "/permissions", "[\"read\"]");

        assertThat(registry.find(ref("lidar-2024"), ALICE).orElseThrow().acceptsWrites()).isFalse();
    }

    @Test
    void aReadOnlyConnectionTakesNoWritesWhateverTheCallersPermissions() {
        cp.put(VAULT_EAST, fixtureJson("data-connection-federated.json").put("read_only", true).toString());

        assertThat(registry.find(ref("lidar-2024"), ALICE).orElseThrow().acceptsWrites()).isFalse();
    }

    @Test
    void aConnectionReadUnsignedTakesNoWritesEvenWhenNotReadOnly() {
        cp.put(OPEN_WEST, fixtureJson("data-connection-public.json").put("read_only", false).toString());

        assertThat(registry.find(ref("city-trees"), ALICE).orElseThrow().acceptsWrites()).isFalse();
    }

    @Test
    void anAnonymousCallerTakesNoWritesAndCostsNoPermissionsCall() {
        assertThat(registry.find(ref("lidar-2024"), anonymous()).orElseThrow().acceptsWrites()).isFalse();
        assertThat(cp.count(LIDAR + "/permissions")).isZero();
    }
}
