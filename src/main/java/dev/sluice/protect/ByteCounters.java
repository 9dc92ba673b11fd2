package dev.sluice.protect;

/**
 * Bytes served per quota key and period: fleet-wide in the shared store, per instance (as
 * this instance's share) when the store is unavailable (docs/protection.md). Never throws and
 * never blocks for the store's sake.
 */
public interface ByteCounters {

    /** The bytes charged to {@code key} in the current {@code period} so far. */
    long current(String key, QuotaPeriod period);

    /**
     * Charges {@code bytes} (sent to a client) to {@code key} in the current {@code period}, and
     * answers the total so far including them, from the same round trip: a caller can tell that
     * the quota is now exhausted (for the next request) without asking again.
     */
    long add(String key, QuotaPeriod period, long bytes);
}
