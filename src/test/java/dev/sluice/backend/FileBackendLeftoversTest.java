package dev.sluice.backend;

import static dev.sluice.backend.FileWriteFixture.assertS3Error;
import static dev.sluice.backend.FileWriteFixture.bytes;
import static dev.sluice.backend.FileWriteFixture.get;
import static dev.sluice.backend.FileWriteFixture.keys;
import static dev.sluice.backend.FileWriteFixture.tempFiles;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.s3.S3Error;
import dev.sluice.testing.TestUploads;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a crash leaves in a product directory, and how a restart removes it (docs/writes.md, "File backend"). */
class FileBackendLeftoversTest {
    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

    @TempDir
    Path tmp;
    Path root;

    @BeforeEach
    void createRoot() throws IOException {
        root = Files.createDirectory(tmp.resolve("root"));
    }

    private FileBackend startAt(Instant now) {
        return new FileBackend(root, new ContentHashesTest.HeldExecutor(), Duration.ofDays(7), InstantSource.fixed(now));
    }

    private Path leftover(String relative, Instant modified) throws IOException {
        Path file = root.resolve(relative);
        Files.createDirectories(file.getParent());
        Files.writeString(file, "partial");
        Files.setLastModifiedTime(file, FileTime.from(modified));
        return file;
    }

    private Path upload(String id, String key, Instant initiated) throws IOException {
        Path dir = Files.createDirectories(root.resolve(".sluice/uploads/" + id));
        Files.writeString(dir.resolve("upload.json"),
                "{\"v\":1,\"key\":\"" + key + "\",\"initiated\":\"" + initiated + "\",\"headers\":[]}");
        return dir;
    }

    @Test
    void aStartRemovesTemporaryFilesOlderThanAnHourAndKeepsYoungerOnes() throws IOException {
        Path oldData = leftover("a/b/.sluice-tmp-0001", NOW.minus(Duration.ofHours(2)));
        Path oldRoot = leftover(".sluice-tmp-0002", NOW.minus(Duration.ofDays(30)));
        Path oldSidecar = leftover(".sluice/meta/ab/abcd/.sluice-tmp-0003", NOW.minus(Duration.ofHours(2)));
        Path young = leftover("a/.sluice-tmp-0004", NOW.minus(Duration.ofMinutes(10)));
        Path object = leftover("a/b/real.txt", NOW.minus(Duration.ofDays(300)));

        FileBackend backend = startAt(NOW);

        assertThat(oldData).doesNotExist();
        assertThat(oldRoot).doesNotExist();
        assertThat(oldSidecar).doesNotExist();
        assertThat(young).as("maybe another instance's write in progress").exists();
        assertThat(object).exists();
        assertThat(keys(backend, "")).containsExactly("a/b/real.txt");
    }

    @Test
    void aStartRemovesUploadsAbandonedLongerThanTheExpiryAndTheirInterruptedRemovals() throws IOException {
        Path expired = upload("0123456789abcdef0123456789abcdef", "old", NOW.minus(Duration.ofDays(8)));
        Path current = upload("fedcba9876543210fedcba9876543210", "recent", NOW.minus(Duration.ofDays(6)));
        Path oldPartTemp = leftover(".sluice/uploads/fedcba9876543210fedcba9876543210/.sluice-tmp-9",
                NOW.minus(Duration.ofHours(3)));
        Path noRecord = Files.createDirectories(root.resolve(".sluice/uploads/00000000000000000000000000000000"));
        Files.setLastModifiedTime(noRecord, FileTime.from(NOW.minus(Duration.ofHours(2))));
        Path removing = Files.createDirectories(root.resolve(".sluice/uploads/.sluice-tmp-77"));
        Files.writeString(removing.resolve("00001"), "part");
        Files.setLastModifiedTime(removing, FileTime.from(NOW.minus(Duration.ofHours(2))));

        FileBackend backend = startAt(NOW);

        assertThat(expired).doesNotExist();
        assertThat(noRecord).doesNotExist();
        assertThat(removing).doesNotExist();
        assertThat(oldPartTemp).doesNotExist();
        assertThat(current).exists();
        assertThat(backend.listUploads("", Optional.empty(), 10).uploads()).extracting(Multipart.InProgress::key)
                .containsExactly("recent");
    }

    /** A completion remembered for a retry ({@code <id>.done}) goes when an upload would: after the expiry. */
    @Test
    void aStartRemovesRememberedCompletionsOlderThanTheExpiry() throws IOException {
        Path old = leftover(".sluice/uploads/0123456789abcdef0123456789abcdef.done", NOW.minus(Duration.ofDays(8)));
        Path recent = leftover(".sluice/uploads/fedcba9876543210fedcba9876543210.done", NOW.minus(Duration.ofDays(6)));

        FileBackend backend = startAt(NOW);

        assertThat(old).doesNotExist();
        assertThat(recent).exists();
        assertThat(backend.listUploads("", Optional.empty(), 10).uploads()).isEmpty();
    }

    @Test
    void aTreeNeverWrittenThroughSluiceIsNotWalked() throws IOException {
        Path old = leftover("x/.sluice-tmp-0001", NOW.minus(Duration.ofDays(2)));

        FileBackend backend = startAt(NOW);

        assertThat(old).as("no .sluice area: the tree is not swept").exists();
        assertThat(keys(backend, "")).isEmpty();
    }

    /** A crash after a sidecar went in place but before its data file was renamed leaves a sidecar matching nothing. */
    @Test
    void aSidecarOfAWriteThatNeverRenamedIsRemovedByTheNextWriteOfItsKey() throws IOException {
        // File times are the real clock's here.
        FileBackend backend = startAt(Instant.now());
        ObjectAttributes attributes = new ObjectAttributes(List.of(Map.entry("x-amz-meta-a", "1")));
        backend.put("k.txt", TestUploads.of(new byte[] {1}), attributes, WriteCondition.NONE);
        Path sidecar;
        try (var files = Files.walk(root.resolve(".sluice/meta"))) {
            sidecar = files.filter(Files::isRegularFile).findFirst().orElseThrow();
        }
        Path orphan = Files.copy(sidecar, sidecar.resolveSibling("0000000000000000"));
        Files.setLastModifiedTime(orphan, FileTime.from(Instant.now().minus(Duration.ofHours(2))));

        backend.put("k.txt", TestUploads.of(new byte[] {2}), attributes, WriteCondition.NONE);

        assertThat(orphan).doesNotExist();
        try (var files = Files.walk(root.resolve(".sluice/meta"))) {
            assertThat(files.filter(Files::isRegularFile).toList()).hasSize(1);
        }
    }

    @Test
    void theUploadExpiryIsTheConstructorsParameter() throws IOException {
        upload("0123456789abcdef0123456789abcdef", "k", NOW.minus(Duration.ofHours(5)));

        new FileBackend(root, new ContentHashesTest.HeldExecutor(), Duration.ofHours(4), InstantSource.fixed(NOW));

        assertThat(root.resolve(".sluice/uploads/0123456789abcdef0123456789abcdef")).doesNotExist();
    }

    @Test
    void aReadOnlyTreeWithoutStagingStartsAndServesAsBefore() throws IOException {
        leftover("x/y.txt", NOW.minus(Duration.ofDays(1)));

        FileBackend backend = startAt(NOW);

        assertThat(root.resolve(".sluice")).doesNotExist();
        assertThat(bytes(get(backend, "x/y.txt"))).isEqualTo("partial".getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A store process killed ({@code kill -9}) in the middle of a PUT and of a part: nothing is
     * visible, a restart an hour later removes the temporary files, a retried upload succeeds.
     */
    @Test
    void afterAKillMidUploadNothingPartialIsVisibleAndARestartCleansUp() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                CrashingWriter.class.getName(), root.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String uploadId;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
                try {
                    return out.readLine();
                } catch (IOException e) {
                    return null;
                }
            });
            uploadId = line.get(60, TimeUnit.SECONDS);
        } finally {
            child.destroyForcibly();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(uploadId).matches("[0-9a-f]{32}");
        assertThat(tempFiles(root)).as("left by the killed writes").hasSize(2);

        FileBackend sameHour = startAt(Instant.now());
        assertS3Error(() -> get(sameHour, "data/big.bin"), S3Error.NO_SUCH_KEY);
        assertThat(keys(sameHour, "")).containsExactly("data/earlier.bin");
        assertThat(tempFiles(root)).as("younger than an hour: maybe another instance's").hasSize(2);
        assertThat(sameHour.listParts("data/multi.bin", uploadId, 0, 10).parts()).extracting(Multipart.Part::partNumber)
                .containsExactly(1);

        FileBackend later = startAt(Instant.now().plus(Duration.ofHours(2)));
        assertThat(tempFiles(root)).isEmpty();
        later.put("data/big.bin", TestUploads.of(new byte[] {1, 2, 3}), ObjectAttributes.NONE, WriteCondition.NONE);
        assertThat(bytes(get(later, "data/big.bin"))).containsExactly(1, 2, 3);
        Written part = later.uploadPart("data/multi.bin", uploadId, 2, TestUploads.of(new byte[] {4}));
        assertThat(later.listParts("data/multi.bin", uploadId, 0, 10).parts()).hasSize(2);
        assertThat(part.etag()).isNotEmpty();

        startAt(Instant.now().plus(Duration.ofDays(8)));
        assertThat(root.resolve(".sluice/uploads/" + uploadId)).doesNotExist();
    }

    /** The process {@link #afterAKillMidUploadNothingPartialIsVisibleAndARestartCleansUp} kills mid-write. */
    public static final class CrashingWriter {
        public static void main(String[] args) throws Exception {
            FileBackend backend = new FileBackend(Path.of(args[0]), Runnable::run);
            backend.put("data/earlier.bin", TestUploads.of(new byte[] {9}), ObjectAttributes.NONE, WriteCondition.NONE);
            String id = backend.startUpload("data/multi.bin", ObjectAttributes.NONE);
            backend.uploadPart("data/multi.bin", id, 1, TestUploads.of(new byte[] {1}));
            Thread part = Thread.ofPlatform().start(() -> backend.uploadPart("data/multi.bin", id, 2, new Stalling(id, false)));
            backend.put("data/big.bin", new Stalling(id, true), new ObjectAttributes(List.of(Map.entry("x-amz-meta-a", "b"))),
                    WriteCondition.NONE);
            part.join();
        }
    }

    /** A body that sends a MiB, then (the PUT's) says so on stdout, then never ends. */
    private static final class Stalling implements Upload {
        private static final Object LOCK = new Object();
        private static int stalled;
        private final String id;
        private final boolean announces;

        Stalling(String id, boolean announces) {
            this.id = id;
            this.announces = announces;
        }

        @Override
        public InputStream stream() {
            return new InputStream() {
                private int sent;

                @Override
                public int read() {
                    throw new UnsupportedOperationException();
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (sent < 1024 * 1024) {
                        int n = Math.min(len, 1024 * 1024 - sent);
                        sent += n;
                        return n;
                    }
                    synchronized (LOCK) {
                        stalled++;
                        LOCK.notifyAll();
                        try {
                            while (announces && stalled < 2) {
                                LOCK.wait();
                            }
                            if (announces) {
                                System.out.println(id);
                                System.out.flush();
                            }
                            while (true) {
                                LOCK.wait();
                            }
                        } catch (InterruptedException e) {
                            throw new IOException(e);
                        }
                    }
                }
            };
        }

        @Override
        public long length() {
            return 2L * 1024 * 1024;
        }

        @Override
        public String md5Hex() {
            throw new IllegalStateException("never ends");
        }

        @Override
        public List<Map.Entry<String, String>> checksums() {
            return List.of();
        }
    }
}
