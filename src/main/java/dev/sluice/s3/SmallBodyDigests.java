package dev.sluice.s3;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import java.util.zip.Checksum;

/**
 * The integrity headers of a small request body sluice holds whole (the XML of DeleteObjects, and
 * CompleteMultipartUpload's, whose only header about its XML is {@code Content-MD5}): {@code Content-MD5} and {@code x-amz-checksum-crc32}, {@code -crc32c},
 * {@code -crc64nvme}, {@code -sha1}, {@code -sha256}, each checked against the body as S3 checks
 * it. A value that is not base64 of the right length is {@code 400 InvalidDigest}; one that does
 * not match is {@code 400 BadDigest}. Streamed object bodies are checked as they stream, elsewhere
 * (docs/writes.md, "Integrity").
 */
public final class SmallBodyDigests {
    private static final String CHECKSUM_PREFIX = "x-amz-checksum-";

    private SmallBodyDigests() {
    }

    /**
     * Checks every integrity header the request carries against {@code body}. With
     * {@code required} (DeleteObjects, as S3 requires), a request with none is
     * {@code 400 InvalidRequest}, S3's answer.
     */
    public static void check(Function<String, Optional<String>> header, byte[] body, boolean required) {
        checkContentMd5(header, body);
        boolean any = header.apply("Content-MD5").isPresent();
        for (String algorithm : MultipartChecksum.ALGORITHMS) {
            Optional<String> value = header.apply(CHECKSUM_PREFIX + algorithm);
            if (value.isPresent()) {
                any = true;
                byte[] actual = checksum(algorithm, body);
                compare(value.get(), actual, actual.length, algorithm.toUpperCase(Locale.ROOT));
            }
        }
        if (required && !any) {
            throw new S3Exception(S3Error.INVALID_REQUEST,
                    "Missing required header for this request: Content-MD5 OR x-amz-checksum-*");
        }
    }

    /**
     * Checks only {@code Content-MD5} against {@code body}: on CompleteMultipartUpload the
     * {@code x-amz-checksum-*} headers are the finished object's checksum, not the XML's
     * ({@link ObjectClaims}).
     */
    public static void checkContentMd5(Function<String, Optional<String>> header, byte[] body) {
        Optional<String> md5 = header.apply("Content-MD5");
        if (md5.isPresent()) {
            compare(md5.get(), digest("MD5", body), 16, "Content-MD5");
        }
    }

    /** The checksum {@code x-amz-checksum-<algorithm>} carries for {@code body}, as raw bytes (big-endian for the CRCs). */
    public static byte[] checksum(String algorithm, byte[] body) {
        return switch (algorithm) {
            case "crc32" -> crc(new CRC32(), body);
            case "crc32c" -> crc(new CRC32C(), body);
            case "crc64nvme" -> ByteBuffer.allocate(8).putLong(crc64nvme(body)).array();
            case "sha1" -> digest("SHA-1", body);
            case "sha256" -> digest("SHA-256", body);
            default -> throw new IllegalArgumentException(algorithm);
        };
    }

    private static void compare(String declared, byte[] actual, int length, String what) {
        byte[] expected;
        try {
            expected = Base64.getDecoder().decode(declared.strip());
        } catch (IllegalArgumentException e) {
            throw new S3Exception(S3Error.INVALID_DIGEST, "The " + what + " you specified is not valid.");
        }
        if (expected.length != length) {
            throw new S3Exception(S3Error.INVALID_DIGEST, "The " + what + " you specified is not valid.");
        }
        if (!MessageDigest.isEqual(expected, actual)) {
            throw new S3Exception(S3Error.BAD_DIGEST, "The " + what + " you specified did not match the calculated checksum.");
        }
    }

    private static byte[] crc(Checksum crc, byte[] body) {
        crc.update(body, 0, body.length);
        return ByteBuffer.allocate(4).putInt((int) crc.getValue()).array();
    }

    /**
     * CRC-64/NVME (reflected polynomial {@code 0x9a6c9329ac4bc9b5}, initial and final value all
     * ones), bit by bit: the JDK has none, and a small body does not need a table.
     */
    static long crc64nvme(byte[] body) {
        long crc = -1L;
        for (byte b : body) {
            crc ^= b & 0xffL;
            for (int i = 0; i < 8; i++) {
                crc = (crc & 1) != 0 ? (crc >>> 1) ^ 0x9a6c9329ac4bc9b5L : crc >>> 1;
            }
        }
        return ~crc;
    }

    private static byte[] digest(String algorithm, byte[] body) {
        try {
            return MessageDigest.getInstance(algorithm).digest(body);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is required of every JVM", e);
        }
    }
}
