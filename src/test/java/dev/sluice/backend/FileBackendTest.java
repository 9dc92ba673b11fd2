package dev.sluice.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.s3.ByteRange;
import dev.sluice.s3.ObjectSummary;
import dev.sluice.s3.Preconditions;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FileBackendTest {
    private static final Instant MTIME = Instant.parse("2024-06-03T10:15:30Z");

    /** The keys that break naive encoders and decoders; each must survive read and list unchanged. */
    static final List<String> SPECIAL_KEYS = List.of(
            "a b.txt",
            "a+b.txt",
            "100%.txt",
            "100%25.txt",
            "country_iso=ETH/part-0.parquet",
            "report*.pdf",
            "tilde~hash#pipe|.bin",
            "ünïcødé/文件.txt");

    @TempDir
    Path tmp;
    Path root;
    FileBackend backend;

    @BeforeEach
    void createRoot() throws IOException {
        root = Files.createDirectory(tmp.resolve("root"));
        // Small files are hashed inline; jobs for large ones are held and never run here
        // (ContentHashesTest runs them).
        backend = new FileBackend(root, new ContentHashesTest.HeldExecutor());
    }

    private Path write(String key, String content) throws IOException {
        Path file = root.resolve(key);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content, StandardCharsets.UTF_8);
        Files.setLastModifiedTime(file, FileTime.from(MTIME));
        return file;
    }

    private static ObjectRead get(String key) {
        return new ObjectRead(key, Optional.empty(), Preconditions.NONE, false, "req");
    }

    private static ObjectRead get(String key, String range) {
        return new ObjectRead(key, ByteRange.parse(range), Preconditions.NONE, false, "req");
    }

    private static ObjectRead head(String key) {
        return new ObjectRead(key, Optional.empty(), Preconditions.NONE, true, "req");
    }

    private static ObjectRead conditional(String key, Preconditions p) {
        return new ObjectRead(key, Optional.empty(), p, false, "req");
    }

    private static byte[] bytes(ObjectResponse response) throws IOException {
        assertThat(response.body()).as("response body").isPresent();
        try (ObjectBody body = response.body().get()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            long n = body.transferTo(out);
            assertThat(n).isEqualTo(out.size());
            return out.toByteArray();
        }
    }

    private static String text(ObjectResponse response) throws IOException {
        return new String(bytes(response), StandardCharsets.UTF_8);
    }

    private static Optional<String> header(ObjectResponse response, String name) {
        return response.headers().stream().filter(h -> h.getKey().equalsIgnoreCase(name)).map(Map.Entry::getValue).findFirst();
    }

    private static void assertNoSuchKey(Runnable read) {
        assertThatThrownBy(read::run).isInstanceOfSatisfying(S3Exception.class, e -> {
            assertThat(e.error()).isEqualTo(S3Error.NO_SUCH_KEY);
            assertThat(e.error().status()).isEqualTo(404);
        });
    }

    private ListPage list(String prefix, String delimiter, int maxKeys, ListPosition position) {
        return backend.list(new ListQuery(prefix, Optional.ofNullable(delimiter), maxKeys, position));
    }

    private static List<String> keys(ListPage page) {
        return page.objects().stream().map(ObjectSummary::key).toList();
    }

    /** Every object and common prefix of a listing, page by page through {@link ListPage#next()}. */
    private List<String> walk(String prefix, String delimiter, int maxKeys) {
        List<String> seen = new ArrayList<>();
        ListPosition position = new ListPosition.Start();
        for (int pages = 0; ; pages++) {
            assertThat(pages).as("pages").isLessThan(10_000);
            ListPage page = list(prefix, delimiter, maxKeys, position);
            assertThat(page.objects().size() + page.commonPrefixes().size()).isLessThanOrEqualTo(maxKeys);
            List<String> entries = new ArrayList<>(keys(page));
            entries.addAll(page.commonPrefixes());
            entries.sort(KeyOrder.COMPARATOR);
            seen.addAll(entries);
            if (page.next().isEmpty()) {
                return seen;
            }
            assertThat(entries).as("a truncated page makes progress").isNotEmpty();
            position = page.next().get();
        }
    }

    // --- GET and HEAD --------------------------------------------------------------------------

    @Test
    void getServesTheBytesWithObjectHeaders() throws IOException {
        write("greeting.txt", "hello, world\n");

        ObjectResponse r = ObjectResponse.read(backend, get("greeting.txt"));

        assertThat(r.status()).isEqualTo(200);
        assertThat(text(r)).isEqualTo("hello, world\n");
        assertThat(header(r, "Content-Length")).contains("13");
        assertThat(header(r, "Content-Type")).contains("text/plain");
        assertThat(header(r, "Accept-Ranges")).contains("bytes");
        // The body's MD5, as S3 gives a single-part object: clients verify downloads against it.
        assertThat(header(r, "ETag")).contains("\"22c3683b094136c3398391ae71b20f04\"");
        assertThat(header(r, "Content-Range")).isEmpty();
    }

    @Test
    void headHasTheSameHeadersAndNoBody() throws IOException {
        write("greeting.txt", "hello, world\n");

        ObjectResponse got = ObjectResponse.read(backend, get("greeting.txt"));
        ObjectResponse head = ObjectResponse.read(backend, head("greeting.txt"));
        got.body().ifPresent(ObjectBody::close);

        assertThat(head.status()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(head.headers()).isEqualTo(got.headers());
    }

    @Test
    void anEmptyFileIsAnEmptyObject() throws IOException {
        write("empty.bin", "");

        ObjectResponse r = ObjectResponse.read(backend, get("empty.bin"));

        assertThat(r.status()).isEqualTo(200);
        assertThat(bytes(r)).isEmpty();
        assertThat(header(r, "Content-Length")).contains("0");
    }

    @Test
    void lastModifiedIsAnImfFixdate() throws IOException {
        write("greeting.txt", "x");

        ObjectResponse r = ObjectResponse.read(backend, head("greeting.txt"));

        // RFC 9110 IMF-fixdate: a two-digit day, always.
        assertThat(header(r, "Last-Modified")).contains("Mon, 03 Jun 2024 10:15:30 GMT");
    }

    @Test
    void contentTypeFollowsTheExtension() throws IOException {
        for (String key : List.of("a.txt", "a.csv", "a.json", "a.parquet", "noextension")) {
            write(key, "x");
        }

        assertThat(header(ObjectResponse.read(backend, head("a.txt")), "Content-Type")).contains("text/plain");
        assertThat(header(ObjectResponse.read(backend, head("a.csv")), "Content-Type")).contains("text/csv");
        assertThat(header(ObjectResponse.read(backend, head("a.json")), "Content-Type")).contains("application/json");
        assertThat(header(ObjectResponse.read(backend, head("a.parquet")), "Content-Type")).contains("application/vnd.apache.parquet");
        assertThat(header(ObjectResponse.read(backend, head("noextension")), "Content-Type")).contains("application/octet-stream");
    }

    // --- ETag ----------------------------------------------------------------------------------

    @Test
    void etagIsStableForAnUnchangedFileAcrossInstances() throws IOException {
        write("data.csv", "a,b\n1,2\n");

        String first = header(ObjectResponse.read(backend, head("data.csv")), "ETag").orElseThrow();
        String again = header(ObjectResponse.read(backend, head("data.csv")), "ETag").orElseThrow();
        String restarted = header(ObjectResponse.read(new FileBackend(root, new ContentHashesTest.HeldExecutor()), head("data.csv")), "ETag").orElseThrow();

        assertThat(again).isEqualTo(first);
        assertThat(restarted).isEqualTo(first);
    }

    @Test
    void etagStaysTheContentMd5WhenOnlyTheModificationTimeChanges() throws IOException {
        Path file = write("data.csv", "a,b\n1,2\n");
        String before = header(ObjectResponse.read(backend, head("data.csv")), "ETag").orElseThrow();

        Files.setLastModifiedTime(file, FileTime.from(MTIME.plusSeconds(1)));

        // As S3 gives the same ETag to the same bytes uploaded again; Last-Modified tells the times apart.
        assertThat(header(ObjectResponse.read(backend, head("data.csv")), "ETag")).contains(before);
    }

    @Test
    void etagChangesWhenTheSizeChanges() throws IOException {
        write("data.csv", "a,b\n");
        String before = header(ObjectResponse.read(backend, head("data.csv")), "ETag").orElseThrow();
        write("data.csv", "a,b,c\n");

        assertThat(header(ObjectResponse.read(backend, head("data.csv")), "ETag")).isNotEqualTo(Optional.of(before));
    }

    @Test
    void listingCarriesTheSameEtagSizeAndTimeAsARead() throws IOException {
        write("data.csv", "a,b\n1,2\n");

        ObjectSummary listed = list("", null, 1000, new ListPosition.Start()).objects().get(0);
        ObjectResponse read = ObjectResponse.read(backend, head("data.csv"));

        assertThat(listed.key()).isEqualTo("data.csv");
        assertThat(listed.size()).isEqualTo(8);
        assertThat(listed.lastModified()).isEqualTo(MTIME);
        assertThat(header(read, "ETag")).contains(listed.etag());
    }

    // --- ranges --------------------------------------------------------------------------------

    @Test
    void rangedGetServesThePartWith206() throws IOException {
        write("digits.txt", "0123456789");

        ObjectResponse r = ObjectResponse.read(backend, get("digits.txt", "bytes=2-5"));

        assertThat(r.status()).isEqualTo(206);
        assertThat(text(r)).isEqualTo("2345");
        assertThat(header(r, "Content-Range")).contains("bytes 2-5/10");
        assertThat(header(r, "Content-Length")).contains("4");
    }

    @Test
    void openAndSuffixRangesServeTheTail() throws IOException {
        write("digits.txt", "0123456789");

        assertThat(text(ObjectResponse.read(backend, get("digits.txt", "bytes=7-")))).isEqualTo("789");
        assertThat(text(ObjectResponse.read(backend, get("digits.txt", "bytes=-3")))).isEqualTo("789");
        assertThat(text(ObjectResponse.read(backend, get("digits.txt", "bytes=8-100")))).isEqualTo("89");
    }

    @Test
    void headWithRangeAnswers206WithTheRangeLength() throws IOException {
        write("digits.txt", "0123456789");

        ObjectResponse r = ObjectResponse.read(backend, new ObjectRead("digits.txt", ByteRange.parse("bytes=0-3"), Preconditions.NONE, true, "req"));

        assertThat(r.status()).isEqualTo(206);
        assertThat(r.body()).isEmpty();
        assertThat(header(r, "Content-Length")).contains("4");
        assertThat(header(r, "Content-Range")).contains("bytes 0-3/10");
    }

    @Test
    void anUnsatisfiableRangeIsInvalidRangeWithTheSize() throws IOException {
        write("digits.txt", "0123456789");
        write("empty.bin", "");

        for (ObjectRead read : List.of(get("digits.txt", "bytes=10-"), get("digits.txt", "bytes=-0"), get("empty.bin", "bytes=0-"))) {
            long size = read.key().equals("empty.bin") ? 0 : 10;
            assertThatThrownBy(() -> ObjectResponse.read(backend, read)).isInstanceOfSatisfying(S3Exception.class, e -> {
                assertThat(e.error()).isEqualTo(S3Error.INVALID_RANGE);
                assertThat(e.error().status()).isEqualTo(416);
                assertThat(e.extraHeaders()).containsExactly(Map.entry("Content-Range", "bytes */" + size));
            });
        }
    }

    @Test
    void rangedReadAtALargeOffsetOfASparseFileReadsOnlyThatPart() throws IOException {
        long size = 1L << 30;
        byte[] marker = "sluice-was-here".getBytes(StandardCharsets.US_ASCII);
        long at = size - 4096;
        Path file = root.resolve("big.bin");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(size);
            raf.seek(at);
            raf.write(marker);
        }

        ObjectResponse r = ObjectResponse.read(backend, get("big.bin", "bytes=" + at + "-" + (at + marker.length - 1)));

        assertThat(r.status()).isEqualTo(206);
        assertThat(header(r, "Content-Range")).contains("bytes " + at + "-" + (at + marker.length - 1) + "/" + size);
        assertThat(bytes(r)).isEqualTo(marker);
        assertThat(bytes(ObjectResponse.read(backend, get("big.bin", "bytes=" + (at - 2) + "-" + (at + 1)))))
                .isEqualTo(new byte[] {0, 0, 's', 'l'});
    }

    @Test
    void aRangedReadNearTheEndOfALargeFileDoesNotReadWhatComesBefore() throws IOException {
        // Proof by the kernel's count of bytes this process read (rchar), not by time: a read
        // that starts at offset 0 and discards its way to the range reads the whole gigabyte.
        Path procIo = Path.of("/proc/self/io");
        assumeTrue(Files.isReadable(procIo), "needs Linux /proc/self/io to count bytes read");
        long size = 1L << 30;
        byte[] marker = "sluice-was-here".getBytes(StandardCharsets.US_ASCII);
        long at = size - 4096;
        try (RandomAccessFile raf = new RandomAccessFile(root.resolve("big.bin").toFile(), "rw")) {
            raf.setLength(size);
            raf.seek(at);
            raf.write(marker);
        }

        long before = bytesReadByThisProcess(procIo);
        byte[] got = bytes(ObjectResponse.read(backend, get("big.bin", "bytes=" + at + "-" + (at + marker.length - 1))));
        long read = bytesReadByThisProcess(procIo) - before;

        assertThat(got).isEqualTo(marker);
        assertThat(read).as("bytes read from files to serve a %d-byte range", marker.length).isLessThan(64L << 20);
    }

    private static long bytesReadByThisProcess(Path procIo) throws IOException {
        return Files.readAllLines(procIo).stream()
                .filter(l -> l.startsWith("rchar:"))
                .mapToLong(l -> Long.parseLong(l.substring("rchar:".length()).trim()))
                .findFirst().orElseThrow();
    }

    // --- conditional reads ---------------------------------------------------------------------

    @Test
    void ifNoneMatchWithTheEtagIsNotModifiedWithValidatorsAndNoBody() throws IOException {
        write("greeting.txt", "hello");
        String etag = header(ObjectResponse.read(backend, head("greeting.txt")), "ETag").orElseThrow();

        ObjectResponse r = ObjectResponse.read(backend, conditional("greeting.txt", Preconditions.of(null, etag, null, null)));

        assertThat(r.status()).isEqualTo(304);
        assertThat(r.body()).isEmpty();
        assertThat(header(r, "ETag")).contains(etag);
        assertThat(header(r, "Last-Modified")).isPresent();
        assertThat(header(r, "Content-Length")).isEmpty();
    }

    @Test
    void ifModifiedSinceTheModificationTimeIsNotModified() throws IOException {
        write("greeting.txt", "hello");

        ObjectResponse same = ObjectResponse.read(backend, conditional("greeting.txt", Preconditions.of(null, null, "Mon, 03 Jun 2024 10:15:30 GMT", null)));
        ObjectResponse before = ObjectResponse.read(backend, conditional("greeting.txt", Preconditions.of(null, null, "Mon, 03 Jun 2024 10:15:29 GMT", null)));

        assertThat(same.status()).isEqualTo(304);
        assertThat(before.status()).isEqualTo(200);
        assertThat(text(before)).isEqualTo("hello");
    }

    @Test
    void ifMatchWithAnotherEtagIsPreconditionFailed() throws IOException {
        write("greeting.txt", "hello");

        assertThatThrownBy(() -> ObjectResponse.read(backend, conditional("greeting.txt", Preconditions.of("\"nope\"", null, null, null))))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.error()).isEqualTo(S3Error.PRECONDITION_FAILED);
                    assertThat(e.error().status()).isEqualTo(412);
                });
    }

    @Test
    void ifMatchWithTheEtagServesTheObject() throws IOException {
        write("greeting.txt", "hello");
        String etag = header(ObjectResponse.read(backend, head("greeting.txt")), "ETag").orElseThrow();

        ObjectResponse r = ObjectResponse.read(backend, conditional("greeting.txt", Preconditions.of(etag, null, null, null)));

        assertThat(r.status()).isEqualTo(200);
        assertThat(text(r)).isEqualTo("hello");
    }

    @Test
    void preconditionsAreDecidedBeforeTheRange() throws IOException {
        write("digits.txt", "0123456789");

        ObjectRead failing = new ObjectRead("digits.txt", ByteRange.parse("bytes=100-"), Preconditions.of("\"nope\"", null, null, null), false, "r");

        assertThatThrownBy(() -> ObjectResponse.read(backend, failing))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.PRECONDITION_FAILED));
    }

    @Test
    void aMissingObjectIsNoSuchKeyWhateverTheConditions() {
        assertNoSuchKey(() -> ObjectResponse.read(backend, conditional("absent.txt", Preconditions.of("*", null, null, null))));
    }

    // --- what is not an object -----------------------------------------------------------------

    @Test
    void missingKeysDirectoriesAndTheRootAreNoSuchKey() throws IOException {
        write("dir/file.txt", "x");

        assertNoSuchKey(() -> ObjectResponse.read(backend, get("absent.txt")));
        assertNoSuchKey(() -> ObjectResponse.read(backend, get("dir")));
        assertNoSuchKey(() -> ObjectResponse.read(backend, get("dir/")));
        assertNoSuchKey(() -> ObjectResponse.read(backend, get("")));
        assertNoSuchKey(() -> ObjectResponse.read(backend, head("dir")));
    }

    // --- the directory is a hard boundary ------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"../secret.txt", "dir/../../secret.txt", "..", "../root/../secret.txt", "./../secret.txt"})
    void dotDotKeysCannotLeaveTheRoot(String key) throws IOException {
        Files.writeString(tmp.resolve("secret.txt"), "top secret");
        write("dir/file.txt", "x");

        assertNoSuchKey(() -> ObjectResponse.read(backend, get(key)));
        assertNoSuchKey(() -> ObjectResponse.read(backend, head(key)));
    }

    @Test
    void absolutePathsAreNoSuchKey() throws IOException {
        Path secret = Files.writeString(tmp.resolve("secret.txt"), "top secret");
        write("greeting.txt", "x");

        assertNoSuchKey(() -> ObjectResponse.read(backend, get(secret.toString())));
        assertNoSuchKey(() -> ObjectResponse.read(backend, get(root.resolve("greeting.txt").toString())));
        assertNoSuchKey(() -> ObjectResponse.read(backend, get("/etc/passwd")));
    }

    @Test
    void aSymlinkToAFileOutsideIsNeitherReadNorListed() throws IOException {
        Path secret = Files.writeString(tmp.resolve("secret.txt"), "top secret");
        Files.createSymbolicLink(root.resolve("leak.txt"), secret);
        write("ok.txt", "fine");

        assertNoSuchKey(() -> ObjectResponse.read(backend, get("leak.txt")));
        assertNoSuchKey(() -> ObjectResponse.read(backend, head("leak.txt")));
        assertThat(keys(list("", null, 1000, new ListPosition.Start()))).containsExactly("ok.txt");
    }

    @Test
    void aSymlinkToAFileInsideIsServedAndListed() throws IOException {
        write("real/data.txt", "inside");
        Files.createSymbolicLink(root.resolve("alias.txt"), root.resolve("real/data.txt"));

        assertThat(text(ObjectResponse.read(backend, get("alias.txt")))).isEqualTo("inside");
        ListPage page = list("", null, 1000, new ListPosition.Start());
        assertThat(keys(page)).containsExactly("alias.txt", "real/data.txt");
        assertThat(page.objects().get(0).size()).isEqualTo(6);
    }

    @Test
    void aSymlinkedDirectoryOutsideIsNeitherReadNorListedAtAnyDepth() throws IOException {
        Path outside = Files.createDirectories(tmp.resolve("outside/sub"));
        Files.writeString(tmp.resolve("outside/top.txt"), "top secret");
        Files.writeString(outside.resolve("secret.txt"), "deeper secret");
        Files.createSymbolicLink(root.resolve("out"), tmp.resolve("outside"));
        write("ok.txt", "fine");

        assertNoSuchKey(() -> ObjectResponse.read(backend, get("out/top.txt")));
        assertNoSuchKey(() -> ObjectResponse.read(backend, get("out/sub/secret.txt")));
        assertThat(keys(list("", null, 1000, new ListPosition.Start()))).containsExactly("ok.txt");
        assertThat(list("", "/", 1000, new ListPosition.Start()).commonPrefixes()).isEmpty();
        for (String prefix : List.of("out/", "out/s", "out/sub/", "out/sub/secret")) {
            ListPage page = list(prefix, null, 1000, new ListPosition.Start());
            assertThat(page.objects()).as("listing %s", prefix).isEmpty();
            assertThat(page.commonPrefixes()).as("listing %s", prefix).isEmpty();
        }
    }

    /**
     * A read walks the key's names without following links and resolves the whole path only
     * when one is a link: a link anywhere on the way is followed, and served only inside the root.
     */
    @Test
    void aSymlinkedDirectoryInsideIsReadThroughAtAnyDepth() throws IOException {
        write("real/deep/data.txt", "inside");
        Files.createDirectories(root.resolve("via"));
        Files.createSymbolicLink(root.resolve("via/link"), root.resolve("real"));
        Files.createSymbolicLink(root.resolve("real/deep/escape"), tmp);
        Files.writeString(tmp.resolve("secret.txt"), "top secret");

        assertThat(text(ObjectResponse.read(backend, get("via/link/deep/data.txt")))).isEqualTo("inside");
        assertThat(text(ObjectResponse.read(backend, get("real/deep/data.txt")))).isEqualTo("inside");
        assertNoSuchKey(() -> ObjectResponse.read(backend, get("real/deep/escape/secret.txt")));
        assertNoSuchKey(() -> ObjectResponse.read(backend, get("via/link/deep/escape/secret.txt")));
        assertNoSuchKey(() -> ObjectResponse.read(backend, get("via/link/deep")));
        assertNoSuchKey(() -> ObjectResponse.read(backend, get("via/missing/data.txt")));
    }

    @Test
    void keysWithControlCharactersAreNotListed() throws IOException {
        write("line\nbreak.txt", "x");
        write("ok.txt", "y");

        assertThat(keys(list("", null, 1000, new ListPosition.Start()))).containsExactly("ok.txt");
    }

    // --- special keys ---------------------------------------------------------------------------

    @Test
    void specialKeysRoundTripThroughReadAndList() throws IOException {
        for (String key : SPECIAL_KEYS) {
            write(key, "content of " + key);
        }

        for (String key : SPECIAL_KEYS) {
            assertThat(text(ObjectResponse.read(backend, get(key)))).as(key).isEqualTo("content of " + key);
        }
        List<String> listed = keys(list("", null, 1000, new ListPosition.Start()));
        assertThat(listed).containsExactlyInAnyOrderElementsOf(SPECIAL_KEYS);
        assertThat(listed).isSortedAccordingTo(KeyOrder.COMPARATOR);
        for (String key : SPECIAL_KEYS) {
            assertThat(keys(list(key, null, 1000, new ListPosition.Start()))).as("prefix %s", key).containsExactly(key);
        }
    }

    // --- listing order -------------------------------------------------------------------------

    @Test
    void listsInUtf8BinaryOrderNotJavaStringOrder() throws IOException {
        List<String> names = List.of("z.txt", "ü.txt", "文件.txt", "𝄞.txt", "\uFFFD.txt", "\uFF5A.txt", "A.txt", "a.txt");
        for (String name : names) {
            write(name, name);
        }
        List<String> byUtf8 = new ArrayList<>(names);
        byUtf8.sort((x, y) -> Arrays.compareUnsigned(x.getBytes(StandardCharsets.UTF_8), y.getBytes(StandardCharsets.UTF_8)));
        List<String> byJava = new ArrayList<>(names);
        byJava.sort(String::compareTo);

        List<String> listed = keys(list("", null, 1000, new ListPosition.Start()));

        assertThat(listed).containsExactly("A.txt", "a.txt", "z.txt", "ü.txt", "文件.txt", "\uFF5A.txt", "\uFFFD.txt", "𝄞.txt");
        assertThat(listed).isEqualTo(byUtf8);
        assertThat(byJava).as("the keys must be ones Java's own order gets wrong").isNotEqualTo(byUtf8);
    }

    @Test
    void paginationFollowsUtf8OrderAcrossTheSupplementaryBoundary() throws IOException {
        for (String name : List.of("𝄞.txt", "\uFFFD.txt", "\uFF5A.txt")) {
            write(name, name);
        }

        assertThat(walk("", null, 1)).containsExactly("\uFF5A.txt", "\uFFFD.txt", "𝄞.txt");
    }

    // --- prefix and delimiter ------------------------------------------------------------------

    private void writeTree() throws IOException {
        for (String key : List.of("a.txt", "dir/b.txt", "dir/sub/c.txt", "dir/sub/d.txt", "dir2/e.txt", "dirx.txt", "z/y/x/w.txt")) {
            write(key, key);
        }
    }

    @Test
    void delimiterRollsKeysUpIntoCommonPrefixes() throws IOException {
        writeTree();

        ListPage top = list("", "/", 1000, new ListPosition.Start());
        ListPage dir = list("dir/", "/", 1000, new ListPosition.Start());

        assertThat(keys(top)).containsExactly("a.txt", "dirx.txt");
        assertThat(top.commonPrefixes()).containsExactly("dir/", "dir2/", "z/");
        assertThat(top.next()).isEmpty();
        assertThat(keys(dir)).containsExactly("dir/b.txt");
        assertThat(dir.commonPrefixes()).containsExactly("dir/sub/");
    }

    @Test
    void aPrefixThatEndsInsideASegmentMatchesByString() throws IOException {
        writeTree();

        ListPage di = list("di", "/", 1000, new ListPosition.Start());
        ListPage dirS = list("dir/s", "/", 1000, new ListPosition.Start());
        ListPage flat = list("dir", null, 1000, new ListPosition.Start());

        assertThat(keys(di)).containsExactly("dirx.txt");
        assertThat(di.commonPrefixes()).containsExactly("dir/", "dir2/");
        assertThat(keys(dirS)).isEmpty();
        assertThat(dirS.commonPrefixes()).containsExactly("dir/sub/");
        assertThat(keys(flat)).containsExactly("dir/b.txt", "dir/sub/c.txt", "dir/sub/d.txt", "dir2/e.txt", "dirx.txt");
    }

    @Test
    void aPrefixNamingNothingListsNothing() throws IOException {
        writeTree();

        for (String prefix : List.of("nope/", "nope/deeper/", "a.txt/", "q")) {
            ListPage page = list(prefix, "/", 1000, new ListPosition.Start());
            assertThat(page.objects()).as(prefix).isEmpty();
            assertThat(page.commonPrefixes()).as(prefix).isEmpty();
            assertThat(page.next()).as(prefix).isEmpty();
        }
    }

    @Test
    void anotherDelimiterRollsUpOnItsOwnCharacter() throws IOException {
        writeTree();

        ListPage page = list("dir", "2", 1000, new ListPosition.Start());

        assertThat(keys(page)).containsExactly("dir/b.txt", "dir/sub/c.txt", "dir/sub/d.txt", "dirx.txt");
        assertThat(page.commonPrefixes()).containsExactly("dir2");
    }

    // --- pagination -----------------------------------------------------------------------------

    @Test
    void paginationVisitsEveryKeyExactlyOnce() throws IOException {
        List<String> all = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            for (int j = 0; j < 4; j++) {
                all.add("part-" + i + "/file-" + j + ".txt");
            }
        }
        all.addAll(SPECIAL_KEYS);
        for (String key : all) {
            write(key, key);
        }
        List<String> expected = new ArrayList<>(all);
        expected.sort(KeyOrder.COMPARATOR);

        for (int maxKeys : new int[] {1, 2, 3, 7, 31, 32, 1000}) {
            List<String> seen = walk("", null, maxKeys);
            assertThat(seen).as("max-keys %d", maxKeys).containsExactlyElementsOf(expected);
            assertThat(new HashSet<>(seen)).hasSameSizeAs(seen);
        }
    }

    @Test
    void paginationWithADelimiterVisitsEveryEntryExactlyOnce() throws IOException {
        writeTree();
        List<String> expected = List.of("a.txt", "dir/", "dir2/", "dirx.txt", "z/");

        for (int maxKeys : new int[] {1, 2, 3, 4, 5, 6}) {
            assertThat(walk("", "/", maxKeys)).as("max-keys %d", maxKeys).containsExactlyElementsOf(expected);
        }
        assertThat(walk("dir/", "/", 1)).containsExactly("dir/b.txt", "dir/sub/");
    }

    @Test
    void aTruncatedPageEndsAtItsLastEntry() throws IOException {
        writeTree();

        ListPage page = list("", "/", 2, new ListPosition.Start());

        assertThat(keys(page)).containsExactly("a.txt");
        assertThat(page.commonPrefixes()).containsExactly("dir/");
        assertThat(page.next()).contains(new ListPosition.After("dir/"));
    }

    @Test
    void aPageThatEndsExactlyAtTheLastKeyIsNotTruncated() throws IOException {
        write("a", "1");
        write("b", "2");

        assertThat(list("", null, 2, new ListPosition.Start()).next()).isEmpty();
    }

    @Test
    void resumingAfterACommonPrefixSkipsEverythingUnderIt() throws IOException {
        writeTree();

        ListPage page = list("", "/", 1000, new ListPosition.After("dir/"));

        assertThat(keys(page)).containsExactly("dirx.txt");
        assertThat(page.commonPrefixes()).containsExactly("dir2/", "z/");
    }

    @Test
    void resumingAfterAKeyStartsAtTheNextOne() throws IOException {
        writeTree();

        assertThat(keys(list("", null, 1000, new ListPosition.After("dir/sub/c.txt"))))
                .containsExactly("dir/sub/d.txt", "dir2/e.txt", "dirx.txt", "z/y/x/w.txt");
        assertThat(keys(list("", null, 1000, new ListPosition.After("dir/sub/"))))
                .as("without a delimiter an After position is just a key")
                .containsExactly("dir/sub/c.txt", "dir/sub/d.txt", "dir2/e.txt", "dirx.txt", "z/y/x/w.txt");
        assertThat(keys(list("", null, 1000, new ListPosition.After("zzz")))).isEmpty();
    }

    @Test
    void maxKeysZeroListsNothingAndIsTruncatedWhenSomethingIsLeft() throws IOException {
        // docs/behaviour.md: max-keys=0 returns no entries, and IsTruncated=true when anything
        // would have been listed (the rule).
        writeTree();

        ListPage page = list("", "/", 0, new ListPosition.Start());

        assertThat(page.objects()).isEmpty();
        assertThat(page.commonPrefixes()).isEmpty();
        assertThat(page.next()).contains(new ListPosition.Start());
        assertThat(list("nope/", "/", 0, new ListPosition.Start()).next()).isEmpty();
    }

    @Test
    void maxKeysZeroResumesWhereItStartedNotAtTheBeginning() throws IOException {
        writeTree();

        ListPage afterDir = list("", "/", 0, new ListPosition.After("dir/"));
        ListPage atEnd = list("", "/", 0, new ListPosition.After("z/"));

        assertThat(afterDir.objects()).isEmpty();
        assertThat(afterDir.commonPrefixes()).isEmpty();
        assertThat(afterDir.next()).contains(new ListPosition.After("dir/"));
        assertThat(atEnd.next()).isEmpty();
    }

    @Test
    void anEmptyDirectoryListsNothing() throws IOException {
        Files.createDirectories(root.resolve("empty/deeper"));

        ListPage page = list("", "/", 1000, new ListPosition.Start());

        assertThat(page.objects()).isEmpty();
        assertThat(page.commonPrefixes()).isEmpty();
        assertThat(page.next()).isEmpty();
    }

    @Test
    void describeNamesTheDirectory() {
        assertThat(backend.describe()).isEqualTo("file:" + root);
    }

    @Test
    void aMissingDirectoryCannotBeABackend() {
        assertThatThrownBy(() -> new FileBackend(tmp.resolve("absent"), new ContentHashesTest.HeldExecutor())).isInstanceOf(RuntimeException.class);
    }

    @Test
    void specialKeySetIsDistinct() {
        assertThat(Set.copyOf(SPECIAL_KEYS)).hasSameSizeAs(SPECIAL_KEYS);
    }
}
