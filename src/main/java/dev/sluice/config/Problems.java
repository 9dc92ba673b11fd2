package dev.sluice.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The problems found so far in one document. {@link #collect} runs one part of the parse
 * (a section, a product, a key, a role) and, if it throws a {@code ConfigException},
 * records it and answers empty so the caller goes on with the next part.
 */
final class Problems {
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
