package dev.sluice.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** A node of the document with its dotted path, for precise messages, and where its problems are recorded. */
record Node(JsonNode node, String path, Problems problems) {
    String path(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    boolean has(String key) {
        return node.has(key) && !node.get(key).isNull();
    }

    Node child(String key) {
        JsonNode c = node.get(key);
        if (c == null || c.isNull()) {
            return new Node(JsonNodeFactory.instance.objectNode(), path(key), problems);
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
        return optionalText(key).map(t -> Values.duration(t, path(key))).orElse(fallback);
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
