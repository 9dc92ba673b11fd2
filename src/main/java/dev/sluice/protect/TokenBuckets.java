package dev.sluice.protect;

import java.time.Duration;

/**
 * Where request-rate buckets live: fleet-wide in the shared store (Redis), falling back to
 * per-instance buckets sized as this instance's share of the fleet's limit when the store is
 * slow, down or its breaker open (docs/protection.md). A decision costs at most one round
 * trip to the store, within the store's own timeout; it never throws and never blocks for the
 * store's sake.
 */
public interface TokenBuckets {

    /**
     * Takes one token from the bucket {@code key} (a synthetic name, never a raw client
     * address or key id in the store). {@link Duration#ZERO} when granted; else how long until
     * a token would be there, which the client is told as {@code Retry-After} (rounded up to
     * whole seconds, at least 1).
     */
    Duration take(String key, Rate rate);
}
