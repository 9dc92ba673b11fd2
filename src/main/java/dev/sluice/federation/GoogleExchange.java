package dev.sluice.federation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.backend.BearerToken;
import dev.sluice.backend.TokenGrant;
import dev.sluice.cache.Expiring;
import dev.sluice.time.Ticker;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.http.HttpMethod;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Optional;
import java.util.function.DoubleSupplier;

/**
 * Google workload identity federation (docs/federation.md, "Azure Blob and GCS tokens"): a JWT
 * sluice mints for the grant's subject, whose {@code aud} is the pool provider's URL
 * ({@code https:} + the {@code //iam.googleapis.com/…} audience), exchanged at the Security
 * Token Service (RFC 8693 token exchange, JSON body) for a federated access token; then, when a
 * service account is named, that token buys the service account's own token from the IAM
 * credentials API ({@code generateAccessToken}). Both steps run under one deadline.
 *
 * <p>Refusals of the identity (STS {@code invalid_grant}, {@code unauthorized_client},
 * {@code access_denied}; IAM 401 and 403 {@code PERMISSION_DENIED}) are 403; other refusals (STS
 * {@code invalid_request}, {@code invalid_scope}, {@code invalid_target}; IAM 400, 404) are
 * misconfiguration, 502. HTTP 429 (IAM {@code RESOURCE_EXHAUSTED}) is throttling, retried,
 * then 503 SlowDown; 5xx and I/O are retried, then 503.
 */
public final class GoogleExchange implements TokenExchange<TokenGrant.GoogleFederation> {
    public static final String STS_PROVIDER = "google_sts";
    public static final String IAM_PROVIDER = "google_iam";
    public static final String SCOPE = "https://www.googleapis.com/auth/cloud-platform";
    public static final String TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
    public static final String ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
    public static final String JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt";
    /** What sluice asks of generateAccessToken: the API's default and maximum without an org policy. */
    public static final String LIFETIME = "3600s";
    static final Duration ASSERTION_LIFETIME = Duration.ofMinutes(5);
    private static final Logger LOG = LoggerFactory.getLogger(GoogleExchange.class);

    private final HttpClient http;
    private final OidcProvider oidc;
    private final Duration timeout;
    private final InstantSource clock;
    private final ExchangeLoop sts;
    private final ExchangeLoop iam;

    public GoogleExchange(HttpClient http, OidcProvider oidc, Duration timeout, DoubleSupplier jitter, Ticker ticker,
                          InstantSource clock, TokenExchange.Observer observer) {
        this.http = http;
        this.oidc = oidc;
        this.timeout = timeout;
        this.clock = clock;
        this.sts = new ExchangeLoop(jitter, ticker, observer.of(STS_PROVIDER), LOG, "google sts exchange");
        this.iam = new ExchangeLoop(jitter, ticker, observer.of(IAM_PROVIDER), LOG, "google iam generateAccessToken");
    }

    /** The {@code aud} of the JWT: the provider's URL, which is what a pool provider accepts by default. */
    public static String assertionAudience(String audience) {
        return audience.startsWith("//") ? "https:" + audience : audience;
    }

    @Override
    public Expiring<BearerToken> exchange(TokenGrant.GoogleFederation grant) {
        Ticker ticker = sts.ticker();
        long started = ticker.nanoTime();
        long deadline = started + timeout.toNanos();
        Expiring<BearerToken> federated = sts.run(started, deadline, d -> stsAttempt(grant, d), conclusion(STS_PROVIDER, grant));
        if (grant.serviceAccount().isEmpty()) {
            return federated;
        }
        String account = grant.serviceAccount().get();
        return iam.run(started, deadline, d -> iamAttempt(grant, account, federated.value(), d), conclusion(IAM_PROVIDER, grant));
    }

    private static ExchangeLoop.Conclusion<Expiring<BearerToken>> conclusion(String provider, TokenGrant.GoogleFederation grant) {
        return TokenReplies.conclusion(LOG, provider, grant, grant.subject());
    }

    private ExchangeLoop.Outcome<Expiring<BearerToken>> stsAttempt(TokenGrant.GoogleFederation grant, long deadline) {
        ObjectNode body = TokenReplies.JSON.createObjectNode();
        body.put("grantType", TOKEN_EXCHANGE);
        body.put("audience", grant.audience());
        body.put("scope", SCOPE);
        body.put("requestedTokenType", ACCESS_TOKEN_TYPE);
        body.put("subjectTokenType", JWT_TOKEN_TYPE);
        body.put("subjectToken", oidc.mint(grant.subject(), assertionAudience(grant.audience()), ASSERTION_LIFETIME));
        Request request = http.newRequest(grant.stsEndpoint())
                .method(HttpMethod.POST)
                .body(new BytesRequestContent("application/json", body.toString().getBytes(StandardCharsets.UTF_8)))
                .headers(h -> h.put("Accept", "application/json"));
        return sts.send(request, deadline, TokenReplies.MAX_RESPONSE_BYTES, (status, answer) -> parseSts(status, answer, clock.instant()));
    }

    /** Reads the STS reply: an OAuth token reply, or an OAuth error. */
    static ExchangeLoop.Outcome<Expiring<BearerToken>> parseSts(int status, byte[] body, Instant now) {
        return TokenReplies.oauth(status, body, now, (e, requestId) -> {
            if (status == 429) {
                return new ExchangeLoop.Failed<>(true, TokenReplies.THROTTLED, e.error(), e.description(), requestId);
            }
            if (status >= 500 || e.error().equals("server_error") || e.error().equals("temporarily_unavailable")) {
                return new ExchangeLoop.Failed<>(true, TokenReplies.PROVIDER_ERROR, e.error(), e.description(), requestId);
            }
            boolean refused = e.error().equals("invalid_grant") || e.error().equals("unauthorized_client")
                    || e.error().equals("access_denied");
            return new ExchangeLoop.Failed<>(false, refused ? TokenReplies.REFUSED : TokenReplies.PROVIDER_ERROR, e.error(),
                    e.description(), requestId);
        });
    }

    private ExchangeLoop.Outcome<Expiring<BearerToken>> iamAttempt(TokenGrant.GoogleFederation grant, String account,
                                                                   BearerToken federated, long deadline) {
        ObjectNode body = TokenReplies.JSON.createObjectNode();
        body.putArray("scope").add(SCOPE);
        body.put("lifetime", LIFETIME);
        Request request = http.newRequest(generateAccessToken(grant.iamEndpoint(), account))
                .method(HttpMethod.POST)
                .body(new BytesRequestContent("application/json", body.toString().getBytes(StandardCharsets.UTF_8)))
                .headers(h -> h.put("Accept", "application/json").put("Authorization", federated.authorization()));
        return iam.send(request, deadline, TokenReplies.MAX_RESPONSE_BYTES, GoogleExchange::parseIam);
    }

    /** {@code {iam}/v1/projects/-/serviceAccounts/{email}:generateAccessToken}. */
    static URI generateAccessToken(URI iamEndpoint, String account) {
        String base = iamEndpoint.toString().replaceAll("/+$", "");
        String email = URLEncoder.encode(account, StandardCharsets.UTF_8).replace("+", "%20").replace("%40", "@");
        return URI.create(base + "/v1/projects/-/serviceAccounts/" + email + ":generateAccessToken");
    }

    /**
     * Reads generateAccessToken's reply: {@code {accessToken, expireTime}}, or a Google API error
     * {@code {"error": {code, message, status}}}.
     */
    static ExchangeLoop.Outcome<Expiring<BearerToken>> parseIam(int status, byte[] body) {
        Optional<JsonNode> parsed = TokenReplies.json(body);
        if (parsed.isEmpty()) {
            return TokenReplies.garbage(status, "HTTP " + status + " with a body that is not a JSON object", "-");
        }
        JsonNode doc = parsed.get();
        JsonNode error = doc.path("error");
        if (error.isObject()) {
            String code = error.path("status").asText("");
            String message = error.path("message").asText("");
            if (status == 429 || code.equals("RESOURCE_EXHAUSTED")) {
                return new ExchangeLoop.Failed<>(true, TokenReplies.THROTTLED, code, message, "-");
            }
            if (status >= 500) {
                return new ExchangeLoop.Failed<>(true, TokenReplies.PROVIDER_ERROR, code, message, "-");
            }
            boolean refused = status == 401 || status == 403 || code.equals("PERMISSION_DENIED") || code.equals("UNAUTHENTICATED");
            return new ExchangeLoop.Failed<>(false, refused ? TokenReplies.REFUSED : TokenReplies.PROVIDER_ERROR,
                    code.isEmpty() ? "http_" + status : code, message, "-");
        }
        if (status == 200) {
            String token = doc.path("accessToken").asText("");
            Optional<Instant> expires = TokenReplies.instant(doc.path("expireTime"));
            if (token.isBlank() || expires.isEmpty()) {
                return new ExchangeLoop.Failed<>(false, TokenReplies.GARBAGE, "", "a token reply without a token or an expiry", "-");
            }
            return new ExchangeLoop.Got<>(new Expiring<>(new BearerToken(token), expires.get()), "-");
        }
        return TokenReplies.byStatus(status, "HTTP " + status + " without an error", "-");
    }
}
