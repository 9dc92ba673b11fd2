package dev.sluice.bench;

import dev.sluice.backend.BackendSpec;
import dev.sluice.registry.Caller;
import dev.sluice.registry.ControlPlaneApi;
import dev.sluice.registry.ControlPlaneRegistry;
import dev.sluice.registry.Product;
import dev.sluice.registry.ProductRef;
import dev.sluice.registry.StaticRegistry;
import dev.sluice.registry.Visibility;
import dev.sluice.testing.StubBackend;
import dev.sluice.testing.TestControlPlane;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.eclipse.jetty.client.HttpClient;
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

import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The added latency of a warm resolution: {@code find} of a public product through
 * {@link ControlPlaneRegistry} whose answers are in L1 (product and data connection fresh, the
 * backend for that location already built), next to {@code find} of a product of the same shape
 * in a {@link StaticRegistry}. Both hand back a {@link Product} whose backend is a stub, so only
 * resolution is measured. The API (the test control plane) is called once per document in
 * setup and never during measurement (TTLs 300 s, far longer than a run; the bench checks).
 * Target: indistinguishable from the static registry at the scale of a request (tens of µs).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ResolutionBenchmark {
    private static final Duration TTL = Duration.ofSeconds(300);
    private final ProductRef ref = new ProductRef(TestControlPlane.ACCOUNT, "city-trees");
    private final Caller caller = Caller.anonymous("bench");
    private TestControlPlane cp;
    private HttpClient http;
    private ExecutorService loads;
    private ControlPlaneRegistry controlPlane;
    private StaticRegistry staticRegistry;
    private int apiCallsAfterSetup;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        cp = new TestControlPlane();
        http = new HttpClient();
        http.start();
        loads = Executors.newVirtualThreadPerTaskExecutor();
        controlPlane = new ControlPlaneRegistry(new ControlPlaneApi(http, cp.url(), Optional.empty(), Duration.ofSeconds(3)),
                new ControlPlaneRegistry.Settings(Optional.of("http://s3.bench:9000"), TTL, TTL, Duration.ofSeconds(60),
                        Duration.ofSeconds(60), Duration.ofSeconds(3), Duration.ofMinutes(10)),
                (BackendSpec location) -> new StubBackend<>(location), InstantSource.system(), loads, () -> 0.5,
                new SimpleMeterRegistry());
        if (controlPlane.find(ref, caller).isEmpty()) {
            throw new IllegalStateException("the test control plane does not serve " + ref);
        }
        apiCallsAfterSetup = cp.total();
        staticRegistry = new StaticRegistry(List.of(new Product(ref, Visibility.PUBLIC, new StubBackend<>("static:" + ref))));
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        int during = cp.total() - apiCallsAfterSetup;
        controlPlane.close();
        http.stop();
        cp.close();
        loads.shutdownNow();
        if (during != 0) {
            throw new IllegalStateException(during + " API calls during measurement: not a warm resolution");
        }
    }

    @Benchmark
    @Threads(1)
    public Optional<Product> controlPlaneFind1Thread() {
        return controlPlane.find(ref, caller);
    }

    @Benchmark
    @Threads(1)
    public Optional<Product> staticFind1Thread() {
        return staticRegistry.find(ref, caller);
    }

    @Benchmark
    @Threads(2)
    public Optional<Product> controlPlaneFind2Threads() {
        return controlPlane.find(ref, caller);
    }

    @Benchmark
    @Threads(2)
    public Optional<Product> staticFind2Threads() {
        return staticRegistry.find(ref, caller);
    }
}
