package dev.sluice.it;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;

/**
 * The digests S3 clients declare for a body, computed independently of sluice: the values of
 * {@code Content-MD5}, {@code x-amz-content-sha256} and each {@code x-amz-checksum-*} header or
 * trailer, so a test can send a right one and a wrong one.
 */
enum Checksums {
    CRC32("crc32"),
    CRC32C("crc32c"),
    CRC64NVME("crc64nvme"),
    SHA1("sha1"),
    SHA256("sha256");

    /** CRC-64/NVME, reflected: polynomial 0xad93d23594c93659 bit-reversed. */
    private static final long CRC64NVME_POLY = 0x9a6c9329ac4bc9b5L;
    private static final long[] CRC64NVME_TABLE = new long[256];

    static {
        for (int i = 0; i < 256; i++) {
            long c = i;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) != 0 ? (c >>> 1) ^ CRC64NVME_POLY : c >>> 1;
            }
            CRC64NVME_TABLE[i] = c;
        }
    }

    private final String algorithm;

    Checksums(String algorithm) {
        this.algorithm = algorithm;
    }

    /** The header (and trailer) name: {@code x-amz-checksum-crc32}. */
    String header() {
        return "x-amz-checksum-" + algorithm;
    }

    /** The SDK's and S3's name for it: {@code CRC32}. */
    String sdkName() {
        return algorithm.toUpperCase(Locale.ROOT);
    }

    /** The base64 value S3 expects in the header for {@code bytes}. */
    String of(byte[] bytes) {
        return Base64.getEncoder().encodeToString(raw(bytes));
    }

    /**
     * A multipart object's composite checksum as S3 forms it: this checksum of the parts' raw
     * checksums one after another, base64, a dash, the number of parts.
     */
    String composite(byte[]... parts) {
        java.io.ByteArrayOutputStream sums = new java.io.ByteArrayOutputStream();
        for (byte[] part : parts) {
            sums.writeBytes(raw(part));
        }
        return of(sums.toByteArray()) + "-" + parts.length;
    }

    private byte[] raw(byte[] bytes) {
        return switch (this) {
            case CRC32 -> {
                CRC32 c = new CRC32();
                c.update(bytes);
                yield ByteBuffer.allocate(4).putInt((int) c.getValue()).array();
            }
            case CRC32C -> {
                CRC32C c = new CRC32C();
                c.update(bytes);
                yield ByteBuffer.allocate(4).putInt((int) c.getValue()).array();
            }
            case CRC64NVME -> ByteBuffer.allocate(8).putLong(crc64nvme(bytes)).array();
            case SHA1 -> digest("SHA-1", bytes);
            case SHA256 -> digest("SHA-256", bytes);
        };
    }

    static long crc64nvme(byte[] bytes) {
        long crc = -1L;
        for (byte b : bytes) {
            crc = CRC64NVME_TABLE[(int) ((crc ^ b) & 0xff)] ^ (crc >>> 8);
        }
        return ~crc;
    }

    static String sha256Hex(byte[] bytes) {
        return HexFormat.of().formatHex(digest("SHA-256", bytes));
    }

    static String md5Hex(byte[] bytes) {
        return HexFormat.of().formatHex(digest("MD5", bytes));
    }

    static String md5Base64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(digest("MD5", bytes));
    }

    /** The ETag S3 gives an object assembled from parts: the MD5 of the parts' MD5s, a dash, the count. */
    static String multipartEtag(byte[]... parts) {
        byte[] md5s = new byte[16 * parts.length];
        for (int i = 0; i < parts.length; i++) {
            System.arraycopy(digest("MD5", parts[i]), 0, md5s, 16 * i, 16);
        }
        return "\"" + md5Hex(md5s) + "-" + parts.length + "\"";
    }

    static byte[] digest(String algorithm, byte[] bytes) {
        try {
            return MessageDigest.getInstance(algorithm).digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
