package dev.sluice.protect;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/**
 * Bytes served by this instance alone, per quota key and period, reported as this instance's
 * share of the fleet: {@link #current} answers the bytes served here times the fleet size, so
 * comparing it with the fleet's quota stops this instance at its share (quota / fleet size) of
 * it. Used when the shared store cannot answer (docs/protection.md), and on its own, with a
 * fleet size of 1, by a single instance without a shared store.
 *
 * <p>Bounded in size; a tally not touched for longer than a day and an hour is dropped (its
 * period is over). The period is read from the injected clock.
 */
public final class LocalByteCounters implements ByteCounters {
    public static final long DEFAULT_MAX_KEYS = 100_000;

    private record Tally(String key, QuotaWindow window) {
    }

    private final IntSupplier fleetSize;
    private final InstantSource clock;
    private final Cache<Tally, AtomicLong> tallies;

    public LocalByteCounters(int fleetSize, InstantSource clock) {
        this(fleetSize, clock, DEFAULT_MAX_KEYS);
    }

    public LocalByteCounters(int fleetSize, InstantSource clock, long maxKeys) {
        this(LocalTokenBuckets.fixed(fleetSize), clock, maxKeys);
    }

    /** {@code fleetSize} is asked at every answer: it may change at run time ({@link FleetSize}); below 1 counts as 1. */
    public LocalByteCounters(IntSupplier fleetSize, InstantSource clock) {
        this(fleetSize, clock, DEFAULT_MAX_KEYS);
    }

    public LocalByteCounters(IntSupplier fleetSize, InstantSource clock, long maxKeys) {
        this.fleetSize = fleetSize;
        this.clock = clock;
        this.tallies = Caffeine.newBuilder().maximumSize(maxKeys).expireAfterAccess(Duration.ofHours(25))
                .executor(Runnable::run).build();
    }

    @Override
    public long current(String key, QuotaPeriod period) {
        AtomicLong served = tallies.getIfPresent(new Tally(key, QuotaWindow.at(period, clock.instant())));
        return served == null ? 0 : asFleet(served.get());
    }

    @Override
    public long add(String key, QuotaPeriod period, long bytes) {
        AtomicLong served = tallies.get(new Tally(key, QuotaWindow.at(period, clock.instant())), t -> new AtomicLong());
        return asFleet(served.addAndGet(Math.max(0, bytes)));
    }

    /** The bytes served here, as the fleet's total if every instance served as much. */
    private long asFleet(long served) {
        int n = Math.max(1, fleetSize.getAsInt());
        long total = served * n;
        return total / n == served ? total : Long.MAX_VALUE;
    }
}
