package dev.sluice.backend;

import dev.sluice.s3.ObjectSummary;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * S3 listing semantics over a sorted list of keys: prefix filter, resume position, delimiter
 * roll-up into common prefixes, and max-keys, where an object and a common prefix each count
 * as one entry. Used by backends that hold their keys locally.
 */
public final class Listings {
    private Listings() {
    }

    /** {@code sorted} must be in {@link KeyOrder} and contain only keys starting with the query's prefix. */
    public static ListPage page(List<ObjectSummary> sorted, ListQuery query) {
        String prefix = query.prefix();
        Optional<String> delimiter = query.delimiter();
        Optional<String> after = switch (query.position()) {
            case ListPosition.Start s -> Optional.empty();
            case ListPosition.After a -> Optional.of(a.key());
            case ListPosition.Resume r -> Optional.of(r.backendToken());
        };
        List<ObjectSummary> objects = new ArrayList<>();
        List<String> prefixes = new ArrayList<>();
        String last = null;
        int count = 0;
        for (ObjectSummary o : sorted) {
            String key = o.key();
            if (!key.startsWith(prefix)) {
                continue;
            }
            if (after.isPresent() && isAtOrBefore(key, after.get(), delimiter)) {
                continue;
            }
            String rolled = null;
            if (delimiter.isPresent()) {
                int d = key.indexOf(delimiter.get(), prefix.length());
                if (d >= 0) {
                    rolled = key.substring(0, d + delimiter.get().length());
                }
            }
            if (rolled != null && rolled.equals(last)) {
                continue;
            }
            if (count == query.maxKeys()) {
                // Nothing listed happens only with max-keys=0: the page is truncated (there is an
                // entry to list) and resumes where it started, not at the beginning.
                ListPosition next = last == null ? query.position() : new ListPosition.After(last);
                return new ListPage(objects, prefixes, Optional.of(next));
            }
            if (rolled != null) {
                prefixes.add(rolled);
                last = rolled;
            } else {
                objects.add(o);
                last = key;
            }
            count++;
        }
        return new ListPage(objects, prefixes, Optional.empty());
    }

    private static boolean isAtOrBefore(String key, String after, Optional<String> delimiter) {
        if (KeyOrder.compare(key, after) <= 0) {
            return true;
        }
        return delimiter.isPresent() && after.endsWith(delimiter.get()) && key.startsWith(after);
    }
}
