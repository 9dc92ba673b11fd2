package dev.sluice.cache;

import java.time.Instant;

/** A cached value and the instant after which it must not be used. */
public record Expiring<V>(V value, Instant expiresAt) {
}
