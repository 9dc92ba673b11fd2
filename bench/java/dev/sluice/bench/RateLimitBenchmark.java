package dev.sluice.bench;

import dev.sluice.cache.CircuitBreaker;
import dev.sluice.cache.RedisSharedStore;
import dev.sluice.cache.SharedStore;
import dev.sluice.protect.LimitStoreObserver;
import dev.sluice.protect.LocalTokenBuckets;
import dev.sluice.protect.Rate;
import dev.sluice.protect.SharedTokenBuckets;
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
import java.util.concurrent.TimeUnit;

/**
 * The latency of one fleet-wide rate-limit decision on loopback (the token-bucket script run
 * in Redis through the shared store, what a limited request adds) next to a bare Redis GET
 * through the same store, and the local fallback decision. Sample mode, so the report has p50
 * and p99. The limit is high enough that every decision is granted: a refusal costs the same
 * script.
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
    private SharedTokenBuckets shared;
    private LocalTokenBuckets local;
    private final Rate rate = new Rate(1e9, 1_000_000_000L);
    private final String key = "198.51.100.7";
    private final String getKey = "sluice:v1:bench:get";

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        redis = RedisProcess.start();
        store = new RedisSharedStore(redis.uri(), Duration.ofSeconds(1),
                new CircuitBreaker(3, Duration.ofSeconds(5), InstantSource.system()), Ticker.SYSTEM,
                RedisSharedStore.Observer.NONE);
        local = new LocalTokenBuckets(1, Ticker.SYSTEM, LimitStoreObserver.NONE);
        shared = new SharedTokenBuckets(store, local, LimitStoreObserver.NONE);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!(store.get(getKey) instanceof SharedStore.Read.Miss) && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        store.put(getKey, "12345".getBytes(StandardCharsets.UTF_8), Duration.ofHours(1));
        if (!shared.take(key, rate).isZero()) {
            throw new IllegalStateException("the shared bucket did not grant");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        store.close();
        redis.close();
    }

    @Benchmark
    public Duration sharedDecision() {
        return shared.take(key, rate);
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
