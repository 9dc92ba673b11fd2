package dev.sluice.backend;

import dev.sluice.time.Ticker;
import org.eclipse.jetty.client.HttpClient;

import java.time.InstantSource;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * The one place a {@link BackendSpec} becomes a {@link Backend}: products of the static
 * configuration and locations the control plane describes are built here alike, on the shared
 * HTTP client, with the same deadlines and the same way to credentials. Owns nothing it builds
 * with: the client, the hashing worker and the federated credentials belong to whoever handed
 * them in, and are closed there.
 */
public final class Backends {
    private final HttpClient http;
    private final Executor hashing;
    private final Optional<FederatedCredentials> federated;
    private final AccessTokens tokens;
    private final InstantSource clock;
    private final Ticker ticker;

    /**
     * @param hashing   where file backends hash file content in the background
     * @param federated the credentials for {@link BackendAuth.WebIdentity}; empty when sluice has no OIDC signing key,
     *                  and then no federated {@link TokenGrant} is served either
     * @param tokens    the bearer tokens of Azure Blob and GCS backends
     */
    public Backends(HttpClient http, Executor hashing, Optional<FederatedCredentials> federated, AccessTokens tokens,
                    InstantSource clock, Ticker ticker) {
        this.http = http;
        this.hashing = hashing;
        this.federated = federated;
        this.tokens = tokens;
        this.clock = clock;
        this.ticker = ticker;
    }

    /** The backend for {@code spec}; throws {@link FederationNotConfigured} for a web identity role without federation. */
    public Backend build(BackendSpec spec) {
        return switch (spec) {
            case BackendSpec.File f -> new FileBackend(f.directory(), hashing, f.abandonedUploadAge());
            case BackendSpec.S3 s -> new S3Backend(http, s.endpoint(), s.region(), s.bucket(), s.prefix(), credentials(s.auth()),
                    clock, ticker, s.timeout(), s.checksumTrailers());
            case BackendSpec.Azure a -> {
                if (a.auth() instanceof AzureAuth.Federated f) {
                    requireFederation(f.grant());
                }
                yield new AzureBackend(http, a, tokens, clock, ticker);
            }
            case BackendSpec.Gcs g -> {
                if (g.auth() instanceof GcsAuth.Token t) {
                    requireFederation(t.grant());
                }
                yield new GcsBackend(http, g, tokens, clock, ticker);
            }
        };
    }

    private void requireFederation(TokenGrant grant) {
        if (grant.federated() && federated.isEmpty()) {
            throw new FederationNotConfigured(grant.describe());
        }
    }

    private BackendCredentials credentials(BackendAuth auth) {
        return switch (auth) {
            case BackendAuth.Anonymous a -> BackendCredentials.anonymous();
            case BackendAuth.Static s -> BackendCredentials.fixed(s.credentials());
            case BackendAuth.WebIdentity w -> {
                FederatedCredentials source = federated.orElseThrow(() -> new FederationNotConfigured("role " + w.roleArn()));
                yield BackendCredentials.federated(source, w.roleArn(), w.subject());
            }
        };
    }

    /**
     * A web identity role or a federated token was asked for, but sluice has no OIDC provider to assert it with. The
     * static configuration refuses this at load; a control-plane location answers it per request.
     */
    public static final class FederationNotConfigured extends RuntimeException {
        FederationNotConfigured(String what) {
            super("needs federation (" + what + ") but oidc.signing_key is not configured", null, false, false);
        }
    }
}
