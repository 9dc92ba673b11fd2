package dev.sluice.federation;

import dev.sluice.backend.FederatedCredentials;
import dev.sluice.cache.RefreshAheadCache;
import dev.sluice.observe.CounterFamily;
import dev.sluice.s3.S3Exception;
import dev.sluice.sigv4.AwsCredentials;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.InstantSource;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.DoubleSupplier;

/**
 * Federated backend credentials for the request path: an in-process
 * {@link RefreshAheadCache} whose load is the next tier down: the shared tier
 * ({@link dev.sluice.cache.SharedTier}, a {@link RefreshAheadCache.Loader} that reads the
 * fleet's copy in Redis before exchanging) when {@code cache.shared} is configured, else the
 * STS exchange itself. The chain is L1 → L2 → STS; this class does not know which tiers
 * are below it.
 *
 * <p>Metrics: {@code sluice_credential_lookups_total{tier="l1",outcome}} (hit, renewing, miss,
 * error), {@code sluice_credential_loads_in_flight}, and from the exchange
 * {@code sluice_sts_exchanges_total{outcome,code}} and the
 * {@code sluice_sts_exchange_seconds} histogram.
 */
public final class CredentialTier implements FederatedCredentials {
    private static final Logger LOG = LoggerFactory.getLogger(CredentialTier.class);
    private final RefreshAheadCache<CredentialKey, AwsCredentials> l1;
    private final Duration maxWait;

    public CredentialTier(RefreshAheadCache.Loader<CredentialKey, AwsCredentials> next, RefreshAheadCache.Policy policy,
                          InstantSource clock, Executor loads, DoubleSupplier jitter, Duration maxWait, MeterRegistry meters) {
        this.maxWait = maxWait;
        Map<RefreshAheadCache.Outcome, Counter> lookups = new EnumMap<>(RefreshAheadCache.Outcome.class);
        for (RefreshAheadCache.Outcome o : RefreshAheadCache.Outcome.values()) {
            lookups.put(o, Counter.builder("sluice.credential.lookups").description("Credential lookups by tier and outcome")
                    .tag("tier", "l1").tag("outcome", o.name().toLowerCase(java.util.Locale.ROOT)).register(meters));
        }
        RefreshAheadCache.Observer observer = new RefreshAheadCache.Observer() {
            @Override
            public void lookup(RefreshAheadCache.Outcome outcome) {
                lookups.get(outcome).increment();
            }
        };
        this.l1 = new RefreshAheadCache<>(logged(next), policy, clock, loads, jitter,
                waited -> S3Exception.unavailable("no credential within the caller's wait of " + waited, null),
                observer, 100_000);
        Gauge.builder("sluice.credential.loads.in.flight", l1, RefreshAheadCache::loadsInFlight)
                .description("Credential loads (renewals and cold loads) running now").register(meters);
    }

    /**
     * {@code next}, with a failure that is not an S3 error logged: the exchange and the shared
     * tier answer every failure they expect as an S3 error (and log it), so anything else is a
     * bug, which a renewal in the background would otherwise only store as its failure.
     */
    private static RefreshAheadCache.Loader<CredentialKey, AwsCredentials> logged(RefreshAheadCache.Loader<CredentialKey, AwsCredentials> next) {
        return key -> {
            try {
                return next.load(key);
            } catch (S3Exception e) {
                throw e;
            } catch (RuntimeException e) {
                LOG.error("credential load for role {} failed with a bug", key.roleArn(), e);
                throw e;
            }
        };
    }

    /** The exchange as the last tier, with its metrics registered in {@code meters}. */
    public static StsExchange.Observer exchangeMetrics(MeterRegistry meters) {
        CounterFamily exchanges = new CounterFamily(meters, "sluice.sts.exchanges", "STS exchanges by outcome and STS error code",
                "outcome", "code");
        Timer latency = Timer.builder("sluice.sts.exchange").description("STS exchange latency, retries included")
                .publishPercentileHistogram().register(meters);
        return (outcome, code, duration) -> {
            exchanges.increment(outcome, code);
            latency.record(duration);
        };
    }

    /** Credentials usable for at least {@code min_serve}; throws an S3 error when none can be had in time. */
    public AwsCredentials credentials(CredentialKey key) {
        try {
            return l1.get(key, maxWait);
        } catch (RefreshAheadCache.UnusableValue e) {
            // STS answered, with credentials that cannot be used: a dependency failure (503), not
            // a bug (500), which is what the client was told before this mapping.
            throw S3Exception.unavailable("credentials STS issued for role " + key.roleArn() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public AwsCredentials credentials(String roleArn, String subject) {
        return credentials(new CredentialKey(roleArn, subject));
    }

    /** The role's credentials when this tier holds usable ones now; never waits (a renewal due is started). */
    @Override
    public Optional<AwsCredentials> heldNow(String roleArn, String subject) {
        return l1.getIfUsable(new CredentialKey(roleArn, subject));
    }

    /** Adapts an exchange to the loader shape. */
    public static RefreshAheadCache.Loader<CredentialKey, AwsCredentials> exchanging(StsExchange exchange) {
        return exchange::exchange;
    }

    /** For tests and benchmarks: the L1 itself. */
    RefreshAheadCache<CredentialKey, AwsCredentials> l1() {
        return l1;
    }
}
