package dev.sluice.backend;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory per upload is bounded by a buffer, not by the object (docs/writes.md, "File
 * backend"): a JVM with a 32 MiB heap stores a 128 MiB PUT and a 96 MiB multipart upload.
 */
class FileBackendLargeBodyTest {
    private static final long PUT_SIZE = 128L * 1024 * 1024;
    private static final long PART_SIZE = 48L * 1024 * 1024;

    @Test
    void bodiesMuchLargerThanTheHeapStreamThrough(@TempDir Path root, @TempDir Path logs) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path out = logs.resolve("writer.out");
        Process child = new ProcessBuilder(java, "-Xmx32m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                SmallHeapWriter.class.getName(), root.toString())
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            assertThat(child.waitFor(120, TimeUnit.SECONDS)).as("the writer finishes").isTrue();
        } finally {
            child.destroyForcibly();
        }
        String output = Files.readString(out, StandardCharsets.UTF_8);
        assertThat(child.exitValue()).as(output).isZero();
        String[] etags = output.strip().split("\n");
        assertThat(Files.size(root.resolve("big.bin"))).isEqualTo(PUT_SIZE);
        assertThat(etags[etags.length - 2]).isEqualTo("\"" + Generated.md5Of(PUT_SIZE) + "\"");
        assertThat(Files.size(root.resolve("multi.bin"))).isEqualTo(2 * PART_SIZE);
        assertThat(etags[etags.length - 1]).endsWith("-2\"");
    }

    /** Runs in a JVM whose heap is far smaller than the bodies it stores. */
    public static final class SmallHeapWriter {
        public static void main(String[] args) {
            FileBackend backend = new FileBackend(Path.of(args[0]), Runnable::run);
            Written put = backend.put("big.bin", new Generated(PUT_SIZE), ObjectAttributes.NONE, WriteCondition.NONE);
            String id = backend.startUpload("multi.bin", ObjectAttributes.NONE);
            Written p1 = backend.uploadPart("multi.bin", id, 1, new Generated(PART_SIZE));
            Written p2 = backend.uploadPart("multi.bin", id, 2, new Generated(PART_SIZE));
            Written done = backend.completeUpload("multi.bin", id,
                    List.of(new Multipart.PartRef(1, p1.etag()), new Multipart.PartRef(2, p2.etag())), WriteCondition.NONE);
            System.out.println(put.etag());
            System.out.println(done.etag());
        }
    }

    /** {@code length} bytes made up as they are read, hashed on the way: no copy of the body exists. */
    static final class Generated implements dev.sluice.backend.Upload {
        private final long length;
        private final MessageDigest md5 = DurableFiles.digest("MD5");
        private String hex;

        Generated(long length) {
            this.length = length;
        }

        static String md5Of(long length) throws IOException {
            Generated g = new Generated(length);
            g.stream().transferTo(java.io.OutputStream.nullOutputStream());
            return g.md5Hex();
        }

        @Override
        public InputStream stream() {
            return new InputStream() {
                private long at;

                @Override
                public int read() {
                    throw new UnsupportedOperationException();
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    if (at >= length) {
                        hex = HexFormat.of().formatHex(md5.digest());
                        return -1;
                    }
                    int n = (int) Math.min(len, length - at);
                    for (int i = 0; i < n; i++) {
                        b[off + i] = (byte) ((at + i) * 31 >>> 3);
                    }
                    md5.update(b, off, n);
                    at += n;
                    return n;
                }
            };
        }

        @Override
        public long length() {
            return length;
        }

        @Override
        public String md5Hex() {
            return hex;
        }

        @Override
        public List<Map.Entry<String, String>> checksums() {
            return List.of();
        }
    }
}
