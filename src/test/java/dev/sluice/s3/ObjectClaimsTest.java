package dev.sluice.s3;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ObjectClaimsTest {
    private static final MultipartChecksum CRC32_FULL = new MultipartChecksum("crc32", true);
    private static final MultipartChecksum SHA256_COMPOSITE = new MultipartChecksum("sha256", false);
    /** CRC32 of "abc": 0x352441C2. */
    private static final String CRC32_ABC = "NSRBwg==";

    private static ObjectClaims of(Map<String, String> headers) {
        return ObjectClaims.of(name -> Optional.ofNullable(headers.get(name)));
    }

    private static void refused(ObjectClaims claims, Optional<MultipartChecksum> upload, Optional<String> computed, long size,
                                S3Error error) {
        assertThatThrownBy(() -> claims.check(upload, computed, size)).as("%s against %s", claims, upload)
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(error));
    }

    @Test
    void headersAreReadAsTheObjectsClaims() {
        assertThat(of(Map.of())).isSameAs(ObjectClaims.NONE);
        ObjectClaims claims = of(Map.of("x-amz-checksum-crc32", " " + CRC32_ABC + " ", "x-amz-checksum-type", "full_object",
                "x-amz-mp-object-size", "3"));
        assertThat(claims.checksum()).contains(new ObjectClaims.Claimed("crc32", CRC32_ABC));
        assertThat(claims.type()).contains("FULL_OBJECT");
        assertThat(claims.size()).isEqualTo(OptionalLong.of(3));
    }

    @Test
    void malformedClaimsAreInvalidRequest() {
        for (Map<String, String> headers : java.util.List.of(
                Map.of("x-amz-checksum-crc32", CRC32_ABC, "x-amz-checksum-sha1", "x"),
                Map.of("x-amz-checksum-type", "BOTH"),
                Map.of("x-amz-mp-object-size", "-1"),
                Map.of("x-amz-mp-object-size", "12a"),
                Map.of("x-amz-mp-object-size", "99999999999999999999"))) {
            assertThatThrownBy(() -> of(headers)).as("%s", headers)
                    .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.INVALID_REQUEST));
        }
    }

    @Test
    void aFullObjectClaimMustBeTheComputedCrc() {
        Optional<MultipartChecksum> upload = Optional.of(CRC32_FULL);
        assertThatCode(() -> of(Map.of("x-amz-checksum-crc32", CRC32_ABC, "x-amz-checksum-type", "FULL_OBJECT", "x-amz-mp-object-size", "3"))
                .check(upload, Optional.of(CRC32_ABC), 3)).doesNotThrowAnyException();
        refused(of(Map.of("x-amz-checksum-crc32", "AAAAAA==")), upload, Optional.of(CRC32_ABC), 3, S3Error.BAD_DIGEST);
        refused(of(Map.of("x-amz-checksum-crc32", "not base64!")), upload, Optional.of(CRC32_ABC), 3, S3Error.BAD_DIGEST);
        refused(of(Map.of("x-amz-checksum-crc32", CRC32_ABC + "-2")), upload, Optional.of(CRC32_ABC), 3, S3Error.BAD_DIGEST);
    }

    @Test
    void aCompositeClaimMayLeaveOutThePartCountButNotMisstateIt() {
        Optional<MultipartChecksum> upload = Optional.of(SHA256_COMPOSITE);
        String value = "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=";
        Optional<String> computed = Optional.of(value + "-2");
        assertThatCode(() -> of(Map.of("x-amz-checksum-sha256", value + "-2")).check(upload, computed, 9)).doesNotThrowAnyException();
        assertThatCode(() -> of(Map.of("x-amz-checksum-sha256", value)).check(upload, computed, 9)).doesNotThrowAnyException();
        refused(of(Map.of("x-amz-checksum-sha256", value + "-3")), upload, computed, 9, S3Error.BAD_DIGEST);
    }

    @Test
    void whatTheUploadWasNotStartedWithCannotBeClaimed() {
        Optional<MultipartChecksum> upload = Optional.of(CRC32_FULL);
        refused(of(Map.of("x-amz-checksum-crc32c", CRC32_ABC)), upload, Optional.of(CRC32_ABC), 3, S3Error.INVALID_REQUEST);
        refused(of(Map.of("x-amz-checksum-type", "COMPOSITE")), upload, Optional.of(CRC32_ABC), 3, S3Error.INVALID_REQUEST);
        refused(of(Map.of("x-amz-checksum-crc32", CRC32_ABC)), Optional.empty(), Optional.empty(), 3, S3Error.INVALID_REQUEST);
        refused(of(Map.of("x-amz-checksum-type", "FULL_OBJECT")), Optional.empty(), Optional.empty(), 3, S3Error.INVALID_REQUEST);
    }

    @Test
    void theSizeMustBeTheParts() {
        refused(of(Map.of("x-amz-mp-object-size", "4")), Optional.empty(), Optional.empty(), 3, S3Error.INVALID_REQUEST);
        assertThatCode(() -> of(Map.of("x-amz-mp-object-size", "3")).check(Optional.empty(), Optional.empty(), 3))
                .doesNotThrowAnyException();
        // A wrong size is answered before a wrong checksum, which the wrong size may explain.
        refused(of(Map.of("x-amz-mp-object-size", "4", "x-amz-checksum-crc32", "AAAAAA==")), Optional.of(CRC32_FULL),
                Optional.of(CRC32_ABC), 3, S3Error.INVALID_REQUEST);
    }
}
