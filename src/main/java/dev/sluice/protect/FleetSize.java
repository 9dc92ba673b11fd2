package dev.sluice.protect;

import dev.sluice.cache.SharedStore;

import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * How many instances the fleet has, as seen in the shared store (docs/protection.md, "Fleet
 * size"): the number an instance divides a fleet-wide limit by when it has to decide alone.
 * Each instance registers itself in one sorted set, its id scored with the time of its last
 * heartbeat; every {@link #HEARTBEAT} it beats again, and the same script drops members not
 * seen for {@link #EXPIRY} (three heartbeats) and answers how many are left. That count, at
 * least 1, is the fleet size until the next beat.
 *
 * <p>A beat is one script through the store, within the store's timeout and breaker: when the
 * store cannot answer, the last count seen is kept, which is exactly when the fallback needs
 * it (an outage must not turn every instance into a fleet of one, each admitting the whole
 * limit). Scores are this instance's clock (injected), not Redis's: instances' clocks agree
 * to well within a heartbeat, and a test can move time instead of waiting for it.
 */
public final class FleetSize implements IntSupplier, AutoCloseable {
    public static final Duration HEARTBEAT = Duration.ofSeconds(5);
    public static final Duration EXPIRY = HEARTBEAT.multipliedBy(3);
    /** One sorted set for the fleet; members are instance ids, never anything of a client. */
    public static final String KEY = "sluice:v1:fleet:instances";

    static final SharedStore.Script BEAT = new SharedStore.Script("""
            redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
            redis.call('PEXPIRE', KEYS[1], ARGV[4])
            return redis.call('ZCARD', KEYS[1])
            """);
    static final SharedStore.Script LEAVE = new SharedStore.Script("return redis.call('ZREM', KEYS[1], ARGV[1])");

    private final SharedStore store;
    private final String key;
    private final String instanceId;
    private final InstantSource clock;
    private volatile int size = 1;
    private volatile ScheduledFuture<?> beating;

    public FleetSize(SharedStore store, String key, String instanceId, InstantSource clock) {
        this.store = store;
        this.key = key;
        this.instanceId = instanceId;
        this.clock = clock;
    }

    /** Beats now and every {@link #HEARTBEAT} on {@code scheduler}, until {@link #close()}. */
    public FleetSize start(ScheduledExecutorService scheduler) {
        beating = scheduler.scheduleWithFixedDelay(this::beat, 0, HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** Registers this instance as alive now and reads how many are; keeps the last count when the store cannot answer. */
    public void beat() {
        long now = clock.millis();
        // Members last seen more than EXPIRY ago go ('(' excludes the bound); the set itself
        // expires when no instance has beaten for two expiries.
        SharedStore.Eval reply = store.eval(BEAT, List.of(key), List.of(instanceId, Long.toString(now),
                "(" + (now - EXPIRY.toMillis()), Long.toString(EXPIRY.multipliedBy(2).toMillis())));
        if (reply instanceof SharedStore.Eval.Done done && !done.values().isEmpty()) {
            size = (int) Math.max(1, Math.min(Integer.MAX_VALUE, done.values().get(0)));
        }
    }

    /** The instances seen alive at the last beat that reached the store, at least 1. */
    @Override
    public int getAsInt() {
        return size;
    }

    /** Stops beating and leaves the fleet (best effort), so the others count one less at once. */
    @Override
    public void close() {
        ScheduledFuture<?> b = beating;
        if (b != null) {
            b.cancel(false);
        }
        store.eval(LEAVE, List.of(key), List.of(instanceId));
    }
}
