package dev.sluice.bench;

import dev.sluice.cache.CircuitBreaker;
import dev.sluice.cache.Expiring;
import dev.sluice.cache.RedisSharedStore;
import dev.sluice.cache.Sealer;
import dev.sluice.cache.SharedTier;
import dev.sluice.federation.CredentialCodec;
import dev.sluice.federation.CredentialKey;
import dev.sluice.sigv4.AwsCredentials;
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

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The latency of an L2 hit on loopback — a Redis GET, unsealing and decoding, as an L1 miss
 * pays it — next to the bare Redis GET through the same store. Sample mode, so the report has
 * p50 and p99. Target: under a millisecond.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class L2HitBenchmark {
    private RedisProcess redis;
    private RedisSharedStore store;
    private SharedTier<CredentialKey, AwsCredentials> tier;
    private final CredentialKey key = new CredentialKey("arn:aws:iam::123456789012:role/reader", "sluice:product:demo/hello");
    private String storeKey;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        redis = RedisProcess.start();
        store = new RedisSharedStore(redis.uri(), Duration.ofSeconds(1),
                new CircuitBreaker(3, Duration.ofSeconds(5), InstantSource.system()), Ticker.SYSTEM,
                RedisSharedStore.Observer.NONE);
        byte[] sealKey = new byte[32];
        new SecureRandom().nextBytes(sealKey);
        AwsCredentials creds = AwsCredentials.of("ASIABENCHMARK", "secret", "token");
        tier = new SharedTier<>("cred", CredentialKey::sharedIdentity, store, new Sealer(sealKey, new SecureRandom()),
                new CredentialCodec(), k -> new Expiring<>(creds, Instant.now().plus(Duration.ofHours(1))),
                new SharedTier.Settings(Duration.ofSeconds(300), Duration.ofSeconds(60), Duration.ofSeconds(10),
                        Duration.ofSeconds(2), Duration.ofMillis(25)),
                InstantSource.system(), Ticker.SYSTEM, Executors.newVirtualThreadPerTaskExecutor(), () -> UUID.randomUUID().toString(),
                SharedTier.Observer.NONE);
        storeKey = tier.storeKey(key);
        tier.load(key); // exchanges once and writes back asynchronously
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!(store.get(storeKey) instanceof dev.sluice.cache.SharedStore.Read.Hit) && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        store.close();
        redis.close();
    }

    @Benchmark
    public Expiring<AwsCredentials> l2Hit() {
        return tier.load(key);
    }

    @Benchmark
    public Object redisGet() {
        return store.get(storeKey);
    }
}
