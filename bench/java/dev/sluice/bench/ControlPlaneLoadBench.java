package dev.sluice.bench;

import dev.sluice.time.Ticker;
import dev.sluice.cache.CircuitBreaker;
import dev.sluice.cache.RedisSharedStore;
import dev.sluice.cache.Sealer;
import dev.sluice.cache.SharedStore;
import dev.sluice.cache.SharedTier;
import dev.sluice.registry.Caller;
import dev.sluice.registry.ControlPlaneApi;
import dev.sluice.registry.ControlPlaneRegistry;
import dev.sluice.registry.ProductRef;
import dev.sluice.testing.StubBackend;
import dev.sluice.testing.MutableClock;
import dev.sluice.testing.RedisProcess;
import dev.sluice.testing.TestControlPlane;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.eclipse.jetty.client.HttpClient;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Control-plane API calls per 10,000 resolutions spread over 100 products, in steady state.
 *
 * <p>The test control plane serves 100 public products (all on data connection
 * {@code open-west}). Each scenario first resolves every product once (the cold start, not
 * counted), then makes 10,000 {@code find}s of products drawn uniformly at random (fixed seed),
 * evenly spaced over a simulated window: the registry's clock is a controlled clock advanced
 * between requests, so a window of an hour takes a second. API calls (cold loads and background
 * refreshes alike) run on the requesting thread, so no simulated time passes during one. TTLs are the defaults (product and
 * data connection 300 s), refresh ahead at TTL/10. API calls are read from the test control
 * plane's per-path counters; "L1 misses" counts lookups that found no usable answer in L1 and
 * waited for a load (cold misses), the rest were served from memory.
 *
 * <p>Scenarios: one instance; and two instances taking requests alternately, without and with a
 * shared Redis (the fleet case, docs/shared-tier.md).
 *
 * <p>Usage: {@code bench/control-plane-load.sh}.
 */
public final class ControlPlaneLoadBench {
    private static final int PRODUCTS = 100;
    private static final int REQUESTS = 10_000;
    private static final Duration TTL = Duration.ofSeconds(300);

    public static void main(String[] args) throws Exception {
        List<String> rows = new ArrayList<>();
        try (RedisProcess redis = RedisProcess.start()) {
            for (Duration window : List.of(Duration.ofSeconds(10), Duration.ofMinutes(10), Duration.ofHours(1))) {
                rows.add(run(window, 1, Optional.empty()));
                rows.add(run(window, 2, Optional.empty()));
                rows.add(run(window, 2, Optional.of(redis.uri())));
            }
        }
        System.out.println();
        System.out.println("| window of the 10,000 requests | instances | shared tier | product API calls | data-connection API calls"
                + " | API calls total | L1 misses (caller waited on Redis or the API) |");
        System.out.println("|---|---:|---|---:|---:|---:|---:|");
        rows.forEach(System.out::println);
    }

    private static String run(Duration window, int instances, Optional<String> redisUri) throws Exception {
        MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
        List<AutoCloseable> closing = new ArrayList<>();
        // Loads (cold and background refreshes) run on the requesting thread: simulated time must
        // not pass during a real API call, or a 1 ms call would outlive the L1's claim timeout
        // (API timeout + 5 s simulated) and be retaken. An API answer is thus modelled as instant
        // next to the request spacing; "waited" still counts the lookups that would have waited.
        Executor loads = Runnable::run;
        TestControlPlane cp = new TestControlPlane();
        HttpClient http = new HttpClient();
        http.start();
        try {
            List<String> names = cp.addPublicProducts("bench", PRODUCTS);
            byte[] sealKey = new byte[32];
            new SecureRandom().nextBytes(sealKey);
            List<ControlPlaneRegistry> registries = new ArrayList<>();
            List<SimpleMeterRegistry> meters = new ArrayList<>();
            for (int i = 0; i < instances; i++) {
                Optional<ControlPlaneRegistry.Shared> shared = Optional.empty();
                if (redisUri.isPresent()) {
                    RedisSharedStore store = new RedisSharedStore(redisUri.get(), Duration.ofSeconds(1),
                            new CircuitBreaker(3, Duration.ofSeconds(5), clock), Ticker.SYSTEM,
                            RedisSharedStore.Observer.NONE);
                    closing.add(store);
                    connected(store);
                    // write-back on the loading thread: a simulated hour passes in a second, and an
                    // asynchronous write could land after the other instance already asked
                    shared = Optional.of(new ControlPlaneRegistry.Shared(store, new Sealer(sealKey, new SecureRandom()),
                            Duration.ofSeconds(10), Duration.ofSeconds(2), Runnable::run, () -> UUID.randomUUID().toString(),
                            SharedTier.Observer.NONE));
                }
                SimpleMeterRegistry m = new SimpleMeterRegistry();
                ControlPlaneRegistry r = new ControlPlaneRegistry(new ControlPlaneApi(http, cp.url(), Optional.empty(), Duration.ofSeconds(3)),
                        new ControlPlaneRegistry.Settings(Optional.of("http://s3.bench:9000"), TTL, TTL, Duration.ofSeconds(60),
                                Duration.ofSeconds(60), Duration.ofSeconds(3), Duration.ofMinutes(10)),
                        location -> new StubBackend<>(location), clock, loads, () -> 0.5, m, shared);
                closing.add(r);
                registries.add(r);
                meters.add(m);
            }
            Caller caller = Caller.anonymous("bench");
            // cold start: every instance resolves every product once; not counted
            for (ControlPlaneRegistry r : registries) {
                for (String name : names) {
                    r.find(new ProductRef(TestControlPlane.ACCOUNT, name), caller).orElseThrow();
                }
            }
            int productsBefore = productCalls(cp, names);
            int connectionsBefore = cp.count(TestControlPlane.OPEN_WEST);
            double waitedBefore = waited(meters);

            Random random = new Random(42);
            Duration step = window.dividedBy(REQUESTS);
            for (int i = 0; i < REQUESTS; i++) {
                clock.advance(step);
                String name = names.get(random.nextInt(names.size()));
                registries.get(i % instances).find(new ProductRef(TestControlPlane.ACCOUNT, name), caller).orElseThrow();
            }
            int productCalls = productCalls(cp, names) - productsBefore;
            int connectionCalls = cp.count(TestControlPlane.OPEN_WEST) - connectionsBefore;
            long waitedLookups = Math.round(waited(meters) - waitedBefore);
            return "| %s | %d | %s | %d | %d | %d | %d |".formatted(human(window), instances,
                    redisUri.isPresent() ? "redis" : "none", productCalls, connectionCalls, productCalls + connectionCalls,
                    waitedLookups);
        } finally {
            for (AutoCloseable c : closing.reversed()) {
                c.close();
            }
            http.stop();
            cp.close();
        }
    }

    private static int productCalls(TestControlPlane cp, List<String> names) {
        return names.stream().mapToInt(n -> cp.count(TestControlPlane.PRODUCTS + "/" + n)).sum();
    }

    /** L1 lookups (every kind) that found nothing usable and waited for a load. */
    private static double waited(List<SimpleMeterRegistry> meters) {
        return meters.stream().flatMap(m -> m.find("sluice.control_plane.lookups").tag("outcome", "miss").counters().stream())
                .mapToDouble(Counter::count).sum();
    }

    private static void connected(RedisSharedStore store) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (store.get("warm-up") instanceof SharedStore.Read.Unavailable) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("redis did not answer within 20 s");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // bounded poll for the connection
        }
    }

    private static String human(Duration d) {
        if (d.toHours() > 0) {
            return d.toHours() + " h";
        }
        if (d.toMinutes() > 0) {
            return d.toMinutes() + " min";
        }
        return d.toSeconds() + " s";
    }
}
