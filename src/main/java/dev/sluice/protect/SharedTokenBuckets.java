package dev.sluice.protect;

import dev.sluice.cache.SharedStore;

import java.time.Duration;
import java.util.List;

/**
 * Token buckets held for the whole fleet in the shared store (Redis): every instance takes from
 * the same bucket, so {@code n} instances together admit what one bucket allows, not {@code n}
 * times it (docs/protection.md).
 *
 * <p>Each decision is one Lua script run atomically in Redis, one round trip: it reads the
 * bucket (tokens and the time they were counted, one hash per bucket), refills it at the rate
 * from Redis's own clock ({@code TIME}, so instances' clocks do not matter), takes a token or
 * answers how long until one is there, and writes the bucket back with an expiry (the time a
 * bucket takes to refill, plus a second: a bucket gone is a full bucket, so idle clients cost
 * no memory). A script rather than a library such as Bucket4j's Lettuce integration: the
 * decision is twenty lines of Lua, it adds no dependency, and it runs through the store sluice
 * already has, so the store's 100 ms timeout and circuit breaker apply to limits exactly as to
 * credentials, on the same connection.
 *
 * <p>When the store cannot answer (timeout, Redis down, breaker open) the decision is made at
 * once by {@code fallback}, this instance's share of the limit ({@link LocalTokenBuckets}):
 * never "allow everything", never an error. Bucket keys are synthetic
 * ({@code sluice:v1:rl:} + base64url(SHA-256(key))), never a client address or key id.
 */
public final class SharedTokenBuckets implements TokenBuckets {
    /**
     * KEYS[1] the bucket; ARGV rate per second, burst, expiry in ms. Answers {granted (1/0), wait
     * in microseconds}. The time is kept in whole milliseconds: Lua's {@code tostring} keeps 14
     * digits, enough for milliseconds since 1970 and not for microseconds. A clock that moved
     * back (a failover to a replica) refills nothing rather than minting tokens.
     */
    static final SharedStore.Script TAKE = new SharedStore.Script("""
            local rate = tonumber(ARGV[1])
            local burst = tonumber(ARGV[2])
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
            local tokens = tonumber(state[1])
            local at = tonumber(state[2])
            if tokens == nil or at == nil then
              tokens = burst
              at = now
            end
            if now > at then
              tokens = math.min(burst, tokens + (now - at) * rate / 1000)
              at = now
            end
            local granted = 0
            local wait = 0
            if tokens >= 1 then
              tokens = tokens - 1
              granted = 1
            else
              wait = math.ceil((1 - tokens) * 1000000 / rate)
            end
            redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
            redis.call('PEXPIRE', KEYS[1], ARGV[3])
            return {granted, wait}
            """);

    private final SharedStore store;
    private final TokenBuckets fallback;
    private final LimitStoreObserver observer;

    public SharedTokenBuckets(SharedStore store, TokenBuckets fallback, LimitStoreObserver observer) {
        this.store = store;
        this.fallback = fallback;
        this.observer = observer;
    }

    /** Where the bucket for {@code key} lives in the store. */
    public static String storeKey(String key) {
        return StoreKeys.of("rl", key);
    }

    @Override
    public Duration take(String key, Rate rate) {
        SharedStore.Eval reply = store.eval(TAKE, List.of(storeKey(key)),
                List.of(Double.toString(rate.perSecond()), Long.toString(rate.burst()), Long.toString(expiryMillis(rate))));
        if (reply instanceof SharedStore.Eval.Done done && done.values().size() == 2) {
            boolean granted = done.values().get(0) == 1;
            observer.decision(LimitStoreObserver.Store.SHARED, granted);
            return granted ? Duration.ZERO : Duration.ofNanos(Math.max(1000, done.values().get(1) * 1000));
        }
        observer.fallback(LimitStoreObserver.Kind.BUCKETS);
        return fallback.take(key, rate);
    }

    /** How long an untouched bucket takes to fill up again, plus a second; at most a week. */
    static long expiryMillis(Rate rate) {
        return (long) Math.min(Duration.ofDays(7).toMillis(), Math.ceil(rate.burst() / rate.perSecond() * 1000) + 1000);
    }
}
