package dev.sluice.protect;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.sluice.cache.SharedStore;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;

/**
 * Byte counters held for the whole fleet in the shared store (Redis): one integer per (quota
 * key, period) that every instance adds to, named {@code sluice:v1:quota:} +
 * base64url(SHA-256(key)) + {@code :hour|day:<period start, epoch seconds>} (never a client
 * address or key id), expiring an hour after its period ends (docs/protection.md).
 *
 * <p>{@link #add} is one round trip ({@code INCRBY} and {@code PEXPIREAT} in one script) and
 * answers the new fleet total; {@link #current} is one {@code GET}. Both go through the store
 * sluice already has, with its timeout and breaker. When the store cannot answer, the figure
 * comes from this instance: the larger of the last fleet total it saw for that key and period,
 * and its own bytes counted as its share of the fleet ({@link LocalByteCounters}, which is told
 * every charge, so it knows this instance's bytes of the whole period). Bytes charged while the
 * store is unavailable are counted only here: the fleet's total misses them.
 */
public final class SharedByteCounters implements ByteCounters {
    /** An hour past its period, so a late charge or a clock a little behind still finds it. */
    static final Duration SLACK = Duration.ofHours(1);
    static final SharedStore.Script ADD = new SharedStore.Script("""
            local total = redis.call('INCRBY', KEYS[1], ARGV[1])
            redis.call('PEXPIREAT', KEYS[1], ARGV[2])
            return {total}
            """);

    private final SharedStore store;
    private final InstantSource clock;
    private final ByteCounters local;
    private final LimitStoreObserver observer;
    private final Cache<String, Long> lastSeen =
            Caffeine.newBuilder().maximumSize(LocalByteCounters.DEFAULT_MAX_KEYS).expireAfterWrite(Duration.ofHours(25))
                    .executor(Runnable::run).build();

    public SharedByteCounters(SharedStore store, InstantSource clock, ByteCounters local, LimitStoreObserver observer) {
        this.store = store;
        this.clock = clock;
        this.local = local;
        this.observer = observer;
    }

    /** Where the counter of {@code key} for the period that {@code window} names lives in the store. */
    static String storeKey(String key, QuotaWindow window) {
        return StoreKeys.of("quota", key) + window.suffix();
    }

    @Override
    public long current(String key, QuotaPeriod period) {
        String k = storeKey(key, QuotaWindow.at(period, clock.instant()));
        return switch (store.get(k)) {
            case SharedStore.Read.Hit hit -> {
                Long total = parse(hit.value());
                yield total == null ? fallback(k, local.current(key, period)) : seen(k, total);
            }
            case SharedStore.Read.Miss miss -> 0L;
            case SharedStore.Read.Unavailable u -> fallback(k, local.current(key, period));
        };
    }

    @Override
    public long add(String key, QuotaPeriod period, long bytes) {
        QuotaWindow window = QuotaWindow.at(period, clock.instant());
        String k = storeKey(key, window);
        long mine = local.add(key, period, bytes);
        SharedStore.Eval reply = store.eval(ADD, List.of(k),
                List.of(Long.toString(Math.max(0, bytes)), Long.toString(window.end().plus(SLACK).toEpochMilli())));
        if (reply instanceof SharedStore.Eval.Done done && done.values().size() == 1) {
            return seen(k, done.values().get(0));
        }
        return fallback(k, mine);
    }

    private long seen(String storeKey, long total) {
        lastSeen.asMap().merge(storeKey, total, Math::max);
        return total;
    }

    private long fallback(String storeKey, long localEstimate) {
        observer.fallback(LimitStoreObserver.Kind.BYTES);
        Long fleet = lastSeen.getIfPresent(storeKey);
        return fleet == null ? localEstimate : Math.max(fleet, localEstimate);
    }

    private static Long parse(byte[] value) {
        try {
            return Long.parseLong(new String(value, StandardCharsets.US_ASCII));
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
