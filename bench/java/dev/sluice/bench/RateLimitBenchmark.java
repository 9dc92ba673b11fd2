package dev.sluice.bench;

import dev.sluice.cache.CircuitBreaker;
import dev.sluice.cache.RedisSharedStore;
import dev.sluice.cache.SharedStore;
import dev.sluice.protect.LimitStore;
import dev.sluice.protect.LimitStoreObserver;
import dev.sluice.protect.LocalByteCounters;
import dev.sluice.protect.LocalTokenBuckets;
import dev.sluice.protect.QuotaPeriod;
import dev.sluice.protect.Rate;
import dev.sluice.protect.SharedLimits;
import dev.sluice.testing.RedisProcess;
import dev.sluice.time.Ticker;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The latency of a fleet-wide limit decision on loopback, what a limited anonymous GET asks
 * of the limits before its response (its address's bucket, its product's bucket, its product's
 * byte quota), in the two cases there are (docs/protection.md): warm, decided from this
 * instance's leased tokens and quota view with no I/O (the steady state of a busy key), and
 * cold, one script call to Redis for all three (a key seen for the first time, or a lease
 * expired). Next to them a bare Redis GET through the same store, and the local fallback
 * decision. Sample mode, so the report has p50 and p99. The limits are high enough that every
 * decision is granted: a refusal costs the same.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class RateLimitBenchmark {
    private RedisProcess redis;
    private RedisSharedStore store;
    private SharedLimits warm;
    private SharedLimits cold;
    private ScheduledExecutorService flusher;
    private LocalTokenBuckets local;
    private final Rate rate = new Rate(1e9, 1_000_000_000L);
    private final String key = "198.51.100.7";
    private final String getKey = "sluice:v1:bench:get";
    private final List<LimitStore.Check> checks = List.of(new LimitStore.Take("addr:" + key, rate),
            new LimitStore.Take("product:bench/data", rate), new LimitStore.Quota("product:bench/data", QuotaPeriod.DAY, Long.MAX_VALUE));
    private long coldQuotas;

    /** A clock two seconds further on at every reading: every lease has expired by the next decision. */
    private static final class Leaping implements Ticker {
        private final AtomicLong nanos = new AtomicLong();

        @Override
        public long nanoTime() {
            return nanos.addAndGet(Duration.ofSeconds(2).toNanos());
        }

        @Override
        public void sleep(Duration duration) {
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        redis = RedisProcess.start();
        store = new RedisSharedStore(redis.uri(), Duration.ofSeconds(1),
                new CircuitBreaker(3, Duration.ofSeconds(5), InstantSource.system()), Ticker.SYSTEM,
                RedisSharedStore.Observer.NONE);
        local = new LocalTokenBuckets(1, Ticker.SYSTEM, LimitStoreObserver.NONE);
        Executor refills = r -> Thread.ofVirtual().start(r);
        warm = new SharedLimits(store, local, new LocalByteCounters(1, InstantSource.system()), LimitStoreObserver.NONE,
                Ticker.SYSTEM, InstantSource.system(), refills, () -> 1, "bench-warm");
        cold = new SharedLimits(store, local, new LocalByteCounters(1, InstantSource.system()), LimitStoreObserver.NONE,
                new Leaping(), InstantSource.system(), refills, () -> 1, "bench-cold");
        flusher = Executors.newSingleThreadScheduledExecutor();
        flusher.scheduleWithFixedDelay(warm::flush, 1, 1, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!(store.get(getKey) instanceof SharedStore.Read.Miss) && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        store.put(getKey, "12345".getBytes(StandardCharsets.UTF_8), Duration.ofHours(1));
        if (!warm.decide(checks).granted() || !cold.decide(checks).granted()) {
            throw new IllegalStateException("the shared limits did not grant");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        flusher.shutdownNow();
        flusher.awaitTermination(5, TimeUnit.SECONDS);
        store.close();
        redis.close();
    }

    /** The steady state: leased tokens and the quota view, no I/O. */
    @Benchmark
    public LimitStore.Decision warmDecision() {
        return warm.decide(checks);
    }

    /** Both leases expired and a quota key not seen before: the one script call. */
    @Benchmark
    public LimitStore.Decision coldDecision() {
        return cold.decide(List.of(checks.get(0), checks.get(1),
                new LimitStore.Quota("product:bench/cold-" + coldQuotas++, QuotaPeriod.DAY, Long.MAX_VALUE)));
    }

    @Benchmark
    public Object redisGet() {
        return store.get(getKey);
    }

    @Benchmark
    public Duration localDecision() {
        return local.take(key, rate);
    }
}
