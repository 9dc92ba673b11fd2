package dev.sluice.config;

import dev.sluice.backend.BackendAuth;
import dev.sluice.backend.AzureAuth;
import dev.sluice.backend.BackendSpec;
import dev.sluice.backend.GcsAuth;
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
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the YAML configuration: {@code ${VAR}} and {@code ${VAR:-default}} interpolation in
 * every string, secrets from {@code *_env} or {@code *_file} keys, then typed mapping and
 * validation. Every problem is reported with the dotted path of the key it concerns, and
 * unknown keys are errors (a misspelt key silently ignored is a misconfiguration found in
 * production). Relative paths resolve against the config file's directory.
 *
 * <p>Each top-level section is parsed by its own class next to the records it produces
 * ({@link ServerSection}, {@link FederationSection} for {@code oidc} and {@code sts},
 * {@link CacheSection}, {@link RegistrySection}, {@link InboundSection}, {@link ProtectionSection}, {@link UsageSection}); the rules they share
 * are in {@link Values} and {@link Secrets}, each written once.
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
        r.allowOnly("server", "registry", "oidc", "sts", "cache", "inbound", "backend_tls", "limits", "usage");
        Secrets secrets = new Secrets(environment);
        Optional<SluiceConfig.Server> server = problems.collect(() -> ServerSection.server(r.child("server"), secrets, baseDirectory));
        Optional<Optional<SluiceConfig.Oidc>> oidc = problems.collect(() ->
                r.has("oidc") ? Optional.of(FederationSection.oidc(r.child("oidc"), secrets, baseDirectory)) : Optional.empty());
        Optional<SluiceConfig.Sts> sts = problems.collect(() -> FederationSection.sts(r.child("sts")));
        Optional<SluiceConfig.Cache> cache = sts.flatMap(s -> problems.collect(() ->
                CacheSection.cache(r.child("cache"), s, secrets, baseDirectory)));
        Optional<SluiceConfig.Registry> registry = problems.collect(() ->
                RegistrySection.registry(r.required("registry"), secrets, baseDirectory));
        if (registry.isPresent() && oidc.isPresent()) {
            for (int i = 0; i < registry.get().products().size(); i++) {
                SluiceConfig.Product p = registry.get().products().get(i);
                Optional<String> federated = switch (p.backend()) {
                    case BackendSpec.S3 s3 when s3.auth() instanceof BackendAuth.WebIdentity -> Optional.of("web_identity_role");
                    case BackendSpec.Azure a when a.auth() instanceof AzureAuth.Federated -> Optional.of("azure_workload_identity");
                    case BackendSpec.Gcs g when g.auth() instanceof GcsAuth.Token t && t.grant().federated() ->
                            Optional.of("gcp_workload_identity");
                    default -> Optional.empty();
                };
                if (federated.isPresent() && oidc.get().isEmpty()) {
                    problems.add("registry.products[" + i + "].backend.auth: " + federated.get() + " needs sluice's OIDC "
                            + "provider: set oidc.signing_key (sluice keygen --out FILE makes one)");
                }
            }
        }
        Optional<SluiceConfig.Inbound> inbound = problems.collect(() ->
                r.has("inbound") ? InboundSection.inbound(r.child("inbound"), secrets, baseDirectory) : SluiceConfig.Inbound.NONE);
        Optional<SluiceConfig.BackendTls> backendTls = problems.collect(() ->
                r.has("backend_tls") ? BackendTlsSection.backendTls(r.child("backend_tls"), baseDirectory) : SluiceConfig.BackendTls.NONE);
        Optional<Optional<SluiceConfig.Protection>> limits = problems.collect(() ->
                r.has("limits") ? Optional.of(ProtectionSection.protection(r.child("limits"))) : Optional.empty());
        Optional<Optional<SluiceConfig.Usage>> usage = problems.collect(() ->
                r.has("usage") ? Optional.of(UsageSection.usage(r.child("usage"), secrets, baseDirectory)) : Optional.empty());
        problems.throwIfAny();
        return new SluiceConfig(server.orElseThrow(), registry.orElseThrow(), oidc.orElseThrow(), sts.orElseThrow(),
                cache.orElseThrow(), inbound.orElseThrow(), baseDirectory, backendTls.orElseThrow(), limits.orElseThrow(),
                usage.orElseThrow());
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

    /** For tests: the duration syntax of every {@code *_timeout}, TTL and lead. */
    static Duration parseDuration(String text, String path) {
        return Values.duration(text, path);
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

}
