package dev.sluice.backend;

import dev.sluice.s3.ObjectSummary;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * S3 listing semantics over keys met in {@link KeyOrder}: prefix filter, resume position,
 * delimiter roll-up into common prefixes, and max-keys, where an object and a common prefix
 * each count as one entry. Used by backends that hold their keys locally, either over a sorted
 * list ({@link #page}) or, through a {@link Builder}, by a walk that produces keys in order
 * and stops as soon as the page is full.
 */
public final class Listings {
    private Listings() {
    }

    /** {@code sorted} must be in {@link KeyOrder} and contain only keys starting with the query's prefix. */
    public static ListPage page(List<ObjectSummary> sorted, ListQuery query) {
        Builder page = new Builder(query);
        for (ObjectSummary o : sorted) {
            if (page.excludes(o.key())) {
                continue;
            }
            if (!page.offerKey(o.key(), () -> o)) {
                break;
            }
        }
        return page.build();
    }

    /**
     * One page being filled by keys offered in key order. Everything before the position and
     * everything under a common prefix already listed is excluded, so a walk can ask about a
     * whole subtree ({@link #excludesEverythingUnder}) and skip it without reading it.
     *
     * <p>A key at or before the position is excluded, and so is every key under the position
     * when it ends with the delimiter (it was a common prefix), and every key under the last
     * common prefix listed (each is listed once). Keys come in order, so nothing at or before
     * the last entry listed is offered again.
     */
    public static final class Builder {
        private final ListQuery query;
        private final List<ObjectSummary> objects = new ArrayList<>();
        private final List<String> prefixes = new ArrayList<>();
        private final Optional<String> after;
        private Optional<String> lastCommonPrefix = Optional.empty();
        private String last;
        private Optional<ListPosition> next = Optional.empty();

        public Builder(ListQuery query) {
            this.query = query;
            this.after = switch (query.position()) {
                case ListPosition.Start s -> Optional.empty();
                case ListPosition.After a -> Optional.of(a.key());
                case ListPosition.Resume r -> Optional.of(r.backendToken());
            };
        }

        /** True when {@code key} is not listed: outside the prefix, at or before the position, or under a common prefix already listed. */
        public boolean excludes(String key) {
            if (!key.startsWith(query.prefix())) {
                return true;
            }
            if (lastCommonPrefix.isPresent() && key.startsWith(lastCommonPrefix.get())) {
                return true;
            }
            if (after.isEmpty()) {
                return false;
            }
            String a = after.get();
            return KeyOrder.compare(key, a) <= 0 || endsWithDelimiter(a) && key.startsWith(a);
        }

        /** True when no key starting with {@code keyPrefix} can be listed, so a walk need not look at them. */
        public boolean excludesEverythingUnder(String keyPrefix) {
            String prefix = query.prefix();
            if (!keyPrefix.startsWith(prefix) && !prefix.startsWith(keyPrefix)) {
                return true;
            }
            if (lastCommonPrefix.isPresent() && keyPrefix.startsWith(lastCommonPrefix.get())) {
                return true;
            }
            if (after.isEmpty()) {
                return false;
            }
            String a = after.get();
            // Every key under keyPrefix sorts before the position unless the position is itself under it.
            boolean allBefore = KeyOrder.compare(keyPrefix, a) < 0 && !a.startsWith(keyPrefix);
            return allBefore || endsWithDelimiter(a) && keyPrefix.startsWith(a);
        }

        /**
         * The common prefix every key starting with {@code keyPrefix} rolls up into, if they all
         * roll up into the same one and the position excludes none of them: then a walk that
         * finds any key in that subtree can list the prefix without reading the rest. Only for
         * a {@code keyPrefix} that is not {@link #excludesEverythingUnder excluded}.
         */
        public Optional<String> commonPrefixOfEverythingUnder(String keyPrefix) {
            if (query.delimiter().isEmpty() || !keyPrefix.startsWith(query.prefix())
                    || after.isPresent() && after.get().startsWith(keyPrefix)) {
                return Optional.empty();
            }
            // An occurrence of the delimiter that lies wholly inside keyPrefix comes before any
            // that starts there and runs past its end, so every key below rolls up at it.
            String delimiter = query.delimiter().get();
            int d = keyPrefix.indexOf(delimiter, query.prefix().length());
            return d < 0 ? Optional.empty() : Optional.of(keyPrefix.substring(0, d + delimiter.length()));
        }

        /**
         * Lists {@code key}, which must not be {@link #excludes excluded} and must come after
         * every key offered before: as its common prefix when the delimiter rolls it up (the
         * summary is then never asked for), otherwise as an object. Returns false when the
         * page was already full: the page is then truncated and nothing more may be offered.
         */
        public boolean offerKey(String key, Supplier<ObjectSummary> summary) {
            Optional<String> rolled = query.delimiter().flatMap(d -> {
                int at = key.indexOf(d, query.prefix().length());
                return at < 0 ? Optional.empty() : Optional.of(key.substring(0, at + d.length()));
            });
            if (rolled.isPresent()) {
                return offerCommonPrefix(rolled.get());
            }
            if (!hasRoom()) {
                return false;
            }
            objects.add(summary.get());
            last = key;
            return true;
        }

        /** Lists a common prefix that holds at least one key; same contract as {@link #offerKey}. */
        public boolean offerCommonPrefix(String commonPrefix) {
            if (!hasRoom()) {
                return false;
            }
            prefixes.add(commonPrefix);
            last = commonPrefix;
            lastCommonPrefix = Optional.of(commonPrefix);
            return true;
        }

        public ListPage build() {
            return new ListPage(List.copyOf(objects), List.copyOf(prefixes), next);
        }

        private boolean hasRoom() {
            if (next.isPresent()) {
                return false;
            }
            if (objects.size() + prefixes.size() < query.maxKeys()) {
                return true;
            }
            // Nothing listed happens only with max-keys=0: the page is truncated (there is an
            // entry to list) and resumes where it started, not at the beginning.
            next = Optional.of(last == null ? query.position() : new ListPosition.After(last));
            return false;
        }

        private boolean endsWithDelimiter(String s) {
            return query.delimiter().isPresent() && s.endsWith(query.delimiter().get());
        }
    }
}
