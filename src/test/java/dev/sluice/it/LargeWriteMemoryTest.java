package dev.sluice.it;

import dev.sluice.testing.SluiceProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Memory per upload is bounded by a buffer, not by the object ({@code docs/writes.md}): a 2 GiB
 * PUT and a 2 GiB multipart upload through a sluice limited to a 256 MiB heap
 * ({@link SluiceProcess} runs it with {@code -Xmx256m}), each read back and compared by SHA-256.
 * The bytes are generated as they are sent and hashed as they are read, never held; the objects
 * are deleted afterwards. {@code -Dsluice.it.largeWriteMiB=N} changes the size (for a quick run).
 */
class LargeWriteMemoryTest {
    static final long SIZE = Long.getLong("sluice.it.largeWriteMiB", 2048) * 1024 * 1024;
    static final int BLOCK = 1024 * 1024;

    @TempDir
    Path dir;

    /** {@code length} bytes from a fixed random block, each block stamped with its number so no two are alike. */
    static InputStream generated(long offset, long length) {
        byte[] block = new byte[BLOCK];
        new Random(2).nextBytes(block);
        return new InputStream() {
            long pos = offset;
            final long end = offset + length;

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (pos >= end) {
                    return -1;
                }
                int n = 0;
                while (n < len && pos < end) {
                    int inBlock = (int) (pos % BLOCK);
                    int take = (int) Math.min(Math.min(len - n, BLOCK - inBlock), end - pos);
                    System.arraycopy(block, inBlock, b, off + n, take);
                    if (inBlock < 8) { // the block number, over the block's first 8 bytes
                        long number = pos / BLOCK;
                        for (int i = inBlock; i < Math.min(8, inBlock + take); i++) {
                            b[off + n + i - inBlock] = (byte) (number >>> (8 * i));
                        }
                    }
                    n += take;
                    pos += take;
                }
                return n;
            }
        };
    }

    static String sha256(InputStream in) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[BLOCK];
        int n;
        while ((n = in.read(buf)) >= 0) {
            md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    @Test
    void aTwoGibibytePutAndMultipartUploadPassThroughA256MibHeap() throws Exception {
        String expected = sha256(generated(0, SIZE));
        WriteProcesses processes = new WriteProcesses(dir);
        try (SluiceProcess sluice = processes.start(1); S3Client s3 = WriteProcesses.writer(sluice)) {
            s3.putObject(b -> b.bucket("acme").key("data/put.bin"),
                    RequestBody.fromContentProvider(() -> generated(0, SIZE), SIZE, "application/octet-stream"));
            assertThat(readBack(s3, "data/put.bin")).isEqualTo(expected);
            s3.deleteObject(b -> b.bucket("acme").key("data/put.bin"));

            long partSize = Math.max(5L * 1024 * 1024, SIZE / 8);
            String uploadId = s3.createMultipartUpload(b -> b.bucket("acme").key("data/multipart.bin")).uploadId();
            List<CompletedPart> parts = new ArrayList<>();
            for (long offset = 0, number = 1; offset < SIZE; offset += partSize, number++) {
                long from = offset;
                long length = Math.min(partSize, SIZE - offset);
                int n = (int) number;
                String etag = s3.uploadPart(b -> b.bucket("acme").key("data/multipart.bin").uploadId(uploadId).partNumber(n),
                        RequestBody.fromContentProvider(() -> generated(from, length), length, "application/octet-stream")).eTag();
                parts.add(CompletedPart.builder().partNumber(n).eTag(etag).build());
            }
            s3.completeMultipartUpload(b -> b.bucket("acme").key("data/multipart.bin").uploadId(uploadId)
                    .multipartUpload(m -> m.parts(parts)));
            assertThat(readBack(s3, "data/multipart.bin")).isEqualTo(expected);
            s3.deleteObject(b -> b.bucket("acme").key("data/multipart.bin"));

            assertThat(sluice.isAlive()).isTrue();
            assertThat(sluice.log()).doesNotContain("OutOfMemoryError");
        }
    }

    private static String readBack(S3Client s3, String key) throws Exception {
        try (ResponseInputStream<GetObjectResponse> in = s3.getObject(b -> b.bucket("acme").key(key))) {
            assertThat(in.response().contentLength()).isEqualTo(SIZE);
            return sha256(in);
        } catch (IOException e) {
            throw new AssertionError("reading " + key + " back failed", e);
        }
    }
}
