package dev.sluice.bench;

import dev.sluice.cache.Expiring;
import dev.sluice.cache.RefreshAheadCache;
import dev.sluice.federation.CredentialKey;
import dev.sluice.sigv4.AwsCredentials;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The cost of an L1 hit (a fresh credential served from {@link RefreshAheadCache}), next to a
 * bare {@link ConcurrentHashMap#get} of the same key as the floor, at 1 and 2 threads.
 * Target: well under a microsecond.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class L1HitBenchmark {
    private RefreshAheadCache<CredentialKey, AwsCredentials> cache;
    private final ConcurrentHashMap<CredentialKey, AwsCredentials> map = new ConcurrentHashMap<>();
    private final CredentialKey key = new CredentialKey("arn:aws:iam::123456789012:role/reader", "sluice:product:demo/hello");
    private final Duration maxWait = Duration.ofSeconds(1);

    @Setup
    public void setUp() {
        AwsCredentials creds = AwsCredentials.of("ASIABENCHMARK", "secret", "token");
        cache = new RefreshAheadCache<>(k -> new Expiring<>(creds, Instant.now().plus(Duration.ofHours(1))),
                RefreshAheadCache.Policy.DEFAULT, InstantSource.system(), Executors.newVirtualThreadPerTaskExecutor(),
                () -> 0.5, d -> new IllegalStateException("waited " + d), RefreshAheadCache.Observer.NONE, 10_000);
        cache.get(key, maxWait);
        map.put(key, creds);
    }

    @Benchmark
    @Threads(1)
    public AwsCredentials l1Hit1Thread() {
        return cache.get(key, maxWait);
    }

    @Benchmark
    @Threads(2)
    public AwsCredentials l1Hit2Threads() {
        return cache.get(key, maxWait);
    }

    @Benchmark
    @Threads(1)
    public AwsCredentials mapGet1Thread() {
        return map.get(key);
    }

    @Benchmark
    @Threads(2)
    public AwsCredentials mapGet2Threads() {
        return map.get(key);
    }
}
