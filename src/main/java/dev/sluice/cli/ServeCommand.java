package dev.sluice.cli;

import dev.sluice.Sluice;
import dev.sluice.Version;
import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import sun.misc.Signal;

import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/** {@code sluice serve}: start the proxy and run until SIGTERM or SIGINT, then drain. */
@Command(name = "serve", description = "Start the proxy (default config: examples/quickstart.yaml).")
final class ServeCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

    @Option(names = "--config", description = "Config file (default: $SLUICE_CONFIG, else the quickstart).")
    Path config;

    @Override
    public Integer call() throws Exception {
        Path path = SluiceCommand.configPath(Optional.ofNullable(config));
        SluiceConfig cfg;
        Sluice sluice;
        try {
            cfg = ConfigLoader.fromSystemEnvironment().load(path);
            sluice = new Sluice(cfg, InstantSource.system());
        } catch (ConfigException e) {
            System.err.println("sluice: config error in " + path + ": " + e.getMessage());
            return SluiceCommand.CONFIG_ERROR;
        } catch (RuntimeException e) {
            System.err.println("sluice: cannot start with " + path + ": " + e.getMessage());
            return SluiceCommand.CONFIG_ERROR;
        }
        try {
            sluice.start();
        } catch (Exception e) {
            System.err.println("sluice: cannot start: " + e.getMessage());
            sluice.close();
            return 1;
        }
        // SIGTERM and SIGINT start the shutdown here rather than in a JVM shutdown hook: the
        // JVM would report a SIGTERM as exit status 143 however cleanly the drain went, and a
        // JVM already shutting down is a poor place to keep serving S3 requests through the grace.
        CountDownLatch signalled = new CountDownLatch(1);
        for (String name : List.of("TERM", "INT")) {
            try {
                Signal.handle(new Signal(name), s -> signalled.countDown());
            } catch (IllegalArgumentException e) {
                LOG.warn("cannot handle SIG{} ({}); it will shut down from a JVM shutdown hook", name, e.getMessage());
            }
        }
        // Any other way the JVM ends (SIGHUP, say) still drains, from a hook.
        AtomicBoolean shuttingDown = new AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (shuttingDown.compareAndSet(false, true)) {
                shutDown(sluice);
            }
        }, "sluice-shutdown"));

        String endpoint = sluice.server().s3Endpoint().toString();
        String account = cfg.registry().products().isEmpty() ? "ACCOUNT" : cfg.registry().products().get(0).account();
        // stdout is the access log, one JSON object per line; the banner is for a person, on stderr.
        System.err.println("sluice " + Version.current() + " serving " + cfg.registry().controlPlane()
                .map(cp -> "the products of control plane " + cp.url() + " (config " + path + ")")
                .orElse(cfg.registry().products().size() + " product(s) from " + path));
        System.err.println("  S3 endpoint: " + endpoint);
        System.err.println("  admin:       " + sluice.server().adminEndpoint() + "  (/healthz /readyz /metrics)");
        System.err.println("  try:         aws s3 ls s3://" + account + "/ --endpoint-url " + endpoint + " --no-sign-request");
        System.err.flush();
        signalled.await();
        if (shuttingDown.compareAndSet(false, true)) {
            shutDown(sluice);
        }
        return 0;
    }

    /** The sequence of docs/operations.md, "Shutdown": unready for the grace, then drain, then release everything. */
    private static void shutDown(Sluice sluice) {
        try {
            sluice.server().shutdown();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.warn("shutdown did not complete cleanly: {}", e.toString());
        }
        try {
            sluice.close();
        } catch (Exception e) {
            LOG.warn("shutdown did not complete cleanly: {}", e.toString());
        }
    }
}
