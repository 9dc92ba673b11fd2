package dev.sluice.protect;

import java.time.Duration;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * PLACEHOLDER: token buckets and byte counters held in this process only, until the fleet-wide
 * ones in the shared store (with their per-instance fallback) replace them in the composition
 * root. A bucket refills continuously at its rate up to its burst; a counter counts the current
 * UTC hour or day, from an injected clock.
 */
public final class PlaceholderLimitStore implements TokenBuckets, ByteCounters {
    private final InstantSource clock;
    private final Map<String, double[]> buckets = new ConcurrentHashMap<>();
    private final Map<String, long[]> counters = new ConcurrentHashMap<>();

    public PlaceholderLimitStore(InstantSource clock) {
        this.clock = clock;
    }

    @Override
    public Duration take(String key, Rate rate) {
        long now = clock.millis();
        Duration[] wait = {Duration.ZERO};
        // {tokens, millis of the last refill}
        buckets.compute(key, (k, b) -> {
            double[] bucket = b == null ? new double[] {rate.burst(), now} : b;
            bucket[0] = Math.min(rate.burst(), bucket[0] + (now - bucket[1]) / 1000.0 * rate.perSecond());
            bucket[1] = now;
            if (bucket[0] >= 1) {
                bucket[0] -= 1;
            } else {
                wait[0] = Duration.ofMillis((long) Math.ceil((1 - bucket[0]) / rate.perSecond() * 1000));
            }
            return bucket;
        });
        return wait[0];
    }

    @Override
    public long current(String key, QuotaPeriod period) {
        long[] c = counters.get(key + "@" + period);
        return c != null && c[0] == periodStart(period) ? c[1] : 0;
    }

    @Override
    public void add(String key, QuotaPeriod period, long bytes) {
        long start = periodStart(period);
        counters.compute(key + "@" + period, (k, c) -> c == null || c[0] != start ? new long[] {start, bytes} : new long[] {start, c[1] + bytes});
    }

    private long periodStart(QuotaPeriod period) {
        return clock.instant().atOffset(ZoneOffset.UTC).truncatedTo(period == QuotaPeriod.DAY ? ChronoUnit.DAYS : ChronoUnit.HOURS)
                .toEpochSecond();
    }
}
