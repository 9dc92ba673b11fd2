package dev.sluice.federation;

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

import java.time.Duration;
import java.time.InstantSource;
import java.util.Set;
import java.util.function.DoubleSupplier;

/**
 * Entra ID workload identity federation: the OAuth 2.0 client credentials grant whose client
 * assertion is a JWT sluice mints for the grant's subject with
 * {@code aud=api://AzureADTokenExchange}, answered with a bearer token for
 * {@code https://storage.azure.com/.default} (docs/federation.md, "Azure Blob and GCS tokens").
 *
 * <p>Retried (within the one deadline of {@link ExchangeLoop}): HTTP 429 and
 * {@code temporarily_unavailable} (throttling), 5xx and {@code server_error}, I/O. Refusals
 * of the identity ({@code invalid_client}, {@code unauthorized_client}, and the AADSTS codes of
 * "no matching federated identity record") are 403; anything else Entra refuses is a
 * misconfiguration, 502.
 */
public final class EntraExchange implements TokenExchange<TokenGrant.Entra> {
    public static final String PROVIDER = "entra";
    public static final String AUDIENCE = "api://AzureADTokenExchange";
    public static final String SCOPE = "https://storage.azure.com/.default";
    public static final String ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    static final Duration ASSERTION_LIFETIME = Duration.ofMinutes(5);
    /**
     * AADSTS codes that say the federated identity itself is not trusted: no federated identity
     * credential matches the assertion (70021, and its issuer/subject/audience variants 700211–700213).
     */
    private static final Set<Long> IDENTITY_REFUSED = Set.of(70021L, 700211L, 700212L, 700213L);
    private static final Logger LOG = LoggerFactory.getLogger(EntraExchange.class);

    private final HttpClient http;
    private final OidcProvider oidc;
    private final Duration timeout;
    private final InstantSource clock;
    private final ExchangeLoop loop;

    public EntraExchange(HttpClient http, OidcProvider oidc, Duration timeout, DoubleSupplier jitter, Ticker ticker, InstantSource clock,
                         TokenExchange.Observer observer) {
        this.http = http;
        this.oidc = oidc;
        this.timeout = timeout;
        this.clock = clock;
        this.loop = new ExchangeLoop(jitter, ticker, observer.of(PROVIDER), LOG, "entra exchange");
    }

    @Override
    public Expiring<BearerToken> exchange(TokenGrant.Entra grant) {
        return loop.run(timeout, deadline -> attempt(grant, deadline), TokenReplies.conclusion(LOG, PROVIDER, grant, grant.subject()));
    }

    private ExchangeLoop.Outcome<Expiring<BearerToken>> attempt(TokenGrant.Entra grant, long deadline) {
        Fields form = new Fields();
        form.put("grant_type", "client_credentials");
        form.put("client_id", grant.clientId());
        form.put("client_assertion_type", ASSERTION_TYPE);
        form.put("client_assertion", oidc.mint(grant.subject(), AUDIENCE, ASSERTION_LIFETIME));
        form.put("scope", SCOPE);
        Request request = http.newRequest(grant.tokenEndpoint())
                .method(HttpMethod.POST)
                .body(new FormRequestContent(form))
                .headers(h -> h.put("Accept", "application/json"));
        return loop.send(request, deadline, TokenReplies.MAX_RESPONSE_BYTES, (status, answer) -> parse(status, answer, clock));
    }

    /** Reads Entra's reply: a token, or an error decided from its {@code error} and {@code error_codes}. */
    static ExchangeLoop.Outcome<Expiring<BearerToken>> parse(int status, byte[] body, InstantSource clock) {
        return TokenReplies.oauth(status, body, clock.instant(), (e, requestId) -> {
            String message = e.description() + (e.codes().isEmpty() ? "" : " error_codes=" + e.codes());
            if (status == 429 || e.error().equals("temporarily_unavailable")) {
                return new ExchangeLoop.Failed<>(true, TokenReplies.THROTTLED, e.error(), message, requestId);
            }
            if (status >= 500 || e.error().equals("server_error")) {
                return new ExchangeLoop.Failed<>(true, TokenReplies.PROVIDER_ERROR, e.error(), message, requestId);
            }
            boolean identityRefused = e.error().equals("invalid_client") || e.error().equals("unauthorized_client")
                    || e.codes().stream().anyMatch(IDENTITY_REFUSED::contains);
            return new ExchangeLoop.Failed<>(false, identityRefused ? TokenReplies.REFUSED : TokenReplies.PROVIDER_ERROR, e.error(),
                    message, requestId);
        });
    }
}
