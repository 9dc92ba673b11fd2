package dev.sluice.config;

import dev.sluice.auth.Action;
import dev.sluice.backend.BackendSpec;
import dev.sluice.registry.Visibility;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The whole configuration, typed: where a {@code type} key chooses which keys apply, a sealed type
 * or an {@code Optional} stands for it, so no configuration string travels past this package.
 * Backends are described as the backend factory takes them ({@link BackendSpec}). Key names follow the public contract in docs/configuration.md (snake
 * case in YAML).
 *
 * @param baseDirectory the directory relative paths in the file are resolved against (the config file's)
 */
public record SluiceConfig(Server server, Registry registry, Optional<Oidc> oidc, Sts sts,
                           Cache cache, Inbound inbound, Path baseDirectory, BackendTls backendTls,
                           Optional<Protection> limits, Optional<Usage> usage) {

    /** For callers that set no {@code usage}: no usage meter. */
    public SluiceConfig(Server server, Registry registry, Optional<Oidc> oidc, Sts sts, Cache cache, Inbound inbound,
                        Path baseDirectory, BackendTls backendTls, Optional<Protection> limits) {
        this(server, registry, oidc, sts, cache, inbound, baseDirectory, backendTls, limits, Optional.empty());
    }

    /** For callers that set no {@code limits}: nothing is limited. */
    public SluiceConfig(Server server, Registry registry, Optional<Oidc> oidc, Sts sts, Cache cache, Inbound inbound,
                        Path baseDirectory, BackendTls backendTls) {
        this(server, registry, oidc, sts, cache, inbound, baseDirectory, backendTls, Optional.empty());
    }

    /** For callers that have no {@code backend_tls}: the JVM's trusted certificates only. */
    public SluiceConfig(Server server, Registry registry, Optional<Oidc> oidc, Sts sts, Cache cache, Inbound inbound,
                        Path baseDirectory) {
        this(server, registry, oidc, sts, cache, inbound, baseDirectory, BackendTls.NONE);
    }

    /**
     * {@code backend_tls}: certificates trusted on outbound HTTPS besides the JVM's own, read from
     * {@code caFile} (PEM) at load.
     */
    public record BackendTls(Optional<Path> caFile, List<java.security.cert.X509Certificate> certificates) {
        public static final BackendTls NONE = new BackendTls(Optional.empty(), List.of());

        public BackendTls {
            certificates = List.copyOf(certificates);
        }
    }

    /**
     * {@code usage} (docs/protection.md, "Usage metering"): the file usage lines are appended to
     * (resolved against the config file's directory), the interval they sum, the key client
     * addresses are hashed with (none: no client in the lines), the instance id each line names
     * (none: one generated at start) and the most keys one interval holds.
     */
    public record Usage(Path file, Duration interval, Optional<Secret> clientHashKey, Optional<String> instanceId, int maxKeys) {
    }

    /** Sluice's OIDC provider: the issuer (default: the public URL) and its signing keys. */
    public record Oidc(Optional<String> issuer, Key signingKey, Optional<Key> previousKey) {
    }

    /** A PEM private key and the kid it is published under (default: its RFC 7638 thumbprint). */
    public record Key(Secret pem, Optional<String> kid) {
    }

    /** The STS endpoint federated credentials are exchanged at. */
    public record Sts(String endpoint, java.time.Duration timeout, java.time.Duration sessionDuration) {
    }

    /** The credential tiers. {@code maxWait} bounds how long a request waits for a cold load. */
    public record Cache(java.time.Duration refreshLead, java.time.Duration minServe, java.time.Duration claimTimeout,
                        java.time.Duration failureBackoff, java.time.Duration maxWait, Shared shared) {
    }

    /** The shared tier ({@code cache.shared.type}): none, or a Redis every instance of the fleet shares. */
    public sealed interface Shared {
        default boolean enabled() {
            return this instanceof Redis;
        }

        /** {@code type: none}: each instance keeps to its in-process tier. */
        record None() implements Shared {
        }

        /** {@code type: redis}. {@code sealKey} is the 32-byte AES key (from {@code seal_key_env} or {@code seal_key_file}). */
        record Redis(String uri, Duration timeout, Duration lead, AesKey sealKey, Duration leaseTtl, Duration leaseWait,
                     int breakerFailures, Duration breakerOpen) implements Shared {
        }
    }

    /** Listeners. {@code publicUrl} defaults to {@code http://} + listen. */
    /** {@code bodyTimeout}: how long a client may take to send a small body sluice reads (signed reads, {@code /.sts}). */
    /** {@code shutdownGrace}: the first part of {@code shutdownTimeout}, unready but still serving (docs/operations.md). */
    /** {@code virtualHostDomain}: when present, {@code Host: {account}.{domain}} addresses that account (docs/configuration.md). */
    /** {@code uploadIdKey}: seals multipart upload ids ({@code upload_id_key_env}/{@code _file}; docs/writes.md, "Operations"). */
    public record Server(HostPort listen, HostPort adminListen, Optional<String> publicUrl, Duration shutdownTimeout,
                         Duration bodyTimeout, Duration shutdownGrace, Optional<String> virtualHostDomain, Limits limits,
                         Optional<AesKey> uploadIdKey) {
        public String effectivePublicUrl() {
            return publicUrl.orElse("http://" + listen);
        }
    }

    /**
     * What a hostile client may hold of the S3 listener (docs/operations.md, "Connection and
     * header limits"): {@code headerTimeout} for a whole request head; {@code maxConnections}
     * open at once (empty: sized from the process's file-descriptor limit); the kernel's
     * {@code acceptBacklog}; and {@code bodyBudget}, the request-body bytes held in memory
     * across all requests; {@code idleTimeout}, how long a connection may send or take nothing
     * (a client stalled mid-body included) before it is closed.
     */
    public record Limits(Duration headerTimeout, Optional<Integer> maxConnections, int acceptBacklog, long bodyBudget,
                         Duration idleTimeout) {
        public static final Limits DEFAULT = new Limits(Duration.ofSeconds(10), Optional.empty(), 1024, 32L * 1024 * 1024,
                Duration.ofSeconds(60));
    }

    /**
     * Where products come from ({@code registry.type}): the {@code products} list (static), or,
     * when {@code controlPlane} is present, an HTTP API.
     */
    public record Registry(List<Product> products, Optional<ControlPlane> controlPlane) {
    }

    /**
     * The control-plane API products are resolved through (docs/control-plane.md).
     * {@code s3Endpoint} replaces {@code https://s3.{region}.amazonaws.com} for connections that
     * name no endpoint of their own; {@code timeout} bounds each API call; an answer that
     * expired less than {@code staleIfError} ago is served when the API fails.
     */
    public record ControlPlane(String url, Optional<String> s3Endpoint, Duration productTtl, Duration dataConnectionTtl,
                               Duration productListTtl, Duration permissionsTtl, Duration timeout, Duration staleIfError) {
    }

    /**
     * A configured product: its address, who may know it exists, where its bytes are, and its
     * own limits ({@code limits}), which replace {@code limits.product}'s field by field.
     */
    public record Product(String account, String product, Visibility visibility, BackendSpec backend, boolean writable,
                          ProductLimits limits) {
        public Product(String account, String product, Visibility visibility, BackendSpec backend, boolean writable) {
            this(account, product, visibility, backend, writable, ProductLimits.NONE);
        }
    }

    /**
     * {@code limits} (docs/protection.md): request rates per client address for anonymous
     * callers, per principal for authenticated ones, and per product; a byte quota per product
     * and one per principal ({@code principalQuota});
     * a cap on an anonymous address's concurrent requests. Only a peer in {@code trustedProxies}
     * (address literals and CIDR blocks) may name the client in {@code X-Forwarded-For};
     * callers in {@code exempt} (access key ids or principal names) are never limited;
     * {@code fleetSize} sizes an instance's share of a limit when the shared store is unavailable:
     * as configured when {@code fleetSizeGiven}, else (1 here) counted from the instances seen in
     * the shared store when there is one.
     */
    public record Protection(AnonymousLimits anonymous, Optional<dev.sluice.protect.Rate> principal, ProductLimits product,
                             List<String> trustedProxies, Set<String> exempt, int fleetSize, Optional<Quota> principalQuota,
                             boolean fleetSizeGiven) {
        public Protection {
            trustedProxies = List.copyOf(trustedProxies);
            exempt = Set.copyOf(exempt);
        }

        /** Without a byte quota per principal. */
        public Protection(AnonymousLimits anonymous, Optional<dev.sluice.protect.Rate> principal, ProductLimits product,
                          List<String> trustedProxies, Set<String> exempt, int fleetSize) {
            this(anonymous, principal, product, trustedProxies, exempt, fleetSize, Optional.empty(), true);
        }
    }

    /** {@code limits.anonymous}: the rate per client address, and how many requests it may have open at once. */
    public record AnonymousLimits(Optional<dev.sluice.protect.Rate> rate, Optional<Integer> concurrent) {
    }

    /** A product's limits: its request rate (everyone's requests together) and its byte quota. */
    public record ProductLimits(Optional<dev.sluice.protect.Rate> rate, Optional<Quota> quota) {
        public static final ProductLimits NONE = new ProductLimits(Optional.empty(), Optional.empty());

        /** These limits, where a field is unset, completed from {@code defaults}. */
        public ProductLimits over(ProductLimits defaults) {
            return new ProductLimits(rate.or(defaults::rate), quota.or(defaults::quota));
        }

        public boolean limits() {
            return rate.isPresent() || quota.isPresent();
        }

        /**
         * A product's limits from a JSON object shaped as {@code registry.products[].limits}
         * (a control-plane answer's {@code limits}), checked as the configuration's are.
         *
         * @throws ConfigException naming every problem, under {@code path}
         */
        public static ProductLimits fromJson(com.fasterxml.jackson.databind.JsonNode json, String path) {
            if (!json.isObject()) {
                throw new ConfigException(path + ": expected an object");
            }
            Problems problems = new Problems();
            ProductLimits limits = ProtectionSection.productLimits(new Node(json, path, problems));
            problems.throwIfAny();
            return limits;
        }
    }

    /** A byte quota: at most {@code bytes} sent to clients per {@code period} (UTC hour or day). */
    public record Quota(long bytes, dev.sluice.protect.QuotaPeriod period) {
    }

    /**
     * Who may call sluice: long-lived access keys and the {@code /.sts} endpoint for clients.
     * Without either, every caller is anonymous.
     */
    public record Inbound(List<AccessKey> accessKeys, Optional<InboundSts> sts) {
        public static final Inbound NONE = new Inbound(List.of(), Optional.empty());
    }

    /** One configured access key; {@code name} is the principal the control plane is told. */
    public record AccessKey(String accessKeyId, Secret secretAccessKey, String name,
                            Optional<java.time.Instant> expiresAt, boolean enabled, List<ScopeSpec> scopes) {
    }

    /**
     * A grant as written in config: {@code account/product} or {@code account/*}, key prefixes
     * (none: every key) and action names. In roles, product and prefixes may hold
     * {@code {claim}} placeholders. Action names are checked and typed when loaded.
     */
    public record ScopeSpec(String product, List<String> prefixes, Set<Action> actions) {
    }

    /** {@code inbound.sts}: the session key (and the previous one, accepted for opening) and the roles. */
    public record InboundSts(AesKey sessionKey, Optional<AesKey> previousSessionKey, List<Role> roles) {
    }

    /** A role clients may assume with a web identity token. */
    public record Role(String id, List<String> trustedIssuers, List<String> audiences, List<String> subjects,
                       java.time.Duration maxSessionDuration, java.time.Duration maxTokenLifetime, List<ScopeSpec> scopes) {
    }

    /** A 256-bit AES key, decoded from its base64 secret once, when the config is loaded. */
    public record AesKey(byte[] bytes) {
        @Override
        public String toString() {
            return "<redacted>";
        }
    }

    /** A secret value that never prints. */
    public record Secret(String value) {
        @Override
        public String toString() {
            return "<redacted>";
        }
    }

    /** host:port of a listener. */
    public record HostPort(String host, int port) {
        /** {@code ":8080"} (empty host), {@code "0.0.0.0:8080"} and {@code "[::]:8080"} listen on every interface. */
        public boolean allInterfaces() {
            return host.isEmpty() || host.equals("0.0.0.0") || host.equals("::");
        }

        @Override
        public String toString() {
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }
}
