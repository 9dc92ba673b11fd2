package dev.sluice.backend;

/**
 * Where a listing page starts. {@code After} is a key (a client's start-after or marker, or
 * the last item of the previous page); when it is a common prefix (ends with the delimiter),
 * everything rolled up under it is skipped too, so pages never repeat a prefix.
 * {@code Resume} carries a backend's own continuation token.
 */
public sealed interface ListPosition {
    record Start() implements ListPosition {
    }

    record After(String key) implements ListPosition {
    }

    record Resume(String backendToken) implements ListPosition {
    }
}
