package dev.sluice.observe;

import dev.sluice.protect.LimitStoreObserver;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Locale;

/**
 * Metrics of the limit stores, kept out of the protect package so it depends on no metrics
 * library: {@code sluice_limit_decisions_total{store="shared|local",outcome="granted|limited"}}
 * (token-bucket decisions by where they were made) and
 * {@code sluice_limit_fallbacks_total{kind="buckets|bytes"}} (calls the shared store could not
 * answer, decided by this instance's share instead). No key, address or key id is ever a label.
 */
public final class LimitStoreMetrics implements LimitStoreObserver {
    private final CounterFamily decisions;
    private final CounterFamily fallbacks;

    public LimitStoreMetrics(MeterRegistry meters) {
        this.decisions = new CounterFamily(meters, "sluice.limit.decisions",
                "Rate-limit decisions by the store that made them and their outcome", "store", "outcome");
        this.fallbacks = new CounterFamily(meters, "sluice.limit.fallbacks",
                "Limit calls the shared store could not answer, decided by this instance's share", "kind");
    }

    @Override
    public void decision(Store store, boolean granted) {
        decisions.increment(store.name().toLowerCase(Locale.ROOT), granted ? "granted" : "limited");
    }

    @Override
    public void fallback(Kind kind) {
        fallbacks.increment(kind.name().toLowerCase(Locale.ROOT));
    }
}
