package dev.sluice.config;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The whole configuration, typed. Key names follow the public contract in DESIGN §6 (snake
 * case in YAML). Sections that later capabilities read ({@code oidc}, {@code sts},
 * {@code cache}, {@code inbound}) are kept as parsed documents until those capabilities type
 * them.
 *
 * @param baseDirectory the directory relative paths in the file are resolved against (the config file's)
 */
public record SluiceConfig(Server server, Registry registry, Optional<JsonNode> oidc, Optional<JsonNode> sts,
                           Optional<JsonNode> cache, Optional<JsonNode> inbound, Path baseDirectory) {

    /** Listeners. {@code publicUrl} defaults to {@code http://} + listen. */
    public record Server(HostPort listen, HostPort adminListen, Optional<String> publicUrl, Duration shutdownTimeout) {
        public String effectivePublicUrl() {
            return publicUrl.orElse("http://" + listen);
        }
    }

    public record Registry(String type, List<Product> products) {
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
        public static final Auth ANONYMOUS = new Auth("anonymous", Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
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
        @Override
        public String toString() {
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }
}
