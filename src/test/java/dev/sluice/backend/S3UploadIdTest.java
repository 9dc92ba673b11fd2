package dev.sluice.backend;

import dev.sluice.s3.MultipartChecksum;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class S3UploadIdTest {

    @Test
    void anIdWithoutAChecksumIsTheBackendsIdAsItIs() {
        S3UploadId plain = new S3UploadId("2~abc.DEF_ghi-jkl", Optional.empty());
        assertThat(plain.storeId()).isEqualTo("2~abc.DEF_ghi-jkl");
        assertThat(S3UploadId.parse(plain.storeId())).isEqualTo(plain);
    }

    @Test
    void anIdWithAChecksumReadsBackAsIt() {
        for (MultipartChecksum c : new MultipartChecksum[] {new MultipartChecksum("crc32", false),
                new MultipartChecksum("crc64nvme", true), new MultipartChecksum("sha256", false)}) {
            S3UploadId id = new S3UploadId("u 1/+=", Optional.of(c));
            assertThat(S3UploadId.parse(id.storeId())).isEqualTo(id);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"crc32\nu", "crc32 COMPOSITE\n", "md4 COMPOSITE\nu", "sha256 FULL_OBJECT\nu", "crc32 COMPOSITE x\nu"})
    void anIdThatIsNotOneIsNoSuchUpload(String storeId) {
        assertThatThrownBy(() -> S3UploadId.parse(storeId))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.NO_SUCH_UPLOAD));
    }
}
