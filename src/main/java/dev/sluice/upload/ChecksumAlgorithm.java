package dev.sluice.upload;

import dev.sluice.backend.Upload;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import java.util.zip.Checksum;

/**
 * The checksums S3 takes with an upload ({@code x-amz-checksum-<algorithm>} as a header or a
 * trailer, {@code x-amz-sdk-checksum-algorithm}), each with the size of its value: the base64 of
 * the CRC's big-endian bytes, or of the digest.
 */
enum ChecksumAlgorithm {
    CRC32("crc32", 4, () -> crc(new CRC32(), 4)),
    CRC32C("crc32c", 4, () -> crc(new CRC32C(), 4)),
    CRC64NVME("crc64nvme", 8, () -> crc(new Crc64Nvme(), 8)),
    SHA1("sha1", 20, () -> digest("SHA-1")),
    SHA256("sha256", 32, () -> digest("SHA-256"));

    private static final String HEADER_PREFIX = "x-amz-checksum-";

    private final String id;
    private final int bytes;
    private final Supplier<Running> running;

    ChecksumAlgorithm(String id, int bytes, Supplier<Running> running) {
        this.id = id;
        this.bytes = bytes;
        this.running = running;
    }

    /** {@code x-amz-checksum-crc32}: the header, trailer and stored name. */
    String headerName() {
        return HEADER_PREFIX + id;
    }

    /** The algorithm a checksum header or trailer name (any case) stands for. */
    static Optional<ChecksumAlgorithm> byHeaderName(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        for (ChecksumAlgorithm a : values()) {
            if (a.headerName().equals(lower)) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }

    /** The algorithm {@code x-amz-sdk-checksum-algorithm} names ({@code CRC32}, any case). */
    static Optional<ChecksumAlgorithm> bySdkName(String name) {
        String lower = name.strip().toLowerCase(Locale.ROOT);
        for (ChecksumAlgorithm a : values()) {
            if (a.id.equals(lower)) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }

    /** This checksum as one still to come: its name and the length of its base64 value. */
    Upload.PendingChecksum pending() {
        return new Upload.PendingChecksum(headerName(), 4 * ((bytes + 2) / 3));
    }

    /** The value's bytes if {@code base64} is a well-formed value of this algorithm. */
    Optional<byte[]> decode(String base64) {
        try {
            byte[] value = Base64.getDecoder().decode(base64.strip());
            return value.length == bytes ? Optional.of(value) : Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** A fresh computation of this checksum. */
    Running start() {
        return running.get();
    }

    /** A checksum being computed over the bytes as they pass. */
    interface Running {
        void update(byte[] b, int off, int len);

        /** The checksum of everything passed so far; call once, at the end. */
        byte[] value();
    }

    private static Running crc(Checksum crc, int bytes) {
        return new Running() {
            @Override
            public void update(byte[] b, int off, int len) {
                crc.update(b, off, len);
            }

            @Override
            public byte[] value() {
                long v = crc.getValue();
                byte[] out = new byte[bytes];
                for (int i = 0; i < bytes; i++) {
                    out[i] = (byte) (v >>> (8 * (bytes - 1 - i)));
                }
                return out;
            }
        };
    }

    private static Running digest(String algorithm) {
        MessageDigest md = messageDigest(algorithm);
        return new Running() {
            @Override
            public void update(byte[] b, int off, int len) {
                md.update(b, off, len);
            }

            @Override
            public byte[] value() {
                return md.digest();
            }
        };
    }

    static MessageDigest messageDigest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform must provide " + algorithm, e);
        }
    }
}
