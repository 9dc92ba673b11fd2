package dev.sluice.backend;

import dev.sluice.s3.ObjectSummary;
import dev.sluice.s3.S3Exception;

import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * One listing page of a directory tree, read in S3 key order so that a page costs what is on
 * it, not what is around it.
 *
 * <p>An earlier revision walked the whole subtree under the prefix, computed every file's
 * metadata and sorted all keys, for every page: with 50,000 files a 1,000-key page took up to
 * 0.7 s, a full listing was quadratic (20 s), and 16 anonymous listings in parallel kept the
 * cores busy for seconds. Now the walk visits directory entries in the order their keys sort
 * and stops at the first entry past the page:
 * <ul>
 * <li>A directory's entries are ordered by their name, a subdirectory's as its name followed by
 * {@code /} (the key prefix it stands for), compared as code points, which is UTF-8 byte order
 * ({@link KeyOrder}). The difference matters only when a name extends a directory's name with
 * a character below {@code /} ({@code a-b} and {@code a.b} list before everything in
 * {@code a/}), so only such directories are told apart from files before sorting.
 * <li>Subtrees wholly before the position, or under a common prefix already listed, are skipped
 * on their names alone; only the directories on the path down to the position are read.
 * <li>With a delimiter, a subdirectory whose keys all roll up into one common prefix is listed
 * as that prefix as soon as a search (in any order, stopping at the first hit) finds one
 * servable file in it; a directory that is empty or holds only names a listing refuses is not
 * a common prefix, as S3 has no keys there.
 * <li>Metadata (size, modification time, ETag) is read only for the objects on the page.
 * </ul>
 *
 * <p>Why a walk and not an index: the directory is the source of truth and can change under a
 * running server (datasets are copied in place); a walk lists what is there now, needs no
 * memory per file and no invalidation. Its cost is the names of each directory it passes
 * through, read (not stat'ed) on every page, and those after the position sorted: flat in the
 * size of the tree for directories of ordinary size, and proportional to the directory for one
 * holding, say, a million files, which is still far cheaper than the metadata of every file
 * was. If such directories matter, an index of sorted names per directory, checked against the
 * directory's modification time, is the next step.
 */
final class FileListing {
    /** What the listing needs from the backend about one entry. */
    interface ObjectFiles {
        /** The attributes of the object an entry serves (a symlink's target inside the root), or empty if none. */
        Optional<BasicFileAttributes> served(Path entry, BasicFileAttributes own);

        /** The listing's description of one object; called only for objects on the page. */
        ObjectSummary summary(String key, Path file, BasicFileAttributes attributes);
    }

    private static final Comparator<Entry> BY_SORT_KEY = Comparator.comparing(e -> e.sortKey, KeyOrder.COMPARATOR);

    private final ObjectFiles objects;

    FileListing(ObjectFiles objects) {
        this.objects = objects;
    }

    /** The page of {@code query} from a walk of {@code dir}, whose keys start with {@code dirKey} (empty or ending in {@code /}). */
    ListPage page(Path dir, String dirKey, ListQuery query) {
        Listings.Builder page = new Listings.Builder(query);
        if (isListable(dirKey)) {
            walk(dir, dirKey, page);
        }
        return page.build();
    }

    /** Offers the keys under {@code dir} in key order; false once the page is full. */
    private boolean walk(Path dir, String dirKey, Listings.Builder page) {
        // Entries the page excludes whether they are files or directories are dropped on their
        // names before sorting: a page from the middle of a large directory sorts only the rest.
        List<Entry> candidates = new ArrayList<>();
        for (Entry e : entries(dir)) {
            String key = dirKey + e.name;
            if (isListable(e.name) && !ReservedNames.hidden(dirKey, e.name) && (!page.excludes(key) || !page.excludesEverythingUnder(key + "/"))) {
                candidates.add(e);
            }
        }
        for (Entry e : inKeyOrder(candidates)) {
            String key = dirKey + e.name;
            String under = key + "/";
            boolean mayBeObject = !page.excludes(key);
            boolean mayBeDirectory = !page.excludesEverythingUnder(under);
            if (!mayBeObject && !mayBeDirectory) {
                continue;
            }
            Optional<BasicFileAttributes> own = e.attributes();
            if (own.isEmpty()) {
                continue;
            }
            if (own.get().isDirectory()) {
                if (!mayBeDirectory) {
                    continue;
                }
                Optional<String> rolledUp = page.commonPrefixOfEverythingUnder(under);
                boolean more = rolledUp.isPresent()
                        ? !holdsAnObject(e.path) || page.offerCommonPrefix(rolledUp.get())
                        : walk(e.path, under, page);
                if (!more) {
                    return false;
                }
            } else if (mayBeObject) {
                Optional<BasicFileAttributes> served = objects.served(e.path, own.get());
                if (served.isPresent() && !page.offerKey(key, () -> objects.summary(key, e.path, served.get()))) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Whether a listing would find any key under {@code dir}; stops reading at the first. */
    private boolean holdsAnObject(Path dir) {
        List<Path> subdirectories = new ArrayList<>();
        boolean noObjectHere = readEntries(dir, e -> {
            Optional<BasicFileAttributes> own = isListable(e.name) && !ReservedNames.isTemp(e.name) ? e.attributes() : Optional.empty();
            if (own.isPresent() && own.get().isDirectory()) {
                subdirectories.add(e.path);
                return true;
            }
            return own.isEmpty() || objects.served(e.path, own.get()).isEmpty();
        });
        if (!noObjectHere) {
            return true;
        }
        for (Path sub : subdirectories) {
            if (holdsAnObject(sub)) {
                return true;
            }
        }
        return false;
    }

    private static List<Entry> inKeyOrder(List<Entry> entries) {
        entries.sort(BY_SORT_KEY);
        // In name order, the names that extend a name follow it directly, the ones extending
        // it with a character below '/' first. Only if there is such a name does it matter
        // whether the entry is a directory.
        boolean moved = false;
        for (int i = 0; i + 1 < entries.size(); i++) {
            Entry e = entries.get(i);
            String following = entries.get(i + 1).name;
            if (following.length() > e.name.length() && following.startsWith(e.name)
                    && following.charAt(e.name.length()) < '/' && e.isDirectory()) {
                e.sortKey = e.name + "/";
                moved = true;
            }
        }
        if (moved) {
            entries.sort(BY_SORT_KEY);
        }
        return entries;
    }

    private static List<Entry> entries(Path dir) {
        List<Entry> entries = new ArrayList<>();
        readEntries(dir, entries::add);
        return entries;
    }

    /**
     * Hands {@code dir}'s entries to {@code visit} until it answers false; true if it saw them
     * all. A directory that cannot be opened (it went away, or its permissions refuse it) has
     * no entries; one that fails while being read fails the listing rather than list part of it.
     */
    private static boolean readEntries(Path dir, Predicate<Entry> visit) {
        DirectoryStream<Path> stream;
        try {
            stream = Files.newDirectoryStream(dir);
        } catch (IOException e) {
            return true;
        }
        try (stream) {
            for (Path p : stream) {
                if (!visit.test(new Entry(p))) {
                    return false;
                }
            }
            return true;
        } catch (IOException | DirectoryIteratorException e) {
            throw S3Exception.unavailable("listing " + dir, e);
        }
    }

    /** Keys with control characters are never listed (no S3 client could ask for them back). */
    private static boolean isListable(String key) {
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return false;
            }
        }
        return true;
    }

    /** A directory entry; its own attributes (not following a symlink) are read once, when first needed. */
    private static final class Entry {
        final Path path;
        final String name;
        String sortKey;
        private Optional<BasicFileAttributes> attributes;

        Entry(Path path) {
            this.path = path;
            this.name = path.getFileName().toString();
            this.sortKey = name;
        }

        /** Empty when the entry cannot be read (gone since the directory was read, for one): it is not listed. */
        Optional<BasicFileAttributes> attributes() {
            if (attributes == null) {
                try {
                    attributes = Optional.of(Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS));
                } catch (IOException e) {
                    attributes = Optional.empty();
                }
            }
            return attributes;
        }

        boolean isDirectory() {
            return attributes().map(BasicFileAttributes::isDirectory).orElse(false);
        }
    }
}
