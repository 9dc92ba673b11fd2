package dev.sluice.observe;

import dev.sluice.cache.CircuitBreaker;
import dev.sluice.cache.RedisSharedStore;
import dev.sluice.cache.SharedTier;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Metrics of the shared tier, kept out of the cache package so the cache depends on no metrics
 * library: {@code sluice_shared_calls_total{op,outcome}} (Redis commands: hit, miss, ok, won,
 * held, error, timeout, skipped), {@code sluice_shared_events_total{namespace,event}} (what
 * each L2 load did: hit, miss, lease_won, lease_waited, lease_fallback, exchange, …),
 * {@code sluice_shared_breaker_state} (0 closed, 1 open, 2 half-open) and
 * {@code sluice_shared_breaker_transitions_total}.
 */
public final class CacheMetrics {
    private final MeterRegistry meters;

    public CacheMetrics(MeterRegistry meters) {
        this.meters = meters;
    }

    public RedisSharedStore.Observer storeCalls() {
        return (op, outcome) -> Counter.builder("sluice.shared.calls").description("Shared tier (Redis) calls by outcome")
                .tag("op", op).tag("outcome", outcome).register(meters).increment();
    }

    public SharedTier.Observer tierEvents(String namespace) {
        return event -> Counter.builder("sluice.shared.events").description("What shared-tier loads did")
                .tag("namespace", namespace).tag("event", event).register(meters).increment();
    }

    public void breaker(CircuitBreaker breaker) {
        Gauge.builder("sluice.shared.breaker.state", breaker, b -> b.state().ordinal())
                .description("Shared tier circuit breaker: 0 closed, 1 open, 2 half-open").register(meters);
        FunctionCounter.builder("sluice.shared.breaker.transitions", breaker, CircuitBreaker::transitions)
                .description("Shared tier circuit breaker state changes").register(meters);
    }
}
