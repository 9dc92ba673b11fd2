package dev.sluice.server;

import dev.sluice.observe.RequestMetrics;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The admin listener: {@code /healthz} (the process is alive), {@code /readyz} (it accepts
 * traffic; 503 from the start of a shutdown, through the grace in which S3 requests are still
 * served and the drain that follows, so a load balancer stops routing here before the S3
 * listener closes: docs/operations.md, "Shutdown"; optional dependencies
 * such as the shared tier are reported in the body but never make it unready, because sluice
 * serves without them) and {@code /metrics}
 * (Prometheus text). Kept off the S3 port so it can be firewalled separately.
 */
final class AdminHandler extends Handler.Abstract.NonBlocking {
    private final RequestMetrics metrics;
    private final BooleanSupplier ready;
    private final Supplier<String> dependencies;

    /** @param dependencies one line per optional dependency; reported, but never makes sluice unready */
    AdminHandler(RequestMetrics metrics, BooleanSupplier ready, Supplier<String> dependencies) {
        this.metrics = metrics;
        this.ready = ready;
        this.dependencies = dependencies;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String path = Request.getPathInContext(request);
        switch (path) {
            case "/healthz" -> text(response, callback, 200, "ok\n", "text/plain");
            case "/readyz" -> {
                boolean r = ready.getAsBoolean();
                text(response, callback, r ? 200 : 503, (r ? "ready\n" : "not ready\n") + dependencies.get() + "\n", "text/plain");
            }
            case "/metrics" -> text(response, callback, 200, metrics.scrape(), "text/plain; version=0.0.4; charset=utf-8");
            default -> text(response, callback, 404, "not found\n", "text/plain");
        }
        return true;
    }

    private static void text(Response response, Callback callback, int status, String body, String type) {
        response.setStatus(status);
        response.getHeaders().put("Content-Type", type);
        Content.Sink.write(response, true, body, callback);
    }
}
