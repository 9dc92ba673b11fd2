package dev.sluice.backend;

import dev.sluice.s3.MultipartChecksum;
import dev.sluice.s3.SmallBodyDigests;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.List;

/**
 * A multipart object's checksum from its parts' checksums, as S3 forms it: {@code COMPOSITE},
 * the algorithm over the parts' checksum bytes one after another, shown as
 * {@code <base64>-<number of parts>}; {@code FULL_OBJECT}, the CRC the whole object's bytes
 * have, combined from each part's CRC and length without reading the bytes again.
 *
 * <p>Combining is zlib's {@code crc32_combine}: appending {@code n} bytes to a message moves its
 * CRC as {@code n} zero bytes fed through the CRC's register would, a linear map over GF(2)
 * applied by repeated squaring of the one-zero-bit operator; the CRCs here (CRC32, CRC32C,
 * CRC64NVME) are reflected with an initial value and final XOR of all ones, under which
 * {@code crc(A‖B) = zeros(crc(A), |B|) ^ crc(B)}.
 */
final class PartChecksums {
    /** One part's checksum, as its raw bytes, and its length in bytes. */
    record PartSum(byte[] value, long length) {
    }

    private PartChecksums() {
    }

    /** The object's checksum value (base64, with {@code -N} when composite) from its parts' in order. */
    static String of(MultipartChecksum checksum, List<PartSum> parts) {
        if (checksum.fullObject()) {
            int width = checksum.algorithm().equals("crc64nvme") ? 64 : 32;
            long poly = switch (checksum.algorithm()) {
                case "crc32" -> 0xEDB88320L;
                case "crc32c" -> 0x82F63B78L;
                case "crc64nvme" -> 0x9A6C9329AC4BC9B5L;
                default -> throw new IllegalArgumentException("no full-object form for " + checksum.algorithm());
            };
            long crc = 0; // the CRC of no bytes, which combines with any part's to that part's
            for (PartSum part : parts) {
                long value = width == 64 ? ByteBuffer.wrap(part.value()).getLong()
                        : Integer.toUnsignedLong(ByteBuffer.wrap(part.value()).getInt());
                crc = combine(crc, value, part.length(), poly, width);
            }
            byte[] out = width == 64 ? ByteBuffer.allocate(8).putLong(crc).array() : ByteBuffer.allocate(4).putInt((int) crc).array();
            return Base64.getEncoder().encodeToString(out);
        }
        ByteArrayOutputStream sums = new ByteArrayOutputStream();
        parts.forEach(p -> sums.writeBytes(p.value()));
        byte[] whole = SmallBodyDigests.checksum(checksum.algorithm(), sums.toByteArray());
        return Base64.getEncoder().encodeToString(whole) + "-" + parts.size();
    }

    /** The CRC of {@code A‖B} from {@code crcA}, {@code crcB} and the length of {@code B}. */
    static long combine(long crcA, long crcB, long lengthB, long poly, int width) {
        if (lengthB <= 0) {
            return crcA;
        }
        long[] even = new long[width];
        long[] odd = new long[width];
        odd[0] = poly; // the operator for one zero bit
        long row = 1;
        for (int n = 1; n < width; n++) {
            odd[n] = row;
            row <<= 1;
        }
        square(even, odd); // two zero bits
        square(odd, even); // four
        long crc = crcA;
        long left = lengthB;
        do {
            square(even, odd); // eight zero bits: one byte, then doubling
            if ((left & 1) != 0) {
                crc = times(even, crc);
            }
            left >>>= 1;
            if (left == 0) {
                break;
            }
            square(odd, even);
            if ((left & 1) != 0) {
                crc = times(odd, crc);
            }
            left >>>= 1;
        } while (left != 0);
        return crc ^ crcB;
    }

    private static long times(long[] matrix, long vector) {
        long sum = 0;
        for (int i = 0; vector != 0; i++, vector >>>= 1) {
            if ((vector & 1) != 0) {
                sum ^= matrix[i];
            }
        }
        return sum;
    }

    private static void square(long[] square, long[] matrix) {
        for (int n = 0; n < matrix.length; n++) {
            square[n] = times(matrix, matrix[n]);
        }
    }
}
