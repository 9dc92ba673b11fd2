package dev.sluice.upload;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.backend.Upload;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A body as botocore 1.43 (boto3 1.36+, aws-cli 2.23+) encodes it by default:
 * {@code STREAMING-UNSIGNED-PAYLOAD-TRAILER} in 8 KiB chunks with a CRC32 trailer. The fixture is
 * botocore's {@code AwsChunkedWrapper} output for 20,000 bytes of {@code (i * 7 + 3) % 251}.
 */
class BotocoreEncodedBodyTest {

    @Test
    void botocoresUnsignedChunksWithACrc32TrailerDecodeAndVerify() throws IOException {
        byte[] data = new byte[20_000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) ((i * 7 + 3) % 251);
        }
        try (InputStream wire = getClass().getResourceAsStream("/upload/botocore-1.43-unsigned-trailer-crc32.bin")) {
            Upload upload = UploadBodies.open(wire, Bodies.headers(
                    "x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                    "content-encoding", "aws-chunked",
                    "x-amz-decoded-content-length", "20000",
                    "x-amz-trailer", "x-amz-checksum-crc32",
                    "x-amz-sdk-checksum-algorithm", "CRC32",
                    "content-length", "20059"), Optional.empty(), 5L << 30);

            assertThat(Bodies.readAll(upload, 4096)).isEqualTo(data);
            assertThat(upload.checksums()).containsExactly(Map.entry("x-amz-checksum-crc32", "q4RtJg=="));
            assertThat(upload.md5Hex()).isEqualTo(TestDigests.md5Hex(data));
        }
    }
}
