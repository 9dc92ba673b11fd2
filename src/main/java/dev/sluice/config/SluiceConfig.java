package dev.sluice.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The whole configuration, typed. Key names follow the public contract in docs/configuration.md (snake
 * case in YAML).
 *
 * @param baseDirectory the directory relative paths in the file are resolved against (the config file's)
 */
public record SluiceConfig(Server server, Registry registry, Optional<Oidc> oidc, Sts sts,
                           Cache cache, Inbound inbound, Path baseDirectory) {

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

    /**
     * The shared tier. {@code type} is {@code none} or {@code redis}; the rest applies to redis.
     * {@code sealKey} is the 32-byte AES key (from {@code seal_key_env} or {@code seal_key_file}).
     */
    public record Shared(String type, String uri, java.time.Duration timeout, java.time.Duration lead,
                         Optional<AesKey> sealKey, java.time.Duration leaseTtl, java.time.Duration leaseWait,
                         int breakerFailures, java.time.Duration breakerOpen) {
        public boolean enabled() {
            return !type.equals("none");
        }
    }

    /** Listeners. {@code publicUrl} defaults to {@code http://} + listen. */
    /** {@code bodyTimeout}: how long a client may take to send a small body sluice reads (signed reads, {@code /.sts}). */
    /** {@code shutdownGrace}: the first part of {@code shutdownTimeout}, unready but still serving (docs/operations.md). */
    /** {@code virtualHostDomain}: when present, {@code Host: {account}.{domain}} addresses that account (docs/configuration.md). */
    public record Server(HostPort listen, HostPort adminListen, Optional<String> publicUrl, Duration shutdownTimeout,
                         Duration bodyTimeout, Duration shutdownGrace, Optional<String> virtualHostDomain, Limits limits) {
        public String effectivePublicUrl() {
            return publicUrl.orElse("http://" + listen);
        }
    }

    /**
     * What a hostile client may hold of the S3 listener (docs/operations.md, "Connection and
     * header limits"): {@code headerTimeout} for a whole request head; {@code maxConnections}
     * open at once (empty: sized from the process's file-descriptor limit); the kernel's
     * {@code acceptBacklog}; and {@code bodyBudget}, the request-body bytes held in memory
     * across all requests.
     */
    public record Limits(Duration headerTimeout, Optional<Integer> maxConnections, int acceptBacklog, long bodyBudget) {
        public static final Limits DEFAULT = new Limits(Duration.ofSeconds(10), Optional.empty(), 1024, 32L * 1024 * 1024);
    }

    /** Where products come from: {@code static} (the {@code products} list) or {@code control-plane} (an HTTP API). */
    public record Registry(String type, List<Product> products, Optional<ControlPlane> controlPlane) {
        public static final String STATIC = "static";
        public static final String CONTROL_PLANE = "control-plane";

        public Registry(String type, List<Product> products) {
            this(type, products, Optional.empty());
        }
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

    public record Product(String account, String product, String visibility, Backend backend) {
    }

    /** A product's backend; which fields apply depends on {@code type} ({@code file} or {@code s3}). */
    public record Backend(String type, Optional<Path> path, Optional<String> endpoint, Optional<String> region,
                          Optional<String> bucket, String prefix, Auth auth, Duration timeout) {
    }

    /**
     * Backend credentials. {@code secretAccessKey} holds the secret itself once resolved from
     * {@code secret_access_key_env} or {@code secret_access_key_file}; {@code toString} hides it.
     */
    public record Auth(String type, Optional<String> accessKeyId, Optional<Secret> secretAccessKey,
                       Optional<String> roleArn, Optional<String> subject) {
        public static final String ANONYMOUS_TYPE = "anonymous";
        public static final String STATIC_TYPE = "static";
        public static final String WEB_IDENTITY_TYPE = "web_identity_role";
        public static final Auth ANONYMOUS = new Auth("anonymous", Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
    }

    /** A secret value that never prints. */
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
     * {@code {claim}} placeholders.
     */
    public record ScopeSpec(String product, List<String> prefixes, List<String> actions) {
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
