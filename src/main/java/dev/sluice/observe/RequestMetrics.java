package dev.sluice.observe;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;

/**
 * Request metrics in Prometheus form: {@code sluice_requests_seconds} (a latency histogram
 * by operation and status, whose {@code _count} is the request count) and
 * {@code sluice_response_bytes_total}. Labels never carry keys, products or secrets, so
 * cardinality stays bounded.
 */
public final class RequestMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter bytesOut;

    public RequestMetrics() {
        this.bytesOut = Counter.builder("sluice.response.bytes").description("Body bytes sent to clients").register(registry);
    }

    public void record(String operation, int status, Duration duration, long bytes) {
        Timer.builder("sluice.requests")
                .description("Requests by S3 operation and HTTP status")
                .tag("operation", operation)
                .tag("status", Integer.toString(status))
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(2))
                .register(registry)
                .record(duration);
        if (bytes > 0) {
            bytesOut.increment(bytes);
        }
    }

    /** The registry, for other components to register their meters in. */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public String scrape() {
        return registry.scrape();
    }
}
