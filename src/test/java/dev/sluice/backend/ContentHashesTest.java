package dev.sluice.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.s3.ObjectSummary;
import dev.sluice.s3.Preconditions;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file backend's ETag is the content MD5 (docs/behaviour.md, "File backend ETags"). Hash
 * jobs go to an executor the test holds, so whether a read waited on hashing is decided by
 * which jobs the test ran, not by timing.
 */
class ContentHashesTest {
    private static final Instant MTIME = Instant.parse("2024-06-03T10:15:30Z");
    /** Larger than the inline limit: hashed in the background. */
    private static final int LARGE = (int) ContentHashes.INLINE_LIMIT + 1;

    @TempDir
    Path tmp;
    Path root;
    HeldExecutor hashing;
    FileBackend backend;

    @BeforeEach
    void createRoot() throws IOException {
        root = Files.createDirectory(tmp.resolve("root"));
        hashing = new HeldExecutor();
        backend = new FileBackend(root, hashing);
    }

    // --- the ETag is the MD5 ---------------------------------------------------------------------

    @Test
    void aSmallFileHasItsMd5AsEtagOnItsFirstRead() throws Exception {
        Path file = write("greeting.txt", "hello, world\n".getBytes(StandardCharsets.UTF_8));

        String etag = etag(ObjectResponse.read(backend, head("greeting.txt")));

        assertThat(etag).isEqualTo("\"" + md5sum(file) + "\"");
        assertThat(listedEtag("greeting.txt")).isEqualTo(etag);
        assertThat(hashing.submitted).as("small files are hashed inline").isZero();
    }

    @Test
    void aLargeFileIsServedWithItsProvisionalEtagWhileItsHashJobWaits() throws Exception {
        Path file = write("big.bin", bytes(3 * LARGE, 7));

        ObjectResponse got = ObjectResponse.read(backend, get("big.bin"));

        // The GET completed and its body is whole although the one hash job has not run.
        assertThat(hashing.held()).isEqualTo(1);
        assertThat(body(got)).isEqualTo(Files.readAllBytes(file));
        String provisional = etag(got);
        assertThat(provisional).matches("\"[0-9a-f]{40}\"");
        assertThat(listedEtag("big.bin")).isEqualTo(provisional);
        assertThat(etag(ObjectResponse.read(backend, head("big.bin")))).isEqualTo(provisional);
        assertThat(hashing.submitted).as("one job per file version however often it is read").isEqualTo(1);

        hashing.runAll();

        String md5 = "\"" + md5sum(file) + "\"";
        assertThat(etag(ObjectResponse.read(backend, head("big.bin")))).isEqualTo(md5);
        assertThat(listedEtag("big.bin")).isEqualTo(md5);
        assertThat(hashing.submitted).isEqualTo(1);
    }

    @Test
    void aListingQueuesTheHashOfALargeFileItShowsProvisionally() throws Exception {
        Path file = write("big.bin", bytes(LARGE, 1));

        String listed = listedEtag("big.bin");
        hashing.runAll();

        assertThat(listed).matches("\"[0-9a-f]{40}\"");
        assertThat(listedEtag("big.bin")).isEqualTo("\"" + md5sum(file) + "\"");
    }

    @Test
    void theProvisionalEtagChangesWithTheModificationTime() throws IOException {
        Path file = write("big.bin", bytes(LARGE, 1));
        String before = etag(ObjectResponse.read(backend, head("big.bin")));

        Files.setLastModifiedTime(file, FileTime.from(MTIME.plusSeconds(1)));
        String secondLater = etag(ObjectResponse.read(backend, head("big.bin")));
        Files.setLastModifiedTime(file, FileTime.from(MTIME.plusNanos(1_000)));
        String microLater = etag(ObjectResponse.read(backend, head("big.bin")));

        assertThat(secondLater).isNotEqualTo(before);
        assertThat(microLater).isNotEqualTo(before).isNotEqualTo(secondLater);
    }

    // --- a changed file is hashed again ----------------------------------------------------------

    @Test
    void aFileRewrittenWithTheSameSizeAndANewModificationTimeIsHashedAgain() throws Exception {
        Path file = write("big.bin", bytes(LARGE, 1));
        ObjectResponse.read(backend, head("big.bin"));
        hashing.runAll();
        String first = etag(ObjectResponse.read(backend, head("big.bin")));

        Files.write(file, bytes(LARGE, 2));
        Files.setLastModifiedTime(file, FileTime.from(MTIME.plusSeconds(60)));
        String meanwhile = etag(ObjectResponse.read(backend, head("big.bin")));
        hashing.runAll();
        String second = etag(ObjectResponse.read(backend, head("big.bin")));

        assertThat(hashing.submitted).isEqualTo(2);
        assertThat(meanwhile).as("the new version's provisional tag").matches("\"[0-9a-f]{40}\"");
        assertThat(second).isEqualTo("\"" + md5sum(file) + "\"").isNotEqualTo(first);
    }

    @Test
    void aFileWithANewSizeAndTheSameModificationTimeIsHashedAgain() throws Exception {
        Path file = write("big.bin", bytes(LARGE, 1));
        ObjectResponse.read(backend, head("big.bin"));
        hashing.runAll();
        String first = etag(ObjectResponse.read(backend, head("big.bin")));

        write("big.bin", bytes(LARGE + 1, 1));
        ObjectResponse.read(backend, head("big.bin"));
        hashing.runAll();
        String second = etag(ObjectResponse.read(backend, head("big.bin")));

        assertThat(hashing.submitted).isEqualTo(2);
        assertThat(second).isEqualTo("\"" + md5sum(file) + "\"").isNotEqualTo(first);
    }

    @Test
    void aSmallFileRewrittenWithTheSameSizeIsHashedAgain() throws Exception {
        Path file = write("data.csv", "a,b\n1,2\n".getBytes(StandardCharsets.UTF_8));
        String first = etag(ObjectResponse.read(backend, head("data.csv")));

        Files.writeString(file, "a,b\n3,4\n");
        Files.setLastModifiedTime(file, FileTime.from(MTIME.plusNanos(1_000)));

        assertThat(etag(ObjectResponse.read(backend, head("data.csv")))).isEqualTo("\"" + md5sum(file) + "\"").isNotEqualTo(first);
    }

    @Test
    void aHashJobForAVersionThatIsGoneRecordsNothing() throws Exception {
        Path file = write("big.bin", bytes(LARGE, 1));
        ObjectResponse.read(backend, head("big.bin"));

        // The job hashes the version it was queued for; the file now is another one.
        write("big.bin", bytes(LARGE + 10, 3));
        hashing.runAll();

        assertThat(etag(ObjectResponse.read(backend, head("big.bin")))).matches("\"[0-9a-f]{40}\"");
        hashing.runAll();
        assertThat(etag(ObjectResponse.read(backend, head("big.bin")))).isEqualTo("\"" + md5sum(file) + "\"");
    }

    // --- durability ------------------------------------------------------------------------------

    @Test
    void aRestartedBackendServesTheRecordedMd5WithoutHashingAgain() throws Exception {
        assumeTrue(userAttributesWork(), "the temporary directory's filesystem keeps no user attributes");
        Path file = write("big.bin", bytes(LARGE, 5));
        ObjectResponse.read(backend, head("big.bin"));
        hashing.runAll();

        HeldExecutor afterRestart = new HeldExecutor();
        FileBackend restarted = new FileBackend(root, afterRestart);

        assertThat(etag(ObjectResponse.read(restarted, head("big.bin")))).isEqualTo("\"" + md5sum(file) + "\"");
        assertThat(listedEtag(restarted, "big.bin")).isEqualTo("\"" + md5sum(file) + "\"");
        assertThat(afterRestart.submitted).as("hash jobs after the restart").isZero();
        assertThat(Files.getLastModifiedTime(file).toInstant()).as("recording leaves the file's time alone").isEqualTo(MTIME);
    }

    @Test
    void aRecordedMd5OfAnEarlierVersionIsNotServed() throws Exception {
        assumeTrue(userAttributesWork(), "the temporary directory's filesystem keeps no user attributes");
        Path file = write("big.bin", bytes(LARGE, 5));
        ObjectResponse.read(backend, head("big.bin"));
        hashing.runAll();
        Files.write(file, bytes(LARGE, 6));
        Files.setLastModifiedTime(file, FileTime.from(MTIME.plusSeconds(1)));

        HeldExecutor afterRestart = new HeldExecutor();
        String etag = etag(ObjectResponse.read(new FileBackend(root, afterRestart), head("big.bin")));

        assertThat(etag).matches("\"[0-9a-f]{40}\"");
        assertThat(afterRestart.submitted).isEqualTo(1);
    }

    @Test
    void aFileWhoseAttributeCannotBeWrittenIsServedWithItsMd5FromMemory() throws Exception {
        Path file = write("big.bin", bytes(LARGE, 9));
        Path small = write("small.txt", "read-only\n".getBytes(StandardCharsets.UTF_8));
        try (ReadOnly ignored = ReadOnly.make(List.of(file, small))) {
            ObjectResponse.read(backend, head("big.bin"));
            hashing.runAll();

            assertThat(etag(ObjectResponse.read(backend, head("big.bin")))).isEqualTo("\"" + md5sum(file) + "\"");
            assertThat(etag(ObjectResponse.read(backend, head("small.txt")))).isEqualTo("\"" + md5sum(small) + "\"");
            assertThat(hashing.submitted).isEqualTo(1);

            // Nothing was kept on disk: a restarted backend hashes again.
            HeldExecutor afterRestart = new HeldExecutor();
            FileBackend restarted = new FileBackend(root, afterRestart);
            assertThat(etag(ObjectResponse.read(restarted, head("big.bin")))).matches("\"[0-9a-f]{40}\"");
            afterRestart.runAll();
            assertThat(etag(ObjectResponse.read(restarted, head("big.bin")))).isEqualTo("\"" + md5sum(file) + "\"");
        }
    }

    // --- bounded background work ------------------------------------------------------------------

    @Test
    void aHashJobTheWorkerRefusesIsQueuedAgainByALaterRead() throws Exception {
        Path file = write("big.bin", bytes(LARGE, 4));
        hashing.refuse = true;

        String refused = etag(ObjectResponse.read(backend, head("big.bin")));
        hashing.refuse = false;
        ObjectResponse.read(backend, head("big.bin"));
        hashing.runAll();

        assertThat(refused).matches("\"[0-9a-f]{40}\"");
        assertThat(etag(ObjectResponse.read(backend, head("big.bin")))).isEqualTo("\"" + md5sum(file) + "\"");
    }

    @Test
    void theWorkerRunsOneJobAtATimeAndRefusesBeyondItsQueue() throws Exception {
        ExecutorService worker = FileBackend.hashWorker();
        try {
            CountDownLatch running = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch second = new CountDownLatch(1);
            worker.execute(() -> {
                running.countDown();
                awaitUninterruptibly(release);
            });
            assertThat(running.await(30, TimeUnit.SECONDS)).isTrue();
            worker.execute(second::countDown);
            for (int i = 1; i < ContentHashes.QUEUE_LIMIT; i++) {
                worker.execute(() -> { });
            }

            assertThat(second.getCount()).as("the second job waits for the first").isEqualTo(1);
            assertThatThrownBy(() -> worker.execute(() -> { })).isInstanceOf(RejectedExecutionException.class);
            release.countDown();
            assertThat(second.await(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            worker.shutdownNow();
        }
    }

    // --- conditional requests across the change ---------------------------------------------------

    @Test
    void bothTheProvisionalAndTheMd5EtagOfAnUnchangedFileSatisfyConditions() throws Exception {
        write("big.bin", bytes(LARGE, 8));
        String provisional = etag(ObjectResponse.read(backend, head("big.bin")));
        hashing.runAll();
        String md5 = etag(ObjectResponse.read(backend, head("big.bin")));
        assertThat(md5).isNotEqualTo(provisional);

        for (String tag : List.of(provisional, md5)) {
            ObjectResponse notModified = ObjectResponse.read(backend, conditional("big.bin", Preconditions.of(null, tag, null, null)));
            assertThat(notModified.status()).as("If-None-Match: " + tag).isEqualTo(304);
            assertThat(etag(notModified)).isEqualTo(md5);
            ObjectResponse matched = ObjectResponse.read(backend, conditional("big.bin", Preconditions.of(tag, null, null, null)));
            assertThat(matched.status()).as("If-Match: " + tag).isEqualTo(200);
            matched.body().ifPresent(ObjectBody::close);
        }
    }

    @Test
    void neitherEtagOfAnEarlierVersionSatisfiesConditions() throws Exception {
        Path file = write("big.bin", bytes(LARGE, 8));
        String provisional = etag(ObjectResponse.read(backend, head("big.bin")));
        hashing.runAll();
        String md5 = etag(ObjectResponse.read(backend, head("big.bin")));

        Files.write(file, bytes(LARGE, 9));
        Files.setLastModifiedTime(file, FileTime.from(MTIME.plusSeconds(1)));

        for (String tag : List.of(provisional, md5)) {
            ObjectResponse modified = ObjectResponse.read(backend, conditional("big.bin", Preconditions.of(null, tag, null, null)));
            assertThat(modified.status()).as("If-None-Match: " + tag).isEqualTo(200);
            modified.body().ifPresent(ObjectBody::close);
            assertThatThrownBy(() -> ObjectResponse.read(backend, conditional("big.bin", Preconditions.of(tag, null, null, null))))
                    .as("If-Match: " + tag)
                    .isInstanceOfSatisfying(S3Exception.class, e -> {
                        assertThat(e.error()).isEqualTo(S3Error.PRECONDITION_FAILED);
                        assertThat(e.error().status()).isEqualTo(412);
                    });
        }
    }

    // --- helpers ---------------------------------------------------------------------------------

    /** An executor that runs nothing until the test says so, and counts what it was given. */
    static final class HeldExecutor implements Executor {
        private final Deque<Runnable> jobs = new ArrayDeque<>();
        int submitted;
        boolean refuse;

        @Override
        public synchronized void execute(Runnable job) {
            if (refuse) {
                throw new RejectedExecutionException("full");
            }
            submitted++;
            jobs.add(job);
        }

        synchronized int held() {
            return jobs.size();
        }

        void runAll() {
            for (int i = 0; i < 100; i++) {
                Runnable next;
                synchronized (this) {
                    next = jobs.poll();
                }
                if (next == null) {
                    return;
                }
                next.run();
            }
            throw new AssertionError("more than 100 hash jobs");
        }
    }

    /**
     * Files whose attributes cannot be written, undone on close: immutable for root (who may
     * write any file), read-only for anyone else.
     */
    private record ReadOnly(List<Path> files, boolean immutable) implements AutoCloseable {
        static ReadOnly make(List<Path> files) throws Exception {
            boolean root = "root".equals(System.getProperty("user.name"));
            for (Path f : files) {
                if (root) {
                    assumeTrue(run("chattr", "+i", f.toString()) == 0, "chattr +i is not permitted here");
                } else {
                    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("r--r--r--"));
                }
            }
            ReadOnly made = new ReadOnly(files, root);
            UserDefinedFileAttributeView view = Files.getFileAttributeView(files.get(0), UserDefinedFileAttributeView.class);
            boolean writable;
            try {
                view.write("sluice.probe", ByteBuffer.wrap(new byte[] {1}));
                writable = true;
            } catch (IOException expected) {
                writable = false;
            }
            if (writable) {
                made.close();
            }
            assumeTrue(!writable, "the files' attributes are still writable");
            return made;
        }

        @Override
        public void close() throws Exception {
            for (Path f : files) {
                if (immutable) {
                    run("chattr", "-i", f.toString());
                } else {
                    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
                }
            }
        }
    }

    private boolean userAttributesWork() throws IOException {
        Path probe = Files.createFile(tmp.resolve("probe"));
        UserDefinedFileAttributeView view = Files.getFileAttributeView(probe, UserDefinedFileAttributeView.class);
        if (view == null) {
            return false;
        }
        try {
            view.write("sluice.probe", ByteBuffer.wrap(new byte[] {1}));
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    private static int run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(Arrays.toString(command) + " did not finish");
        }
        return p.exitValue();
    }

    /** The file's MD5 as coreutils' {@code md5sum} computes it. */
    private static String md5sum(Path file) throws Exception {
        Process p = new ProcessBuilder("md5sum", file.toString()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new AssertionError("md5sum failed: " + out);
        }
        return out.substring(0, 32);
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private Path write(String key, byte[] content) throws IOException {
        Path file = root.resolve(key);
        Files.write(file, content);
        Files.setLastModifiedTime(file, FileTime.from(MTIME));
        return file;
    }

    private static byte[] bytes(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }

    private static ObjectRead get(String key) {
        return new ObjectRead(key, Optional.empty(), Preconditions.NONE, false, "req");
    }

    private static ObjectRead head(String key) {
        return new ObjectRead(key, Optional.empty(), Preconditions.NONE, true, "req");
    }

    private static ObjectRead conditional(String key, Preconditions p) {
        return new ObjectRead(key, Optional.empty(), p, false, "req");
    }

    private static String etag(ObjectResponse r) {
        return r.headers().stream().filter(h -> h.getKey().equalsIgnoreCase("ETag")).map(Map.Entry::getValue).findFirst()
                .orElseThrow();
    }

    private static byte[] body(ObjectResponse r) throws IOException {
        try (ObjectBody body = r.body().orElseThrow()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            body.transferTo(out);
            return out.toByteArray();
        }
    }

    private String listedEtag(String key) {
        return listedEtag(backend, key);
    }

    private static String listedEtag(FileBackend b, String key) {
        return b.list(new ListQuery("", Optional.empty(), 1000, new ListPosition.Start())).objects().stream()
                .filter(o -> o.key().equals(key)).map(ObjectSummary::etag).findFirst().orElseThrow();
    }
}
