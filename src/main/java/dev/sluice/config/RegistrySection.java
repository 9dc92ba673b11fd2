package dev.sluice.config;

import static dev.sluice.config.Values.*;

import dev.sluice.backend.BackendAuth;
import dev.sluice.backend.AzureAuth;
import dev.sluice.backend.BackendSpec;
import dev.sluice.backend.GcsAuth;
import dev.sluice.backend.TokenGrant;
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
        n.allowOnly("account", "product", "visibility", "backend", "writable", "limits");
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
                backend(n.required("backend"), secrets, base, "sluice:product:" + account + "/" + product), writable,
                n.has("limits") ? ProtectionSection.productLimits(n.child("limits")) : SluiceConfig.ProductLimits.NONE);
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
                n.allowOnly("type", "endpoint", "region", "bucket", "prefix", "auth", "timeout", "checksum_trailers");
                String region = n.text("region", "us-east-1");
                String endpoint = n.optionalText("endpoint").orElse("https://s3." + region + ".amazonaws.com");
                requireHttpUrl(endpoint, n.path("endpoint"));
                String bucket = n.requiredText("bucket");
                String prefix = prefix(n);
                BackendAuth auth = n.has("auth") ? auth(n.child("auth"), secrets, base, defaultSubject) : new BackendAuth.Anonymous();
                URI uri = URI.create(withoutTrailingSlashes(endpoint));
                boolean trailers = bool(n, "checksum_trailers", BackendSpec.S3.takesChecksumTrailers(uri));
                return new BackendSpec.S3(uri, region, bucket, prefix, auth, timeout, trailers);
            }
            case "azure" -> {
                n.allowOnly("type", "account", "container", "prefix", "endpoint", "auth", "timeout");
                String account = n.requiredText("account");
                if (!AZURE_ACCOUNT.matcher(account).matches()) {
                    throw new ConfigException(n.path("account") + ": '" + account + "' is not a storage account name (3-24 lowercase "
                            + "letters and digits)");
                }
                String container = n.requiredText("container");
                if (!AZURE_CONTAINER.matcher(container).matches()) {
                    throw new ConfigException(n.path("container") + ": '" + container + "' is not a container name (3-63 lowercase "
                            + "letters, digits and single '-', starting and ending with a letter or digit)");
                }
                String endpoint = n.optionalText("endpoint").orElse("https://" + account + ".blob.core.windows.net");
                requireHttpUrl(endpoint, n.path("endpoint"));
                AzureAuth auth = n.has("auth") ? azureAuth(n.child("auth"), secrets, base, defaultSubject) : new AzureAuth.Anonymous();
                return new BackendSpec.Azure(URI.create(withoutTrailingSlashes(endpoint)), account, container, prefix(n), auth, timeout);
            }
            case "gcs" -> {
                n.allowOnly("type", "bucket", "prefix", "endpoint", "auth", "timeout");
                String bucket = n.requiredText("bucket");
                if (!GCS_BUCKET.matcher(bucket).matches()) {
                    throw new ConfigException(n.path("bucket") + ": '" + bucket + "' is not a bucket name (3-222 lowercase letters, "
                            + "digits, '-', '_' and '.', starting and ending with a letter or digit)");
                }
                String endpoint = n.optionalText("endpoint").orElse("https://storage.googleapis.com");
                requireHttpUrl(endpoint, n.path("endpoint"));
                GcsAuth auth = n.has("auth") ? gcsAuth(n.child("auth"), secrets, base, defaultSubject) : new GcsAuth.Anonymous();
                return new BackendSpec.Gcs(URI.create(withoutTrailingSlashes(endpoint)), bucket, prefix(n), auth, timeout);
            }
            default -> throw new ConfigException(n.path("type") + ": unknown backend type '" + type
                    + "' (supported: file, s3, azure, gcs)");
        }
    }

    private static final Pattern AZURE_ACCOUNT = Pattern.compile("[a-z0-9]{3,24}");
    private static final Pattern AZURE_CONTAINER = Pattern.compile("[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}");
    private static final Pattern GCS_BUCKET = Pattern.compile("[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]");

    private static String prefix(Node n) {
        String prefix = n.text("prefix", "");
        if (prefix.startsWith("/")) {
            throw new ConfigException(n.path("prefix") + ": must not start with '/'");
        }
        return prefix;
    }

    private static String subject(Node n, String defaultSubject) {
        String subject = n.text("subject", defaultSubject);
        if (subject.isBlank()) {
            throw new ConfigException(n.path("subject") + ": must not be empty");
        }
        return subject;
    }

    private static URI httpUrl(Node n, String key, String fallback) {
        String url = withoutTrailingSlashes(n.text(key, fallback));
        requireHttpUrl(url, n.path(key));
        return URI.create(url);
    }

    private static AzureAuth azureAuth(Node n, Secrets secrets, Path base, String defaultSubject) {
        String type = n.requiredText("type");
        return switch (type) {
            case "anonymous" -> {
                n.allowOnly("type");
                yield new AzureAuth.Anonymous();
            }
            case "shared_key" -> {
                n.allowOnly("type", "account_key_env", "account_key_file");
                String key = secrets.secret(n, "account_key", base).value().trim();
                try {
                    java.util.Base64.getDecoder().decode(key);
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(n.path() + ": the account key is not base64");
                }
                yield new AzureAuth.SharedKey(key);
            }
            case "sas" -> {
                n.allowOnly("type", "sas_token_env", "sas_token_file");
                String token = secrets.secret(n, "sas_token", base).value().trim();
                yield new AzureAuth.Sas(token.startsWith("?") ? token.substring(1) : token);
            }
            case "azure_workload_identity" -> {
                n.allowOnly("type", "tenant_id", "client_id", "token_endpoint", "subject");
                String tenant = n.requiredText("tenant_id");
                if (!TokenGrant.isEntraId(tenant)) {
                    throw new ConfigException(n.path("tenant_id") + ": '" + tenant + "' is not a tenant id or domain");
                }
                String client = n.requiredText("client_id");
                if (!TokenGrant.isEntraId(client)) {
                    throw new ConfigException(n.path("client_id") + ": '" + client + "' is not an application (client) id");
                }
                URI endpoint = httpUrl(n, "token_endpoint", "https://login.microsoftonline.com/" + tenant + "/oauth2/v2.0/token");
                yield new AzureAuth.Federated(new TokenGrant.Entra(endpoint, tenant, client, subject(n, defaultSubject)));
            }
            default -> throw new ConfigException(n.path("type") + ": unknown auth type '" + type
                    + "' for an azure backend (supported: anonymous, shared_key, sas, azure_workload_identity)");
        };
    }

    private static GcsAuth gcsAuth(Node n, Secrets secrets, Path base, String defaultSubject) {
        String type = n.requiredText("type");
        return switch (type) {
            case "anonymous" -> {
                n.allowOnly("type");
                yield new GcsAuth.Anonymous();
            }
            case "service_account_key" -> {
                n.allowOnly("type", "key_env", "key_file");
                yield new GcsAuth.Token(serviceAccountKey(n, secrets.secret(n, "key", base).value()));
            }
            case "gcp_workload_identity" -> {
                n.allowOnly("type", "audience", "service_account", "sts_endpoint", "iam_endpoint", "subject");
                String audience = n.requiredText("audience");
                if (!TokenGrant.isPoolProvider(audience)) {
                    throw new ConfigException(n.path("audience") + ": '" + audience + "' is not a workload identity pool provider "
                            + "(//iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER)");
                }
                Optional<String> account = n.optionalText("service_account");
                if (account.isPresent() && !TokenGrant.isServiceAccount(account.get())) {
                    throw new ConfigException(n.path("service_account") + ": '" + account.get() + "' is not a service account email");
                }
                yield new GcsAuth.Token(new TokenGrant.GoogleFederation(httpUrl(n, "sts_endpoint", "https://sts.googleapis.com/v1/token"),
                        audience, account, httpUrl(n, "iam_endpoint", "https://iamcredentials.googleapis.com"), subject(n, defaultSubject)));
            }
            default -> throw new ConfigException(n.path("type") + ": unknown auth type '" + type
                    + "' for a gcs backend (supported: anonymous, service_account_key, gcp_workload_identity)");
        };
    }

    /** A service-account JSON key file's fields; what is missing or malformed is named, never printed. */
    private static TokenGrant.GoogleServiceAccount serviceAccountKey(Node n, String json) {
        com.fasterxml.jackson.databind.JsonNode key;
        try {
            key = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
        } catch (java.io.IOException e) {
            throw new ConfigException(n.path() + ": the service account key is not JSON");
        }
        if (key == null || !key.isObject() || !"service_account".equals(key.path("type").asText())) {
            throw new ConfigException(n.path() + ": the service account key is not a JSON key of type service_account");
        }
        for (String field : List.of("client_email", "private_key_id", "private_key")) {
            if (!key.path(field).isTextual() || key.path(field).asText().isBlank()) {
                throw new ConfigException(n.path() + ": the service account key has no " + field);
            }
        }
        String tokenUri = withoutTrailingSlashes(key.path("token_uri").asText("https://oauth2.googleapis.com/token"));
        requireHttpUrl(tokenUri, n.path() + " (token_uri)");
        return new TokenGrant.GoogleServiceAccount(URI.create(tokenUri), key.get("client_email").asText(),
                key.get("private_key_id").asText(), key.get("private_key").asText());
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
                yield new BackendAuth.WebIdentity(role, subject(n, defaultSubject));
            }
            default -> throw new ConfigException(n.path("type") + ": unknown auth type '" + type
                    + "' (supported: anonymous, static, web_identity_role)");
        };
    }
}
