package dev.sluice.protect;

/**
 * A token bucket's shape: it refills at {@code perSecond} tokens a second up to {@code burst},
 * and a request takes one token (docs/protection.md).
 */
public record Rate(double perSecond, long burst) {
    public Rate {
        if (!(perSecond > 0) || Double.isInfinite(perSecond)) {
            throw new IllegalArgumentException("a rate must be positive: " + perSecond);
        }
        if (burst < 1) {
            throw new IllegalArgumentException("a burst must be at least 1: " + burst);
        }
    }
}
