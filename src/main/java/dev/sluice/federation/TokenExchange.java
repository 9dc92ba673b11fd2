package dev.sluice.federation;

import dev.sluice.backend.BearerToken;
import dev.sluice.backend.TokenGrant;
import dev.sluice.cache.Expiring;

import java.time.Duration;

/**
 * One way to obtain a bearer token for an Azure Blob or GCS backend from an identity provider
 * (docs/federation.md, "Azure Blob and GCS tokens"): the last tier under the token tier's caches.
 * Each exchange runs within one deadline ({@link ExchangeLoop}) and throws an
 * {@link dev.sluice.s3.S3Exception} the client may see when it fails.
 */
@FunctionalInterface
public interface TokenExchange<G extends TokenGrant> {

    /** A fresh token for {@code grant} and when it expires. */
    Expiring<BearerToken> exchange(G grant);

    /**
     * What each exchange step did, for metrics.
     *
     * @param provider {@code entra}, {@code google_sts}, {@code google_iam} or {@code google_oauth}
     * @param outcome  {@code success}, {@code refused}, {@code provider_error}, {@code throttled}, {@code io},
     *                 {@code deadline} or {@code garbage}
     * @param code     the provider's error code, "" when none
     */
    @FunctionalInterface
    interface Observer {
        Observer NONE = (provider, outcome, code, duration) -> { };

        void exchanged(String provider, String outcome, String code, Duration duration);

        /** This observer for one provider, in the shape the exchange loop reports to. */
        default ExchangeLoop.Observer of(String provider) {
            return (outcome, code, duration) -> exchanged(provider, outcome, code, duration);
        }
    }
}
