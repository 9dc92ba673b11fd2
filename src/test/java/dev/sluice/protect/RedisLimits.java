package dev.sluice.protect;

import dev.sluice.cache.CircuitBreaker;
import dev.sluice.cache.RedisSharedStore;
import dev.sluice.cache.SharedStore;
import dev.sluice.testing.RedisProcess;
import dev.sluice.time.Ticker;

import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/** Shared stores on a test's {@code redis-server}, as separate instances of sluice would each open one. */
final class RedisLimits {
    /** The production default: what the fallback tests are about. */
    static final Duration TIMEOUT = Duration.ofMillis(100);
    /**
     * For tests about what Redis answers rather than timing out: a loaded machine can stall a
     * JVM past 100 ms and turn a healthy reply into a fallback.
     */
    static final Duration HEALTHY_TIMEOUT = Duration.ofSeconds(2);
    /** A call bounded by a 100 ms timeout must be back well within this, even on a loaded machine. */
    static final Duration DEADLINE = Duration.ofSeconds(1);

    private RedisLimits() {
    }

    static RedisSharedStore store(RedisProcess redis, Duration timeout, InstantSource breakerClock) {
        return new RedisSharedStore(redis.uri(), timeout, new CircuitBreaker(3, Duration.ofSeconds(5), breakerClock),
                Ticker.SYSTEM, RedisSharedStore.Observer.NONE);
    }

    /**
     * Waits (at most 20 s, polling every 20 ms) until {@code store} runs a script: the connection
     * is opened in the background, and Lettuce's first one in a JVM loads much of Netty.
     */
    static void connected(SharedStore store) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        SharedStore.Script ping = new SharedStore.Script("return 1");
        while (!(store.eval(ping, List.of(), List.of()) instanceof SharedStore.Eval.Done)) {
            assertThat(System.nanoTime()).as("the store never answered").isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    /** Runs {@code call} and asserts it came back within {@link #DEADLINE}. */
    static <T> T within(java.util.function.Supplier<T> call) {
        long start = System.nanoTime();
        T result = call.get();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("elapsed").isLessThan(DEADLINE);
        return result;
    }
}
