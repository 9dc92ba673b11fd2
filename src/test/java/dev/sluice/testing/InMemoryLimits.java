package dev.sluice.testing;

import dev.sluice.protect.ByteCounters;
import dev.sluice.protect.QuotaPeriod;
import dev.sluice.protect.Rate;
import dev.sluice.protect.TokenBuckets;

import java.time.Duration;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Token buckets and byte counters in a map, on a controllable clock: what the gate's tests
 * decide against, so that each decision is known in advance. A bucket refills at its rate up
 * to its burst; a counter counts the current UTC hour or day.
 */
public final class InMemoryLimits implements TokenBuckets, ByteCounters {
    private final InstantSource clock;
    private final Map<String, double[]> buckets = new ConcurrentHashMap<>();
    private final Map<String, Long> counted = new ConcurrentHashMap<>();

    public InMemoryLimits(InstantSource clock) {
        this.clock = clock;
    }

    @Override
    public synchronized Duration take(String key, Rate rate) {
        long now = clock.millis();
        double[] b = buckets.computeIfAbsent(key, k -> new double[] {rate.burst(), now});
        b[0] = Math.min(rate.burst(), b[0] + (now - b[1]) / 1000.0 * rate.perSecond());
        b[1] = now;
        if (b[0] >= 1) {
            b[0] -= 1;
            return Duration.ZERO;
        }
        return Duration.ofMillis((long) Math.ceil((1 - b[0]) / rate.perSecond() * 1000));
    }

    /** The bucket keys asked for so far. */
    public java.util.Set<String> keys() {
        return Map.copyOf(buckets).keySet();
    }

    @Override
    public long current(String key, QuotaPeriod period) {
        return counted.getOrDefault(slot(key, period), 0L);
    }

    @Override
    public long add(String key, QuotaPeriod period, long bytes) {
        return counted.merge(slot(key, period), bytes, Long::sum);
    }

    private String slot(String key, QuotaPeriod period) {
        return key + "@" + clock.instant().atOffset(ZoneOffset.UTC)
                .truncatedTo(period == QuotaPeriod.DAY ? ChronoUnit.DAYS : ChronoUnit.HOURS);
    }
}
