package dev.sluice.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.crypto.RSASSAVerifier;
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
import java.net.URLDecoder;
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
 * A test Google identity service on one loopback server, written from the wire protocols:
 * <ul>
 *   <li>the Security Token Service ({@code POST /v1/token}, JSON, RFC 8693 token exchange) for one
 *       workload identity pool provider ({@link #pool}): it verifies the subject token against
 *       the trusted issuer's discovery document and JWKS fetched over HTTP, with
 *       {@code aud} = the provider's URL ({@code https:} + the audience), and a subject rule (the
 *       provider's attribute condition);</li>
 *   <li>the IAM credentials API ({@code POST /iam/v1/projects/-/serviceAccounts/{email}:generateAccessToken}),
 *       taking a federated token as bearer and checking the {@code roles/iam.workloadIdentityUser}
 *       binding of its subject on the service account;</li>
 *   <li>the OAuth 2.0 token endpoint for service-account keys ({@code POST /oauth2/token}, the
 *       JWT bearer grant), verifying the JWT's RS256 signature with the public key of the key
 *       it made ({@link #serviceAccountKey}), its {@code kid}, {@code iss}, {@code aud},
 *       {@code scope} and lifetime.</li>
 * </ul>
 * Tokens it mints are opaque strings; {@link #accepts} tells a test storage server whether one
 * is current. It counts exchanges per endpoint and injects {@link IdentityFaults faults} per endpoint.
 */
public final class TestGoogle implements AutoCloseable {
    public static final String SCOPE = "https://www.googleapis.com/auth/cloud-platform";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Who a token was issued to, until when. */
    public record Issued(String token, String principal, Instant expires, boolean federated) {
    }

    private final LoopbackServer server;
    private final OidcTrust trust;
    private final Map<String, Predicate<String>> pools = new ConcurrentHashMap<>();
    private final Map<String, Predicate<String>> serviceAccounts = new ConcurrentHashMap<>();
    private final Map<String, SigningKey> keys = new ConcurrentHashMap<>();
    private final Map<String, Issued> tokens = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> exchanges = new ConcurrentHashMap<>();
    private final List<String> subjectTokens = new CopyOnWriteArrayList<>();
    private final List<String> keyAssertions = new CopyOnWriteArrayList<>();
    private final List<String> errors = new CopyOnWriteArrayList<>();
    private final AtomicReference<Duration> lifetime = new AtomicReference<>(Duration.ofHours(1));
    private final IdentityFaults stsFaults = new IdentityFaults();
    private final IdentityFaults iamFaults = new IdentityFaults();
    private final IdentityFaults oauthFaults = new IdentityFaults();

    public TestGoogle(String trustedIssuer) throws Exception {
        this.trust = new OidcTrust(trustedIssuer);
        this.server = new LoopbackServer(this::handle, Duration.ZERO);
    }

    /** What {@code sts_endpoint} is set to. */
    public URI stsEndpoint() {
        return URI.create(server.url() + "/v1/token");
    }

    /** What {@code iam_endpoint} is set to. */
    public URI iamEndpoint() {
        return URI.create(server.url() + "/iam");
    }

    /** What a service-account key's {@code token_uri} is. */
    public URI tokenUri() {
        return URI.create(server.url() + "/oauth2/token");
    }

    public TestGoogle trustIssuer(String issuer) {
        trust.trust(issuer);
        return this;
    }

    /** A workload identity pool provider ({@code //iam.googleapis.com/projects/…/providers/…}) admitting subjects matching {@code subjects}. */
    public TestGoogle pool(String audience, Predicate<String> subjects) {
        pools.put(audience, subjects);
        return this;
    }

    /** A service account that federated subjects matching {@code workloadIdentityUsers} may impersonate. */
    public TestGoogle serviceAccount(String email, Predicate<String> workloadIdentityUsers) {
        serviceAccounts.put(email, workloadIdentityUsers);
        return this;
    }

    /**
     * A JSON key of a service account ({@code type}, {@code client_email}, {@code private_key_id},
     * {@code private_key}, {@code token_uri}), whose public key this server trusts.
     */
    public String serviceAccountKey(String email) {
        SigningKey key = TestKeys.load("test-rsa-b", UUID.randomUUID().toString().replace("-", ""));
        keys.put(key.kid(), key);
        serviceAccounts.putIfAbsent(email, s -> false);
        ObjectNode doc = JSON.createObjectNode();
        doc.put("type", "service_account");
        doc.put("project_id", "sluice-test");
        doc.put("private_key_id", key.kid());
        doc.put("private_key", key.toPem());
        doc.put("client_email", email);
        doc.put("client_id", "1234567890");
        doc.put("token_uri", tokenUri().toString());
        return doc.toString();
    }

    /** Forgets a key's public half, as deleting the key in IAM does. */
    public void deleteKey(String keyId) {
        keys.remove(keyId);
    }

    public void tokenLifetime(Duration d) {
        lifetime.set(d);
    }

    public IdentityFaults stsFaults() {
        return stsFaults;
    }

    public IdentityFaults iamFaults() {
        return iamFaults;
    }

    public IdentityFaults oauthFaults() {
        return oauthFaults;
    }

    /** Whether {@code token} is one this service issued and has not expired: what a test storage server checks. */
    public boolean accepts(String token) {
        Issued i = tokens.get(token);
        return i != null && Instant.now().isBefore(i.expires());
    }

    /** Who {@code token} was issued to (a federated subject or a service account's email). */
    public java.util.Optional<Issued> issued(String token) {
        return java.util.Optional.ofNullable(tokens.get(token));
    }

    /** Every token issued so far. */
    public List<String> issuedTokens() {
        return List.copyOf(tokens.keySet());
    }

    /** Successful exchanges at {@code endpoint} ({@code sts}, {@code iam}, {@code oauth}). */
    public int exchanges(String endpoint) {
        AtomicInteger n = exchanges.get(endpoint);
        return n == null ? 0 : n.get();
    }

    /** Every subject token the STS received, as sent. */
    public List<String> subjectTokens() {
        return List.copyOf(subjectTokens);
    }

    /** Every JWT the OAuth endpoint received, as sent. */
    public List<String> keyAssertions() {
        return List.copyOf(keyAssertions);
    }

    public List<String> errors() {
        return List.copyOf(errors);
    }

    private void handle(Request request, Response response, Callback callback) throws Exception {
        String path = request.getHttpURI().getPath();
        String body = Content.Source.asString(request, StandardCharsets.UTF_8);
        if (path.equals("/v1/token")) {
            sts(request, body, response, callback);
        } else if (path.startsWith("/iam/v1/projects/-/serviceAccounts/") && path.endsWith(":generateAccessToken")) {
            String email = URLDecoder.decode(path.substring("/iam/v1/projects/-/serviceAccounts/".length(),
                    path.length() - ":generateAccessToken".length()), StandardCharsets.UTF_8);
            iam(request, email, body, response, callback);
        } else if (path.equals("/oauth2/token")) {
            oauth(body, response, callback);
        } else {
            apiError(response, callback, 404, "NOT_FOUND", "No such method " + path);
        }
    }

    private void sts(Request request, String body, Response response, Callback callback) throws Exception {
        JsonNode form;
        try {
            form = JSON.readTree(body);
        } catch (IOException e) {
            form = null;
        }
        if (form != null && form.hasNonNull("subjectToken")) {
            subjectTokens.add(form.get("subjectToken").asText());
        }
        if (injected(stsFaults, response, callback, false)) {
            return;
        }
        if (form == null || !String.valueOf(request.getHeaders().get("Content-Type")).startsWith("application/json")) {
            oauthError(response, callback, 400, "invalid_request", "The request body is not JSON.");
            return;
        }
        if (!"urn:ietf:params:oauth:grant-type:token-exchange".equals(form.path("grantType").asText())
                || !"urn:ietf:params:oauth:token-type:access_token".equals(form.path("requestedTokenType").asText())
                || !"urn:ietf:params:oauth:token-type:jwt".equals(form.path("subjectTokenType").asText())
                || !SCOPE.equals(form.path("scope").asText())) {
            oauthError(response, callback, 400, "invalid_request", "Invalid value for grantType, requestedTokenType, subjectTokenType or scope.");
            return;
        }
        String audience = form.path("audience").asText();
        Predicate<String> subjects = pools.get(audience);
        if (subjects == null) {
            oauthError(response, callback, 400, "invalid_target", "The target service indicated by the \"audience\" parameters is invalid.");
            return;
        }
        JWTClaimsSet claims;
        try {
            claims = trust.verify(form.path("subjectToken").asText(), "https:" + audience);
        } catch (BadJWTException e) {
            oauthError(response, callback, 400, "invalid_grant", "The audience in ID Token does not match the expected audience, or: "
                    + e.getMessage());
            return;
        } catch (Exception e) {
            oauthError(response, callback, 400, "invalid_grant", "Unable to verify the ID Token signature.");
            return;
        }
        if (!subjects.test(claims.getSubject())) {
            oauthError(response, callback, 400, "unauthorized_client", "The given credential is rejected by the attribute condition.");
            return;
        }
        Issued issued = issue("principal://" + audience.substring(2) + "/subject/" + claims.getSubject(), true);
        exchanges.computeIfAbsent("sts", k -> new AtomicInteger()).incrementAndGet();
        ObjectNode reply = JSON.createObjectNode();
        reply.put("access_token", issued.token());
        reply.put("issued_token_type", "urn:ietf:params:oauth:token-type:access_token");
        reply.put("token_type", "Bearer");
        reply.put("expires_in", Duration.between(Instant.now(), issued.expires()).toSeconds());
        write(response, callback, 200, reply.toString());
    }

    private void iam(Request request, String email, String body, Response response, Callback callback) throws Exception {
        if (injected(iamFaults, response, callback, true)) {
            return;
        }
        String authorization = String.valueOf(request.getHeaders().get("Authorization"));
        Issued caller = authorization.startsWith("Bearer ") ? tokens.get(authorization.substring(7)) : null;
        if (caller == null || !Instant.now().isBefore(caller.expires())) {
            apiError(response, callback, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials.");
            return;
        }
        JsonNode req;
        try {
            req = JSON.readTree(body);
        } catch (IOException e) {
            req = null;
        }
        if (req == null || !req.path("scope").isArray() || !req.path("lifetime").asText("3600s").matches("[0-9]+s")) {
            apiError(response, callback, 400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
            return;
        }
        Predicate<String> users = serviceAccounts.get(email);
        if (users == null) {
            apiError(response, callback, 404, "NOT_FOUND", "Requested entity was not found.");
            return;
        }
        String subject = caller.principal().substring(caller.principal().indexOf("/subject/") + "/subject/".length());
        if (!caller.federated() || !users.test(subject)) {
            apiError(response, callback, 403, "PERMISSION_DENIED", "Permission 'iam.serviceAccounts.getAccessToken' denied on resource "
                    + "(or it may not exist).");
            return;
        }
        Issued issued = issue(email, false);
        exchanges.computeIfAbsent("iam", k -> new AtomicInteger()).incrementAndGet();
        ObjectNode reply = JSON.createObjectNode();
        reply.put("accessToken", issued.token());
        reply.put("expireTime", issued.expires().toString());
        write(response, callback, 200, reply.toString());
    }

    private void oauth(String body, Response response, Callback callback) throws Exception {
        Map<String, String> form = Forms.parse(body);
        if (form.containsKey("assertion")) {
            keyAssertions.add(form.get("assertion"));
        }
        if (injected(oauthFaults, response, callback, false)) {
            return;
        }
        if (!"urn:ietf:params:oauth:grant-type:jwt-bearer".equals(form.get("grant_type"))) {
            oauthError(response, callback, 400, "unsupported_grant_type", "Invalid grant_type: " + form.get("grant_type"));
            return;
        }
        SignedJWT jwt;
        JWTClaimsSet claims;
        try {
            jwt = SignedJWT.parse(form.getOrDefault("assertion", ""));
            claims = jwt.getJWTClaimsSet();
        } catch (java.text.ParseException e) {
            oauthError(response, callback, 400, "invalid_grant", "Invalid JWT: the assertion does not parse.");
            return;
        }
        SigningKey key = jwt.getHeader().getKeyID() == null ? null : keys.get(jwt.getHeader().getKeyID());
        if (key == null || !jwt.verify(new RSASSAVerifier(key.publicKey()))) {
            oauthError(response, callback, 400, "invalid_grant", "Invalid JWT Signature.");
            return;
        }
        Instant now = Instant.now();
        Date iat = claims.getIssueTime();
        Date exp = claims.getExpirationTime();
        if (iat == null || exp == null || exp.toInstant().isBefore(now) || iat.toInstant().isAfter(now.plusSeconds(60))
                || Duration.between(iat.toInstant(), exp.toInstant()).compareTo(Duration.ofHours(1)) > 0) {
            oauthError(response, callback, 400, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                    + "reasonable timeframe.");
            return;
        }
        if (claims.getAudience().size() != 1 || !tokenUri().toString().equals(claims.getAudience().get(0))) {
            oauthError(response, callback, 400, "invalid_grant", "Invalid JWT: aud is not " + tokenUri());
            return;
        }
        String email = claims.getIssuer();
        if (email == null || !serviceAccounts.containsKey(email)) {
            oauthError(response, callback, 400, "invalid_grant", "Invalid grant: account not found");
            return;
        }
        if (!(claims.getClaim("scope") instanceof String scope) || scope.isBlank()) {
            oauthError(response, callback, 400, "invalid_scope", "Invalid OAuth scope or ID token audience provided.");
            return;
        }
        Issued issued = issue(email, false);
        exchanges.computeIfAbsent("oauth", k -> new AtomicInteger()).incrementAndGet();
        ObjectNode reply = JSON.createObjectNode();
        reply.put("access_token", issued.token());
        reply.put("expires_in", Duration.between(Instant.now(), issued.expires()).toSeconds());
        reply.put("token_type", "Bearer");
        write(response, callback, 200, reply.toString());
    }

    private Issued issue(String principal, boolean federated) {
        String token = "ya29.test-" + UUID.randomUUID().toString().replace("-", "");
        Issued issued = new Issued(token, principal, Instant.now().plus(lifetime.get()).truncatedTo(ChronoUnit.SECONDS), federated);
        tokens.put(token, issued);
        return issued;
    }

    /** Answers with the injected fault, if any; {@code api} for the IAM API's error shape, else OAuth's. */
    private boolean injected(IdentityFaults faults, Response response, Callback callback, boolean api) throws Exception {
        switch (faults.next()) {
            case HANG -> {
                faults.hang();
                callback.failed(new IOException("hung"));
                return true;
            }
            case THROTTLE -> apiError(response, callback, 429, "RESOURCE_EXHAUSTED", "Quota exceeded.");
            case SERVER_ERROR -> {
                if (api) {
                    apiError(response, callback, 503, "UNAVAILABLE", "The service is currently unavailable.");
                } else {
                    oauthError(response, callback, 500, "server_error", "Injected internal error.");
                }
            }
            case GARBAGE -> {
                response.setStatus(200);
                response.getHeaders().put("Content-Type", "text/html");
                Content.Sink.write(response, true, "<html><body>Error 404 (Not Found)!!1</body></html>", callback);
            }
            case OVERSIZED -> write(response, callback, 200, "{\"padding\":\"" + "x".repeat(200_000)
                    + "\",\"access_token\":\"ya29.x\",\"accessToken\":\"ya29.x\",\"expires_in\":3599,\"expireTime\":\"2099-01-01T00:00:00Z\"}");
            case REFUSE -> {
                if (api) {
                    apiError(response, callback, 403, "PERMISSION_DENIED", "Permission 'iam.serviceAccounts.getAccessToken' denied.");
                } else {
                    oauthError(response, callback, 400, "invalid_grant", "Injected: the credential is refused.");
                }
            }
            case MISCONFIGURED -> {
                if (api) {
                    apiError(response, callback, 404, "NOT_FOUND", "Requested entity was not found.");
                } else {
                    oauthError(response, callback, 400, "invalid_request", "Injected: invalid request.");
                }
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    private void oauthError(Response response, Callback callback, int status, String error, String description) {
        errors.add(error);
        ObjectNode body = JSON.createObjectNode();
        body.put("error", error);
        body.put("error_description", description);
        write(response, callback, status, body.toString());
    }

    private void apiError(Response response, Callback callback, int status, String code, String message) {
        errors.add(code);
        ObjectNode body = JSON.createObjectNode();
        ObjectNode error = body.putObject("error");
        error.put("code", status);
        error.put("message", message);
        error.put("status", code);
        write(response, callback, status, body.toString());
    }

    private static void write(Response response, Callback callback, int status, String body) {
        response.setStatus(status);
        response.getHeaders().put("Content-Type", "application/json; charset=UTF-8");
        Content.Sink.write(response, true, body, callback);
    }

    @Override
    public void close() throws Exception {
        stsFaults.releaseHung();
        iamFaults.releaseHung();
        oauthFaults.releaseHung();
        server.close();
    }
}
