package dev.sluice.backend;

import dev.sluice.s3.MultipartChecksum;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import java.util.zip.Checksum;

import static org.assertj.core.api.Assertions.assertThat;

class PartChecksumsTest {
    private final Random random = new Random(7);

    @Test
    void aFullObjectCrcCombinedFromThePartsIsTheCrcOfTheWholeObject() {
        for (String algorithm : List.of("crc32", "crc32c", "crc64nvme")) {
            for (int[] sizes : new int[][]{{1}, {0, 5}, {7, 0}, {1, 1, 1}, {100_000, 3, 65_536}, {1 << 20, 12_345}}) {
                List<byte[]> parts = new ArrayList<>();
                for (int size : sizes) {
                    byte[] part = new byte[size];
                    random.nextBytes(part);
                    parts.add(part);
                }
                List<PartChecksums.PartSum> sums = parts.stream().map(p -> new PartChecksums.PartSum(crc(algorithm, p), p.length)).toList();

                String combined = PartChecksums.of(new MultipartChecksum(algorithm, true), sums);

                assertThat(combined).as("%s over parts of %s bytes", algorithm, java.util.Arrays.toString(sizes))
                        .isEqualTo(Base64.getEncoder().encodeToString(crc(algorithm, concat(parts))));
            }
        }
    }

    @Test
    void aCompositeChecksumIsTheChecksumOfThePartsChecksumsWithTheirCount() throws Exception {
        byte[] a = new byte[3000];
        byte[] b = new byte[17];
        random.nextBytes(a);
        random.nextBytes(b);
        for (String algorithm : List.of("crc32", "crc32c", "sha1", "sha256")) {
            byte[] sumA = crc(algorithm, a);
            byte[] sumB = crc(algorithm, b);

            String composite = PartChecksums.of(new MultipartChecksum(algorithm, false),
                    List.of(new PartChecksums.PartSum(sumA, a.length), new PartChecksums.PartSum(sumB, b.length)));

            assertThat(composite).isEqualTo(Base64.getEncoder().encodeToString(crc(algorithm, concat(List.of(sumA, sumB)))) + "-2");
        }
    }

    /** The checksum of {@code bytes}, computed here without {@link PartChecksums}: a bitwise CRC-64/NVME, the JDK's others. */
    private static byte[] crc(String algorithm, byte[] bytes) {
        try {
            return switch (algorithm) {
                case "crc32" -> four(new CRC32(), bytes);
                case "crc32c" -> four(new CRC32C(), bytes);
                case "sha1" -> MessageDigest.getInstance("SHA-1").digest(bytes);
                case "sha256" -> MessageDigest.getInstance("SHA-256").digest(bytes);
                case "crc64nvme" -> {
                    long crc = -1L;
                    for (byte x : bytes) {
                        crc ^= x & 0xFF;
                        for (int k = 0; k < 8; k++) {
                            crc = (crc & 1) != 0 ? (crc >>> 1) ^ 0x9A6C9329AC4BC9B5L : crc >>> 1;
                        }
                    }
                    yield ByteBuffer.allocate(8).putLong(~crc).array();
                }
                default -> throw new IllegalArgumentException(algorithm);
            };
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] four(Checksum c, byte[] bytes) {
        c.update(bytes, 0, bytes.length);
        return ByteBuffer.allocate(4).putInt((int) c.getValue()).array();
    }

    private static byte[] concat(List<byte[]> parts) {
        ByteBuffer all = ByteBuffer.allocate(parts.stream().mapToInt(p -> p.length).sum());
        parts.forEach(all::put);
        return all.array();
    }
}
