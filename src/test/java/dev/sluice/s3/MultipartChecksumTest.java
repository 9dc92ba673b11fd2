package dev.sluice.s3;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MultipartChecksumTest {
    private static Optional<MultipartChecksum> of(String algorithm, String type) {
        Map<String, String> headers = new HashMap<>();
        if (algorithm != null) {
            headers.put("x-amz-checksum-algorithm", algorithm);
        }
        if (type != null) {
            headers.put("x-amz-checksum-type", type);
        }
        return MultipartChecksum.of(name -> Optional.ofNullable(headers.get(name)));
    }

    @Test
    void theTypeDefaultsAsInS3() {
        assertThat(of(null, null)).isEmpty();
        assertThat(of("CRC32", null)).contains(new MultipartChecksum("crc32", false));
        assertThat(of("crc32c", null)).contains(new MultipartChecksum("crc32c", false));
        assertThat(of("SHA256", null)).contains(new MultipartChecksum("sha256", false));
        assertThat(of("SHA1", "COMPOSITE")).contains(new MultipartChecksum("sha1", false));
        assertThat(of("CRC64NVME", null)).contains(new MultipartChecksum("crc64nvme", true));
        assertThat(of("CRC32", "FULL_OBJECT")).contains(new MultipartChecksum("crc32", true));
        assertThat(of("CRC32C", "full_object").orElseThrow().type()).isEqualTo("FULL_OBJECT");
        assertThat(of("CRC32", null).orElseThrow().headerName()).isEqualTo("x-amz-checksum-crc32");
    }

    @Test
    void pairsS3DoesNotTakeAreInvalidRequest() {
        String[][] refused = {
                {null, "COMPOSITE"}, {"MD5", null}, {"", null}, {"crc32 crc32c", null}, {"CRC32", "BOTH"},
                {"SHA256", "FULL_OBJECT"}, {"SHA1", "FULL_OBJECT"}, {"CRC64NVME", "COMPOSITE"},
        };
        for (String[] pair : refused) {
            assertThatThrownBy(() -> of(pair[0], pair[1])).as("%s / %s", pair[0], pair[1])
                    .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.INVALID_REQUEST));
        }
    }
}
