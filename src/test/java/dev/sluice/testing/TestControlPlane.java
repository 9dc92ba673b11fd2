package dev.sluice.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A control-plane API for tests, serving the fixtures of {@code testdata/control-plane/}
 * (copied to {@code src/test/resources/control-plane/}) for account {@code parks-dept}:
 *
 * <ul>
 *   <li>products {@code city-trees} (public, connection {@code open-west}), {@code lidar-2024}
 *       (federated, connection {@code vault-east}) and {@code survey-raw} (restricted: 404 unless
 *       the request carries a JWT that verifies against the trusted JWKS, with {@code aud} = this
 *       server's URL), their product list, both data connections, and permissions;</li>
 *   <li>products {@code aerial-2023} (connection {@code azure-north}: provider {@code az},
 *       {@code azure_workload_identity}) and {@code soil-samples} (connection {@code gcs-south}:
 *       provider {@code gcs}, {@code gcp_workload_identity} with a service account), served by
 *       path but not in the product list; their connections name no endpoints, so a test that
 *       reads them {@link #put}s variants pointing at its local servers;</li>
 *   <li>failure routes: {@code broken} answers 500, {@code garbled} answers 200 with a body that
 *       is not JSON, {@code stuck} hangs until {@link #close()};</li>
 *   <li>any other path answers 404 {@code {}}.</li>
 * </ul>
 *
 * Tests replace answers with {@link #put}, hold one until released ({@link #hold}), count
 * requests per path and read the headers of the last one.
 */
public final class TestControlPlane implements AutoCloseable {
    public static final String ACCOUNT = "parks-dept";
    public static final String PRODUCTS = "/api/v1/products/" + ACCOUNT;
    public static final String CITY_TREES = PRODUCTS + "/city-trees";
    public static final String LIDAR = PRODUCTS + "/lidar-2024";
    public static final String SURVEY = PRODUCTS + "/survey-raw";
    public static final String BROKEN = PRODUCTS + "/broken";
    public static final String GARBLED = PRODUCTS + "/garbled";
    public static final String STUCK = PRODUCTS + "/stuck";
    public static final String OPEN_WEST = "/api/v1/data-connections/open-west";
    public static final String VAULT_EAST = "/api/v1/data-connections/vault-east";
    public static final String AERIAL = PRODUCTS + "/aerial-2023";
    public static final String SOIL = PRODUCTS + "/soil-samples";
    public static final String AZURE_NORTH = "/api/v1/data-connections/azure-north";
    public static final String GCS_SOUTH = "/api/v1/data-connections/gcs-south";
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Answer(int status, String body, boolean hang, boolean restricted) {
    }

    private final LoopbackServer server;
    private final Map<String, Answer> answers = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    private final Map<String, Map<String, String>> lastHeaders = new ConcurrentHashMap<>();
    private final Map<String, CountDownLatch> holds = new ConcurrentHashMap<>();
    private final List<String> verifiedSubjects = new CopyOnWriteArrayList<>();
    private final CountDownLatch released = new CountDownLatch(1);
    private volatile JWKSource<SecurityContext> trustedKeys;

    public TestControlPlane() throws Exception {
        // No graceful wait on stop: clients keep idle connections open, and a test is over.
        server = new LoopbackServer(this::handle, Duration.ZERO);
        put(PRODUCTS, fixture("product-list.json"));
        put(CITY_TREES, fixture("product-public.json"));
        put(LIDAR, fixture("product-federated.json"));
        answers.put(SURVEY, new Answer(200, fixture("product-restricted.json"), false, true));
        put(OPEN_WEST, fixture("data-connection-public.json"));
        put(VAULT_EAST, fixture("data-connection-federated.json"));
        put(AERIAL, fixture("product-azure-federated.json"));
        put(SOIL, fixture("product-gcs-federated.json"));
        put(AZURE_NORTH, fixture("data-connection-azure-federated.json"));
        put(GCS_SOUTH, fixture("data-connection-gcs-federated.json"));
        for (String product : List.of(CITY_TREES, LIDAR, SURVEY)) {
            put(product + "/permissions", fixture("permissions-read-write.json"));
        }
        put(BROKEN, 500, "{\"error\":\"internal\"}");
        put(GARBLED, 200, "<html><body>this is not JSON</body></html>");
        answers.put(STUCK, new Answer(200, "{}", true, false));
    }

    /** The API base URL, which is also the audience its JWTs must name. */
    public String url() {
        return server.url();
    }

    /** Verifies restricted requests' JWTs against this JWKS document (sluice's {@code /.well-known/jwks.json}). */
    public void trustJwks(String jwksJson) {
        try {
            trustedKeys = new ImmutableJWKSet<>(JWKSet.parse(jwksJson));
        } catch (java.text.ParseException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** Verifies restricted requests' JWTs against the JWKS fetched from {@code jwksUrl}, as a real API would. */
    public void trustJwksAt(URI jwksUrl) {
        try {
            trustedKeys = JWKSourceBuilder.create(new URL(jwksUrl.toString())).retrying(false).build();
        } catch (java.net.MalformedURLException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** The text of a fixture file. */
    public static String fixture(String name) {
        try (InputStream in = TestControlPlane.class.getResourceAsStream("/control-plane/" + name)) {
            if (in == null) {
                throw new IllegalArgumentException("no fixture " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A fixture as a mutable JSON object, to derive variants from. */
    public static ObjectNode fixtureJson(String name) {
        try {
            return (ObjectNode) JSON.readTree(fixture(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public TestControlPlane put(String path, String json) {
        return put(path, 200, json);
    }

    public TestControlPlane put(String path, int status, String body) {
        answers.put(path, new Answer(status, body, false, false));
        return this;
    }

    /**
     * Serves {@code n} more public products of account {@link #ACCOUNT}, shaped like
     * {@code city-trees} (connection {@code open-west}, mirror prefix {@code parks-dept/{name}/}),
     * named {@code prefix-000}, {@code prefix-001}, …, and lists them with the others. For load
     * tests that need many products; returns their names in order.
     */
    public List<String> addPublicProducts(String prefix, int n) {
        List<String> names = new java.util.ArrayList<>();
        com.fasterxml.jackson.databind.node.ArrayNode listed = (com.fasterxml.jackson.databind.node.ArrayNode)
                JSON.valueToTree(listedProducts());
        for (int i = 0; i < n; i++) {
            String name = "%s-%03d".formatted(prefix, i);
            ObjectNode doc = fixtureJson("product-public.json").put("product_id", name);
            ((ObjectNode) doc.at("/metadata/mirrors/open-west")).put("prefix", ACCOUNT + "/" + name + "/");
            put(PRODUCTS + "/" + name, doc.toString());
            listed.add(doc);
            names.add(name);
        }
        ObjectNode list = JSON.createObjectNode();
        list.set("products", listed);
        put(PRODUCTS, list.toString());
        return List.copyOf(names);
    }

    private com.fasterxml.jackson.databind.JsonNode listedProducts() {
        try {
            return JSON.readTree(answers.get(PRODUCTS).body()).path("products");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Answers {@code path} only to requests carrying a valid JWT; 404 to the others. */
    public TestControlPlane restrict(String path, String json) {
        answers.put(path, new Answer(200, json, false, true));
        return this;
    }

    /** Requests for {@code path} wait until the returned latch is counted down (or the server closes). */
    public CountDownLatch hold(String path) {
        CountDownLatch latch = new CountDownLatch(1);
        holds.put(path, latch);
        return latch;
    }

    /** Requests received for {@code path}. */
    public int count(String path) {
        AtomicInteger n = counts.get(path);
        return n == null ? 0 : n.get();
    }

    public int total() {
        return counts.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    /** Headers (lower-case names) of the last request for {@code path}. */
    public Map<String, String> lastHeaders(String path) {
        return lastHeaders.getOrDefault(path, Map.of());
    }

    /** Subjects of the JWTs that verified, in order. */
    public List<String> verifiedSubjects() {
        return List.copyOf(verifiedSubjects);
    }

    private void handle(Request request, Response response, Callback callback) throws Exception {
        String path = request.getHttpURI().getPath();
        counts.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
        Map<String, String> headers = new HashMap<>();
        request.getHeaders().forEach(f -> headers.put(f.getLowerCaseName(), f.getValue()));
        lastHeaders.put(path, Map.copyOf(headers));
        CountDownLatch hold = holds.get(path);
        if (hold != null) {
            awaitRelease(hold);
        }
        Answer a = answers.get(path);
        if (a == null || (a.restricted() && !verified(headers.get("authorization")))) {
            send(response, callback, 404, "{}");
            return;
        }
        if (a.hang()) {
            awaitRelease(released);
            callback.failed(new IOException("hung until the test control plane closed"));
            return;
        }
        send(response, callback, a.status(), a.body());
    }

    private void awaitRelease(CountDownLatch latch) throws InterruptedException {
        // bounded: a test that forgets to release costs a minute, never a hung build
        if (!latch.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("never released");
        }
    }

    private boolean verified(String authorization) {
        JWKSource<SecurityContext> keys = trustedKeys;
        if (keys == null || authorization == null || !authorization.startsWith("Bearer ")) {
            return false;
        }
        DefaultJWTProcessor<SecurityContext> p = new DefaultJWTProcessor<>();
        p.setJWSKeySelector(new JWSVerificationKeySelector<>(JWSAlgorithm.RS256, keys));
        p.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>(url(), new JWTClaimsSet.Builder().build(),
                Set.of("sub", "iat", "exp", "iss")));
        try {
            JWTClaimsSet claims = p.process(authorization.substring("Bearer ".length()), null);
            verifiedSubjects.add(claims.getSubject());
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private static void send(Response response, Callback callback, int status, String body) {
        response.setStatus(status);
        response.getHeaders().put("Content-Type", "application/json");
        Content.Sink.write(response, true, body, callback);
    }

    public Optional<String> lastHeader(String path, String name) {
        return Optional.ofNullable(lastHeaders(path).get(name.toLowerCase(java.util.Locale.ROOT)));
    }

    @Override
    public void close() throws Exception {
        released.countDown();
        holds.values().forEach(CountDownLatch::countDown);
        server.close();
    }
}
