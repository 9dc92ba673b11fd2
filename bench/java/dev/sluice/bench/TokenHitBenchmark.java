package dev.sluice.bench;

import dev.sluice.backend.BearerToken;
import dev.sluice.backend.TokenGrant;
import dev.sluice.cache.CircuitBreaker;
import dev.sluice.cache.Expiring;
import dev.sluice.cache.RedisSharedStore;
import dev.sluice.cache.RefreshAheadCache;
import dev.sluice.cache.Sealer;
import dev.sluice.cache.SharedStore;
import dev.sluice.cache.SharedTier;
import dev.sluice.federation.TokenCodec;
import dev.sluice.federation.TokenTier;
import dev.sluice.testing.RedisProcess;
import dev.sluice.time.Ticker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.net.URI;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What a bearer token for an Azure Blob or GCS backend costs the request path once it has been
 * exchanged (docs/federation.md, "Azure Blob and GCS tokens"): an L1 hit of
 * {@link TokenTier#token} next to a bare {@link ConcurrentHashMap#get} (nanoseconds, 1 and 2
 * threads), and an L2 hit on a real {@code redis-server} (the sealed {@code tok} shared tier:
 * Redis GET, AES-GCM open, decode) next to the bare Redis GET through the same store, both as
 * the tier's own load and as a just-started instance pays it (a fresh L1 over the shared tier,
 * its first {@code token(grant)}). The exchange below the tiers counts its calls; a run that
 * exchanged more than once measured something else and fails.
 */
public class TokenHitBenchmark {
    static final TokenGrant GRANT = new TokenGrant.Entra(
            URI.create("https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/oauth2/v2.0/token"),
            "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002", "sluice:product:demo/hello");
    static final BearerToken TOKEN = new BearerToken("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.benchmark-token-of-a-typical-length."
            + "x".repeat(1200));

    static RefreshAheadCache.Loader<TokenGrant, BearerToken> countingExchange(AtomicInteger exchanges) {
        return g -> {
            exchanges.incrementAndGet();
            return new Expiring<>(TOKEN, Instant.now().plus(Duration.ofHours(1)));
        };
    }

    static TokenTier tier(RefreshAheadCache.Loader<TokenGrant, BearerToken> next, ExecutorService loads) {
        return new TokenTier(next, RefreshAheadCache.Policy.DEFAULT, InstantSource.system(), loads, () -> 0.5,
                Duration.ofSeconds(5), new SimpleMeterRegistry());
    }

    /** L1 hits, in nanoseconds. */
    @State(Scope.Benchmark)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Warmup(iterations = 3, time = 1)
    @Measurement(iterations = 5, time = 1)
    @Fork(1)
    public static class L1 {
        private final AtomicInteger exchanges = new AtomicInteger();
        private final ConcurrentHashMap<TokenGrant, BearerToken> map = new ConcurrentHashMap<>();
        private ExecutorService loads;
        private TokenTier tokens;

        @Setup(Level.Trial)
        public void setUp() {
            loads = Executors.newVirtualThreadPerTaskExecutor();
            tokens = tier(countingExchange(exchanges), loads);
            tokens.token(GRANT);
            map.put(GRANT, TOKEN);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            loads.close();
            if (exchanges.get() != 1) {
                throw new IllegalStateException(exchanges.get() + " exchanges: the L1 did not serve every call");
            }
        }

        @Benchmark
        @Threads(1)
        public BearerToken l1Hit1Thread() {
            return tokens.token(GRANT);
        }

        @Benchmark
        @Threads(2)
        public BearerToken l1Hit2Threads() {
            return tokens.token(GRANT);
        }

        @Benchmark
        @Threads(1)
        public BearerToken mapGet1Thread() {
            return map.get(GRANT);
        }

        @Benchmark
        @Threads(2)
        public BearerToken mapGet2Threads() {
            return map.get(GRANT);
        }
    }

    /** L2 hits on loopback Redis, sample mode (p50/p99), in microseconds. */
    @State(Scope.Benchmark)
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Warmup(iterations = 3, time = 1)
    @Measurement(iterations = 5, time = 2)
    @Fork(1)
    public static class L2 {
        private final AtomicInteger exchanges = new AtomicInteger();
        private RedisProcess redis;
        private RedisSharedStore store;
        private ExecutorService loads;
        private SharedTier<TokenGrant, BearerToken> shared;
        private String storeKey;
        private TokenTier freshL1;

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            redis = RedisProcess.start();
            store = new RedisSharedStore(redis.uri(), Duration.ofSeconds(1),
                    new CircuitBreaker(3, Duration.ofSeconds(5), InstantSource.system()), Ticker.SYSTEM,
                    RedisSharedStore.Observer.NONE);
            loads = Executors.newVirtualThreadPerTaskExecutor();
            byte[] sealKey = new byte[32];
            new SecureRandom().nextBytes(sealKey);
            // The shared tier as Sluice builds it for tokens (namespace "tok", default settings).
            shared = new SharedTier<>("tok", TokenGrant::sharedIdentity, store, new Sealer(sealKey, new SecureRandom()),
                    new TokenCodec(), countingExchange(exchanges),
                    new SharedTier.Settings(Duration.ofSeconds(300), Duration.ofSeconds(60), Duration.ofSeconds(10),
                            Duration.ofSeconds(2), Duration.ofMillis(25)),
                    InstantSource.system(), Ticker.SYSTEM, loads, () -> UUID.randomUUID().toString(), SharedTier.Observer.NONE);
            storeKey = shared.storeKey(GRANT);
            shared.load(GRANT); // exchanges once and writes back asynchronously
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!(store.get(storeKey) instanceof SharedStore.Read.Hit)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the token did not reach Redis within 5 s");
                }
                Thread.onSpinWait();
            }
        }

        /** A just-started instance: an empty L1 over the warm shared tier (made outside the measured call). */
        @Setup(Level.Invocation)
        public void freshL1() {
            freshL1 = tier(shared, loads);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            loads.close();
            store.close();
            redis.close();
            if (exchanges.get() != 1) {
                throw new IllegalStateException(exchanges.get() + " exchanges: the shared tier did not serve every call");
            }
        }

        /** The shared tier's load with the token in Redis: what an L1 miss calls. */
        @Benchmark
        public Expiring<BearerToken> l2Hit() {
            return shared.load(GRANT);
        }

        /** A fresh L1's first token(grant): the cold load handed to a virtual thread, an L2 hit, the L1 filled. */
        @Benchmark
        public BearerToken l1MissL2Hit() {
            return freshL1.token(GRANT);
        }

        @Benchmark
        public Object redisGet() {
            return store.get(storeKey);
        }
    }
}
