package dev.sluice.testing;

import dev.sluice.backend.Backend;
import dev.sluice.backend.ListPage;
import dev.sluice.backend.ListQuery;
import dev.sluice.backend.Fetch;
import dev.sluice.backend.StoredObject;

/**
 * Stands in for a backend that a test or benchmark resolves but never reads: it remembers what
 * it stands for (a location, a name), and any read or listing fails loudly.
 */
public record StubBackend<T>(T target) implements Backend {
    @Override
    public StoredObject open(String key, Fetch fetch) {
        throw new UnsupportedOperationException("a stub backend is never read: " + target);
    }

    @Override
    public ListPage list(ListQuery query) {
        throw new UnsupportedOperationException("a stub backend is never listed: " + target);
    }

    @Override
    public String describe() {
        return String.valueOf(target);
    }
}
