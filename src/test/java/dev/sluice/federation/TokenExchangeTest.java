package dev.sluice.federation;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jwt.SignedJWT;
import dev.sluice.backend.BearerToken;
import dev.sluice.backend.TokenGrant;
import dev.sluice.cache.Expiring;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.testing.IdentityFaults;
import dev.sluice.testing.IdentityFaults.Fault;
import dev.sluice.testing.LoopbackServer;
import dev.sluice.testing.MutableClock;
import dev.sluice.testing.TestEntra;
import dev.sluice.testing.TestGoogle;
import dev.sluice.testing.TestKeys;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.io.Content;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;

/**
 * The token exchanges (Entra ID, Google STS, IAM credentials impersonation, Google's OAuth
 * endpoint for service-account keys) against the test identity providers, which verify what
 * sluice sends as the real ones do: every fault each provider can show mapped to the S3 error
 * of docs/federation.md, the JWTs carrying exactly the documented claims, and no token,
 * assertion or key in a log line or an error.
 */
class TokenExchangeTest {
    private static final String SUBJECT = "sluice:product:demo/azure";
    private static final String TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    private static final String CLIENT = "6f1a2b3c-0000-4000-8000-00000000c1e7";
    private static final String AUDIENCE = "//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/sluice-pool/providers/sluice";
    private static final String SERVICE_ACCOUNT = "reader@sluice-test.iam.gserviceaccount.com";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One exchange step, as its metrics name it. */
    enum Provider { ENTRA, GOOGLE_STS, GOOGLE_IAM, GOOGLE_OAUTH }

    private static SigningKey signingKey;
    private static HttpClient http;

    private final MutableClock clock = new MutableClock(Instant.now());
    private final List<String> observed = new CopyOnWriteArrayList<>();
    private volatile OidcProvider oidc;
    private LoopbackServer issuer;
    private TestEntra entra;
    private TestGoogle google;
    private TokenGrant.GoogleServiceAccount keyGrant;
    private String keyJson;

    @BeforeAll
    static void startClient() throws Exception {
        signingKey = TestKeys.load("test-rsa-a", "key-a");
        http = new HttpClient();
        http.start();
    }

    @AfterAll
    static void stopClient() throws Exception {
        http.stop();
    }

    @BeforeEach
    void start() throws Exception {
        issuer = new LoopbackServer((request, response, callback) -> {
            String path = request.getHttpURI().getPath();
            String body = path.equals(OidcProvider.DISCOVERY_PATH) ? oidc.discoveryDocument()
                    : path.equals(OidcProvider.JWKS_PATH) ? oidc.jwksDocument() : null;
            response.setStatus(body == null ? 404 : 200);
            response.getHeaders().put("Content-Type", "application/json");
            Content.Sink.write(response, true, body == null ? "" : body, callback);
        }, Duration.ZERO);
        // Minted with the real clock: the test providers check exp against it.
        oidc = new OidcProvider(issuer.url(), signingKey, Optional.empty(), Instant::now);
        entra = new TestEntra(issuer.url(), TENANT).application(CLIENT, SUBJECT::equals);
        google = new TestGoogle(issuer.url()).pool(AUDIENCE, SUBJECT::equals).serviceAccount(SERVICE_ACCOUNT, SUBJECT::equals);
        keyJson = google.serviceAccountKey(SERVICE_ACCOUNT);
        JsonNode key = JSON.readTree(keyJson);
        keyGrant = new TokenGrant.GoogleServiceAccount(URI.create(key.get("token_uri").asText()), key.get("client_email").asText(),
                key.get("private_key_id").asText(), key.get("private_key").asText());
    }

    @AfterEach
    void stop() throws Exception {
        entra.close();
        google.close();
        issuer.close();
    }

    // ---- success and what is sent ----

    @ParameterizedTest
    @EnumSource(Provider.class)
    void exchangesForATokenTheProviderIssuedAndItsExpiry(Provider p) {
        Expiring<BearerToken> token = exchange(p, Duration.ofSeconds(5));

        assertThat(issuedBy(p)).contains(token.value().value());
        assertThat(token.expiresAt()).isBetween(clock.instant().plus(Duration.ofMinutes(59)), clock.instant().plus(Duration.ofMinutes(61)));
        assertThat(observed).last().isEqualTo(name(p) + "/success/");
        assertThat(clock.sleeps()).isEmpty();
    }

    @Test
    void entraAssertionCarriesExactlyTheDocumentedClaims() throws Exception {
        exchange(Provider.ENTRA, Duration.ofSeconds(5));

        SignedJWT jwt = SignedJWT.parse(entra.assertions().get(0));
        assertThat(jwt.verify(new RSASSAVerifier(signingKey.publicKey()))).isTrue();
        assertThat(jwt.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.RS256);
        assertThat(jwt.getHeader().getKeyID()).isEqualTo("key-a");
        Map<String, Object> claims = jwt.getJWTClaimsSet().getClaims();
        assertThat(claims).containsOnlyKeys("iss", "sub", "aud", "iat", "nbf", "exp", "jti");
        assertThat(jwt.getJWTClaimsSet().getIssuer()).isEqualTo(issuer.url());
        assertThat(jwt.getJWTClaimsSet().getSubject()).isEqualTo(SUBJECT);
        assertThat(jwt.getJWTClaimsSet().getAudience()).containsExactly("api://AzureADTokenExchange");
        assertThat(Duration.between(jwt.getJWTClaimsSet().getIssueTime().toInstant(),
                jwt.getJWTClaimsSet().getExpirationTime().toInstant())).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void entraAccessTokenIsWhatAzuriteChecks() throws Exception {
        Expiring<BearerToken> token = exchange(Provider.ENTRA, Duration.ofSeconds(5));

        SignedJWT jwt = SignedJWT.parse(token.value().value());
        assertThat(jwt.getJWTClaimsSet().getIssuer()).isEqualTo("https://sts.windows.net/" + TENANT + "/");
        assertThat(jwt.getJWTClaimsSet().getAudience()).containsExactly("https://storage.azure.com");
        assertThat(jwt.getJWTClaimsSet().getClaims()).containsKeys("nbf", "iat", "exp", "tid", "oid");
        assertThat(jwt.getJWTClaimsSet().getExpirationTime().toInstant()).isAfter(Instant.now());
    }

    @Test
    void googleSubjectTokenCarriesExactlyTheDocumentedClaims() throws Exception {
        exchange(Provider.GOOGLE_IAM, Duration.ofSeconds(5));

        SignedJWT jwt = SignedJWT.parse(google.subjectTokens().get(0));
        assertThat(jwt.verify(new RSASSAVerifier(signingKey.publicKey()))).isTrue();
        assertThat(jwt.getHeader().getKeyID()).isEqualTo("key-a");
        assertThat(jwt.getJWTClaimsSet().getClaims()).containsOnlyKeys("iss", "sub", "aud", "iat", "nbf", "exp", "jti");
        assertThat(jwt.getJWTClaimsSet().getSubject()).isEqualTo(SUBJECT);
        assertThat(jwt.getJWTClaimsSet().getAudience()).containsExactly("https:" + AUDIENCE);
        assertThat(google.issued(google.issuedTokens().stream().filter(t -> !google.issued(t).orElseThrow().federated())
                .findFirst().orElseThrow()).orElseThrow().principal()).isEqualTo(SERVICE_ACCOUNT);
    }

    @Test
    void serviceAccountAssertionCarriesExactlyTheDocumentedClaims() throws Exception {
        exchange(Provider.GOOGLE_OAUTH, Duration.ofSeconds(5));

        SignedJWT jwt = SignedJWT.parse(google.keyAssertions().get(0));
        assertThat(jwt.verify(new RSASSAVerifier(TestKeys.load("test-rsa-b", "x").publicKey()))).isTrue();
        assertThat(jwt.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.RS256);
        assertThat(jwt.getHeader().getKeyID()).isEqualTo(keyGrant.privateKeyId());
        assertThat(jwt.getJWTClaimsSet().getClaims()).containsOnlyKeys("iss", "scope", "aud", "iat", "exp");
        assertThat(jwt.getJWTClaimsSet().getIssuer()).isEqualTo(SERVICE_ACCOUNT);
        assertThat(jwt.getJWTClaimsSet().getStringClaim("scope")).isEqualTo("https://www.googleapis.com/auth/cloud-platform");
        assertThat(jwt.getJWTClaimsSet().getAudience()).containsExactly(google.tokenUri().toString());
        assertThat(Duration.between(jwt.getJWTClaimsSet().getIssueTime().toInstant(),
                jwt.getJWTClaimsSet().getExpirationTime().toInstant())).isEqualTo(Duration.ofHours(1));
    }

    // ---- faults ----

    @ParameterizedTest
    @EnumSource(Provider.class)
    void injectedRefusalIsAccessDeniedAfterOneAttempt(Provider p) {
        faults(p).set(Fault.REFUSE);

        S3Exception e = fails(p, Duration.ofSeconds(5));

        assertThat(e.error()).isEqualTo(S3Error.ACCESS_DENIED);
        assertThat(e.error().status()).isEqualTo(403);
        assertThat(observed).last().asString().startsWith(name(p) + "/refused/");
        assertThat(clock.sleeps()).isEmpty();
        assertRevealsNothing(e);
    }

    @ParameterizedTest
    @EnumSource(Provider.class)
    void identityTheProviderDoesNotTrustIsAccessDenied(Provider p) {
        switch (p) {
            case ENTRA -> entra.application(CLIENT, s -> false);
            case GOOGLE_STS -> google.pool(AUDIENCE, s -> false);
            case GOOGLE_IAM -> google.serviceAccount(SERVICE_ACCOUNT, s -> false);
            case GOOGLE_OAUTH -> google.deleteKey(keyGrant.privateKeyId());
        }

        S3Exception e = fails(p, Duration.ofSeconds(5));

        assertThat(e.error()).isEqualTo(S3Error.ACCESS_DENIED);
        assertThat(observed).last().isEqualTo(name(p) + "/refused/" + switch (p) {
            case ENTRA -> "invalid_client";
            case GOOGLE_STS -> "unauthorized_client";
            case GOOGLE_IAM -> "PERMISSION_DENIED";
            case GOOGLE_OAUTH -> "invalid_grant";
        });
    }

    @ParameterizedTest
    @EnumSource(Provider.class)
    void misconfigurationIsBackendAuthenticationFailedAfterOneAttempt(Provider p) {
        faults(p).set(Fault.MISCONFIGURED);

        S3Exception e = fails(p, Duration.ofSeconds(5));

        assertThat(e.error()).isEqualTo(S3Error.BACKEND_AUTHENTICATION_FAILED);
        assertThat(e.error().status()).isEqualTo(502);
        assertThat(observed).last().asString().startsWith(name(p) + "/provider_error/");
        assertThat(clock.sleeps()).isEmpty();
        assertRevealsNothing(e);
    }

    @Test
    void unknownEntraApplicationIsAccessDeniedAndUnknownServiceAccountIsBackendAuthenticationFailed() {
        TokenGrant.Entra unknownClient = new TokenGrant.Entra(entra.tokenEndpoint(), TENANT, "no-such-client", SUBJECT);
        S3Exception entraError = expectFailure(() -> entraExchange(Duration.ofSeconds(5)).exchange(unknownClient));
        TokenGrant.GoogleFederation unknownAccount = new TokenGrant.GoogleFederation(google.stsEndpoint(), AUDIENCE,
                Optional.of("nobody@sluice-test.iam.gserviceaccount.com"), google.iamEndpoint(), SUBJECT);
        S3Exception iamError = expectFailure(() -> googleExchange(Duration.ofSeconds(5)).exchange(unknownAccount));

        assertThat(entraError.error()).isEqualTo(S3Error.ACCESS_DENIED);
        assertThat(iamError.error()).isEqualTo(S3Error.BACKEND_AUTHENTICATION_FAILED);
        assertThat(observed).contains("entra/refused/unauthorized_client", "google_iam/provider_error/NOT_FOUND");
    }

    @Test
    void serviceAccountKeyThatDoesNotParseIsBackendAuthenticationFailedWithoutAnyRequest() {
        TokenGrant.GoogleServiceAccount broken = new TokenGrant.GoogleServiceAccount(google.tokenUri(), SERVICE_ACCOUNT, "kid-1",
                "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");

        S3Exception e = expectFailure(() -> serviceAccountExchange(Duration.ofSeconds(5)).exchange(broken));

        assertThat(e.error()).isEqualTo(S3Error.BACKEND_AUTHENTICATION_FAILED);
        assertThat(google.keyAssertions()).isEmpty();
        assertThat(observed).containsExactly("google_oauth/provider_error/invalid_key");
    }

    @ParameterizedTest
    @EnumSource(Provider.class)
    void throttlingIsRetriedWithBackoffThenSlowDown(Provider p) {
        faults(p).set(Fault.THROTTLE);

        S3Exception e = fails(p, Duration.ofSeconds(1));

        assertThat(e.error()).isEqualTo(S3Error.SLOW_DOWN);
        assertThat(e.error().isRetryable()).as("carries Retry-After").isTrue();
        assertThat(clock.sleeps()).containsExactly(Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(200),
                Duration.ofMillis(400));
        assertThat(observed).last().asString().startsWith(name(p) + "/throttled/");
        assertRevealsNothing(e);
    }

    @ParameterizedTest
    @EnumSource(Provider.class)
    void serverErrorIsRetriedAndTheNextAnswerServed(Provider p) {
        faults(p).set(Fault.SERVER_ERROR, 1);

        Expiring<BearerToken> token = exchange(p, Duration.ofSeconds(5));

        assertThat(issuedBy(p)).contains(token.value().value());
        assertThat(clock.sleeps()).containsExactly(Duration.ofMillis(50));
        assertThat(observed).last().isEqualTo(name(p) + "/success/");
    }

    @ParameterizedTest
    @EnumSource(Provider.class)
    void serverErrorsToTheDeadlineAreServiceUnavailable(Provider p) {
        faults(p).set(Fault.SERVER_ERROR);

        S3Exception e = fails(p, Duration.ofSeconds(1));

        assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE);
        assertThat(e.error().isRetryable()).isTrue();
        assertThat(clock.sleeps()).hasSize(4);
    }

    @ParameterizedTest
    @EnumSource(Provider.class)
    void hangingProviderIsServiceUnavailableWithinTheDeadline(Provider p) throws Exception {
        faults(p).set(Fault.HANG);

        S3Exception e = fails(p, Duration.ofMillis(500));

        assertThat(faults(p).awaitHanging(5)).isTrue();
        assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE);
        assertThat(e.error().isRetryable()).isTrue();
        assertThat(clock.sleeps()).as("a hang is not retried: the attempt had the whole deadline").isEmpty();
        assertThat(observed).last().isEqualTo(name(p) + "/deadline/");
    }

    @ParameterizedTest
    @EnumSource(Provider.class)
    void garbageIsServiceUnavailableAfterOneAttempt(Provider p) {
        faults(p).set(Fault.GARBAGE);

        S3Exception e = fails(p, Duration.ofSeconds(5));

        assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE);
        assertThat(clock.sleeps()).isEmpty();
        assertThat(observed).last().isEqualTo(name(p) + "/garbage/");
        assertRevealsNothing(e);
    }

    @ParameterizedTest
    @EnumSource(Provider.class)
    void oversizedReplyIsGarbage(Provider p) {
        faults(p).set(Fault.OVERSIZED);

        S3Exception e = fails(p, Duration.ofSeconds(5));

        assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE);
        assertThat(clock.sleeps()).isEmpty();
        assertThat(observed).last().isEqualTo(name(p) + "/garbage/");
    }

    @Test
    void entraRepliesAreDecidedFromTheBody() {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        assertThat(EntraExchange.parse(200, bytes("{\"token_type\":\"Bearer\",\"expires_in\":\"3599\",\"access_token\":\"t\"}"), () -> now))
                .isEqualTo(new ExchangeLoop.Got<>(new Expiring<>(new BearerToken("t"), now.plusSeconds(3599)), "-"));
        assertThat(EntraExchange.parse(400, bytes("{\"error\":\"temporarily_unavailable\",\"error_codes\":[90033]}"), () -> now))
                .isInstanceOfSatisfying(ExchangeLoop.Failed.class, f -> assertThat(f.retryable()).isTrue());
        assertThat(EntraExchange.parse(400, bytes("{\"error\":\"invalid_request\",\"error_codes\":[700213]}"), () -> now))
                .isInstanceOfSatisfying(ExchangeLoop.Failed.class, f -> assertThat(f.kind()).isEqualTo("refused"));
        assertThat(EntraExchange.parse(200, bytes("{\"error\":\"invalid_scope\"}"), () -> now))
                .isInstanceOfSatisfying(ExchangeLoop.Failed.class, f -> assertThat(f.kind()).isEqualTo("provider_error"));
        assertThat(EntraExchange.parse(200, bytes("{\"access_token\":\"t\"}"), () -> now))
                .isInstanceOfSatisfying(ExchangeLoop.Failed.class, f -> assertThat(f.kind()).isEqualTo("garbage"));
    }

    // ---- log hygiene ----

    @Test
    void noLogLineOrErrorCarriesATokenAnAssertionOrAKey() throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger("dev.sluice.federation");
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        logger.addAppender(logged);
        Level level = logger.getLevel();
        logger.setLevel(Level.DEBUG);
        List<Throwable> errors = new ArrayList<>();
        try {
            for (Provider p : Provider.values()) {
                exchange(p, Duration.ofSeconds(5));
                for (Fault f : List.of(Fault.SERVER_ERROR, Fault.REFUSE, Fault.MISCONFIGURED, Fault.GARBAGE)) {
                    faults(p).set(f, 1);
                    try {
                        exchange(p, Duration.ofMillis(200));
                    } catch (S3Exception e) {
                        errors.add(e);
                    }
                }
            }
        } finally {
            logger.setLevel(level);
            logger.detachAppender(logged);
        }
        List<String> secrets = new ArrayList<>();
        secrets.addAll(entra.issued());
        secrets.addAll(entra.assertions());
        secrets.addAll(google.issuedTokens());
        secrets.addAll(google.subjectTokens());
        secrets.addAll(google.keyAssertions());
        String keyBody = keyGrant.privateKeyPem().replace("-----BEGIN PRIVATE KEY-----", "").strip().substring(0, 40);
        assertThat(secrets).hasSizeGreaterThan(8);
        assertThat(logged.list).isNotEmpty();
        List<String> lines = new ArrayList<>(logged.list.stream().map(ILoggingEvent::getFormattedMessage).toList());
        for (Throwable e : errors) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                lines.add(String.valueOf(t.getMessage()));
            }
        }
        for (String line : lines) {
            assertThat(line).doesNotContain(keyBody);
            for (String secret : secrets) {
                assertThat(line).doesNotContain(secret).doesNotContain(secret.substring(0, Math.min(24, secret.length())));
            }
        }
    }

    // ---- helpers ----

    private IdentityFaults faults(Provider p) {
        return switch (p) {
            case ENTRA -> entra.faults();
            case GOOGLE_STS -> google.stsFaults();
            case GOOGLE_IAM -> google.iamFaults();
            case GOOGLE_OAUTH -> google.oauthFaults();
        };
    }

    private static String name(Provider p) {
        return switch (p) {
            case ENTRA -> "entra";
            case GOOGLE_STS -> "google_sts";
            case GOOGLE_IAM -> "google_iam";
            case GOOGLE_OAUTH -> "google_oauth";
        };
    }

    private List<String> issuedBy(Provider p) {
        return p == Provider.ENTRA ? entra.issued() : google.issuedTokens();
    }

    private Expiring<BearerToken> exchange(Provider p, Duration timeout) {
        return switch (p) {
            case ENTRA -> entraExchange(timeout).exchange(new TokenGrant.Entra(entra.tokenEndpoint(), TENANT, CLIENT, SUBJECT));
            case GOOGLE_STS -> googleExchange(timeout).exchange(new TokenGrant.GoogleFederation(google.stsEndpoint(), AUDIENCE,
                    Optional.empty(), google.iamEndpoint(), SUBJECT));
            case GOOGLE_IAM -> googleExchange(timeout).exchange(new TokenGrant.GoogleFederation(google.stsEndpoint(), AUDIENCE,
                    Optional.of(SERVICE_ACCOUNT), google.iamEndpoint(), SUBJECT));
            case GOOGLE_OAUTH -> serviceAccountExchange(timeout).exchange(keyGrant);
        };
    }

    private TokenExchange.Observer observer() {
        return (provider, outcome, code, duration) -> observed.add(provider + "/" + outcome + "/" + code);
    }

    private EntraExchange entraExchange(Duration timeout) {
        return new EntraExchange(http, oidc, timeout, () -> 0.0, clock, clock, observer());
    }

    private GoogleExchange googleExchange(Duration timeout) {
        return new GoogleExchange(http, oidc, timeout, () -> 0.0, clock, clock, observer());
    }

    private GoogleServiceAccountExchange serviceAccountExchange(Duration timeout) {
        return new GoogleServiceAccountExchange(http, timeout, () -> 0.0, clock, clock, observer());
    }

    private S3Exception fails(Provider p, Duration timeout) {
        return expectFailure(() -> exchange(p, timeout));
    }

    private static S3Exception expectFailure(java.util.function.Supplier<Expiring<BearerToken>> exchange) {
        try {
            Expiring<BearerToken> unexpected = exchange.get();
            throw new AssertionError("expected the exchange to fail, got " + unexpected);
        } catch (S3Exception e) {
            return e;
        }
    }

    /** The client sees the generic message of its error code, and no cause mentions a token or an assertion. */
    private void assertRevealsNothing(S3Exception e) {
        assertThat(e.clientMessage()).isEqualTo(e.error().defaultMessage());
        List<String> secrets = new ArrayList<>(entra.assertions());
        secrets.addAll(google.subjectTokens());
        secrets.addAll(google.keyAssertions());
        secrets.addAll(google.issuedTokens());
        for (Throwable t = e; t != null; t = t.getCause()) {
            for (String secret : secrets) {
                assertThat(String.valueOf(t.getMessage())).doesNotContain(secret.substring(0, 20));
            }
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
