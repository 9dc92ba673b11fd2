package dev.sluice.federation;

import dev.sluice.backend.AccessTokens;
import dev.sluice.backend.BearerToken;
import dev.sluice.backend.TokenGrant;
import dev.sluice.cache.Expiring;
import dev.sluice.cache.RefreshAheadCache;
import dev.sluice.observe.CounterFamily;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.time.InstantSource;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.DoubleSupplier;

/**
 * Bearer tokens for Azure Blob and GCS backends (docs/federation.md, "Azure Blob and GCS
 * tokens"), kept like federated AWS credentials (docs/federation.md, "The in-process
 * tier"): an in-process {@link RefreshAheadCache} (serve fresh, renew ahead of expiry
 * without making anyone wait, single-flight cold loads, remember failures briefly) whose load is the next tier down, the
 * sealed shared tier ({@code tok} namespace) when {@code cache.shared} is configured, and under
 * it {@link #exchanging the exchange} that the grant names. A token expires when its provider
 * says ({@code expires_in} from the moment of the answer, or {@code expireTime}).
 *
 * <p>Metrics: {@code sluice_token_lookups_total{tier="l1",outcome}} (hit, renewing, miss,
 * error), {@code sluice_token_loads_in_flight}, and from the exchanges
 * {@code sluice_token_exchanges_total{provider,outcome,code}} and the
 * {@code sluice_token_exchange_seconds{provider}} histogram.
 */
public final class TokenTier implements AccessTokens {
    private final RefreshAheadCache<TokenGrant, BearerToken> l1;
    private final Duration maxWait;

    public TokenTier(RefreshAheadCache.Loader<TokenGrant, BearerToken> next, RefreshAheadCache.Policy policy, InstantSource clock,
                     Executor loads, DoubleSupplier jitter, Duration maxWait, MeterRegistry meters) {
        this.maxWait = maxWait;
        Map<RefreshAheadCache.Outcome, Counter> lookups = new EnumMap<>(RefreshAheadCache.Outcome.class);
        for (RefreshAheadCache.Outcome o : RefreshAheadCache.Outcome.values()) {
            lookups.put(o, Counter.builder("sluice.token.lookups").description("Bearer token lookups by tier and outcome")
                    .tag("tier", "l1").tag("outcome", o.name().toLowerCase(Locale.ROOT)).register(meters));
        }
        RefreshAheadCache.Observer observer = new RefreshAheadCache.Observer() {
            @Override
            public void lookup(RefreshAheadCache.Outcome outcome) {
                lookups.get(outcome).increment();
            }
        };
        this.l1 = new RefreshAheadCache<>(next, policy, clock, loads, jitter,
                waited -> S3Exception.unavailable("no bearer token within the caller's wait of " + waited, null), observer, 100_000);
        Gauge.builder("sluice.token.loads.in.flight", l1, RefreshAheadCache::loadsInFlight)
                .description("Bearer token loads (renewals and cold loads) running now").register(meters);
    }

    @Override
    public BearerToken token(TokenGrant grant) {
        try {
            return l1.get(grant, maxWait);
        } catch (RefreshAheadCache.UnusableValue e) {
            // The provider answered with a token that expires too soon to be used: a dependency failure.
            throw S3Exception.unavailable("token issued for " + grant.describe() + ": " + e.getMessage(), e);
        }
    }

    /** The exchanges as the last tier, with their metrics registered in {@code meters}. */
    public static TokenExchange.Observer exchangeMetrics(MeterRegistry meters) {
        CounterFamily exchanges = new CounterFamily(meters, "sluice.token.exchanges",
                "Token exchanges by identity provider, outcome and provider error code", "provider", "outcome", "code");
        Map<String, Timer> latency = new ConcurrentHashMap<>();
        return (provider, outcome, code, duration) -> {
            exchanges.increment(provider, outcome, code);
            latency.computeIfAbsent(provider, p -> Timer.builder("sluice.token.exchange")
                    .description("Token exchange latency by identity provider, retries included").tag("provider", p)
                    .publishPercentileHistogram().register(meters)).record(duration);
        };
    }

    /**
     * The exchange each grant names. A federated grant needs sluice's OIDC identity; without
     * one, such grants are refused when backends are built and never reach this, so meeting one
     * here is a misconfiguration (502), not a crash.
     */
    public static RefreshAheadCache.Loader<TokenGrant, BearerToken> exchanging(Optional<EntraExchange> entra,
                                                                              Optional<GoogleExchange> google,
                                                                              GoogleServiceAccountExchange serviceAccount) {
        return grant -> switch (grant) {
            case TokenGrant.Entra e -> entra.orElseThrow(() -> noIdentity(grant)).exchange(e);
            case TokenGrant.GoogleFederation g -> google.orElseThrow(() -> noIdentity(grant)).exchange(g);
            case TokenGrant.GoogleServiceAccount s -> serviceAccount.exchange(s);
        };
    }

    private static S3Exception noIdentity(TokenGrant grant) {
        return new S3Exception(S3Error.BACKEND_AUTHENTICATION_FAILED, S3Error.BACKEND_AUTHENTICATION_FAILED.defaultMessage(),
                new S3Exception.DependencyFailure(grant.describe() + " needs oidc.signing_key, which is not configured", null));
    }

    /** For tests and benchmarks: the L1 itself. */
    RefreshAheadCache<TokenGrant, BearerToken> l1() {
        return l1;
    }
}
