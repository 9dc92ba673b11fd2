package dev.sluice.upload;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Crc64NvmeTest {

    /** The catalogue's check value for CRC-64/NVME. */
    @Test
    void checkValueOfTheStandardString() {
        Crc64Nvme crc = new Crc64Nvme();
        byte[] check = "123456789".getBytes(StandardCharsets.US_ASCII);
        crc.update(check, 0, check.length);
        assertThat(crc.getValue()).isEqualTo(0xAE8B14860A799888L);
    }

    @Test
    void emptyInputIsZero() {
        assertThat(new Crc64Nvme().getValue()).isZero();
    }

    @Test
    void slicedTablesAgreeWithTheBitwiseDefinitionAtEveryLengthAndOffset() {
        Random random = new Random(64);
        byte[] data = new byte[4099];
        random.nextBytes(data);
        for (int off = 0; off < 9; off++) {
            for (int len = 0; len + off <= data.length; len += 1 + len / 3) {
                Crc64Nvme crc = new Crc64Nvme();
                crc.update(data, off, len);
                assertThat(crc.getValue()).as("offset %d length %d", off, len).isEqualTo(bitwise(data, off, len));
            }
        }
    }

    @Test
    void updatesInPiecesEqualOneUpdate() {
        byte[] data = new byte[100_003];
        new Random(7).nextBytes(data);
        Crc64Nvme whole = new Crc64Nvme();
        whole.update(data, 0, data.length);
        Crc64Nvme pieces = new Crc64Nvme();
        int off = 0;
        for (int step = 1; off < data.length; step = step * 3 % 8191 + 1) {
            int n = Math.min(step, data.length - off);
            pieces.update(data, off, n);
            off += n;
        }
        assertThat(pieces.getValue()).isEqualTo(whole.getValue());
        pieces.reset();
        pieces.update(data[0]);
        Crc64Nvme single = new Crc64Nvme();
        single.update(data, 0, 1);
        assertThat(pieces.getValue()).isEqualTo(single.getValue());
    }

    /** The polynomial applied bit by bit, as the catalogue defines it. */
    static long bitwise(byte[] data, int off, int len) {
        long crc = -1L;
        for (int i = off; i < off + len; i++) {
            crc ^= data[i] & 0xff;
            for (int bit = 0; bit < 8; bit++) {
                crc = (crc & 1) != 0 ? (crc >>> 1) ^ 0x9A6C9329AC4BC9B5L : crc >>> 1;
            }
        }
        return ~crc;
    }
}
