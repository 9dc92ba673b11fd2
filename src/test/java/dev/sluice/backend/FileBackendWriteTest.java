package dev.sluice.backend;

import static dev.sluice.backend.FileWriteFixture.assertS3Error;
import static dev.sluice.backend.FileWriteFixture.bytes;
import static dev.sluice.backend.FileWriteFixture.commonPrefixes;
import static dev.sluice.backend.FileWriteFixture.get;
import static dev.sluice.backend.FileWriteFixture.head;
import static dev.sluice.backend.FileWriteFixture.header;
import static dev.sluice.backend.FileWriteFixture.keys;
import static dev.sluice.backend.FileWriteFixture.tempFiles;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.s3.Preconditions;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.testing.TestUploads;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** PutObject, CopyObject and DeleteObject on the file backend (docs/writes.md, "File backend"). */
class FileBackendWriteTest {
    private static final ObjectAttributes ATTRIBUTES = new ObjectAttributes(List.of(
            Map.entry("content-type", "application/x-custom"),
            Map.entry("cache-control", "max-age=60"),
            Map.entry("content-disposition", "attachment; filename=\"a.bin\""),
            Map.entry("x-amz-meta-origin", "survey 7")));
    private static final Fetch HEAD_ONLY = new Fetch(Optional.empty(), Preconditions.NONE, true);

    @TempDir
    Path tmp;
    Path root;
    FileBackend backend;

    @BeforeEach
    void createRoot() throws IOException {
        root = Files.createDirectory(tmp.resolve("root"));
        backend = new FileBackend(root, new ContentHashesTest.HeldExecutor());
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String quotedMd5(byte[] b) {
        return "\"" + TestUploads.md5Hex(b) + "\"";
    }

    private Written put(String key, String content) {
        return backend.put(key, TestUploads.of(utf8(content)), ObjectAttributes.NONE, WriteCondition.NONE);
    }

    private String text(String key) throws IOException {
        return new String(bytes(get(backend, key)), StandardCharsets.UTF_8);
    }

    private static WriteCondition ifMatch(String etag) {
        return new WriteCondition(false, Optional.of(etag));
    }

    private static final WriteCondition CREATE_ONLY = new WriteCondition(true, Optional.empty());

    // --- PUT ---------------------------------------------------------------------------------------

    @Test
    void getAfterPutReturnsTheBytesTheStoredHeadersAndTheMd5Etag() throws IOException {
        byte[] body = utf8("hello, world");
        List<Map.Entry<String, String>> checksums = List.of(Map.entry("x-amz-checksum-crc32", "qYYnCg=="));
        Written written = backend.put("dir/sub/a.bin", TestUploads.of(body, checksums), ATTRIBUTES, WriteCondition.NONE);

        assertThat(written.etag()).isEqualTo(quotedMd5(body));
        assertThat(written.checksums()).isEqualTo(checksums);
        ObjectResponse read = get(backend, "dir/sub/a.bin");
        assertThat(bytes(read)).isEqualTo(body);
        assertThat(header(read, "ETag")).contains(quotedMd5(body));
        assertThat(header(read, "Content-Type")).contains("application/x-custom");
        assertThat(header(read, "Cache-Control")).contains("max-age=60");
        assertThat(header(read, "Content-Disposition")).contains("attachment; filename=\"a.bin\"");
        assertThat(header(read, "x-amz-meta-origin")).contains("survey 7");
        try (StoredObject object = backend.open("dir/sub/a.bin", HEAD_ONLY)) {
            assertThat(object.meta().stored()).contains(Map.entry("x-amz-checksum-crc32", "qYYnCg=="));
            assertThat(object.meta().etag()).contains(quotedMd5(body));
        }
        ObjectResponse headed = head(backend, "dir/sub/a.bin");
        assertThat(header(headed, "ETag")).contains(quotedMd5(body));
        assertThat(header(headed, "x-amz-meta-origin")).contains("survey 7");
        assertThat(keys(backend, "")).containsExactly("dir/sub/a.bin");
        assertThat(backend.list(new ListQuery("", Optional.empty(), 10, new ListPosition.Start())).objects().getFirst().etag())
                .isEqualTo(quotedMd5(body));
    }

    @Test
    void anObjectPutWithoutAttributesIsServedLikeAFileWithItsMd5AsEtag() throws IOException {
        byte[] body = utf8("a,b\n1,2\n");
        backend.put("t.csv", TestUploads.of(body), ObjectAttributes.NONE, WriteCondition.NONE);

        ObjectResponse read = get(backend, "t.csv");
        assertThat(bytes(read)).isEqualTo(body);
        assertThat(header(read, "Content-Type")).contains("text/csv");
        assertThat(header(read, "ETag")).contains(quotedMd5(body));
        assertThat(Files.readString(root.resolve("t.csv"))).isEqualTo("a,b\n1,2\n");
    }

    @Test
    void aPutReplacesTheObjectAndItsHeaders() throws IOException {
        backend.put("k.txt", TestUploads.of(utf8("one")), ATTRIBUTES, WriteCondition.NONE);
        put("k.txt", "two");

        ObjectResponse read = get(backend, "k.txt");
        assertThat(bytes(read)).isEqualTo(utf8("two"));
        assertThat(header(read, "x-amz-meta-origin")).isEmpty();
        assertThat(header(read, "Content-Type")).contains("text/plain");
        assertThat(header(read, "ETag")).contains(quotedMd5(utf8("two")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"BAD_DIGEST", "CONTENT_SHA256_MISMATCH", "INCOMPLETE_BODY", "INVALID_CHUNK_SIZE", "SIGNATURE_DOES_NOT_MATCH"})
    void aBodyFailingItsCheckAtTheEndLeavesTheEarlierObjectIntactAndNoTemporaryFile(S3Error failure) throws IOException {
        backend.put("keep.bin", TestUploads.of(utf8("earlier")), ATTRIBUTES, WriteCondition.NONE);

        assertS3Error(() -> backend.put("keep.bin", TestUploads.failingAtEnd(utf8("later, and longer"), failure),
                ObjectAttributes.NONE, WriteCondition.NONE), failure);
        assertS3Error(() -> backend.put("new/never.bin", TestUploads.failingAtEnd(utf8("never"), failure),
                ObjectAttributes.NONE, WriteCondition.NONE), failure);

        ObjectResponse read = get(backend, "keep.bin");
        assertThat(bytes(read)).isEqualTo(utf8("earlier"));
        assertThat(header(read, "x-amz-meta-origin")).contains("survey 7");
        assertThat(header(read, "ETag")).contains(quotedMd5(utf8("earlier")));
        FileWriteFixture.assertS3Error(() -> get(backend, "new/never.bin"), S3Error.NO_SUCH_KEY);
        assertThat(root.resolve("new")).as("no directory made for the failed write stays").doesNotExist();
        assertThat(tempFiles(root)).isEmpty();
        assertThat(keys(backend, "")).containsExactly("keep.bin");
    }

    @Test
    void aClientGoneMidBodyIsIncompleteBodyAndLeavesNothing() throws IOException {
        put("keep.bin", "earlier");
        byte[] big = new byte[300_000];

        assertS3Error(() -> backend.put("keep.bin", FileWriteFixture.brokenOff(big, 100_000), ObjectAttributes.NONE,
                WriteCondition.NONE), S3Error.INCOMPLETE_BODY);

        assertThat(text("keep.bin")).isEqualTo("earlier");
        assertThat(tempFiles(root)).isEmpty();
    }

    @Test
    void aWriteInProgressIsNeitherListedNorReadable() throws Exception {
        CountDownLatch atEnd = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<Written> write = pool.submit(() -> backend.put("sub/inflight.bin",
                    FileWriteFixture.held(utf8("in flight"), atEnd, release, Optional.empty()), ATTRIBUTES, WriteCondition.NONE));
            assertThat(atEnd.await(10, TimeUnit.SECONDS)).isTrue();

            assertThat(tempFiles(root)).hasSize(1);
            assertThat(keys(backend, "")).isEmpty();
            assertThat(commonPrefixes(backend, "")).isEmpty();
            assertThat(commonPrefixes(backend, "sub/")).isEmpty();
            assertS3Error(() -> get(backend, "sub/inflight.bin"), S3Error.NO_SUCH_KEY);
            String tempKey = root.relativize(tempFiles(root).getFirst()).toString();
            assertS3Error(() -> get(backend, tempKey), S3Error.NO_SUCH_KEY);

            release.countDown();
            assertThat(write.get(10, TimeUnit.SECONDS).etag()).isEqualTo(quotedMd5(utf8("in flight")));
        }
        assertThat(text("sub/inflight.bin")).isEqualTo("in flight");
        assertThat(tempFiles(root)).isEmpty();
    }

    // --- conditions ----------------------------------------------------------------------------------

    @Test
    void createOnlyCreatesAnAbsentKeyAndRefusesAnExistingOneWith412() throws IOException {
        backend.put("c.txt", TestUploads.of(utf8("first")), ObjectAttributes.NONE, CREATE_ONLY);

        assertS3Error(() -> backend.put("c.txt", TestUploads.of(utf8("second")), ATTRIBUTES, CREATE_ONLY),
                S3Error.PRECONDITION_FAILED);

        ObjectResponse read = get(backend, "c.txt");
        assertThat(bytes(read)).isEqualTo(utf8("first"));
        assertThat(header(read, "x-amz-meta-origin")).isEmpty();
        assertThat(tempFiles(root)).isEmpty();
    }

    /**
     * Two stores on one directory (two instances of a fleet) do not share a lock: only the
     * link that creates the key decides, and exactly one creator wins.
     */
    @Test
    void ofTwoConcurrentCreatorsExactlyOneWinsEvenAcrossInstances() throws Exception {
        FileBackend other = new FileBackend(root, new ContentHashesTest.HeldExecutor());
        for (int round = 0; round < 20; round++) {
            String key = "race/" + round + ".txt";
            CountDownLatch bothAtEnd = new CountDownLatch(2);
            CountDownLatch release = new CountDownLatch(1);
            List<Future<Written>> writes = new ArrayList<>();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                int r = round;
                writes.add(pool.submit(() -> backend.put(key, FileWriteFixture.held(utf8("A" + r), bothAtEnd, release,
                        Optional.empty()), ATTRIBUTES, CREATE_ONLY)));
                writes.add(pool.submit(() -> other.put(key, FileWriteFixture.held(utf8("B" + r), bothAtEnd, release,
                        Optional.empty()), ObjectAttributes.NONE, CREATE_ONLY)));
                assertThat(bothAtEnd.await(10, TimeUnit.SECONDS)).isTrue();
                release.countDown();
                int won = 0;
                int refused = 0;
                for (Future<Written> w : writes) {
                    try {
                        w.get(10, TimeUnit.SECONDS);
                        won++;
                    } catch (java.util.concurrent.ExecutionException e) {
                        assertThat(e.getCause()).isInstanceOfSatisfying(S3Exception.class,
                                s -> assertThat(s.error()).isEqualTo(S3Error.PRECONDITION_FAILED));
                        refused++;
                    }
                }
                assertThat(won).isEqualTo(1);
                assertThat(refused).isEqualTo(1);
            }
            String stored = text(key);
            assertThat(stored).isIn("A" + round, "B" + round);
            // The winner's headers, not the loser's.
            assertThat(header(get(backend, key), "x-amz-meta-origin").isPresent()).isEqualTo(stored.startsWith("A"));
        }
        assertThat(tempFiles(root)).isEmpty();
    }

    @Test
    void ifMatchReplacesOnlyTheObjectWithThatEtag() throws IOException {
        String etag = put("m.txt", "v1").etag();

        assertS3Error(() -> backend.put("m.txt", TestUploads.of(utf8("v2")), ObjectAttributes.NONE,
                ifMatch("\"0123456789abcdef0123456789abcdef\"")), S3Error.PRECONDITION_FAILED);
        assertThat(text("m.txt")).isEqualTo("v1");

        backend.put("m.txt", TestUploads.of(utf8("v2")), ObjectAttributes.NONE, ifMatch(etag));
        assertThat(text("m.txt")).isEqualTo("v2");

        assertS3Error(() -> backend.put("absent.txt", TestUploads.of(utf8("x")), ObjectAttributes.NONE, ifMatch(etag)),
                S3Error.PRECONDITION_FAILED);
        assertS3Error(() -> get(backend, "absent.txt"), S3Error.NO_SUCH_KEY);
        assertThat(tempFiles(root)).isEmpty();
    }

    /** On one instance the comparison and the rename are one step: of two writers holding the same ETag, one wins. */
    @Test
    void ofTwoConcurrentIfMatchWritersOfOneVersionExactlyOneWins() throws Exception {
        String etag = put("v.txt", "v1").etag();
        CountDownLatch bothAtEnd = new CountDownLatch(2);
        CountDownLatch release = new CountDownLatch(1);
        List<Future<Written>> writes = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (String content : List.of("A", "B")) {
                writes.add(pool.submit(() -> backend.put("v.txt", FileWriteFixture.held(utf8(content), bothAtEnd, release,
                        Optional.empty()), ObjectAttributes.NONE, ifMatch(etag))));
            }
            assertThat(bothAtEnd.await(10, TimeUnit.SECONDS)).isTrue();
            release.countDown();
            int won = 0;
            for (Future<Written> w : writes) {
                try {
                    w.get(10, TimeUnit.SECONDS);
                    won++;
                } catch (java.util.concurrent.ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOfSatisfying(S3Exception.class,
                            x -> assertThat(x.error()).isEqualTo(S3Error.PRECONDITION_FAILED));
                }
            }
            assertThat(won).isEqualTo(1);
        }
        assertThat(text("v.txt")).isIn("A", "B");
        assertThat(tempFiles(root)).isEmpty();
    }

    @Test
    void ifMatchComparesTheContentMd5OfALargeFileNotHashedYet() throws IOException {
        byte[] big = new byte[(int) ContentHashes.INLINE_LIMIT + 1];
        big[7] = 7;
        Files.write(root.resolve("big.bin"), big);
        // Served with its provisional tag: the hash job is held.
        assertThat(header(head(backend, "big.bin"), "ETag").orElseThrow()).hasSize(42);

        backend.put("big.bin", TestUploads.of(utf8("small now")), ObjectAttributes.NONE, ifMatch(quotedMd5(big)));

        assertThat(text("big.bin")).isEqualTo("small now");
    }

    // --- keys this store refuses ---------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {".sluice", ".sluice/meta/x", ".sluice/uploads/abc", "a/.sluice-tmp-123", ".sluice-tmp-x"})
    void reservedKeysAreRefusedWithInvalidArgumentAndNeverRead(String key) throws IOException {
        assertS3Error(() -> put(key, "x"), S3Error.INVALID_ARGUMENT);
        assertS3Error(() -> backend.delete(key), S3Error.INVALID_ARGUMENT);
        assertS3Error(() -> backend.startUpload(key, ObjectAttributes.NONE), S3Error.INVALID_ARGUMENT);
        put("src.txt", "x");
        assertS3Error(() -> backend.copy("src.txt", key, Optional.empty(), WriteCondition.NONE), S3Error.INVALID_ARGUMENT);
        assertS3Error(() -> get(backend, key), S3Error.NO_SUCH_KEY);
    }

    @Test
    void theStoresOwnFilesAreNeverListedOrRead() throws IOException {
        backend.put("a/b.txt", TestUploads.of(utf8("b")), ATTRIBUTES, WriteCondition.NONE);
        String upload = backend.startUpload("a/c.txt", ATTRIBUTES);
        backend.uploadPart("a/c.txt", upload, 1, TestUploads.of(utf8("part")));
        Files.writeString(root.resolve("a/.sluice-tmp-leftover"), "partial");
        assertThat(root.resolve(".sluice")).isDirectory();

        assertThat(keys(backend, "")).containsExactly("a/b.txt");
        assertThat(keys(backend, ".")).isEmpty();
        assertThat(keys(backend, ".sluice/")).isEmpty();
        assertThat(keys(backend, "a/.")).isEmpty();
        assertThat(commonPrefixes(backend, "")).containsExactly("a/");
        assertThat(commonPrefixes(backend, ".sluice/")).isEmpty();
        try (Stream<Path> all = Files.walk(root.resolve(".sluice"))) {
            for (Path p : all.filter(Files::isRegularFile).toList()) {
                assertS3Error(() -> get(backend, root.relativize(p).toString()), S3Error.NO_SUCH_KEY);
            }
        }
        assertS3Error(() -> get(backend, "a/.sluice-tmp-leftover"), S3Error.NO_SUCH_KEY);
    }

    @Test
    void aKeyEndingInSlashIsRefusedWithInvalidArgument() {
        assertS3Error(() -> put("folder/", ""), S3Error.INVALID_ARGUMENT);
        assertS3Error(() -> backend.copy("x", "folder/", Optional.empty(), WriteCondition.NONE), S3Error.NO_SUCH_KEY);
        assertThat(root.resolve("folder")).doesNotExist();
    }

    @Test
    void aKeyUnderAnExistingObjectAndAKeyNamingAPrefixAreRefusedWithInvalidArgument() throws IOException {
        put("a", "file a");
        put("d/inner.txt", "inner");

        assertS3Error(() -> put("a/b", "under a file"), S3Error.INVALID_ARGUMENT);
        assertS3Error(() -> put("d", "over a directory"), S3Error.INVALID_ARGUMENT);
        assertS3Error(() -> backend.put("d", TestUploads.of(utf8("x")), ObjectAttributes.NONE, CREATE_ONLY),
                S3Error.INVALID_ARGUMENT);

        assertThat(text("a")).isEqualTo("file a");
        assertThat(text("d/inner.txt")).isEqualTo("inner");
        assertThat(tempFiles(root)).isEmpty();
    }

    @Test
    void aWriteThroughASymlinkedDirectoryIsRefusedAndNothingIsWrittenOutside() throws IOException {
        Path outside = Files.createDirectory(tmp.resolve("outside"));
        Files.createSymbolicLink(root.resolve("link"), outside);

        assertS3Error(() -> put("link/escaped.txt", "x"), S3Error.INVALID_ARGUMENT);
        assertS3Error(() -> put("link/deeper/escaped.txt", "x"), S3Error.INVALID_ARGUMENT);
        Files.writeString(outside.resolve("victim.txt"), "safe");
        backend.delete("link/victim.txt");

        try (Stream<Path> files = Files.list(outside)) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("victim.txt");
        }
    }

    // --- sidecars ------------------------------------------------------------------------------------

    @Test
    void aSidecarNoLongerDescribingItsFileIsIgnored() throws IOException {
        backend.put("s.txt", TestUploads.of(utf8("by sluice")), ATTRIBUTES, WriteCondition.NONE);
        // Replaced outside sluice, as an operator's copy would.
        Path replacement = tmp.resolve("replacement.txt");
        Files.writeString(replacement, "by hand");
        Files.move(replacement, root.resolve("s.txt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        ObjectResponse read = get(backend, "s.txt");
        assertThat(bytes(read)).isEqualTo(utf8("by hand"));
        assertThat(header(read, "x-amz-meta-origin")).isEmpty();
        assertThat(header(read, "Content-Type")).contains("text/plain");
        assertThat(header(read, "ETag")).contains(quotedMd5(utf8("by hand")));
    }

    @Test
    void aFileTouchedAfterItsWriteIsServedWithoutItsSidecar() throws IOException {
        backend.put("t.txt", TestUploads.of(utf8("same")), ATTRIBUTES, WriteCondition.NONE);
        Files.setLastModifiedTime(root.resolve("t.txt"), FileTime.from(Instant.parse("2020-01-01T00:00:00Z")));

        assertThat(header(get(backend, "t.txt"), "x-amz-meta-origin")).isEmpty();
    }

    // --- DELETE --------------------------------------------------------------------------------------

    @Test
    void deleteRemovesTheObjectItsSidecarAndEmptyParentsButNotTheRoot() throws IOException {
        backend.put("x/y/z.txt", TestUploads.of(utf8("z")), ATTRIBUTES, WriteCondition.NONE);
        put("x/keep.txt", "keep");

        backend.delete("x/y/z.txt");

        assertS3Error(() -> get(backend, "x/y/z.txt"), S3Error.NO_SUCH_KEY);
        assertThat(root.resolve("x/y")).doesNotExist();
        assertThat(commonPrefixes(backend, "x/")).isEmpty();
        try (Stream<Path> meta = Files.walk(root.resolve(".sluice/meta"))) {
            assertThat(meta.filter(Files::isRegularFile).toList()).isEmpty();
        }
        backend.delete("x/keep.txt");
        assertThat(root.resolve("x")).doesNotExist();
        assertThat(root).isDirectory();
        assertThat(keys(backend, "")).isEmpty();
    }

    @Test
    void deletingAMissingKeyOrAPrefixIsNotAnError() throws IOException {
        put("p/q.txt", "q");

        backend.delete("absent.txt");
        backend.delete("absent/deeper.txt");
        backend.delete("p");
        backend.delete("p/");

        assertThat(text("p/q.txt")).isEqualTo("q");
    }

    @Test
    void anObjectPutAgainAfterItsDeleteHasTheNewHeadersOnly() throws IOException {
        backend.put("r.txt", TestUploads.of(utf8("one")), ATTRIBUTES, WriteCondition.NONE);
        backend.delete("r.txt");
        put("r.txt", "two");

        assertThat(header(get(backend, "r.txt"), "x-amz-meta-origin")).isEmpty();
    }

    // --- COPY ----------------------------------------------------------------------------------------

    @Test
    void copyKeepsTheSourcesAttributesOrReplacesThem() throws IOException {
        byte[] body = utf8("copied bytes");
        backend.put("src/a.bin", TestUploads.of(body, List.of(Map.entry("x-amz-checksum-sha256", "abc="))), ATTRIBUTES,
                WriteCondition.NONE);

        Written kept = backend.copy("src/a.bin", "dst/kept.bin", Optional.empty(), WriteCondition.NONE);
        Written replaced = backend.copy("src/a.bin", "dst/replaced.bin",
                Optional.of(new ObjectAttributes(List.of(Map.entry("x-amz-meta-origin", "replaced")))), WriteCondition.NONE);

        assertThat(kept.etag()).isEqualTo(quotedMd5(body));
        assertThat(replaced.etag()).isEqualTo(quotedMd5(body));
        ObjectResponse k = get(backend, "dst/kept.bin");
        assertThat(bytes(k)).isEqualTo(body);
        assertThat(header(k, "x-amz-meta-origin")).contains("survey 7");
        assertThat(header(k, "Content-Type")).contains("application/x-custom");
        assertThat(header(k, "x-amz-checksum-sha256")).contains("abc=");
        ObjectResponse r = get(backend, "dst/replaced.bin");
        assertThat(bytes(r)).isEqualTo(body);
        assertThat(header(r, "x-amz-meta-origin")).contains("replaced");
        assertThat(header(r, "Cache-Control")).isEmpty();
        assertThat(text("src/a.bin")).isEqualTo("copied bytes");
    }

    @Test
    void copyOntoItselfReplacesTheAttributes() throws IOException {
        backend.put("self.txt", TestUploads.of(utf8("self")), ATTRIBUTES, WriteCondition.NONE);

        backend.copy("self.txt", "self.txt", Optional.of(new ObjectAttributes(List.of(Map.entry("x-amz-meta-v", "2")))),
                WriteCondition.NONE);

        ObjectResponse read = get(backend, "self.txt");
        assertThat(bytes(read)).isEqualTo(utf8("self"));
        assertThat(header(read, "x-amz-meta-v")).contains("2");
        assertThat(header(read, "x-amz-meta-origin")).isEmpty();
        assertThat(tempFiles(root)).isEmpty();
    }

    @Test
    void copyOfAMissingOrReservedSourceIsNoSuchKeyAndConditionsHold() throws IOException {
        put("exists.txt", "e");
        put("target.txt", "t");

        assertS3Error(() -> backend.copy("missing.txt", "t2.txt", Optional.empty(), WriteCondition.NONE), S3Error.NO_SUCH_KEY);
        assertS3Error(() -> backend.copy(".sluice/meta", "t2.txt", Optional.empty(), WriteCondition.NONE), S3Error.NO_SUCH_KEY);
        assertS3Error(() -> backend.copy("exists.txt", "target.txt", Optional.empty(), CREATE_ONLY), S3Error.PRECONDITION_FAILED);

        assertThat(text("target.txt")).isEqualTo("t");
        assertS3Error(() -> get(backend, "t2.txt"), S3Error.NO_SUCH_KEY);
        assertThat(tempFiles(root)).isEmpty();
    }

    /**
     * A copy its condition refuses before copying leaves nothing behind, not even the
     * directories of its target's prefix: S3 has no empty prefixes, and a listing would show them.
     */
    @Test
    void aCopyRefusedByItsConditionMakesNoDirectories() throws IOException {
        put("exists.txt", "e");

        assertS3Error(() -> backend.copy("exists.txt", "new/deeper/t.txt", Optional.empty(), ifMatch("\"0123\"")),
                S3Error.PRECONDITION_FAILED);

        assertThat(root.resolve("new")).doesNotExist();
        assertThat(tempFiles(root)).isEmpty();
    }
}
