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

import dev.sluice.s3.S3Error;
import dev.sluice.testing.TestUploads;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Multipart uploads on the file backend (docs/writes.md, "File backend"). */
class FileBackendMultipartTest {
    private static final int MIB = 1024 * 1024;
    private static final ObjectAttributes ATTRIBUTES = new ObjectAttributes(List.of(
            Map.entry("content-type", "application/vnd.apache.parquet"), Map.entry("x-amz-meta-run", "42")));

    @TempDir
    Path tmp;
    Path root;
    FileBackend backend;
    /** The clock uploads are dated by; tests move it. */
    Instant now = Instant.parse("2026-01-05T10:00:00Z");

    @BeforeEach
    void createRoot() throws IOException {
        root = Files.createDirectory(tmp.resolve("root"));
        backend = new FileBackend(root, new ContentHashesTest.HeldExecutor(), Duration.ofDays(7), clock());
    }

    private InstantSource clock() {
        return () -> now;
    }

    private static byte[] filled(int size, int seed) {
        byte[] b = new byte[size];
        Arrays.fill(b, (byte) seed);
        b[0] = (byte) (seed + 1);
        return b;
    }

    private static String multipartEtag(byte[]... parts) throws Exception {
        ByteArrayOutputStream md5s = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            md5s.write(MessageDigest.getInstance("MD5").digest(p));
        }
        return "\"" + HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(md5s.toByteArray())) + "-" + parts.length + "\"";
    }

    private Path staging() {
        return root.resolve(".sluice/uploads");
    }

    private List<String> staged() throws IOException {
        if (!Files.isDirectory(staging())) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(staging())) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    @Test
    void aCompletedUploadIsTheConcatenatedPartsWithS3sMultipartEtagOnGetHeadAndListing() throws Exception {
        byte[] p1 = filled(5 * MIB, 1);
        byte[] p2 = filled(5 * MIB, 2);
        byte[] p3 = filled(1234, 3);
        String id = backend.startUpload("data/big.parquet", ATTRIBUTES);
        assertThat(id).matches("[0-9a-f]{32}");
        // Parts arrive out of order and part 2 is sent twice; the second replaces the first.
        Written w3 = backend.uploadPart("data/big.parquet", id, 3, TestUploads.of(p3));
        backend.uploadPart("data/big.parquet", id, 2, TestUploads.of(filled(5 * MIB, 9)));
        Written w2 = backend.uploadPart("data/big.parquet", id, 2, TestUploads.of(p2));
        Written w1 = backend.uploadPart("data/big.parquet", id, 1, TestUploads.of(p1));
        assertThat(w1.etag()).isEqualTo("\"" + TestUploads.md5Hex(p1) + "\"");
        assertS3Error(() -> get(backend, "data/big.parquet"), S3Error.NO_SUCH_KEY);
        assertThat(keys(backend, "")).isEmpty();

        Written done = backend.completeUpload("data/big.parquet", id, List.of(new Multipart.PartRef(1, w1.etag()),
                new Multipart.PartRef(2, w2.etag()), new Multipart.PartRef(3, w3.etag())), WriteCondition.NONE);

        String etag = multipartEtag(p1, p2, p3);
        assertThat(done.etag()).isEqualTo(etag);
        ObjectResponse read = get(backend, "data/big.parquet");
        byte[] all = bytes(read);
        assertThat(all.length).isEqualTo(p1.length + p2.length + p3.length);
        assertThat(Arrays.copyOfRange(all, 0, p1.length)).isEqualTo(p1);
        assertThat(Arrays.copyOfRange(all, p1.length, p1.length + p2.length)).isEqualTo(p2);
        assertThat(Arrays.copyOfRange(all, p1.length + p2.length, all.length)).isEqualTo(p3);
        assertThat(header(read, "ETag")).contains(etag);
        assertThat(header(read, "x-amz-meta-run")).contains("42");
        assertThat(header(head(backend, "data/big.parquet"), "ETag")).contains(etag);
        ListPage page = backend.list(new ListQuery("", Optional.empty(), 10, new ListPosition.Start()));
        assertThat(page.objects()).singleElement().satisfies(o -> {
            assertThat(o.key()).isEqualTo("data/big.parquet");
            assertThat(o.etag()).isEqualTo(etag);
        });
        assertThat(staged()).as("only the completion, remembered for a retry").containsExactly(id + ".done");
        assertThat(tempFiles(root)).isEmpty();
        assertS3Error(() -> backend.listParts("data/big.parquet", id, 0, 10), S3Error.NO_SUCH_UPLOAD);
        assertThat(backend.listUploads("", Optional.empty(), 10).uploads()).isEmpty();
    }

    /**
     * A completion retried after the first one made the object (its answer was lost on the
     * way) is answered as the first was, as S3 answers it; a retry that lists other parts, or
     * names another key, is {@code NoSuchUpload}, and the upload stays closed to parts and aborts.
     */
    @Test
    void aCompletionRetriedWithTheSamePartsGetsTheSameAnswer() throws Exception {
        byte[] p1 = filled(5 * MIB, 1);
        byte[] p2 = filled(10, 2);
        String id = backend.startUpload("data/again.bin", ATTRIBUTES);
        Written w1 = backend.uploadPart("data/again.bin", id, 1, TestUploads.of(p1));
        Written w2 = backend.uploadPart("data/again.bin", id, 2, TestUploads.of(p2));
        List<Multipart.PartRef> parts = List.of(new Multipart.PartRef(1, w1.etag()), new Multipart.PartRef(2, w2.etag()));
        Written first = backend.completeUpload("data/again.bin", id, parts, WriteCondition.NONE);

        // The ETags as a client may send them: unquoted, upper case.
        Written retried = backend.completeUpload("data/again.bin", id, List.of(
                new Multipart.PartRef(1, TestUploads.md5Hex(p1).toUpperCase(java.util.Locale.ROOT)),
                new Multipart.PartRef(2, w2.etag())), WriteCondition.NONE);

        assertThat(retried.etag()).isEqualTo(first.etag()).isEqualTo(multipartEtag(p1, p2));
        assertThat(retried.checksums()).isEqualTo(first.checksums());
        assertThat(bytes(get(backend, "data/again.bin"))).hasSize(p1.length + p2.length);
        assertS3Error(() -> backend.completeUpload("data/again.bin", id, parts.subList(0, 1), WriteCondition.NONE),
                S3Error.NO_SUCH_UPLOAD);
        assertS3Error(() -> backend.completeUpload("data/other.bin", id, parts, WriteCondition.NONE), S3Error.NO_SUCH_UPLOAD);
        assertS3Error(() -> backend.uploadPart("data/again.bin", id, 3, TestUploads.of(new byte[1])), S3Error.NO_SUCH_UPLOAD);
        assertS3Error(() -> backend.abortUpload("data/again.bin", id), S3Error.NO_SUCH_UPLOAD);
    }

    /**
     * A completion or an abort that finds its upload being ended by another operation waits
     * for it with a deadline: a retried completion gets the first one's answer once that is
     * done, and a wait in vain is {@code 409 OperationAborted}. Other uploads are not held up.
     */
    @Test
    void operationsEndingAnUploadWaitForEachOtherWithADeadline() throws Exception {
        UploadLocks locks = new UploadLocks();
        FileBackend waiting = new FileBackend(root, new ContentHashesTest.HeldExecutor(), Duration.ofDays(7), clock(), locks,
                new FileUploads.Waits(Duration.ofMillis(50), Duration.ofMillis(50)));
        FileBackend patient = new FileBackend(root, new ContentHashesTest.HeldExecutor(), Duration.ofDays(7), clock(), locks,
                new FileUploads.Waits(Duration.ofSeconds(30), Duration.ofSeconds(30)));
        byte[] p1 = filled(10, 1);
        String id = waiting.startUpload("data/held.bin", ATTRIBUTES);
        String other = waiting.startUpload("data/free.bin", ATTRIBUTES);
        Written w1 = waiting.uploadPart("data/held.bin", id, 1, TestUploads.of(p1));
        List<Multipart.PartRef> parts = List.of(new Multipart.PartRef(1, w1.etag()));

        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread holder = Thread.ofVirtual().start(() -> {
            try (UploadLocks.Held h = locks.hold(id, Duration.ofSeconds(1), "hold")) {
                held.countDown();
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            assertThat(held.await(30, TimeUnit.SECONDS)).isTrue();
            long before = System.nanoTime();
            assertS3Error(() -> waiting.abortUpload("data/held.bin", id), S3Error.OPERATION_ABORTED);
            assertS3Error(() -> waiting.completeUpload("data/held.bin", id, parts, WriteCondition.NONE), S3Error.OPERATION_ABORTED);
            // Each waited its 50 ms deadline, not for the holder (which holds until released).
            assertThat(Duration.ofNanos(System.nanoTime() - before)).isBetween(Duration.ofMillis(100), Duration.ofSeconds(10));
            waiting.abortUpload("data/free.bin", other); // another upload's lock: not held up

            CompletableFuture<Written> retried = CompletableFuture.supplyAsync(
                    () -> patient.completeUpload("data/held.bin", id, parts, WriteCondition.NONE), Executors.newVirtualThreadPerTaskExecutor());
            for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30); locks.waiting(id) == 0; Thread.sleep(1)) {
                assertThat(System.nanoTime()).as("the completion waits for the lock").isLessThan(deadline);
            }
            assertThat(retried).isNotDone();
            release.countDown();
            assertThat(retried.get(30, TimeUnit.SECONDS).etag()).isEqualTo(multipartEtag(p1));
            assertThat(bytes(get(patient, "data/held.bin"))).isEqualTo(p1);
        } finally {
            release.countDown();
            holder.join(Duration.ofSeconds(30));
        }
    }

    /**
     * A completion its condition refuses is refused before the parts are copied (a large one
     * would otherwise copy gigabytes to be refused at the end, after its 200 had gone out), and
     * the upload stays to be completed otherwise.
     */
    @Test
    void aConditionThatFailsIsJudgedBeforeThePartsAreCopied() throws Exception {
        backend.put("data/taken.bin", TestUploads.of("already here".getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                ObjectAttributes.NONE, WriteCondition.NONE);
        String id = backend.startUpload("data/taken.bin", ObjectAttributes.NONE);
        Written w1 = backend.uploadPart("data/taken.bin", id, 1, TestUploads.of(filled(10, 1)));
        List<Multipart.PartRef> parts = List.of(new Multipart.PartRef(1, w1.etag()));

        assertS3Error(() -> backend.completeUpload("data/taken.bin", id, parts, new WriteCondition(true, Optional.empty())),
                S3Error.PRECONDITION_FAILED);
        assertS3Error(() -> backend.completeUpload("data/taken.bin", id, parts, new WriteCondition(false, Optional.of("\"0123\""))),
                S3Error.PRECONDITION_FAILED);

        String fresh = backend.startUpload("fresh/deeper/k.bin", ObjectAttributes.NONE);
        Written f1 = backend.uploadPart("fresh/deeper/k.bin", fresh, 1, TestUploads.of(filled(10, 1)));
        assertS3Error(() -> backend.completeUpload("fresh/deeper/k.bin", fresh, List.of(new Multipart.PartRef(1, f1.etag())),
                new WriteCondition(false, Optional.of("\"0123\""))), S3Error.PRECONDITION_FAILED);
        assertThat(root.resolve("fresh")).as("no directories for a refused completion's prefix").doesNotExist();

        assertThat(tempFiles(root)).isEmpty();
        assertThat(bytes(get(backend, "data/taken.bin"))).isEqualTo("already here".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(backend.completeUpload("data/taken.bin", id, parts, WriteCondition.NONE).etag()).isEqualTo(multipartEtag(filled(10, 1)));
    }

    /** A completion that failed is not remembered: the upload is still there to be completed. */
    @Test
    void aFailedCompletionLeavesTheUploadAndNoRememberedAnswer() throws Exception {
        String id = backend.startUpload("data/small.bin", ObjectAttributes.NONE);
        Written w1 = backend.uploadPart("data/small.bin", id, 1, TestUploads.of(filled(10, 1)));
        Written w2 = backend.uploadPart("data/small.bin", id, 2, TestUploads.of(filled(10, 2)));

        assertS3Error(() -> backend.completeUpload("data/small.bin", id, List.of(new Multipart.PartRef(1, w1.etag()),
                new Multipart.PartRef(2, w2.etag())), WriteCondition.NONE), S3Error.ENTITY_TOO_SMALL);

        assertThat(staged()).containsExactly(id);
        assertThat(backend.completeUpload("data/small.bin", id, List.of(new Multipart.PartRef(2, w2.etag())), WriteCondition.NONE)
                .etag()).isEqualTo(multipartEtag(filled(10, 2)));
    }

    @Test
    void listPartsPagesInPartNumberOrder() {
        String id = backend.startUpload("k", ObjectAttributes.NONE);
        for (int n : new int[] {4, 1, 3, 2, 5}) {
            backend.uploadPart("k", id, n, TestUploads.of(filled(10 * n, n)));
        }

        Multipart.PartsPage first = backend.listParts("k", id, 0, 2);
        assertThat(first.parts()).extracting(Multipart.Part::partNumber).containsExactly(1, 2);
        assertThat(first.parts().get(1).size()).isEqualTo(20);
        assertThat(first.parts().get(1).etag()).isEqualTo("\"" + TestUploads.md5Hex(filled(20, 2)) + "\"");
        assertThat(first.next()).contains(2);
        Multipart.PartsPage second = backend.listParts("k", id, 2, 2);
        assertThat(second.parts()).extracting(Multipart.Part::partNumber).containsExactly(3, 4);
        Multipart.PartsPage last = backend.listParts("k", id, 4, 2);
        assertThat(last.parts()).extracting(Multipart.Part::partNumber).containsExactly(5);
        assertThat(last.next()).isEmpty();
    }

    @Test
    void aMissingPartOrAnotherEtagIsInvalidPartAndASmallPartBeforeTheLastIsEntityTooSmall() throws IOException {
        String id = backend.startUpload("k", ObjectAttributes.NONE);
        Written small = backend.uploadPart("k", id, 1, TestUploads.of(filled(100, 1)));
        Written big = backend.uploadPart("k", id, 2, TestUploads.of(filled(5 * MIB, 2)));

        assertS3Error(() -> backend.completeUpload("k", id, List.of(new Multipart.PartRef(1, small.etag()),
                new Multipart.PartRef(3, big.etag())), WriteCondition.NONE), S3Error.INVALID_PART);
        assertS3Error(() -> backend.completeUpload("k", id, List.of(new Multipart.PartRef(2, small.etag())),
                WriteCondition.NONE), S3Error.INVALID_PART);
        assertS3Error(() -> backend.completeUpload("k", id, List.of(new Multipart.PartRef(1, small.etag()),
                new Multipart.PartRef(2, big.etag())), WriteCondition.NONE), S3Error.ENTITY_TOO_SMALL);
        assertS3Error(() -> get(backend, "k"), S3Error.NO_SUCH_KEY);
        assertThat(tempFiles(root)).isEmpty();

        // The upload is still there: a correct list completes it (unquoted ETags are accepted too).
        backend.completeUpload("k", id, List.of(new Multipart.PartRef(2, big.etag().replace("\"", ""))), WriteCondition.NONE);
        assertThat(bytes(get(backend, "k"))).hasSize(5 * MIB);
    }

    @Test
    void anUploadIdTheStoreDoesNotHoldIsNoSuchUpload() {
        String id = backend.startUpload("mine", ObjectAttributes.NONE);
        String absent = "0123456789abcdef0123456789abcdef";

        for (String forged : List.of(absent, "../../etc", "", id.toUpperCase(), id + "0")) {
            assertS3Error(() -> backend.uploadPart("mine", forged, 1, TestUploads.of(new byte[1])), S3Error.NO_SUCH_UPLOAD);
            assertS3Error(() -> backend.listParts("mine", forged, 0, 10), S3Error.NO_SUCH_UPLOAD);
            assertS3Error(() -> backend.abortUpload("mine", forged), S3Error.NO_SUCH_UPLOAD);
            assertS3Error(() -> backend.completeUpload("mine", forged, List.of(new Multipart.PartRef(1, "\"x\"")),
                    WriteCondition.NONE), S3Error.NO_SUCH_UPLOAD);
        }
        // Held for another key.
        assertS3Error(() -> backend.uploadPart("other", id, 1, TestUploads.of(new byte[1])), S3Error.NO_SUCH_UPLOAD);
        assertS3Error(() -> backend.completeUpload("other", id, List.of(new Multipart.PartRef(1, "\"x\"")),
                WriteCondition.NONE), S3Error.NO_SUCH_UPLOAD);
        assertS3Error(() -> backend.abortUpload("other", id), S3Error.NO_SUCH_UPLOAD);
    }

    @Test
    void abortDiscardsTheUploadAndItsParts() throws IOException {
        String id = backend.startUpload("k", ObjectAttributes.NONE);
        backend.uploadPart("k", id, 1, TestUploads.of(filled(100, 1)));

        backend.abortUpload("k", id);

        assertThat(staged()).isEmpty();
        assertS3Error(() -> backend.listParts("k", id, 0, 10), S3Error.NO_SUCH_UPLOAD);
        assertS3Error(() -> backend.uploadPart("k", id, 2, TestUploads.of(new byte[1])), S3Error.NO_SUCH_UPLOAD);
        assertS3Error(() -> backend.abortUpload("k", id), S3Error.NO_SUCH_UPLOAD);
        assertThat(backend.listUploads("", Optional.empty(), 10).uploads()).isEmpty();
    }

    @Test
    void aPartFailingItsCheckLeavesTheEarlierPartAndNoTemporaryFile() throws IOException {
        String id = backend.startUpload("k", ObjectAttributes.NONE);
        Written first = backend.uploadPart("k", id, 1, TestUploads.of(filled(100, 1)));

        assertS3Error(() -> backend.uploadPart("k", id, 1, TestUploads.failingAtEnd(filled(200, 2), S3Error.BAD_DIGEST)),
                S3Error.BAD_DIGEST);
        assertS3Error(() -> backend.uploadPart("k", id, 2, FileWriteFixture.brokenOff(filled(300_000, 3), 70_000)),
                S3Error.INCOMPLETE_BODY);

        assertThat(backend.listParts("k", id, 0, 10).parts()).singleElement().satisfies(p -> {
            assertThat(p.etag()).isEqualTo(first.etag());
            assertThat(p.size()).isEqualTo(100);
        });
        assertThat(tempFiles(root)).isEmpty();
    }

    @Test
    void listUploadsFiltersByPrefixAndPagesInKeyThenInitiationOrder() {
        String b1 = backend.startUpload("logs/b", ObjectAttributes.NONE);
        now = now.plusSeconds(1);
        String a1 = backend.startUpload("logs/a", ObjectAttributes.NONE);
        now = now.plusSeconds(1);
        String b2 = backend.startUpload("logs/b", ObjectAttributes.NONE);
        backend.startUpload("other/c", ObjectAttributes.NONE);

        Multipart.UploadsPage first = backend.listUploads("logs/", Optional.empty(), 2);
        assertThat(first.uploads()).extracting(Multipart.InProgress::uploadId).containsExactly(a1, b1);
        assertThat(first.uploads().get(1).initiated()).isEqualTo(Instant.parse("2026-01-05T10:00:00Z"));
        assertThat(first.next()).isPresent();
        Multipart.UploadsPage second = backend.listUploads("logs/", first.next(), 2);
        assertThat(second.uploads()).extracting(Multipart.InProgress::uploadId).containsExactly(b2);
        assertThat(second.next()).isEmpty();
        assertThat(backend.listUploads("", Optional.empty(), 10).uploads()).hasSize(4);
        // A key marker alone (no upload id) starts after every upload of that key, as S3's key-marker.
        Multipart.UploadsPage afterKey = backend.listUploads("", Optional.of(new Multipart.InProgress("logs/a", "", Instant.EPOCH)), 10);
        assertThat(afterKey.uploads()).extracting(Multipart.InProgress::key).containsExactly("logs/b", "logs/b", "other/c");
        assertThat(backend.listUploads("nothing", Optional.empty(), 10).uploads()).isEmpty();
    }

    @Test
    void anUploadInProgressIsNeitherListedNorReadable() throws IOException {
        String id = backend.startUpload("a/file.bin", ObjectAttributes.NONE);
        backend.uploadPart("a/file.bin", id, 1, TestUploads.of(filled(100, 1)));

        assertThat(keys(backend, "")).isEmpty();
        assertThat(commonPrefixes(backend, "")).isEmpty();
        assertS3Error(() -> get(backend, "a/file.bin"), S3Error.NO_SUCH_KEY);
        assertS3Error(() -> get(backend, ".sluice/uploads/" + id + "/00001"), S3Error.NO_SUCH_KEY);
    }

    @Test
    void completingWithCreateOnlyOverAnExistingObjectIs412AndLeavesBoth() throws IOException {
        backend.put("k", TestUploads.of(new byte[] {1}), ObjectAttributes.NONE, WriteCondition.NONE);
        String id = backend.startUpload("k", ObjectAttributes.NONE);
        Written part = backend.uploadPart("k", id, 1, TestUploads.of(filled(10, 1)));

        assertS3Error(() -> backend.completeUpload("k", id, List.of(new Multipart.PartRef(1, part.etag())),
                new WriteCondition(true, Optional.empty())), S3Error.PRECONDITION_FAILED);

        assertThat(bytes(get(backend, "k"))).containsExactly(1);
        assertThat(backend.listParts("k", id, 0, 10).parts()).hasSize(1);
        assertThat(tempFiles(root)).isEmpty();
    }

    @Test
    void aSingleEmptyPartMakesAnEmptyObject() throws Exception {
        String id = backend.startUpload("empty", ObjectAttributes.NONE);
        Written part = backend.uploadPart("empty", id, 1, TestUploads.of(new byte[0]));

        Written done = backend.completeUpload("empty", id, List.of(new Multipart.PartRef(1, part.etag())), WriteCondition.NONE);

        assertThat(done.etag()).isEqualTo(multipartEtag(new byte[0]));
        assertThat(Files.size(root.resolve("empty"))).isZero();
        List<String> etags = new ArrayList<>();
        header(head(backend, "empty"), "ETag").ifPresent(etags::add);
        assertThat(etags).containsExactly(done.etag());
    }
}
