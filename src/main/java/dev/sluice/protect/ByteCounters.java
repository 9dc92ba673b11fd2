package dev.sluice.protect;

/**
 * Bytes served per quota key and period, counted without I/O: this instance's own
 * ({@link LocalByteCounters}, as its share of the fleet), used alone by a single instance and
 * as the fallback of the fleet-wide {@link SharedLimits} (docs/protection.md). Never throws and
 * never blocks.
 */
public interface ByteCounters {

    /** The bytes charged to {@code key} in the current {@code period} so far. */
    long current(String key, QuotaPeriod period);

    /**
     * Charges {@code bytes} (sent to a client) to {@code key} in the current {@code period}, and
     * answers the total so far including them.
     */
    long add(String key, QuotaPeriod period, long bytes);
}
