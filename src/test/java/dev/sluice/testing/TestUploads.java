package dev.sluice.testing;

import dev.sluice.backend.Upload;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@link Upload}s for store tests, which exercise a backend's writes without the request-body
 * decoder: a body that passes, and one that fails its check where the real decoder would, in
 * place of its last byte.
 */
public final class TestUploads {
    private TestUploads() {
    }

    /** A body whose checks all pass. */
    public static Upload of(byte[] bytes) {
        return new Bytes(bytes, null, List.of(), null);
    }

    /** A body that passes, with checksums the client sent and the body matched. */
    public static Upload of(byte[] bytes, List<Map.Entry<String, String>> checksums) {
        return new Bytes(bytes, null, checksums, null);
    }

    /**
     * A body whose checksum {@code name} is known only at its end, as a trailer's is: named
     * before the first byte ({@link Upload#pendingChecksum()}), its {@code value} in
     * {@link Upload#checksums()} once the last byte was read; with {@code failure}, the last
     * byte fails with that error instead.
     */
    public static Upload withTrailer(byte[] bytes, String name, String value, S3Error failure) {
        return new Bytes(bytes, failure, List.of(Map.entry(name, value)), new Upload.PendingChecksum(name, value.length()));
    }

    /** A body whose bytes all arrive but its last, where a failed check throws {@code error}. */
    public static Upload failingAtEnd(byte[] bytes, S3Error error) {
        return new Bytes(bytes, error, List.of(), null);
    }

    public static String md5Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final class Bytes implements Upload {
        private final byte[] bytes;
        private final S3Error failure;
        private final List<Map.Entry<String, String>> checksums;
        private final Upload.PendingChecksum pending;
        private boolean ended;

        Bytes(byte[] bytes, S3Error failure, List<Map.Entry<String, String>> checksums, Upload.PendingChecksum pending) {
            this.bytes = bytes;
            this.failure = failure;
            this.checksums = List.copyOf(checksums);
            this.pending = pending;
        }

        @Override
        public InputStream stream() {
            int held = failure == null || bytes.length == 0 ? 0 : 1;
            InputStream head = new ByteArrayInputStream(bytes, 0, bytes.length - held);
            return new InputStream() {
                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    int n = head.read(b, off, len);
                    if (n >= 0) {
                        return n;
                    }
                    if (failure != null) {
                        throw new S3Exception(failure);
                    }
                    ended = true;
                    return -1;
                }
            };
        }

        @Override
        public long length() {
            return bytes.length;
        }

        @Override
        public String md5Hex() {
            if (!ended) {
                throw new IllegalStateException("the body has not been read to its end");
            }
            return TestUploads.md5Hex(bytes);
        }

        @Override
        public List<Map.Entry<String, String>> checksums() {
            return pending != null && !ended ? List.of() : checksums;
        }

        @Override
        public Optional<Upload.PendingChecksum> pendingChecksum() {
            return Optional.ofNullable(pending);
        }
    }
}
