package dev.sluice.upload;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import java.util.zip.Checksum;

/** Digests of test bodies computed apart from the code under test, in the form S3 headers carry them. */
final class TestDigests {
    private TestDigests() {
    }

    static String md5Hex(byte[] data) {
        return HexFormat.of().formatHex(digest("MD5", data));
    }

    static String sha256Hex(byte[] data) {
        return HexFormat.of().formatHex(digest("SHA-256", data));
    }

    static String md5Base64(byte[] data) {
        return Base64.getEncoder().encodeToString(digest("MD5", data));
    }

    /** The base64 value of {@code x-amz-checksum-<id>} for the body. */
    static String checksum(String id, byte[] data) {
        byte[] value = switch (id) {
            case "crc32" -> crc(new CRC32(), data);
            case "crc32c" -> crc(new CRC32C(), data);
            case "crc64nvme" -> ByteBuffer.allocate(8).putLong(Crc64NvmeTest.bitwise(data, 0, data.length)).array();
            case "sha1" -> digest("SHA-1", data);
            case "sha256" -> digest("SHA-256", data);
            default -> throw new IllegalArgumentException(id);
        };
        return Base64.getEncoder().encodeToString(value);
    }

    private static byte[] crc(Checksum crc, byte[] data) {
        crc.update(data, 0, data.length);
        return ByteBuffer.allocate(4).putInt((int) crc.getValue()).array();
    }

    static byte[] digest(String algorithm, byte[] data) {
        try {
            return MessageDigest.getInstance(algorithm).digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
