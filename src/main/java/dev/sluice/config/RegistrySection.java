package dev.sluice.config;

import static dev.sluice.config.Values.*;

import dev.sluice.backend.BackendAuth;
import dev.sluice.backend.BackendSpec;
import dev.sluice.federation.RoleArn;
import dev.sluice.registry.Visibility;
import dev.sluice.sigv4.AwsCredentials;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code registry}: static products with their backends (as the backend factory takes them), or
 * the control-plane API products are resolved through.
 */
final class RegistrySection {
    private RegistrySection() {
    }

    static SluiceConfig.Registry registry(Node n, Secrets secrets, Path base) {
        n.allowOnly("type", "products", "control_plane");
        String type = n.text("type", "static");
        if (type.equals("control-plane")) {
            if (!n.list("products").isEmpty()) {
                throw new ConfigException(n.path("products") + ": not used with type control-plane (products come from the API)");
            }
            return new SluiceConfig.Registry(List.of(), Optional.of(controlPlane(n.required("control_plane"))));
        }
        if (!type.equals("static")) {
            throw new ConfigException(n.path("type") + ": '" + type + "' is not a registry type (supported: static, control-plane)");
        }
        if (n.has("control_plane")) {
            throw new ConfigException(n.path("control_plane") + ": only used with type control-plane");
        }
        List<SluiceConfig.Product> products = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Node p : n.list("products")) {
            n.problems().collect(() -> {
                SluiceConfig.Product product = product(p, secrets, base);
                if (!seen.add(product.account() + "/" + product.product())) {
                    throw new ConfigException(p.path() + ": product " + product.account() + "/" + product.product() + " is listed twice");
                }
                return products.add(product);
            });
        }
        return new SluiceConfig.Registry(List.copyOf(products), Optional.empty());
    }

    private static SluiceConfig.ControlPlane controlPlane(Node n) {
        n.allowOnly("url", "s3_endpoint", "ttl", "timeout", "stale_if_error");
        String url = withoutTrailingSlashes(n.requiredText("url"));
        requireHttpUrl(url, n.path("url"));
        Optional<String> s3Endpoint = n.optionalText("s3_endpoint").map(Values::withoutTrailingSlashes);
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

    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");

    private static SluiceConfig.Product product(Node n, Secrets secrets, Path base) {
        n.allowOnly("account", "product", "visibility", "backend", "writable");
        String account = n.requiredText("account");
        String product = n.requiredText("product");
        if (!NAME.matcher(account).matches()) {
            throw new ConfigException(n.path("account") + ": '" + account + "' is not a valid account name (lowercase letters, digits, '.', '_', '-'; 1-63 characters)");
        }
        if (!NAME.matcher(product).matches()) {
            throw new ConfigException(n.path("product") + ": '" + product + "' is not a valid product name (lowercase letters, digits, '.', '_', '-'; 1-63 characters)");
        }
        String visibility = n.text("visibility", "public");
        Visibility v = switch (visibility) {
            case "public" -> Visibility.PUBLIC;
            case "restricted" -> Visibility.RESTRICTED;
            default -> throw new ConfigException(n.path("visibility") + ": must be 'public' or 'restricted', not '" + visibility + "'");
        };
        // Read-only unless the operator says otherwise (docs/writes.md, "Who may write").
        boolean writable = bool(n, "writable", false);
        return new SluiceConfig.Product(account, product, v,
                backend(n.required("backend"), secrets, base, "sluice:product:" + account + "/" + product), writable);
    }

    private static BackendSpec backend(Node n, Secrets secrets, Path base, String defaultSubject) {
        String type = n.requiredText("type");
        Duration timeout = n.duration("timeout", Duration.ofSeconds(30));
        switch (type) {
            case "file" -> {
                n.allowOnly("type", "path", "abandoned_upload_age");
                Path path = base.resolve(n.requiredText("path")).normalize();
                if (Files.exists(path) && !Files.isDirectory(path)) {
                    throw new ConfigException(n.path("path") + ": " + path + " is not a directory (a file backend serves a "
                            + "directory's files; to serve one file, give its directory)");
                }
                if (!Files.isDirectory(path)) {
                    throw new ConfigException(n.path("path") + ": directory " + path + " does not exist");
                }
                return new BackendSpec.File(path,
                        Values.positive(n, "abandoned_upload_age", BackendSpec.File.DEFAULT_ABANDONED_UPLOAD_AGE));
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
                BackendAuth auth = n.has("auth") ? auth(n.child("auth"), secrets, base, defaultSubject) : new BackendAuth.Anonymous();
                return new BackendSpec.S3(URI.create(withoutTrailingSlashes(endpoint)), region, bucket, prefix, auth, timeout);
            }
            default -> throw new ConfigException(n.path("type") + ": unknown backend type '" + type + "' (supported: file, s3)");
        }
    }

    private static BackendAuth auth(Node n, Secrets secrets, Path base, String defaultSubject) {
        String type = n.requiredText("type");
        return switch (type) {
            case "anonymous" -> {
                n.allowOnly("type");
                yield new BackendAuth.Anonymous();
            }
            case "static" -> {
                n.allowOnly("type", "access_key_id", "secret_access_key_env", "secret_access_key_file");
                String id = n.requiredText("access_key_id");
                SluiceConfig.Secret secret = secrets.secret(n, "secret_access_key", base);
                try {
                    yield new BackendAuth.Static(AwsCredentials.of(id, secret.value()));
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(n.path("access_key_id") + ": " + e.getMessage());
                }
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
                yield new BackendAuth.WebIdentity(role, subject);
            }
            default -> throw new ConfigException(n.path("type") + ": unknown auth type '" + type
                    + "' (supported: anonymous, static, web_identity_role)");
        };
    }
}
