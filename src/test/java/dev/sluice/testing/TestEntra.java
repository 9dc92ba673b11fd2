package dev.sluice.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.BadJWTException;
import dev.sluice.federation.SigningKey;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

/**
 * A test Entra ID token endpoint ({@code POST /{tenant}/oauth2/v2.0/token}) speaking the
 * client credentials grant with a federated client assertion the way Entra ID does: for each
 * registered application ({@link #application}, its federated identity credential: the trusted
 * issuer, a subject rule, audience {@code api://AzureADTokenExchange}) it verifies the
 * assertion against the issuer's discovery document and JWKS fetched over HTTP, and answers with
 * an access token for {@code https://storage.azure.com} that Azurite's {@code --oauth basic}
 * accepts: a JWT with {@code iss=https://sts.windows.net/{tenant}/}, {@code aud},
 * {@code nbf}/{@code iat}/{@code exp}, {@code tid}, {@code oid}, signed with a test key (Azurite
 * checks the claims, not the signature). Errors are Entra's JSON ({@code error},
 * {@code error_description} with its AADSTS code, {@code error_codes}, {@code correlation_id}).
 * It counts exchanges per (client, subject), keeps every assertion it received, and injects
 * {@link IdentityFaults faults}.
 */
public final class TestEntra implements AutoCloseable {
    public static final String ASSERTION_AUDIENCE = "api://AzureADTokenExchange";
    public static final String STORAGE_AUDIENCE = "https://storage.azure.com";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final LoopbackServer server;
    private final String tenant;
    private final OidcTrust trust;
    private final SigningKey tokenKey = TestKeys.load("test-rsa-c", "entra-test");
    private final Map<String, Predicate<String>> applications = new ConcurrentHashMap<>();
    private final Map<String, String> objectIds = new ConcurrentHashMap<>();
    private final ExchangeCounts exchanges = new ExchangeCounts();
    private final List<String> assertions = new CopyOnWriteArrayList<>();
    private final List<String> issued = new CopyOnWriteArrayList<>();
    private final List<String> errors = new CopyOnWriteArrayList<>();
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicReference<Duration> lifetime = new AtomicReference<>(Duration.ofHours(1));
    private final IdentityFaults faults = new IdentityFaults();

    public TestEntra(String trustedIssuer, String tenant) throws Exception {
        this.tenant = tenant;
        this.trust = new OidcTrust(trustedIssuer);
        this.server = new LoopbackServer(this::handle, Duration.ZERO);
    }

    /** {@code http://127.0.0.1:PORT/{tenant}/oauth2/v2.0/token}: what {@code token_endpoint} is set to. */
    public URI tokenEndpoint() {
        return URI.create(server.url() + "/" + tenant + "/oauth2/v2.0/token");
    }

    public String tenant() {
        return tenant;
    }

    /** Trusts {@code issuer} from now on (its discovery document and JWKS are fetched afresh). */
    public TestEntra trustIssuer(String issuer) {
        trust.trust(issuer);
        return this;
    }

    /** Registers an application whose federated identity credential accepts subjects matching {@code subjects}. */
    public TestEntra application(String clientId, Predicate<String> subjects) {
        applications.put(clientId, subjects);
        objectIds.putIfAbsent(clientId, UUID.randomUUID().toString());
        return this;
    }

    /** Access tokens last this long ({@code expires_in}). */
    public void tokenLifetime(Duration d) {
        lifetime.set(d);
    }

    public IdentityFaults faults() {
        return faults;
    }

    /** Tokens issued for (client, subject). */
    public int exchanges(String clientId, String subject) {
        return exchanges.of(clientId, subject);
    }

    public int totalExchanges() {
        return exchanges.total();
    }

    public int requests() {
        return requests.get();
    }

    /** Every client assertion received, in order, as sent. */
    public List<String> assertions() {
        return List.copyOf(assertions);
    }

    /** Every access token issued, in order. */
    public List<String> issued() {
        return List.copyOf(issued);
    }

    /** The {@code error} of every error reply, in order. */
    public List<String> errors() {
        return List.copyOf(errors);
    }

    private void handle(Request request, Response response, Callback callback) throws Exception {
        requests.incrementAndGet();
        Map<String, String> form = Forms.parse(Content.Source.asString(request, StandardCharsets.UTF_8));
        if (form.containsKey("client_assertion")) {
            assertions.add(form.get("client_assertion"));
        }
        switch (faults.next()) {
            case HANG -> {
                faults.hang();
                callback.failed(new IOException("hung"));
                return;
            }
            case THROTTLE -> {
                error(response, callback, 429, "temporarily_unavailable", 90033,
                        "AADSTS90033: A transient error has occurred. Please try again.");
                return;
            }
            case SERVER_ERROR -> {
                error(response, callback, 500, "server_error", 90002, "AADSTS90002: Injected server error.");
                return;
            }
            case GARBAGE -> {
                write(response, callback, 200, "text/html", "<html><body>Sign in to your account</body></html>");
                return;
            }
            case OVERSIZED -> {
                write(response, callback, 200, "application/json", "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"padding\":\""
                        + "x".repeat(200_000) + "\",\"access_token\":\"eyJ0eXAi\"}");
                return;
            }
            case REFUSE -> {
                error(response, callback, 400, "invalid_client", 70021,
                        "AADSTS70021: No matching federated identity record found for presented assertion.");
                return;
            }
            case MISCONFIGURED -> {
                error(response, callback, 400, "invalid_scope", 1002012, "AADSTS1002012: The provided value for scope is not valid.");
                return;
            }
            default -> { }
        }
        if (!request.getHttpURI().getPath().equals("/" + tenant + "/oauth2/v2.0/token")) {
            error(response, callback, 400, "invalid_request", 90002, "AADSTS90002: Tenant not found.");
            return;
        }
        if (!"client_credentials".equals(form.get("grant_type"))) {
            error(response, callback, 400, "unsupported_grant_type", 70003, "AADSTS70003: The app requested an unsupported grant type.");
            return;
        }
        if (!"https://storage.azure.com/.default".equals(form.get("scope"))) {
            error(response, callback, 400, "invalid_scope", 70011, "AADSTS70011: The provided value for the input parameter 'scope' is not valid.");
            return;
        }
        if (!"urn:ietf:params:oauth:client-assertion-type:jwt-bearer".equals(form.get("client_assertion_type"))) {
            error(response, callback, 400, "invalid_request", 700025, "AADSTS700025: client_assertion_type is not valid.");
            return;
        }
        String clientId = form.getOrDefault("client_id", "");
        Predicate<String> subjects = applications.get(clientId);
        if (subjects == null) {
            error(response, callback, 400, "unauthorized_client", 700016,
                    "AADSTS700016: Application with identifier '" + clientId + "' was not found in the directory.");
            return;
        }
        JWTClaimsSet claims;
        try {
            claims = trust.verify(form.getOrDefault("client_assertion", ""), ASSERTION_AUDIENCE);
        } catch (BadJWTException e) {
            error(response, callback, 400, "invalid_client", 70021,
                    "AADSTS70021: No matching federated identity record found for presented assertion. " + e.getMessage());
            return;
        } catch (IOException e) {
            error(response, callback, 400, "invalid_client", 700024, "AADSTS700024: Could not fetch the issuer's keys.");
            return;
        } catch (Exception e) {
            error(response, callback, 400, "invalid_client", 700027, "AADSTS700027: Client assertion failed signature validation.");
            return;
        }
        if (!subjects.test(claims.getSubject())) {
            error(response, callback, 400, "invalid_client", 70021,
                    "AADSTS70021: No matching federated identity record found for presented assertion subject.");
            return;
        }
        Duration d = lifetime.get();
        String token = accessToken(clientId, d);
        exchanges.add(clientId, claims.getSubject());
        issued.add(token);
        ObjectNode body = JSON.createObjectNode();
        body.put("token_type", "Bearer");
        body.put("expires_in", d.toSeconds());
        body.put("ext_expires_in", d.toSeconds());
        body.put("access_token", token);
        write(response, callback, 200, "application/json; charset=utf-8", body.toString());
    }

    /** An access token for Azure Storage in the shape Entra ID issues (v1 claims), as Azurite checks it. */
    private String accessToken(String clientId, Duration d) throws Exception {
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        String oid = objectIds.get(clientId);
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .audience(STORAGE_AUDIENCE)
                .issuer("https://sts.windows.net/" + tenant + "/")
                .issueTime(Date.from(now.minusSeconds(5)))
                .notBeforeTime(Date.from(now.minusSeconds(5)))
                .expirationTime(Date.from(now.plus(d)))
                .claim("appid", clientId)
                .claim("oid", oid)
                .claim("sub", oid)
                .claim("tid", tenant)
                .claim("ver", "1.0")
                .jwtID(UUID.randomUUID().toString())
                .build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(tokenKey.kid()).type(JOSEObjectType.JWT).build(),
                claims);
        jwt.sign(new RSASSASigner(tokenKey.privateKey()));
        return jwt.serialize();
    }

    private void error(Response response, Callback callback, int status, String error, long code, String description) {
        errors.add(error);
        ObjectNode body = JSON.createObjectNode();
        body.put("error", error);
        body.put("error_description", description + "\r\nTrace ID: " + UUID.randomUUID());
        body.putArray("error_codes").add(code);
        body.put("timestamp", Instant.now().toString());
        body.put("trace_id", UUID.randomUUID().toString());
        body.put("correlation_id", UUID.randomUUID().toString());
        write(response, callback, status, "application/json; charset=utf-8", body.toString());
    }

    private static void write(Response response, Callback callback, int status, String contentType, String body) {
        response.setStatus(status);
        response.getHeaders().put("Content-Type", contentType);
        Content.Sink.write(response, true, body, callback);
    }


    @Override
    public void close() throws Exception {
        faults.releaseHung();
        server.close();
    }
}
