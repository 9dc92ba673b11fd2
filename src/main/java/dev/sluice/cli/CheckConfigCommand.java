package dev.sluice.cli;

import dev.sluice.backend.BackendSpec;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.registry.ControlPlaneRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

/**
 * {@code sluice check-config}: load and validate the configuration exactly as {@code serve}
 * would, then print it with environment variables resolved and secrets redacted.
 */
@Command(name = "check-config", description = "Validate a config file and print it resolved, secrets redacted.")
final class CheckConfigCommand implements Callable<Integer> {
    private static final Pattern SECRET_KEY = Pattern.compile(".*(secret|password|token|seal_key|private).*");
    private static final Pattern URI_USERINFO = Pattern.compile("^([a-z][a-z0-9+.-]*://)([^@/]*)@");

    @Option(names = "--config", description = "Config file (default: $SLUICE_CONFIG, else the quickstart).")
    Path config;

    @Override
    public Integer call() throws Exception {
        Path path = SluiceCommand.configPath(Optional.ofNullable(config));
        ConfigLoader loader = ConfigLoader.fromSystemEnvironment();
        SluiceConfig cfg;
        try {
            cfg = loader.load(path);
        } catch (ConfigException e) {
            System.err.println("sluice: config error in " + path + ": " + e.getMessage());
            return SluiceCommand.CONFIG_ERROR;
        }
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER));
        System.out.print(yaml.writeValueAsString(absolutePaths(redact(loader.resolvedTree(path)), cfg)));
        String registry = cfg.registry().controlPlane()
                .map(cp -> "products from control plane " + cp.url())
                .orElse(cfg.registry().products().size() + " product(s) ("
                        + cfg.registry().products().stream().filter(dev.sluice.config.SluiceConfig.Product::writable).count()
                        + " writable)");
        String inbound = cfg.inbound().accessKeys().size() + " access key(s), "
                + cfg.inbound().sts().map(s -> "/.sts with role(s) " + String.join(", ", s.roles().stream()
                        .map(dev.sluice.config.SluiceConfig.Role::id).toList())).orElse("/.sts off");
        System.err.println("config OK: " + registry + ", " + inbound + ", listen " + cfg.server().listen() + ", admin "
                + cfg.server().adminListen());
        if (cfg.registry().controlPlane().isEmpty() && cfg.registry().products().isEmpty()) {
            // Valid (products may be added later), but rarely what a first run meant.
            System.err.println("warning: no product is configured (registry.products is empty): every request will be "
                    + "answered 404 NoSuchBucket");
        }
        // The API may come up after sluice: a warning, not a config error.
        cfg.registry().controlPlane().flatMap(cp -> ControlPlaneRegistry.unreachable(cp.url(), cp.timeout()))
                .ifPresent(problem -> System.err.println("warning: " + problem));
        return 0;
    }

    /**
     * Shows every file a key names as the absolute path sluice will open: relative paths resolve
     * against the config file's directory, which is easy to forget when reading the file itself.
     * File backends show the directory the loader checked; {@code *_file} keys (secret and key
     * files, whose names are not secret) are resolved the same way. Each product shows
     * {@code writable}, read-only ({@code false}) unless the file says otherwise.
     */
    static JsonNode absolutePaths(JsonNode tree, SluiceConfig cfg) {
        JsonNode products = tree.path("registry").path("products");
        for (int i = 0; i < cfg.registry().products().size() && i < products.size(); i++) {
            // Whether a product takes writes is shown whether or not the file says (read-only by default).
            if (products.get(i) instanceof ObjectNode product) {
                product.put("writable", cfg.registry().products().get(i).writable());
            }
            if (cfg.registry().products().get(i).backend() instanceof BackendSpec.File file
                    && products.get(i).path("backend") instanceof ObjectNode backend) {
                backend.put("path", file.directory().toString());
            }
        }
        resolveFileKeys(tree, cfg.baseDirectory());
        return tree;
    }

    private static void resolveFileKeys(JsonNode node, Path base) {
        if (node instanceof ObjectNode obj) {
            for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().endsWith("_file") && e.getValue().isTextual()) {
                    e.setValue(new TextNode(base.resolve(e.getValue().asText()).normalize().toString()));
                } else {
                    resolveFileKeys(e.getValue(), base);
                }
            }
        } else if (node.isArray()) {
            node.forEach(child -> resolveFileKeys(child, base));
        }
    }

    /** Replaces secret values (never the names of the variables or files they come from) and URI passwords. */
    static JsonNode redact(JsonNode node) {
        if (node instanceof ObjectNode obj) {
            for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String k = e.getKey();
                boolean reference = k.endsWith("_env") || k.endsWith("_file");
                if (!reference && SECRET_KEY.matcher(k).matches() && e.getValue().isValueNode()) {
                    e.setValue(new TextNode("<redacted>"));
                } else {
                    e.setValue(redact(e.getValue()));
                }
            }
            return obj;
        }
        if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                ((com.fasterxml.jackson.databind.node.ArrayNode) node).set(i, redact(node.get(i)));
            }
            return node;
        }
        if (node.isTextual()) {
            return new TextNode(URI_USERINFO.matcher(node.asText()).replaceFirst("$1<redacted>@"));
        }
        return node;
    }
}
