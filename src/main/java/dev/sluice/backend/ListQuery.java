package dev.sluice.backend;

import java.util.Optional;

/** A listing request to one backend, keys relative to the product root. */
public record ListQuery(String prefix, Optional<String> delimiter, int maxKeys, ListPosition position) {
}
