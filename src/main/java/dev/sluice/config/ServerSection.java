package dev.sluice.config;

import static dev.sluice.config.Values.*;

import java.time.Duration;
import java.util.Optional;

/**
 * {@code server}: the listeners, the public URL, shutdown and body timeouts, the connection and
 * header limits, and the key that seals multipart upload ids.
 */
final class ServerSection {
    private ServerSection() {
    }

    static SluiceConfig.Server server(Node n, Secrets secrets, java.nio.file.Path base) {
        n.allowOnly("listen", "admin_listen", "public_url", "shutdown_timeout", "body_timeout", "shutdown_grace",
                "virtual_host_domain", "header_timeout", "max_connections", "accept_backlog", "body_budget", "idle_timeout",
                "upload_id_key_env", "upload_id_key_file");
        SluiceConfig.HostPort listen = hostPort(n, "listen", "127.0.0.1:8080");
        SluiceConfig.HostPort admin = hostPort(n, "admin_listen", "127.0.0.1:9090");
        if (listen.equals(admin) && listen.port() != 0) {
            throw new ConfigException("server.admin_listen: must differ from server.listen (" + listen + ")");
        }
        Optional<String> publicUrl = n.optionalText("public_url");
        publicUrl.ifPresent(u -> requireHttpUrl(u, n.path("public_url")));
        Duration bodyTimeout = positive(n, "body_timeout", Duration.ofSeconds(30));
        Optional<String> virtualHostDomain = n.optionalText("virtual_host_domain").map(d -> d.toLowerCase(java.util.Locale.ROOT));
        if (virtualHostDomain.isPresent() && !HOST_NAME.matcher(virtualHostDomain.get()).matches()) {
            throw new ConfigException(n.path("virtual_host_domain") + ": must be a host name without scheme, port or path"
                    + " (e.g. s3.example.org), not '" + virtualHostDomain.get() + "'");
        }
        Duration shutdownTimeout = n.duration("shutdown_timeout", Duration.ofSeconds(20));
        return new SluiceConfig.Server(listen, admin, publicUrl.map(Values::withoutTrailingSlashes),
                shutdownTimeout, bodyTimeout, shutdownGrace(n, shutdownTimeout), virtualHostDomain,
                limits(n), uploadIdKey(n, secrets, base));
    }

    /**
     * The key multipart upload ids are sealed with, when set; every instance of a fleet needs the
     * same one to continue each other's uploads (docs/configuration.md).
     */
    private static Optional<SluiceConfig.AesKey> uploadIdKey(Node n, Secrets secrets, java.nio.file.Path base) {
        if (!n.has("upload_id_key_env") && !n.has("upload_id_key_file")) {
            return Optional.empty();
        }
        return Optional.of(secrets.key32(n, "upload_id_key", base));
    }

    private static SluiceConfig.Limits limits(Node n) {
        SluiceConfig.Limits d = SluiceConfig.Limits.DEFAULT;
        Duration headerTimeout = positive(n, "header_timeout", d.headerTimeout());
        Optional<Integer> maxConnections = n.optionalText("max_connections")
                .map(t -> (int) wholeNumber(t, n.path("max_connections"), 1, Integer.MAX_VALUE));
        int backlog = (int) wholeNumber(n.text("accept_backlog", Integer.toString(d.acceptBacklog())), n.path("accept_backlog"),
                1, 65535);
        long budget = n.optionalText("body_budget").map(t -> byteSize(t, n.path("body_budget"))).orElse(d.bodyBudget());
        return new SluiceConfig.Limits(headerTimeout, maxConnections, backlog, budget, positive(n, "idle_timeout", d.idleTimeout()));
    }

    /**
     * The grace is part of the shutdown timeout, so {@code shutdown_timeout} alone bounds how
     * long a shutdown takes. Unset, it is 5s, or half the timeout when that is shorter, so a
     * configuration written before the grace existed still loads (docs/operations.md).
     */
    private static Duration shutdownGrace(Node n, Duration shutdownTimeout) {
        Duration fallback = Duration.ofSeconds(5);
        if (!n.has("shutdown_grace")) {
            return shutdownTimeout.compareTo(fallback.multipliedBy(2)) < 0 ? shutdownTimeout.dividedBy(2) : fallback;
        }
        Duration grace = n.duration("shutdown_grace", fallback);
        if (grace.isPositive() && grace.compareTo(shutdownTimeout) >= 0) {
            throw new ConfigException(n.path("shutdown_grace") + ": must be shorter than server.shutdown_timeout (" + shutdownTimeout
                    + "), which it is part of; 0 skips it");
        }
        return grace;
    }

    /** A DNS host name: dot-separated labels of letters, digits and inner hyphens. */
    private static final java.util.regex.Pattern HOST_NAME =
            java.util.regex.Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");
}
