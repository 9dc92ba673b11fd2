package dev.sluice.protect;

import java.time.Duration;

/**
 * Request-rate buckets that decide without I/O: this instance's own ({@link LocalTokenBuckets},
 * sized as its share of the fleet's limit), used alone by a single instance and as the fallback
 * of the fleet-wide {@link SharedLimits} when the shared store is slow, down or its breaker open
 * (docs/protection.md). A decision never throws and never blocks.
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
