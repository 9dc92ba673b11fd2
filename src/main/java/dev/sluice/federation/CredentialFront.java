package dev.sluice.federation;

import dev.sluice.backend.FederatedCredentials;
import dev.sluice.cache.RefreshAheadCache;
import dev.sluice.sigv4.AwsCredentials;
import io.micrometer.core.instrument.MeterRegistry;

import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.Executor;
import java.util.function.DoubleSupplier;

/**
 * What serves federated credentials to backends, built over the chain of loaders below it (the
 * shared tier when configured, then the STS exchange). Sluice always uses {@link #TIER}; the
 * benchmarks pass baselines of their own (an exchange per request, a tier without
 * single-flight) to measure the tier against, which is why this is a seam and not a setting.
 */
@FunctionalInterface
public interface CredentialFront {

    /** The credential tier of docs/federation.md ("The in-process tier"): the in-process refresh-ahead cache over {@code chain}. */
    CredentialFront TIER = (chain, s) -> new CredentialTier(chain, s.policy(), s.clock(), s.loads(), s.jitter(), s.maxWait(),
            s.meters());

    FederatedCredentials build(RefreshAheadCache.Loader<CredentialKey, AwsCredentials> chain, Settings settings);

    /** What the configuration and the composition root give the front: the cache policy, its wait bound and its collaborators. */
    record Settings(RefreshAheadCache.Policy policy, Duration maxWait, InstantSource clock, Executor loads, DoubleSupplier jitter,
                    MeterRegistry meters) {
    }
}
