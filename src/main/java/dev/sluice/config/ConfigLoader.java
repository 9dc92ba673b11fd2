package dev.sluice.config;

import dev.sluice.backend.HttpEndpoint;
import dev.sluice.federation.RoleArn;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the YAML configuration: {@code ${VAR}} and {@code ${VAR:-default}} interpolation in
 * every string, secrets from {@code *_env} or {@code *_file} keys, then typed mapping and
 * validation. Every problem is reported with the dotted path of the key it concerns, and
 * unknown keys are errors (a misspelt key silently ignored is a misconfiguration found in
 * production). Relative paths resolve against the config file's directory.
 *
 * <p>Problems are collected, not thrown one at a time: unknown keys are recorded, and each
 * section, each product, each access key and each role is parsed inside
 * {@link Problems#collect}, which records its {@code ConfigException} and goes on with the
 * next. One {@code ConfigException} then lists them all, so a file with three typos needs one
 * run to fix, not three. Within one product (or key, or role) parsing still stops at the first
 * problem, since what follows often depends on it.
 */
public final class ConfigLoader {
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)?");
    private static final Pattern BYTE_SIZE = Pattern.compile("(\\d+)\\s*(KiB|MiB|GiB)?");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private final Function<String, Optional<String>> environment;

    public ConfigLoader(Function<String, Optional<String>> environment) {
        this.environment = environment;
    }

    /** A loader reading the process environment. */
    public static ConfigLoader fromSystemEnvironment() {
        return new ConfigLoader(name -> Optional.ofNullable(System.getenv(name)));
    }

    public SluiceConfig load(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException("config file " + file + " does not exist");
        } catch (IOException e) {
            throw new ConfigException("config file " + file + " cannot be read: " + e.getMessage());
        }
        Path base = file.toAbsolutePath().getParent();
        return parse(text, base);
    }

    /** The interpolated document, for {@code check-config} to print (after redaction). */
    public JsonNode resolvedTree(Path file) {
        try {
            Problems problems = new Problems();
            JsonNode tree = interpolate(readTree(Files.readString(file, StandardCharsets.UTF_8)), "", problems);
            problems.throwIfAny();
            return tree;
        } catch (IOException e) {
            throw new ConfigException("config file " + file + " cannot be read: " + e.getMessage());
        }
    }

    public SluiceConfig parse(String yaml, Path baseDirectory) {
        Problems problems = new Problems();
        JsonNode root = interpolate(readTree(yaml), "", problems);
        // A value still holding ${VAR} would only cause confusing follow-up errors.
        problems.throwIfAny();
        if (!root.isObject()) {
            throw new ConfigException("the configuration must be a YAML mapping");
        }
        Node r = new Node(root, "", problems);
        r.allowOnly("server", "registry", "oidc", "sts", "cache", "inbound");
        Optional<SluiceConfig.Server> server = problems.collect(() -> server(r.child("server")));
        Optional<Optional<SluiceConfig.Oidc>> oidc = problems.collect(() ->
                r.has("oidc") ? Optional.of(oidc(r.child("oidc"), baseDirectory)) : Optional.empty());
        Optional<SluiceConfig.Sts> sts = problems.collect(() -> sts(r.child("sts")));
        Optional<SluiceConfig.Cache> cache = sts.flatMap(s -> problems.collect(() -> cache(r.child("cache"), s, baseDirectory)));
        Optional<SluiceConfig.Registry> registry = problems.collect(() -> registry(r.required("registry"), baseDirectory));
        if (registry.isPresent() && oidc.isPresent()) {
            for (int i = 0; i < registry.get().products().size(); i++) {
                SluiceConfig.Product p = registry.get().products().get(i);
                if (p.backend().auth().type().equals(SluiceConfig.Auth.WEB_IDENTITY_TYPE) && oidc.get().isEmpty()) {
                    problems.add("registry.products[" + i + "].backend.auth: web_identity_role needs sluice's OIDC "
                            + "provider: set oidc.signing_key (sluice keygen --out FILE makes one)");
                }
            }
        }
        Optional<SluiceConfig.Inbound> inbound = problems.collect(() ->
                r.has("inbound") ? inbound(r.child("inbound"), baseDirectory) : SluiceConfig.Inbound.NONE);
        problems.throwIfAny();
        return new SluiceConfig(server.orElseThrow(), registry.orElseThrow(), oidc.orElseThrow(), sts.orElseThrow(),
                cache.orElseThrow(), inbound.orElseThrow(), baseDirectory);
    }

    /**
     * The problems found so far in one document. {@link #collect} runs one part of the parse
     * (a section, a product, a key, a role) and, if it throws a {@code ConfigException},
     * records it and answers empty so the caller goes on with the next part.
     */
    private static final class Problems {
        private final List<String> found = new ArrayList<>();

        void add(String problem) {
            found.add(problem);
        }

        <T> Optional<T> collect(Supplier<T> part) {
            try {
                return Optional.of(part.get());
            } catch (ConfigException e) {
                found.addAll(e.problems());
                return Optional.empty();
            }
        }

        void throwIfAny() {
            if (!found.isEmpty()) {
                throw ConfigException.of(found);
            }
        }
    }

    private static JsonNode readTree(String yaml) {
        try {
            JsonNode node = YAML.readTree(yaml);
            return node == null ? YAML.createObjectNode() : node;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ConfigException("the configuration is not valid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
        }
    }

    private SluiceConfig.Server server(Node n) {
        n.allowOnly("listen", "admin_listen", "public_url", "shutdown_timeout", "body_timeout", "shutdown_grace",
                "virtual_host_domain", "header_timeout", "max_connections", "accept_backlog", "body_budget");
        SluiceConfig.HostPort listen = hostPort(n, "listen", "127.0.0.1:8080");
        SluiceConfig.HostPort admin = hostPort(n, "admin_listen", "127.0.0.1:9090");
        if (listen.equals(admin) && listen.port() != 0) {
            throw new ConfigException("server.admin_listen: must differ from server.listen (" + listen + ")");
        }
        Optional<String> publicUrl = n.optionalText("public_url");
        publicUrl.ifPresent(u -> requireHttpUrl(u, n.path("public_url")));
        Duration bodyTimeout = n.duration("body_timeout", Duration.ofSeconds(30));
        if (!bodyTimeout.isPositive()) {
            throw new ConfigException(n.path("body_timeout") + ": must be positive");
        }
        Optional<String> virtualHostDomain = n.optionalText("virtual_host_domain").map(d -> d.toLowerCase(java.util.Locale.ROOT));
        if (virtualHostDomain.isPresent() && !HOST_NAME.matcher(virtualHostDomain.get()).matches()) {
            throw new ConfigException(n.path("virtual_host_domain") + ": must be a host name without scheme, port or path"
                    + " (e.g. s3.example.org), not '" + virtualHostDomain.get() + "'");
        }
        Duration shutdownTimeout = n.duration("shutdown_timeout", Duration.ofSeconds(20));
        return new SluiceConfig.Server(listen, admin, publicUrl.map(u -> u.replaceAll("/+$", "")),
                shutdownTimeout, bodyTimeout, shutdownGrace(n, shutdownTimeout), virtualHostDomain,
                limits(n));
    }

    private static SluiceConfig.Limits limits(Node n) {
        SluiceConfig.Limits d = SluiceConfig.Limits.DEFAULT;
        Duration headerTimeout = n.duration("header_timeout", d.headerTimeout());
        if (!headerTimeout.isPositive()) {
            throw new ConfigException(n.path("header_timeout") + ": must be positive");
        }
        Optional<Integer> maxConnections = n.optionalText("max_connections")
                .map(t -> (int) wholeNumber(t, n.path("max_connections"), 1, Integer.MAX_VALUE));
        int backlog = (int) wholeNumber(n.text("accept_backlog", Integer.toString(d.acceptBacklog())), n.path("accept_backlog"),
                1, 65535);
        long budget = n.optionalText("body_budget").map(t -> byteSize(t, n.path("body_budget"))).orElse(d.bodyBudget());
        return new SluiceConfig.Limits(headerTimeout, maxConnections, backlog, budget);
    }

    private static long wholeNumber(String text, String path, long min, long max) {
        try {
            long v = Long.parseLong(text.trim());
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new ConfigException(path + ": '" + text + "' is not a whole number from " + min + " to " + max);
    }

    /** A size in bytes: a whole number, or one with a {@code KiB}, {@code MiB} or {@code GiB} suffix; of at least 64 KiB and less than 2 GiB. */
    private static long byteSize(String text, String path) {
        Matcher m = BYTE_SIZE.matcher(text.trim());
        long v;
        try {
            v = m.matches() ? Long.parseLong(m.group(1)) : -1;
        } catch (NumberFormatException e) {
            v = -1;
        }
        long unit = !m.matches() || m.group(2) == null ? 1 : switch (m.group(2)) {
            case "KiB" -> 1024L;
            case "MiB" -> 1024L * 1024;
            default -> 1024L * 1024 * 1024;
        };
        if (v < 0 || v > Integer.MAX_VALUE / unit || v * unit < 64 * 1024 || v * unit > Integer.MAX_VALUE) {
            throw new ConfigException(path + ": '" + text + "' is not a size of at least 64KiB and less than 2GiB (examples: 65536, 256KiB, 32MiB)");
        }
        return v * unit;
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

    private SluiceConfig.Oidc oidc(Node n, Path base) {
        n.allowOnly("issuer", "signing_key", "previous_key");
        Optional<String> issuer = n.optionalText("issuer").map(u -> u.replaceAll("/+$", ""));
        issuer.ifPresent(u -> requireHttpUrl(u, n.path("issuer")));
        SluiceConfig.Key current = key(n.required("signing_key"), base);
        Optional<SluiceConfig.Key> previous = n.has("previous_key") ? Optional.of(key(n.child("previous_key"), base)) : Optional.empty();
        return new SluiceConfig.Oidc(issuer, current, previous);
    }

    private SluiceConfig.Key key(Node n, Path base) {
        n.allowOnly("pem_file", "pem_env", "kid");
        Optional<String> env = n.optionalText("pem_env");
        Optional<String> file = n.optionalText("pem_file");
        if (env.isPresent() == file.isPresent()) {
            throw new ConfigException(n.path() + ": set exactly one of pem_file or pem_env");
        }
        String pem;
        if (env.isPresent()) {
            pem = environment.apply(env.get()).filter(v -> !v.isEmpty()).orElseThrow(() ->
                    new ConfigException(n.path("pem_env") + ": environment variable " + env.get() + " is not set"));
        } else {
            Path path = base.resolve(file.get());
            try {
                pem = Files.readString(path, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new ConfigException(n.path("pem_file") + ": file " + path + " cannot be read");
            }
        }
        return new SluiceConfig.Key(new SluiceConfig.Secret(pem), n.optionalText("kid"));
    }

    private SluiceConfig.Sts sts(Node n) {
        n.allowOnly("endpoint", "timeout", "session_duration");
        String endpoint = n.text("endpoint", "https://sts.amazonaws.com");
        requireHttpUrl(endpoint, n.path("endpoint"));
        Duration timeout = n.duration("timeout", Duration.ofSeconds(5));
        if (!timeout.isPositive()) {
            throw new ConfigException(n.path("timeout") + ": must be positive");
        }
        Duration session = n.duration("session_duration", Duration.ofHours(1));
        if (session.compareTo(Duration.ofMinutes(15)) < 0 || session.compareTo(Duration.ofHours(12)) > 0) {
            throw new ConfigException(n.path("session_duration") + ": must be between 15m and 12h (STS's limits), not " + session);
        }
        return new SluiceConfig.Sts(endpoint, timeout, session);
    }

    private SluiceConfig.Cache cache(Node n, SluiceConfig.Sts sts, Path base) {
        n.allowOnly("credentials", "shared");
        Node c = n.child("credentials");
        c.allowOnly("refresh_lead", "min_serve", "claim_timeout", "failure_backoff", "max_wait");
        Duration refreshLead = c.duration("refresh_lead", Duration.ofSeconds(60));
        Duration minServe = c.duration("min_serve", Duration.ofSeconds(5));
        if (refreshLead.compareTo(minServe) <= 0) {
            throw new ConfigException(c.path("refresh_lead") + ": must be greater than min_serve (" + minServe + ")");
        }
        Duration claimTimeout = c.duration("claim_timeout", Duration.ofSeconds(30));
        if (!claimTimeout.isPositive()) {
            throw new ConfigException(c.path("claim_timeout") + ": must be positive");
        }
        Duration backoff = c.duration("failure_backoff", Duration.ofSeconds(1));
        SluiceConfig.Shared shared = shared(n.child("shared"), refreshLead, sts, base);
        Duration maxWait = c.duration("max_wait", sts.timeout().plus(shared.enabled() ? shared.leaseWait() : Duration.ZERO).plusSeconds(1));
        return new SluiceConfig.Cache(refreshLead, minServe, claimTimeout, backoff, maxWait, shared);
    }

    private SluiceConfig.Shared shared(Node n, Duration refreshLead, SluiceConfig.Sts sts, Path base) {
        String type = n.text("type", "none");
        if (!type.equals("none") && !type.equals("redis")) {
            throw new ConfigException(n.path("type") + ": must be 'none' or 'redis', not '" + type + "'");
        }
        if (type.equals("none")) {
            n.allowOnly("type");
            return new SluiceConfig.Shared(type, "", Duration.ZERO, Duration.ZERO, Optional.empty(), Duration.ZERO,
                    Duration.ZERO, 0, Duration.ZERO);
        }
        n.allowOnly("type", "uri", "timeout", "lead", "seal_key_env", "seal_key_file", "lease_ttl", "lease_wait",
                "breaker_failures", "breaker_open");
        String uri = n.text("uri", "redis://127.0.0.1:6379");
        if (!uri.matches("(redis|rediss|redis-sentinel|rediss-sentinel)://\\S+")) {
            throw new ConfigException(n.path("uri") + ": '" + uri + "' is not a redis:// or rediss:// URI");
        }
        Duration timeout = n.duration("timeout", Duration.ofMillis(100));
        if (!timeout.isPositive()) {
            throw new ConfigException(n.path("timeout") + ": must be positive");
        }
        Duration lead = n.duration("lead", Duration.ofSeconds(300));
        if (lead.compareTo(refreshLead) <= 0) {
            throw new ConfigException(n.path("lead") + ": must be greater than cache.credentials.refresh_lead (" + refreshLead
                    + "), or instances would read credentials from the shared tier they can no longer use");
        }
        if (!n.has("seal_key_env") && !n.has("seal_key_file")) {
            throw new ConfigException(n.path("seal_key_env") + ": the redis shared tier needs a seal key (32 random bytes, base64): "
                    + "set seal_key_env or seal_key_file, e.g. head -c32 /dev/urandom | base64");
        }
        SluiceConfig.AesKey sealKey = key32(n, "seal_key", base);
        Duration leaseWait = n.duration("lease_wait", Duration.ofSeconds(2));
        Duration leaseTtl = n.duration("lease_ttl", sts.timeout().plusSeconds(5));
        if (!leaseTtl.isPositive()) {
            throw new ConfigException(n.path("lease_ttl") + ": must be positive, or no lease would hold and every instance "
                    + "would exchange (default: sts.timeout + 5s)");
        }
        int breakerFailures;
        try {
            breakerFailures = Integer.parseInt(n.text("breaker_failures", "3"));
            if (breakerFailures < 1) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new ConfigException(n.path("breaker_failures") + ": must be a whole number of at least 1");
        }
        Duration breakerOpen = n.duration("breaker_open", Duration.ofSeconds(5));
        return new SluiceConfig.Shared(type, uri, timeout, lead, Optional.of(sealKey), leaseTtl, leaseWait, breakerFailures, breakerOpen);
    }

    private SluiceConfig.Registry registry(Node n, Path base) {
        n.allowOnly("type", "products", "control_plane");
        String type = n.text("type", SluiceConfig.Registry.STATIC);
        if (type.equals(SluiceConfig.Registry.CONTROL_PLANE)) {
            if (!n.list("products").isEmpty()) {
                throw new ConfigException(n.path("products") + ": not used with type control-plane (products come from the API)");
            }
            return new SluiceConfig.Registry(type, List.of(), Optional.of(controlPlane(n.required("control_plane"))));
        }
        if (!type.equals(SluiceConfig.Registry.STATIC)) {
            throw new ConfigException(n.path("type") + ": '" + type + "' is not a registry type (supported: static, control-plane)");
        }
        if (n.has("control_plane")) {
            throw new ConfigException(n.path("control_plane") + ": only used with type control-plane");
        }
        List<SluiceConfig.Product> products = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Node p : n.list("products")) {
            n.problems().collect(() -> {
                SluiceConfig.Product product = product(p, base);
                if (!seen.add(product.account() + "/" + product.product())) {
                    throw new ConfigException(p.path() + ": product " + product.account() + "/" + product.product() + " is listed twice");
                }
                return products.add(product);
            });
        }
        return new SluiceConfig.Registry(type, List.copyOf(products));
    }

    private SluiceConfig.ControlPlane controlPlane(Node n) {
        n.allowOnly("url", "s3_endpoint", "ttl", "timeout", "stale_if_error");
        String url = n.requiredText("url").replaceAll("/+$", "");
        requireHttpUrl(url, n.path("url"));
        Optional<String> s3Endpoint = n.optionalText("s3_endpoint").map(u -> u.replaceAll("/+$", ""));
        s3Endpoint.ifPresent(u -> requireHttpUrl(u, n.path("s3_endpoint")));
        Node ttl = n.child("ttl");
        ttl.allowOnly("product", "data_connection", "product_list", "permissions");
        Duration product = positive(ttl, "product", Duration.ofSeconds(300));
        Duration connection = positive(ttl, "data_connection", Duration.ofSeconds(300));
        Duration list = positive(ttl, "product_list", Duration.ofSeconds(60));
        Duration permissions = positive(ttl, "permissions", Duration.ofSeconds(60));
        Duration timeout = positive(n, "timeout", Duration.ofSeconds(3));
        Duration stale = n.duration("stale_if_error", Duration.ofMinutes(10));
        return new SluiceConfig.ControlPlane(url, s3Endpoint, product, connection, list, permissions, timeout, stale);
    }

    private static Duration positive(Node n, String key, Duration fallback) {
        Duration d = n.duration(key, fallback);
        if (!d.isPositive()) {
            throw new ConfigException(n.path(key) + ": must be positive");
        }
        return d;
    }

    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");

    private SluiceConfig.Product product(Node n, Path base) {
        n.allowOnly("account", "product", "visibility", "backend");
        String account = n.requiredText("account");
        String product = n.requiredText("product");
        if (!NAME.matcher(account).matches()) {
            throw new ConfigException(n.path("account") + ": '" + account + "' is not a valid account name (lowercase letters, digits, '.', '_', '-'; 1-63 characters)");
        }
        if (!NAME.matcher(product).matches()) {
            throw new ConfigException(n.path("product") + ": '" + product + "' is not a valid product name (lowercase letters, digits, '.', '_', '-'; 1-63 characters)");
        }
        String visibility = n.text("visibility", "public");
        if (!visibility.equals("public") && !visibility.equals("restricted")) {
            throw new ConfigException(n.path("visibility") + ": must be 'public' or 'restricted', not '" + visibility + "'");
        }
        return new SluiceConfig.Product(account, product, visibility,
                backend(n.required("backend"), base, "sluice:product:" + account + "/" + product));
    }

    private SluiceConfig.Backend backend(Node n, Path base, String defaultSubject) {
        String type = n.requiredText("type");
        Duration timeout = n.duration("timeout", Duration.ofSeconds(30));
        switch (type) {
            case "file" -> {
                n.allowOnly("type", "path");
                Path path = base.resolve(n.requiredText("path")).normalize();
                if (Files.exists(path) && !Files.isDirectory(path)) {
                    throw new ConfigException(n.path("path") + ": " + path + " is not a directory (a file backend serves a "
                            + "directory's files; to serve one file, give its directory)");
                }
                if (!Files.isDirectory(path)) {
                    throw new ConfigException(n.path("path") + ": directory " + path + " does not exist");
                }
                return new SluiceConfig.Backend(type, Optional.of(path), Optional.empty(), Optional.empty(),
                        Optional.empty(), "", SluiceConfig.Auth.ANONYMOUS, timeout);
            }
            case "s3" -> {
                n.allowOnly("type", "endpoint", "region", "bucket", "prefix", "auth", "timeout");
                String region = n.text("region", "us-east-1");
                String endpoint = n.optionalText("endpoint").orElse("https://s3." + region + ".amazonaws.com");
                requireHttpUrl(endpoint, n.path("endpoint"));
                String bucket = n.requiredText("bucket");
                String prefix = n.text("prefix", "");
                if (prefix.startsWith("/")) {
                    throw new ConfigException(n.path("prefix") + ": must not start with '/'");
                }
                SluiceConfig.Auth auth = n.has("auth") ? auth(n.child("auth"), base, defaultSubject) : SluiceConfig.Auth.ANONYMOUS;
                return new SluiceConfig.Backend(type, Optional.empty(), Optional.of(endpoint.replaceAll("/+$", "")),
                        Optional.of(region), Optional.of(bucket), prefix, auth, timeout);
            }
            default -> throw new ConfigException(n.path("type") + ": unknown backend type '" + type + "' (supported: file, s3)");
        }
    }

    /** A 32-byte AES key given as base64 in {@code NAME_env} or {@code NAME_file}. */
    private SluiceConfig.AesKey key32(Node n, String name, Path base) {
        SluiceConfig.Secret secret = secret(n, name, base);
        String what = name.replace('_', ' ');
        byte[] raw;
        try {
            raw = java.util.Base64.getDecoder().decode(secret.value().trim());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(n.path() + ": the " + what + " is not base64");
        }
        if (raw.length != 32) {
            throw new ConfigException(n.path() + ": the " + what + " must decode to 32 bytes, not " + raw.length);
        }
        return new SluiceConfig.AesKey(raw);
    }

    private static final Pattern ACCESS_KEY_ID = Pattern.compile("[A-Za-z0-9]{8,128}");
    private static final Pattern ROLE_ID = Pattern.compile("[\\w+=,.@-]{1,64}");
    private static final Pattern SCOPE_PRODUCT = Pattern.compile("[^/\\s]+/[^/\\s]+");
    private static final Duration MIN_SESSION = Duration.ofMinutes(15);
    private static final Duration MAX_SESSION = Duration.ofHours(12);

    private SluiceConfig.Inbound inbound(Node n, Path base) {
        n.allowOnly("access_keys", "sts");
        List<SluiceConfig.AccessKey> keys = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (Node k : n.list("access_keys")) {
            n.problems().collect(() -> {
                k.allowOnly("access_key_id", "secret_access_key_env", "secret_access_key_file", "name", "expires_at", "enabled",
                        "scopes");
                String id = k.requiredText("access_key_id");
                if (!ACCESS_KEY_ID.matcher(id).matches()) {
                    throw new ConfigException(k.path("access_key_id") + ": must be 8 to 128 letters and digits");
                }
                if (!ids.add(id)) {
                    throw new ConfigException(k.path("access_key_id") + ": '" + id + "' is listed twice");
                }
                SluiceConfig.Secret secret = secret(k, "secret_access_key", base);
                Optional<java.time.Instant> expires = k.optionalText("expires_at").map(t -> {
                    try {
                        return java.time.OffsetDateTime.parse(t).toInstant();
                    } catch (java.time.format.DateTimeParseException e) {
                        throw new ConfigException(k.path("expires_at") + ": '" + t + "' is not a date-time such as 2027-01-31T00:00:00Z");
                    }
                });
                boolean enabled = bool(k, "enabled", true);
                return keys.add(new SluiceConfig.AccessKey(id, secret, k.text("name", id), expires, enabled, scopes(k, false)));
            });
        }
        Optional<SluiceConfig.InboundSts> sts = Optional.empty();
        if (n.has("sts")) {
            Node s = n.child("sts");
            s.allowOnly("enabled", "session_key_env", "session_key_file", "previous_session_key_env",
                    "previous_session_key_file", "trusted_issuers", "audiences", "subjects", "max_session_duration",
                    "max_token_lifetime", "scopes", "roles");
            if (bool(s, "enabled", true)) {
                if (!s.has("session_key_env") && !s.has("session_key_file")) {
                    throw new ConfigException(s.path("session_key_env") + ": sessions are sealed with a key (32 random bytes, "
                            + "base64): set session_key_env or session_key_file, e.g. head -c32 /dev/urandom | base64");
                }
                SluiceConfig.AesKey key = key32(s, "session_key", base);
                Optional<SluiceConfig.AesKey> previous = s.has("previous_session_key_env") || s.has("previous_session_key_file")
                        ? Optional.of(key32(s, "previous_session_key", base)) : Optional.empty();
                Duration defaultMax = sessionDuration(s, "max_session_duration", MAX_SESSION);
                Duration defaultLifetime = positive(s, "max_token_lifetime", dev.sluice.auth.Role.DEFAULT_MAX_TOKEN_LIFETIME);
                List<SluiceConfig.Role> roles = new ArrayList<>();
                if (s.has("trusted_issuers")) {
                    roles.add(role(s, "default", defaultMax, defaultLifetime));
                } else if (s.has("audiences") || s.has("subjects") || s.has("scopes")) {
                    throw new ConfigException(s.path("trusted_issuers") + ": is required for the default role "
                            + "(audiences, subjects and scopes here describe it)");
                }
                Set<String> roleIds = new HashSet<>(roles.stream().map(SluiceConfig.Role::id).toList());
                for (Node r : s.list("roles")) {
                    n.problems().collect(() -> {
                        r.allowOnly("id", "trusted_issuers", "audiences", "subjects", "max_session_duration", "max_token_lifetime",
                                "scopes");
                        String id = r.requiredText("id");
                        if (!ROLE_ID.matcher(id).matches()) {
                            throw new ConfigException(r.path("id") + ": must be 1 to 64 of letters, digits and +=,.@_-");
                        }
                        if (!roleIds.add(id)) {
                            throw new ConfigException(r.path("id") + ": role '" + id + "' is defined twice");
                        }
                        return roles.add(role(r, id, defaultMax, defaultLifetime));
                    });
                }
                if (roles.isEmpty() && s.list("roles").isEmpty()) {
                    throw new ConfigException(s.path() + ": enabled but no role: set trusted_issuers and audiences (one "
                            + "default role) or list roles");
                }
                sts = Optional.of(new SluiceConfig.InboundSts(key, previous, List.copyOf(roles)));
            }
        }
        return new SluiceConfig.Inbound(List.copyOf(keys), sts);
    }

    private SluiceConfig.Role role(Node n, String id, Duration defaultMax, Duration defaultLifetime) {
        List<String> issuers = nonEmptyTexts(n, "trusted_issuers");
        for (int i = 0; i < issuers.size(); i++) {
            requireHttpUrl(issuers.get(i), n.path("trusted_issuers") + "[" + i + "]");
        }
        List<String> audiences = nonEmptyTexts(n, "audiences");
        List<String> subjects = texts(n, "subjects");
        Duration max = sessionDuration(n, "max_session_duration", defaultMax);
        Duration lifetime = positive(n, "max_token_lifetime", defaultLifetime);
        return new SluiceConfig.Role(id, issuers, audiences, subjects, max, lifetime, scopes(n, true));
    }

    private static Duration sessionDuration(Node n, String key, Duration fallback) {
        Duration d = n.duration(key, fallback);
        if (d.compareTo(MIN_SESSION) < 0 || d.compareTo(MAX_SESSION) > 0) {
            throw new ConfigException(n.path(key) + ": must be between 15m and 12h (the range AWS STS allows)");
        }
        return d;
    }

    private static List<SluiceConfig.ScopeSpec> scopes(Node n, boolean templates) {
        List<SluiceConfig.ScopeSpec> out = new ArrayList<>();
        for (Node s : n.list("scopes")) {
            s.allowOnly("product", "prefixes", "actions");
            String product = s.requiredText("product");
            if (!SCOPE_PRODUCT.matcher(product).matches()) {
                throw new ConfigException(s.path("product") + ": '" + product + "' is not account/product or account/*");
            }
            if (!templates && product.contains("{")) {
                throw new ConfigException(s.path("product") + ": {claim} placeholders are for sts roles only");
            }
            List<String> actions = nonEmptyTexts(s, "actions");
            for (int i = 0; i < actions.size(); i++) {
                if (dev.sluice.auth.Action.fromConfigName(actions.get(i)).isEmpty()) {
                    throw new ConfigException(s.path("actions") + "[" + i + "]: unknown action '" + actions.get(i) + "' (known: "
                            + String.join(", ", java.util.Arrays.stream(dev.sluice.auth.Action.values())
                                    .map(dev.sluice.auth.Action::configName).toList()) + ")");
                }
            }
            List<String> prefixes = texts(s, "prefixes");
            if (!templates) {
                for (int i = 0; i < prefixes.size(); i++) {
                    if (prefixes.get(i).contains("{")) {
                        throw new ConfigException(s.path("prefixes") + "[" + i + "]: {claim} placeholders are for sts roles only");
                    }
                }
            }
            out.add(new SluiceConfig.ScopeSpec(product, prefixes, actions));
        }
        return List.copyOf(out);
    }

    private static List<String> nonEmptyTexts(Node n, String key) {
        List<String> values = texts(n, key);
        if (values.isEmpty()) {
            throw new ConfigException(n.path(key) + ": must list at least one value");
        }
        return values;
    }

    private static List<String> texts(Node n, String key) {
        JsonNode c = n.node().get(key);
        if (c == null || c.isNull()) {
            return List.of();
        }
        if (!c.isArray()) {
            throw new ConfigException(n.path(key) + ": expected a list");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < c.size(); i++) {
            if (!c.get(i).isValueNode() || c.get(i).asText().isBlank()) {
                throw new ConfigException(n.path(key) + "[" + i + "]: expected a non-empty value");
            }
            out.add(c.get(i).asText());
        }
        return List.copyOf(out);
    }

    private static boolean bool(Node n, String key, boolean fallback) {
        String v = n.text(key, Boolean.toString(fallback));
        return switch (v) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new ConfigException(n.path(key) + ": must be true or false, not '" + v + "'");
        };
    }

    private SluiceConfig.Auth auth(Node n, Path base, String defaultSubject) {
        String type = n.requiredText("type");
        return switch (type) {
            case "anonymous" -> {
                n.allowOnly("type");
                yield SluiceConfig.Auth.ANONYMOUS;
            }
            case "static" -> {
                n.allowOnly("type", "access_key_id", "secret_access_key_env", "secret_access_key_file");
                String id = n.requiredText("access_key_id");
                SluiceConfig.Secret secret = secret(n, "secret_access_key", base);
                yield new SluiceConfig.Auth(type, Optional.of(id), Optional.of(secret), Optional.empty(), Optional.empty());
            }
            case "web_identity_role" -> {
                n.allowOnly("type", "role_arn", "subject");
                String role = n.requiredText("role_arn");
                if (!RoleArn.isValid(role)) {
                    throw new ConfigException(n.path("role_arn") + ": '" + role + "' is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)");
                }
                String subject = n.text("subject", defaultSubject);
                if (subject.isBlank()) {
                    throw new ConfigException(n.path("subject") + ": must not be empty");
                }
                yield new SluiceConfig.Auth(type, Optional.empty(), Optional.empty(), Optional.of(role), Optional.of(subject));
            }
            default -> throw new ConfigException(n.path("type") + ": unknown auth type '" + type
                    + "' (supported: anonymous, static, web_identity_role)");
        };
    }

    /**
     * A secret from {@code NAME_env} (an environment variable) or {@code NAME_file} (a file's
     * trimmed content, a relative path resolved against the config file's directory).
     */
    private SluiceConfig.Secret secret(Node n, String name, Path base) {
        Optional<String> env = n.optionalText(name + "_env");
        Optional<String> file = n.optionalText(name + "_file");
        if (env.isPresent() == file.isPresent()) {
            throw new ConfigException(n.path() + ": set exactly one of " + name + "_env or " + name + "_file");
        }
        if (env.isPresent()) {
            String value = environment.apply(env.get()).filter(v -> !v.isEmpty()).orElseThrow(() ->
                    new ConfigException(n.path(name + "_env") + ": environment variable " + env.get() + " is not set"));
            return new SluiceConfig.Secret(value);
        }
        Path path = base.resolve(file.get()).normalize();
        try {
            String value = Files.readString(path, StandardCharsets.UTF_8).trim();
            if (value.isEmpty()) {
                throw new ConfigException(n.path(name + "_file") + ": file " + path + " is empty");
            }
            return new SluiceConfig.Secret(value);
        } catch (IOException e) {
            throw new ConfigException(n.path(name + "_file") + ": file " + path + " cannot be read");
        }
    }

    private static SluiceConfig.HostPort hostPort(Node n, String key, String fallback) {
        String value = n.text(key, fallback);
        int colon = value.lastIndexOf(':');
        if (colon < 0) {
            throw new ConfigException(n.path(key) + ": expected host:port or :port, got '" + value + "'");
        }
        // ":8080" has no host: every interface, as in Go's net.Listen and most servers' listen options.
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
            if (host.isEmpty()) {
                throw new ConfigException(n.path(key) + ": '[]' is not a host; for every interface write ':PORT' or '[::]:PORT'");
            }
        }
        try {
            int port = Integer.parseInt(value.substring(colon + 1));
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
            return new SluiceConfig.HostPort(host, port);
        } catch (NumberFormatException e) {
            throw new ConfigException(n.path(key) + ": '" + value.substring(colon + 1) + "' is not a port number");
        }
    }

    private static void requireHttpUrl(String url, String path) {
        if (!HttpEndpoint.isValid(url)) {
            throw new ConfigException(path + ": '" + url + "' is not an http(s) URL");
        }
    }

    static Duration parseDuration(String text, String path) {
        Matcher m = DURATION.matcher(text.trim());
        if (!m.matches()) {
            throw new ConfigException(path + ": '" + text + "' is not a duration (examples: 100ms, 5s, 2m, 1h)");
        }
        String unit = m.group(2) == null ? "s" : m.group(2);
        try {
            long v = Long.parseLong(m.group(1));
            return switch (unit) {
                case "ms" -> Duration.ofMillis(v);
                case "s" -> Duration.ofSeconds(v);
                case "m" -> Duration.ofMinutes(v);
                case "h" -> Duration.ofHours(v);
                default -> Duration.ofDays(v);
            };
        } catch (NumberFormatException | ArithmeticException e) {
            throw new ConfigException(path + ": '" + text + "' is too large for a duration");
        }
    }

    private JsonNode interpolate(JsonNode node, String path, Problems problems) {
        if (node.isTextual()) {
            return new TextNode(problems.collect(() -> interpolateText(node.asText(), path)).orElse(node.asText()));
        }
        if (node.isObject()) {
            ObjectNode copy = YAML.createObjectNode();
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                var e = it.next();
                copy.set(e.getKey(), interpolate(e.getValue(), path.isEmpty() ? e.getKey() : path + "." + e.getKey(), problems));
            }
            return copy;
        }
        if (node.isArray()) {
            ArrayNode copy = YAML.createArrayNode();
            for (int i = 0; i < node.size(); i++) {
                copy.add(interpolate(node.get(i), path + "[" + i + "]", problems));
            }
            return copy;
        }
        return node;
    }

    private String interpolateText(String text, String path) {
        Matcher m = VARIABLE.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            Optional<String> value = environment.apply(name).filter(v -> !v.isEmpty());
            String replacement = value.orElseGet(() -> {
                if (m.group(2) == null) {
                    throw new ConfigException(path + ": environment variable " + name + " is not set");
                }
                return m.group(2);
            });
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** A node of the document with its dotted path, for precise messages, and where its problems are recorded. */
    private record Node(JsonNode node, String path, Problems problems) {
        String path(String key) {
            return path.isEmpty() ? key : path + "." + key;
        }

        boolean has(String key) {
            return node.has(key) && !node.get(key).isNull();
        }

        Node child(String key) {
            JsonNode c = node.get(key);
            if (c == null || c.isNull()) {
                return new Node(YAML.createObjectNode(), path(key), problems);
            }
            if (!c.isObject()) {
                throw new ConfigException(path(key) + ": expected a mapping");
            }
            return new Node(c, path(key), problems);
        }

        Node required(String key) {
            if (!has(key)) {
                throw new ConfigException(path(key) + ": is required");
            }
            return child(key);
        }

        Optional<JsonNode> optionalTree(String key) {
            return has(key) ? Optional.of(node.get(key)) : Optional.empty();
        }

        List<Node> list(String key) {
            JsonNode c = node.get(key);
            if (c == null || c.isNull()) {
                return List.of();
            }
            if (!c.isArray()) {
                throw new ConfigException(path(key) + ": expected a list");
            }
            List<Node> out = new ArrayList<>();
            for (int i = 0; i < c.size(); i++) {
                if (!c.get(i).isObject()) {
                    throw new ConfigException(path(key) + "[" + i + "]: expected a mapping");
                }
                out.add(new Node(c.get(i), path(key) + "[" + i + "]", problems));
            }
            return out;
        }

        Optional<String> optionalText(String key) {
            JsonNode c = node.get(key);
            if (c == null || c.isNull()) {
                return Optional.empty();
            }
            if (!c.isValueNode()) {
                throw new ConfigException(path(key) + ": expected a single value");
            }
            return Optional.of(c.asText());
        }

        String text(String key, String fallback) {
            return optionalText(key).orElse(fallback);
        }

        String requiredText(String key) {
            return optionalText(key).filter(s -> !s.isBlank())
                    .orElseThrow(() -> new ConfigException(path(key) + ": is required"));
        }

        Duration duration(String key, Duration fallback) {
            return optionalText(key).map(t -> parseDuration(t, path(key))).orElse(fallback);
        }

        /** Records each key not in {@code keys}; parsing goes on, so every typo is reported in one run. */
        void allowOnly(String... keys) {
            Set<String> allowed = Set.of(keys);
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!allowed.contains(k)) {
                    problems.add(path(k) + ": unknown key (allowed here: " + String.join(", ", keys) + ")");
                }
            }
        }
    }
}
