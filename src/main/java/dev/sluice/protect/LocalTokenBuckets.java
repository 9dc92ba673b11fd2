package dev.sluice.protect;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.sluice.time.Ticker;

import java.time.Duration;
import java.util.function.IntSupplier;

/**
 * Token buckets held by this instance alone, each sized as this instance's share of the fleet's
 * limit: the rate and the burst divided by the fleet size (the burst at least 1). They decide
 * when the shared store cannot (slow, down, breaker open), so a Redis outage neither opens the
 * limits nor refuses everything: a fleet of {@code n} instances, each admitting its share,
 * admits about the fleet's limit in total, as long as the load is spread evenly over the
 * instances (docs/protection.md). A single instance without a shared store uses them with a
 * fleet size of 1.
 *
 * <p>Bounded in size (least recently used go first, as Caffeine decides) and idle buckets
 * expire: a bucket idle for longer than it takes to refill is full again, so dropping it
 * changes nothing. Time comes from the injected {@link Ticker}, so tests drive refills exactly.
 */
public final class LocalTokenBuckets implements TokenBuckets {
    /** Enough for every client address a busy instance sees within the idle period. */
    public static final long DEFAULT_MAX_BUCKETS = 100_000;
    public static final Duration DEFAULT_IDLE = Duration.ofMinutes(10);

    private final IntSupplier fleetSize;
    private final Ticker ticker;
    private final LimitStoreObserver observer;
    private final Cache<String, Bucket> buckets;

    public LocalTokenBuckets(int fleetSize, Ticker ticker, LimitStoreObserver observer) {
        this(fleetSize, ticker, observer, DEFAULT_MAX_BUCKETS, DEFAULT_IDLE);
    }

    public LocalTokenBuckets(int fleetSize, Ticker ticker, LimitStoreObserver observer, long maxBuckets, Duration idle) {
        this(fixed(fleetSize), ticker, observer, maxBuckets, idle);
    }

    /** {@code fleetSize} is asked at every decision: it may change at run time ({@link FleetSize}); below 1 counts as 1. */
    public LocalTokenBuckets(IntSupplier fleetSize, Ticker ticker, LimitStoreObserver observer) {
        this(fleetSize, ticker, observer, DEFAULT_MAX_BUCKETS, DEFAULT_IDLE);
    }

    public LocalTokenBuckets(IntSupplier fleetSize, Ticker ticker, LimitStoreObserver observer, long maxBuckets, Duration idle) {
        this.fleetSize = fleetSize;
        this.ticker = ticker;
        this.observer = observer;
        this.buckets = Caffeine.newBuilder().maximumSize(maxBuckets).expireAfterAccess(idle)
                .ticker(ticker::nanoTime).executor(Runnable::run).build();
    }

    /** This instance's share of a fleet-wide rate. */
    public Rate share(Rate fleet) {
        int n = Math.max(1, fleetSize.getAsInt());
        return new Rate(fleet.perSecond() / n, Math.max(1, fleet.burst() / n));
    }

    static IntSupplier fixed(int fleetSize) {
        if (fleetSize < 1) {
            throw new IllegalArgumentException("a fleet has at least one instance: " + fleetSize);
        }
        return () -> fleetSize;
    }

    @Override
    public Duration take(String key, Rate rate) {
        Rate mine = share(rate);
        long now = ticker.nanoTime();
        Duration wait = buckets.get(key, k -> new Bucket(mine.burst(), now)).take(mine, now);
        observer.decision(LimitStoreObserver.Store.LOCAL, wait.isZero());
        return wait;
    }

    /** How many buckets are held now (after expiring the idle ones). */
    long size() {
        buckets.cleanUp();
        return buckets.estimatedSize();
    }

    /** Tokens and when they were last counted; one lock per bucket, held for a few arithmetic steps. */
    private static final class Bucket {
        private double tokens;
        private long atNanos;

        Bucket(double tokens, long atNanos) {
            this.tokens = tokens;
            this.atNanos = atNanos;
        }

        synchronized Duration take(Rate rate, long now) {
            if (now > atNanos) {
                tokens = Math.min(rate.burst(), tokens + (now - atNanos) / 1e9 * rate.perSecond());
                atNanos = now;
            }
            if (tokens >= 1) {
                tokens -= 1;
                return Duration.ZERO;
            }
            // In whole microseconds, as the shared buckets answer; the small allowance keeps a
            // rounding error of the arithmetic (0.99 tokens held as 0.9899…) from adding one.
            return Duration.ofNanos(1000 * Math.max(1, (long) Math.ceil((1 - tokens) / rate.perSecond() * 1e6 - 1e-6)));
        }
    }
}
