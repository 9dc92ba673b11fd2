package dev.sluice.upload;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.ThreadMXBean;
import dev.sluice.backend.Upload;
import dev.sluice.sigv4.ChunkSigning;
import dev.sluice.sigv4.SigV4;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.LocalDate;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

/**
 * A 64 MiB body, generated as it is read (signed 64 KiB chunks and a CRC32 trailer, as the AWS
 * SDKs send), decodes with memory bounded by buffers: what the decoder allocates in all (the
 * reading thread's allocations less those of generating the same wire form alone) is a small
 * fraction of the body, so it never held the body, nor a copy of each chunk.
 */
class LargeBodyTest {
    static final long SIZE = 64L << 20;
    static final int CHUNK = 64 * 1024;
    static final ChunkSigning SIGNING = new ChunkSigning(
            SigV4.signingKey("large-secret", LocalDate.of(2026, 12, 7), "us-east-1", "s3"),
            "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0", "20261207T024000Z",
            "20261207/us-east-1/s3/aws4_request");

    @Test
    void aSixtyFourMebibyteChunkSignedUploadDecodesWithBoundedMemory() throws IOException {
        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        byte[] buffer = new byte[128 * 1024];
        // What generating the wire form allocates by itself, to be left out of the decoder's share.
        long start = threads.getCurrentThreadAllocatedBytes();
        InputStream alone = new SignedChunks(SIZE, CHUNK, 2026);
        while (alone.read(buffer) >= 0) {
            // drained
        }
        long generating = threads.getCurrentThreadAllocatedBytes() - start;

        SignedChunks wire = new SignedChunks(SIZE, CHUNK, 2026);
        long before = threads.getCurrentThreadAllocatedBytes();

        Upload upload = UploadBodies.open(wire, Bodies.headers(
                "x-amz-content-sha256", SigV4.STREAMING_PAYLOAD_TRAILER,
                "content-encoding", "aws-chunked",
                "x-amz-decoded-content-length", String.valueOf(SIZE),
                "x-amz-trailer", "x-amz-checksum-crc32"), Optional.of(SIGNING), 5L << 30);
        CRC32 received = new CRC32();
        long count = 0;
        InputStream in = upload.stream();
        for (int n; (n = in.read(buffer)) >= 0; ) {
            received.update(buffer, 0, n);
            count += n;
        }

        long allocated = threads.getCurrentThreadAllocatedBytes() - before - generating;
        assertThat(count).isEqualTo(SIZE);
        assertThat(received.getValue()).isEqualTo(wire.crc.getValue());
        assertThat(upload.checksums()).containsExactly(Map.entry("x-amz-checksum-crc32", wire.crcBase64()));
        assertThat(allocated).as("bytes the decoder allocated for a %d byte body", SIZE).isLessThan(SIZE / 16);
    }

    /**
     * The wire form of a chunk-signed upload with a CRC32 trailer, produced as it is read: one
     * chunk of pseudo-random data at a time in a reused buffer.
     */
    static final class SignedChunks extends InputStream {
        final CRC32 crc = new CRC32();
        private final long size;
        private final byte[] data;
        private final SplittableRandom random;
        private final MessageDigest sha256 = TestDigestsHolder.sha256();
        private final ByteBuffer pending;
        private long produced;
        private String previous = SIGNING.seedSignature();
        private boolean done;

        SignedChunks(long size, int chunk, long seed) {
            this.size = size;
            this.data = new byte[chunk];
            this.random = new SplittableRandom(seed);
            this.pending = ByteBuffer.allocate(chunk + 512);
            pending.flip();
        }

        String crcBase64() {
            return Base64.getEncoder().encodeToString(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (!pending.hasRemaining() && !refill()) {
                return -1;
            }
            int n = Math.min(len, pending.remaining());
            pending.get(b, off, n);
            return n;
        }

        private boolean refill() {
            if (done) {
                return false;
            }
            pending.clear();
            int n = (int) Math.min(data.length, size - produced);
            for (int i = 0; i < n; i += 8) {
                long v = random.nextLong();
                for (int j = 0; j < 8 && i + j < n; j++) {
                    data[i + j] = (byte) (v >>> (8 * j));
                }
            }
            sha256.update(data, 0, n);
            String signature = ChunkedBodies.chunkSignature(SIGNING, previous, HexFormat.of().formatHex(sha256.digest()));
            previous = signature;
            put(Integer.toHexString(n) + ";chunk-signature=" + signature + "\r\n");
            if (n > 0) {
                pending.put(data, 0, n);
                crc.update(data, 0, n);
                put("\r\n");
                produced += n;
            } else {
                String line = "x-amz-checksum-crc32:" + crcBase64();
                put(line + "\r\n");
                put("x-amz-trailer-signature:" + ChunkedBodies.trailerSignature(SIGNING, previous, java.util.List.of(line)) + "\r\n\r\n");
                done = true;
            }
            pending.flip();
            return true;
        }

        private void put(String s) {
            pending.put(s.getBytes(StandardCharsets.US_ASCII));
        }
    }

    private static final class TestDigestsHolder {
        static MessageDigest sha256() {
            try {
                return MessageDigest.getInstance("SHA-256");
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
