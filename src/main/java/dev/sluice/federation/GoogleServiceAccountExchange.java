package dev.sluice.federation;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sluice.backend.BearerToken;
import dev.sluice.backend.TokenGrant;
import dev.sluice.cache.Expiring;
import dev.sluice.time.Ticker;
import org.eclipse.jetty.client.FormRequestContent;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.Date;
import java.util.Optional;
import java.util.function.DoubleSupplier;

/**
 * A Google service-account key traded for an access token (docs/federation.md, "Azure Blob and
 * GCS tokens"): the OAuth 2.0 JWT bearer grant (RFC 7523) as Google's own client libraries make
 * it, a JWT signed RS256 with the key ({@code kid} = the key's id, {@code iss} = its
 * {@code client_email}, {@code scope}, {@code aud} = its {@code token_uri}, one hour), posted
 * to {@code token_uri}. Needs no OIDC identity of sluice's.
 *
 * <p>Refusals ({@code invalid_grant}: a bad signature, a deleted key or account;
 * {@code invalid_client}, {@code unauthorized_client}) are 403; other errors, and a key that
 * does not parse, 502; 429 and 5xx are retried, then 503. The private key and the JWT signed
 * with it are never logged.
 */
public final class GoogleServiceAccountExchange implements TokenExchange<TokenGrant.GoogleServiceAccount> {
    public static final String PROVIDER = "google_oauth";
    public static final String JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    static final Duration ASSERTION_LIFETIME = Duration.ofHours(1);
    private static final Logger LOG = LoggerFactory.getLogger(GoogleServiceAccountExchange.class);

    private final HttpClient http;
    private final Duration timeout;
    private final InstantSource clock;
    private final ExchangeLoop loop;

    public GoogleServiceAccountExchange(HttpClient http, Duration timeout, DoubleSupplier jitter, Ticker ticker, InstantSource clock,
                                        TokenExchange.Observer observer) {
        this.http = http;
        this.timeout = timeout;
        this.clock = clock;
        this.loop = new ExchangeLoop(jitter, ticker, observer.of(PROVIDER), LOG, "google service account exchange");
    }

    @Override
    public Expiring<BearerToken> exchange(TokenGrant.GoogleServiceAccount grant) {
        return loop.run(timeout, deadline -> attempt(grant, deadline), TokenReplies.conclusion(LOG, PROVIDER, grant, grant.clientEmail()));
    }

    private ExchangeLoop.Outcome<Expiring<BearerToken>> attempt(TokenGrant.GoogleServiceAccount grant, long deadline) {
        Optional<String> assertion = assertion(grant, clock.instant());
        if (assertion.isEmpty()) {
            return new ExchangeLoop.Failed<>(false, TokenReplies.PROVIDER_ERROR, "invalid_key",
                    "the key's private_key is not a PEM PKCS#8 RSA private key", "-");
        }
        Fields form = new Fields();
        form.put("grant_type", JWT_BEARER);
        form.put("assertion", assertion.get());
        Request request = http.newRequest(grant.tokenUri())
                .method(HttpMethod.POST)
                .body(new FormRequestContent(form))
                .headers(h -> h.put("Accept", "application/json"));
        return loop.send(request, deadline, TokenReplies.MAX_RESPONSE_BYTES, (status, answer) -> parse(status, answer, clock.instant()));
    }

    /** The signed JWT of the grant, or empty when its key does not parse (the reason is never the key's text). */
    static Optional<String> assertion(TokenGrant.GoogleServiceAccount grant, Instant now) {
        Optional<PrivateKey> key = privateKey(grant.privateKeyPem());
        if (key.isEmpty()) {
            return Optional.empty();
        }
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(grant.clientEmail())
                .claim("scope", GoogleExchange.SCOPE)
                .audience(grant.tokenUri().toString())
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plus(ASSERTION_LIFETIME)))
                .build();
        JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(grant.privateKeyId()).type(JOSEObjectType.JWT).build();
        SignedJWT jwt = new SignedJWT(header, claims);
        try {
            jwt.sign(new RSASSASigner(key.get()));
        } catch (JOSEException | IllegalArgumentException e) {
            return Optional.empty();
        }
        return Optional.of(jwt.serialize());
    }

    /** The {@code private_key} of a service-account key file: PEM, PKCS#8, RSA. */
    static Optional<PrivateKey> privateKey(String pem) {
        String base64 = pem.replace("-----BEGIN PRIVATE KEY-----", "").replace("-----END PRIVATE KEY-----", "").replaceAll("\\s", "");
        if (pem.contains("-----BEGIN") && !pem.contains("-----BEGIN PRIVATE KEY-----")) {
            return Optional.empty();
        }
        try {
            return Optional.of(KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64))));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** Reads the token endpoint's reply: an OAuth token reply, or an OAuth error. */
    static ExchangeLoop.Outcome<Expiring<BearerToken>> parse(int status, byte[] body, Instant now) {
        return TokenReplies.oauth(status, body, now, (e, requestId) -> {
            if (status == 429) {
                return new ExchangeLoop.Failed<>(true, TokenReplies.THROTTLED, e.error(), e.description(), requestId);
            }
            if (status >= 500 || e.error().equals("server_error") || e.error().equals("temporarily_unavailable")) {
                return new ExchangeLoop.Failed<>(true, TokenReplies.PROVIDER_ERROR, e.error(), e.description(), requestId);
            }
            boolean refused = e.error().equals("invalid_grant") || e.error().equals("invalid_client")
                    || e.error().equals("unauthorized_client") || e.error().equals("access_denied");
            return new ExchangeLoop.Failed<>(false, refused ? TokenReplies.REFUSED : TokenReplies.PROVIDER_ERROR, e.error(),
                    e.description(), requestId);
        });
    }
}
