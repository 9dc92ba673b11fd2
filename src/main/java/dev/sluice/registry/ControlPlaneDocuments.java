package dev.sluice.registry;

import dev.sluice.backend.TokenGrant;
import dev.sluice.config.ConfigException;
import dev.sluice.config.SluiceConfig;
import dev.sluice.federation.RoleArn;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The control-plane API's documents (shapes in {@code testdata/control-plane/}), parsed into
 * values. Parsing is lenient about shape and strict about meaning: what the registry must
 * decide on (visibility, {@code read_only}, authentication) is kept as found, missing or odd,
 * so that the registry can fail closed on it; a body that is not a JSON object at all is
 * {@link Unparseable} and never cached.
 */
public final class ControlPlaneDocuments {
    private ControlPlaneDocuments() {
    }

    /** A body that cannot be read as the document it should be. */
    public static final class Unparseable extends RuntimeException {
        public Unparseable(String detail) {
            super(detail, null, false, false);
        }
    }

    /** One mirror of a product: a data connection and the prefix inside it. */
    public record Mirror(String name, Optional<String> connectionId, String prefix) {
    }

    /**
     * A product. {@code visibility} is the raw value ("" when missing); only {@code "public"}
     * is public. {@code mirrors} keep the document's order, which decides the fallback mirror.
     */
    public record ProductDocument(String productId, boolean disabled, String visibility, List<Mirror> mirrors,
                                  Optional<String> primaryMirror, Limits limits) {
        public boolean isPublic() {
            return visibility.equals("public");
        }

        /** {@code mirrors[primary_mirror]}, else the first mirror; empty when there is none. */
        public Optional<Mirror> mirror() {
            if (primaryMirror.isPresent()) {
                for (Mirror m : mirrors) {
                    if (m.name().equals(primaryMirror.get())) {
                        return Optional.of(m);
                    }
                }
            }
            return mirrors.isEmpty() ? Optional.empty() : Optional.of(mirrors.get(0));
        }
    }

    /**
     * A product's {@code limits} (docs/control-plane.md, "Limits"): none given, given and valid
     * (the product's own, to replace {@code limits.product}'s fields), or malformed, in which
     * case the product has the default limits: a malformed object never lifts a limit.
     */
    public sealed interface Limits {
        record None() implements Limits {
        }

        record Given(SluiceConfig.ProductLimits limits) implements Limits {
        }

        /** {@code problem} says what is wrong, from the document's own values (which hold no secret). */
        record Malformed(String problem) implements Limits {
        }
    }

    /** How sluice authenticates to a connection's storage. */
    public sealed interface ConnectionAuth {
        /** The document's {@code type}, for messages. */
        String type();

        /** {@code authentication} absent or null: the bucket is read unsigned. */
        record Unsigned() implements ConnectionAuth {
            @Override
            public String type() {
                return "none";
            }
        }

        /** {@code s3_web_identity_role}: sluice's OIDC identity exchanged at STS for this role. */
        record WebIdentityRole(String roleArn) implements ConnectionAuth {
            @Override
            public String type() {
                return "s3_web_identity_role";
            }
        }

        /**
         * {@code azure_workload_identity}: sluice's OIDC identity exchanged at Entra ID for a token
         * of {@code clientId} in {@code tenantId}; {@code token_endpoint} replaces Entra ID's.
         */
        record AzureWorkloadIdentity(String tenantId, String clientId, Optional<String> tokenEndpoint) implements ConnectionAuth {
            @Override
            public String type() {
                return "azure_workload_identity";
            }
        }

        /**
         * {@code gcp_workload_identity}: sluice's OIDC identity exchanged at Google's STS for the
         * pool provider {@code audience}, then for {@code serviceAccount}'s token when named.
         */
        record GcpWorkloadIdentity(String audience, Optional<String> serviceAccount, Optional<String> stsEndpoint,
                                   Optional<String> iamEndpoint) implements ConnectionAuth {
            @Override
            public String type() {
                return "gcp_workload_identity";
            }
        }

        /** Any other or malformed value: never used, the connection fails closed. */
        record Unsupported(String why) implements ConnectionAuth {
            @Override
            public String type() {
                return "unsupported";
            }
        }
    }

    /**
     * A data connection. {@code readOnly} is empty when the document does not say (such a
     * connection is rejected, not assumed writable). {@code bucket} is S3's and GCS's,
     * {@code accountName} and {@code containerName} Azure Blob's.
     */
    public record DataConnectionDocument(String id, Optional<Boolean> readOnly, String provider, Optional<String> bucket,
                                         Optional<String> region, String basePrefix, Optional<String> endpoint,
                                         ConnectionAuth auth, Optional<String> accountName, Optional<String> containerName) {
    }

    public static ProductDocument product(JsonNode node) {
        requireObject(node, "product");
        List<Mirror> mirrors = new ArrayList<>();
        JsonNode m = node.path("metadata").path("mirrors");
        if (m.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                mirrors.add(new Mirror(e.getKey(), text(e.getValue(), "connection_id"), text(e.getValue(), "prefix").orElse("")));
            }
        }
        JsonNode disabled = node.path("disabled");
        return new ProductDocument(text(node, "product_id").orElse(""),
                // a disabled flag that is not a boolean false is taken as disabled: fail closed
                !(disabled.isMissingNode() || disabled.isNull() || (disabled.isBoolean() && !disabled.booleanValue())),
                text(node, "visibility").orElse(""), List.copyOf(mirrors), text(node.path("metadata"), "primary_mirror"),
                limits(node.get("limits")));
    }

    private static Limits limits(JsonNode limits) {
        if (limits == null || limits.isNull()) {
            return new Limits.None();
        }
        try {
            return new Limits.Given(SluiceConfig.ProductLimits.fromJson(limits, "limits"));
        } catch (ConfigException e) {
            return new Limits.Malformed(String.join("; ", e.problems()));
        }
    }

    public static List<ProductDocument> productList(JsonNode node) {
        requireObject(node, "product list");
        JsonNode products = node.path("products");
        if (!products.isArray()) {
            throw new Unparseable("product list without a products array");
        }
        List<ProductDocument> out = new ArrayList<>();
        for (JsonNode p : products) {
            out.add(product(p));
        }
        return List.copyOf(out);
    }

    public static DataConnectionDocument dataConnection(JsonNode node) {
        requireObject(node, "data connection");
        JsonNode details = node.path("details");
        JsonNode readOnly = node.path("read_only");
        return new DataConnectionDocument(text(node, "data_connection_id").orElse(""),
                readOnly.isBoolean() ? Optional.of(readOnly.booleanValue()) : Optional.empty(),
                text(details, "provider").orElse(""), text(details, "bucket"), text(details, "region"),
                text(details, "base_prefix").orElse(""), text(details, "endpoint"), auth(node.get("authentication")),
                text(details, "account_name"), text(details, "container_name"));
    }

    /** A JSON array of permission names ({@code ["read", "write"]}). */
    public static Set<String> permissions(JsonNode node) {
        if (node == null || !node.isArray()) {
            throw new Unparseable("permissions are not a JSON array");
        }
        Set<String> out = new LinkedHashSet<>();
        for (JsonNode p : node) {
            if (!p.isTextual()) {
                throw new Unparseable("a permission is not a string");
            }
            out.add(p.asText());
        }
        return Set.copyOf(out);
    }

    private static ConnectionAuth auth(JsonNode a) {
        if (a == null || a.isNull()) {
            return new ConnectionAuth.Unsigned();
        }
        if (!a.isObject()) {
            return new ConnectionAuth.Unsupported("authentication is not an object");
        }
        String type = a.path("type").asText("");
        switch (type) {
            case "s3_web_identity_role" -> {
                Optional<String> role = text(a, "role_arn");
                if (role.isEmpty() || !RoleArn.isValid(role.get())) {
                    return new ConnectionAuth.Unsupported("s3_web_identity_role without a valid role_arn");
                }
                return new ConnectionAuth.WebIdentityRole(role.get());
            }
            case "azure_workload_identity" -> {
                Optional<String> tenant = text(a, "tenant_id").filter(TokenGrant::isEntraId);
                Optional<String> client = text(a, "client_id").filter(TokenGrant::isEntraId);
                if (tenant.isEmpty() || client.isEmpty()) {
                    return new ConnectionAuth.Unsupported("azure_workload_identity without a valid tenant_id and client_id");
                }
                return new ConnectionAuth.AzureWorkloadIdentity(tenant.get(), client.get(), text(a, "token_endpoint"));
            }
            case "gcp_workload_identity" -> {
                Optional<String> audience = text(a, "audience").filter(TokenGrant::isPoolProvider);
                if (audience.isEmpty()) {
                    return new ConnectionAuth.Unsupported("gcp_workload_identity without a valid audience");
                }
                Optional<String> account = text(a, "service_account");
                if (account.isPresent() && !TokenGrant.isServiceAccount(account.get())) {
                    return new ConnectionAuth.Unsupported("gcp_workload_identity with a service_account that is not an email");
                }
                return new ConnectionAuth.GcpWorkloadIdentity(audience.get(), account, text(a, "sts_endpoint"), text(a, "iam_endpoint"));
            }
            default -> {
                return new ConnectionAuth.Unsupported("authentication type '" + type + "'");
            }
        }
    }

    private static void requireObject(JsonNode node, String what) {
        if (node == null || !node.isObject()) {
            throw new Unparseable(what + " is not a JSON object");
        }
    }

    /** A textual field, empty when missing, null or not text. */
    private static Optional<String> text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v != null && v.isTextual() ? Optional.of(v.asText()) : Optional.empty();
    }
}
