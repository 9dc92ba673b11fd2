package dev.sluice.fleet;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Client traffic against the fleet: a paced, steady load ({@link #steady}) or one burst of
 * concurrent requests released together ({@link #burst}). Every response is checked (status
 * 200 and the product's exact bytes) and recorded with its latency.
 */
final class Load implements AutoCloseable {
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(15);

    /** One request: where it went, when it started (System.nanoTime), how long it took, and what went wrong if anything. */
    record Sample(int instance, Fleet.Product product, long startedNanos, long latencyNanos, int status, String problem) {
        boolean failed() {
            return !problem.isEmpty();
        }

        @Override
        public String toString() {
            return "instance " + instance + " " + product.name() + ": " + status + " " + problem;
        }
    }

    private final HttpClient http;
    private final List<Thread> workers = new ArrayList<>();
    private final List<Sample> samples = new CopyOnWriteArrayList<>();
    private final AtomicInteger completed = new AtomicInteger();
    private volatile boolean running = true;

    private Load() {
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    }

    /**
     * Starts {@code workersPerInstance} workers per instance, each sending one GET every
     * {@code interval} (a missed tick is skipped, never made up), cycling through
     * {@code products}.
     */
    static Load steady(Fleet fleet, List<Fleet.Product> products, int workersPerInstance, Duration interval) {
        Load load = new Load();
        for (int i = 0; i < Fleet.SIZE; i++) {
            for (int w = 0; w < workersPerInstance; w++) {
                int instance = i;
                int offset = w;
                Thread t = Thread.ofPlatform().daemon().name("fleet-load-" + i + "-" + w).start(() -> {
                    long next = System.nanoTime() + interval.toNanos() * offset / workersPerInstance;
                    for (long n = offset; load.running; n++) {
                        LockSupport.parkNanos(next - System.nanoTime()); // pacing the load, not synchronising
                        Fleet.Product p = products.get((int) (n % products.size()));
                        load.samples.add(load.get(fleet, instance, p));
                        load.completed.incrementAndGet();
                        long now = System.nanoTime();
                        next += interval.toNanos();
                        while (next < now) {
                            next += interval.toNanos();
                        }
                    }
                });
                load.workers.add(t);
            }
        }
        return load;
    }

    /**
     * {@code perInstance} concurrent GETs on every instance, all released by one latch, cycling
     * through {@code products}; returns once every one has answered.
     */
    static List<Sample> burst(Fleet fleet, List<Fleet.Product> products, int perInstance) throws InterruptedException {
        try (Load load = new Load()) {
            CountDownLatch go = new CountDownLatch(1);
            for (int i = 0; i < Fleet.SIZE; i++) {
                for (int n = 0; n < perInstance; n++) {
                    int instance = i;
                    Fleet.Product p = products.get(n % products.size());
                    load.workers.add(Thread.ofVirtual().start(() -> {
                        try {
                            go.await();
                        } catch (InterruptedException e) {
                            return;
                        }
                        load.samples.add(load.get(fleet, instance, p));
                    }));
                }
            }
            go.countDown();
            for (Thread t : load.workers) {
                t.join(REQUEST_TIMEOUT.plusSeconds(10).toMillis());
            }
            return List.copyOf(load.samples);
        }
    }

    private Sample get(Fleet fleet, int instance, Fleet.Product p) {
        URI uri = fleet.objectUri(instance, p);
        long start = System.nanoTime();
        try {
            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            long took = System.nanoTime() - start;
            String problem = r.statusCode() != 200 ? new String(r.body(), java.nio.charset.StandardCharsets.UTF_8)
                    : !Arrays.equals(r.body(), p.body()) ? "wrong bytes (" + r.body().length + ")" : "";
            return new Sample(instance, p, start, took, r.statusCode(), problem);
        } catch (IOException e) {
            return new Sample(instance, p, start, System.nanoTime() - start, 0, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Sample(instance, p, start, System.nanoTime() - start, 0, "interrupted");
        }
    }

    /** Waits until at least {@code n} requests have completed since the load started. */
    void awaitCompleted(int n, Duration limit) throws Exception {
        Fleet.awaitCondition(n + " requests of load", limit, () -> completed.get() >= n);
    }

    /** Stops the workers (each finishes its request in flight) and returns every sample. */
    List<Sample> stop() throws InterruptedException {
        running = false;
        for (Thread t : workers) {
            t.join(REQUEST_TIMEOUT.plusSeconds(5).toMillis());
        }
        return List.copyOf(samples);
    }

    /** The {@code q} quantile of the samples' latencies, in milliseconds. */
    static double quantileMillis(List<Sample> samples, double q) {
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("no samples");
        }
        long[] sorted = samples.stream().mapToLong(Sample::latencyNanos).sorted().toArray();
        int index = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1e6;
    }

    @Override
    public void close() throws InterruptedException {
        stop();
        http.close();
    }
}
