package dev.sluice.observe;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Request metrics in Prometheus form: {@code sluice_requests_seconds} (a latency histogram
 * by operation and status, whose {@code _count} is the request count) and
 * {@code sluice_response_bytes_total}, {@code sluice_errors_total} by S3 error code, and
 * {@code sluice_callers_total} by kind of caller ({@code anonymous}, {@code unknown_key},
 * {@code access_key}, {@code session}): how much traffic is signed, and how much signs with
 * keys sluice does not know. {@code sluice_responses_truncated_total} by {@code reason}
 * ({@code client_disconnected}, {@code backend_failed}, {@code incomplete_body}) counts
 * responses whose head went out but whose body did not arrive whole; they are still counted
 * under the status their head carried. Labels never carry keys, products, names or secrets,
 * so cardinality stays bounded.
 */
public final class RequestMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter bytesOut;
    // Looked up per request: a map read, not a builder and a registry lookup each time.
    private final Map<String, Counter> errors = new ConcurrentHashMap<>();
    private final Map<String, Counter> callers = new ConcurrentHashMap<>();
    private final Map<String, Counter> truncated = new ConcurrentHashMap<>();
    /** HTTP statuses are below 600 (sluice logs 499 for a client gone before its answer). */
    private static final int STATUSES = 600;
    /** Operation names come from a closed set (the routes and S3 operations), never from a client. */
    private final Map<String, AtomicReferenceArray<Timer>> timers = new ConcurrentHashMap<>();

    public RequestMetrics() {
        this.bytesOut = Counter.builder("sluice.response.bytes").description("Body bytes sent to clients").register(registry);
    }

    public void record(String operation, int status, Duration duration, long bytes) {
        timer(operation, status).record(duration);
        if (bytes > 0) {
            bytesOut.increment(bytes);
        }
    }

    /**
     * The timer of one operation and status, built and registered the first time they occur
     * and then found in an array by status: building a timer and looking it up in the registry
     * on every request cost about 5 % of a small GET's CPU.
     */
    private Timer timer(String operation, int status) {
        if (status < 0 || status >= STATUSES) {
            return newTimer(operation, status);
        }
        AtomicReferenceArray<Timer> byStatus = timers.computeIfAbsent(operation, o -> new AtomicReferenceArray<>(STATUSES));
        Timer timer = byStatus.get(status);
        if (timer == null) {
            timer = newTimer(operation, status); // registering twice returns the same timer
            byStatus.set(status, timer);
        }
        return timer;
    }

    private Timer newTimer(String operation, int status) {
        return Timer.builder("sluice.requests")
                .description("Requests by S3 operation and HTTP status")
                .tag("operation", operation)
                .tag("status", Integer.toString(status))
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(2))
                .register(registry);
    }

    /** One request answered with an S3 error document with this code. */
    public void error(String code) {
        errors.computeIfAbsent(code, c -> Counter.builder("sluice.errors").description("Error responses by S3 error code")
                .tag("code", c).register(registry)).increment();
    }

    /** One response whose body stopped short, for this reason. */
    public void truncated(String reason) {
        truncated.computeIfAbsent(reason, r -> Counter.builder("sluice.responses.truncated")
                .description("Responses whose body did not reach the client whole, by reason")
                .tag("reason", r).register(registry)).increment();
    }

    /** One S3 request identified as this kind of caller. */
    public void caller(String kind) {
        callers.computeIfAbsent(kind, k -> Counter.builder("sluice.callers").description("S3 requests by kind of caller")
                .tag("kind", k).register(registry)).increment();
    }

    /** The registry, for other components to register their meters in. */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public String scrape() {
        return registry.scrape();
    }
}
