package dev.sluice.observe;

import dev.sluice.cache.CircuitBreaker;
import dev.sluice.cache.RedisSharedStore;
import dev.sluice.cache.SharedTier;
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
        CounterFamily calls = new CounterFamily(meters, "sluice.shared.calls", "Shared tier (Redis) calls by outcome", "op", "outcome");
        return calls::increment;
    }

    public SharedTier.Observer tierEvents(String namespace) {
        CounterFamily events = new CounterFamily(meters, "sluice.shared.events", "What shared-tier loads did", "namespace", "event");
        return event -> events.increment(namespace, event);
    }

    public void breaker(CircuitBreaker breaker) {
        Gauge.builder("sluice.shared.breaker.state", breaker, b -> b.state().ordinal())
                .description("Shared tier circuit breaker: 0 closed, 1 open, 2 half-open").register(meters);
        FunctionCounter.builder("sluice.shared.breaker.transitions", breaker, CircuitBreaker::transitions)
                .description("Shared tier circuit breaker state changes").register(meters);
    }
}
