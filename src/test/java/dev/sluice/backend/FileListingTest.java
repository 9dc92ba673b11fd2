package dev.sluice.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.s3.ObjectSummary;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file backend's listing walk: that it lists exactly what S3's rules say for keys whose
 * order a directory walk easily gets wrong, and that a page reads only the directories it
 * needs.
 */
class FileListingTest {
    private static final Instant MTIME = Instant.parse("2024-06-03T10:15:30Z");

    /**
     * Keys where directory order and key order part ways: {@code -} (0x2D) and {@code .}
     * (0x2E) sort before {@code /} (0x2F), so {@code a-b} and {@code a.b} come before
     * everything in directory {@code a}, while {@code a0} comes after it; non-ASCII names,
     * including one outside the BMP, where UTF-16 order is not UTF-8 order.
     */
    static final List<String> KEYS = List.of(
            "a!x", "a-b.txt", "a-b/c.txt", "a.b", "a/b", "a/c-d/e", "a/c.d", "a/c/e", "a/c/e-f/g", "a/c/e.f", "a/c0",
            "a0", "ab/z", "data/2024/01.csv", "data-v2/x", "data.old/x", "data_/x", "u/x", "ü-", "ü/x", "ü/y/z",
            "文件-b", "文件/a", "\uFF5A/x", "\uFFFD/y", "𝄞/x", "𝄞-");

    /** S3's order by definition: the keys' UTF-8 bytes, unsigned. */
    private static final Comparator<String> UTF8 = (x, y) -> Arrays.compareUnsigned(
            x.getBytes(StandardCharsets.UTF_8), y.getBytes(StandardCharsets.UTF_8));

    @TempDir
    Path tmp;
    Path root;
    FileBackend backend;

    @BeforeEach
    void createRoot() throws IOException {
        root = Files.createDirectory(tmp.resolve("root"));
        backend = new FileBackend(root, Runnable::run);
    }

    private void write(String key) throws IOException {
        Path file = root.resolve(key);
        Files.createDirectories(file.getParent());
        Files.writeString(file, key, StandardCharsets.UTF_8);
        Files.setLastModifiedTime(file, FileTime.from(MTIME));
    }

    /** The keys above plus directories that hold no listable key: none of them is a common prefix. */
    private void writeTrickyTree() throws IOException {
        for (String key : KEYS) {
            write(key);
        }
        Files.createDirectories(root.resolve("a/empty/deeper"));
        write("a/hidden/line\nbreak");
        Path outside = Files.writeString(tmp.resolve("secret.txt"), "outside");
        Files.createDirectories(root.resolve("a/out"));
        Files.createSymbolicLink(root.resolve("a/out/leak"), outside);
        Files.createSymbolicLink(root.resolve("a/dirlink"), root.resolve("a/c"));
    }

    private ListPage list(String prefix, String delimiter, int maxKeys, ListPosition position) {
        return backend.list(new ListQuery(prefix, Optional.ofNullable(delimiter), maxKeys, position));
    }

    /** One entry of a listing: an object's key or a common prefix. */
    private record Entry(String name, boolean commonPrefix) {
    }

    /**
     * What S3 lists, computed the obvious way from all keys: keys under the prefix and after
     * the position (and not under it, when it is a common prefix), rolled up at the first
     * delimiter after the prefix, each common prefix once, in UTF-8 byte order.
     */
    private static List<Entry> expected(List<String> keys, String prefix, String delimiter, Optional<String> after) {
        Set<Entry> entries = new LinkedHashSet<>();
        for (String key : keys.stream().sorted(UTF8).toList()) {
            if (!key.startsWith(prefix)) {
                continue;
            }
            if (after.isPresent() && (UTF8.compare(key, after.get()) <= 0
                    || delimiter != null && after.get().endsWith(delimiter) && key.startsWith(after.get()))) {
                continue;
            }
            int d = delimiter == null ? -1 : key.indexOf(delimiter, prefix.length());
            entries.add(d < 0 ? new Entry(key, false) : new Entry(key.substring(0, d + delimiter.length()), true));
        }
        return List.copyOf(entries);
    }

    private static List<Entry> entries(ListPage page) {
        List<Entry> entries = new ArrayList<>();
        page.objects().forEach(o -> entries.add(new Entry(o.key(), false)));
        page.commonPrefixes().forEach(p -> entries.add(new Entry(p, true)));
        entries.sort(Comparator.comparing(Entry::name, UTF8));
        return entries;
    }

    @Test
    void everyPageFromEveryPositionIsWhatS3Lists() throws IOException {
        writeTrickyTree();
        List<String> prefixes = List.of("", "a", "a/", "a/c", "data", "ü", "𝄞", "nope/", "a/empty/", "a/dirlink/");
        List<String> delimiters = Arrays.asList(null, "/", "-", "/e");
        Set<String> positions = new TreeSet<>(KEYS);
        positions.addAll(List.of("", "a", "a/", "a/c", "a/c/", "a/c-", "a/c/e-", "a/zzz", "b", "data/", "ü/", "𝄞/", "\uFFFF"));

        for (String prefix : prefixes) {
            for (String delimiter : delimiters) {
                Set<String> from = new TreeSet<>(positions);
                expected(KEYS, prefix, delimiter, Optional.empty()).forEach(e -> from.add(e.name()));
                for (String after : from) {
                    List<Entry> all = expected(KEYS, prefix, delimiter, Optional.of(after));
                    for (int maxKeys : new int[] {1, 1000}) {
                        ListPage page = list(prefix, delimiter, maxKeys, new ListPosition.After(after));
                        String what = String.format("prefix [%s] delimiter [%s] after [%s] max-keys %d", prefix, delimiter, after, maxKeys);
                        List<Entry> want = all.subList(0, Math.min(maxKeys, all.size()));
                        assertThat(entries(page)).as(what).containsExactlyElementsOf(want);
                        assertThat(page.next()).as(what).isEqualTo(all.size() > maxKeys
                                ? Optional.of(new ListPosition.After(want.get(want.size() - 1).name()))
                                : Optional.empty());
                    }
                }
            }
        }
    }

    @Test
    void pagingFromTheStartVisitsEveryEntryOnceInKeyOrder() throws IOException {
        writeTrickyTree();

        for (String delimiter : Arrays.asList(null, "/", "-")) {
            List<Entry> expected = expected(KEYS, "", delimiter, Optional.empty());
            for (int maxKeys : new int[] {1, 2, 3, 5}) {
                List<Entry> seen = new ArrayList<>();
                ListPosition position = new ListPosition.Start();
                for (int pages = 0; ; pages++) {
                    assertThat(pages).isLessThan(1000);
                    ListPage page = list("", delimiter, maxKeys, position);
                    seen.addAll(entries(page));
                    if (page.next().isEmpty()) {
                        break;
                    }
                    position = page.next().get();
                }
                assertThat(seen).as("delimiter [%s] max-keys %d", delimiter, maxKeys).containsExactlyElementsOf(expected);
            }
        }
    }

    @Test
    void keysWithDashAndDotBeforeASlashListBeforeTheDirectory() throws IOException {
        for (String key : List.of("a/b", "a-b", "a.b", "a0")) {
            write(key);
        }

        assertThat(list("", null, 1000, new ListPosition.Start()).objects()).extracting(ObjectSummary::key)
                .containsExactly("a-b", "a.b", "a/b", "a0");
        ListPage rolled = list("", "/", 1000, new ListPosition.Start());
        assertThat(entries(rolled)).containsExactly(new Entry("a-b", false), new Entry("a.b", false),
                new Entry("a/", true), new Entry("a0", false));
    }

    @Test
    void startAfterInsideANestedDirectoryResumesThereAndRollsUpTheRest() throws IOException {
        writeTrickyTree();

        assertThat(list("", null, 3, new ListPosition.After("a/c/e-f/g")).objects()).extracting(ObjectSummary::key)
                .containsExactly("a/c/e.f", "a/c0", "a0");
        assertThat(entries(list("", "/", 2, new ListPosition.After("a/c/e")))).as("the rest of a/ rolls up into a/")
                .containsExactly(new Entry("a/", true), new Entry("a0", false));
        assertThat(entries(list("a/", "/", 3, new ListPosition.After("a/c-d/")))).as("after a common prefix, nothing under it")
                .containsExactly(new Entry("a/c.d", false), new Entry("a/c/", true), new Entry("a/c0", false));
    }

    // --- what a page reads --------------------------------------------------------------------

    private static final FileTime LONG_AGO = FileTime.from(Instant.parse("2001-01-01T00:00:00Z"));

    /**
     * Reading a directory's entries updates its access time (with {@code relatime}, when the
     * access time is older than the modification time), so setting every directory's access
     * time far back and looking again afterwards shows which directories a listing read: proof
     * by the kernel, not by a clock.
     */
    private Set<Path> directoriesReadBy(Runnable listing) throws IOException {
        List<Path> directories;
        try (Stream<Path> all = Files.walk(root)) {
            directories = all.filter(p -> Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).toList();
        }
        for (Path d : directories) {
            Files.getFileAttributeView(d, BasicFileAttributeView.class).setTimes(null, LONG_AGO, null);
        }
        listing.run();
        Set<Path> read = new TreeSet<>();
        for (Path d : directories) {
            if (!Files.readAttributes(d, BasicFileAttributes.class).lastAccessTime().equals(LONG_AGO)) {
                read.add(root.relativize(d));
            }
        }
        return read;
    }

    private void assumeReadingADirectoryUpdatesItsAccessTime() throws IOException {
        Path probe = Files.createDirectories(tmp.resolve("probe"));
        Files.writeString(probe.resolve("x"), "x");
        Files.getFileAttributeView(probe, BasicFileAttributeView.class).setTimes(null, LONG_AGO, null);
        try (DirectoryStream<Path> s = Files.newDirectoryStream(probe)) {
            s.forEach(p -> { });
        }
        assumeTrue(!Files.readAttributes(probe, BasicFileAttributes.class).lastAccessTime().equals(LONG_AGO),
                "needs a file system that records directory reads in the access time (not noatime)");
    }

    @Test
    void aPageReadsOnlyTheDirectoriesOnItsWay() throws IOException {
        assumeReadingADirectoryUpdatesItsAccessTime();
        for (String key : List.of("a/1.txt", "a/2.txt", "b/c/1.txt", "b/d/1.txt", "c/1.txt", "c/2.txt", "d/1.txt")) {
            write(key);
        }

        Set<Path> first = directoriesReadBy(() -> assertThat(list("", null, 1, new ListPosition.Start()).objects())
                .extracting(ObjectSummary::key).containsExactly("a/1.txt"));
        Set<Path> middle = directoriesReadBy(() -> assertThat(list("", null, 2, new ListPosition.After("b/d/1.txt")).objects())
                .extracting(ObjectSummary::key).containsExactly("c/1.txt", "c/2.txt"));

        assertThat(first).containsExactlyInAnyOrder(Path.of(""), Path.of("a"));
        assertThat(middle).as("b/ and b/d/ lead to the position; d/ holds the entry that truncates the page")
                .containsExactlyInAnyOrder(Path.of(""), Path.of("b"), Path.of("b/d"), Path.of("c"), Path.of("d"));
    }

    @Test
    void aCommonPrefixIsListedWithoutReadingItsWholeSubtree() throws IOException {
        assumeReadingADirectoryUpdatesItsAccessTime();
        for (String key : List.of("big/x.txt", "big/p/1.txt", "big/p/q/2.txt", "big/r/3.txt", "small/4.txt")) {
            write(key);
        }

        Set<Path> read = directoriesReadBy(() -> assertThat(list("", "/", 1000, new ListPosition.Start()).commonPrefixes())
                .containsExactly("big/", "small/"));

        assertThat(read).as("a file directly in big/ proves it is a common prefix")
                .containsExactlyInAnyOrder(Path.of(""), Path.of("big"), Path.of("small"));
    }
}
