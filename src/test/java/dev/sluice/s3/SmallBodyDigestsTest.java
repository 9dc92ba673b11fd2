package dev.sluice.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SmallBodyDigestsTest {
    private static final byte[] CHECK = "123456789".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BODY = "<Delete><Object><Key>hello/a</Key></Object></Delete>".getBytes(StandardCharsets.UTF_8);

    private static void check(Map<String, String> headers, byte[] body, boolean required) {
        SmallBodyDigests.check(name -> Optional.ofNullable(headers.get(name)), body, required);
    }

    private static void assertRefused(Runnable call, S3Error error) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(S3Exception.class, e -> {
            assertThat(e.error()).isEqualTo(error);
            assertThat(e.error().status()).isEqualTo(400);
        });
    }

    private static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    @ParameterizedTest
    @CsvSource(textBlock = """
        crc32,     cbf43926
        crc32c,    e3069283
        crc64nvme, ae8b14860a799888
        sha1,      f7c3bc1d808e04732adf679965ccc34ca7ae3441
        sha256,    15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225
        """)
    void eachChecksumIsComputedAsItsStandardCheckValueSays(String algorithm, String hex) {
        assertThat(HexFormat.of().formatHex(SmallBodyDigests.checksum(algorithm, CHECK))).isEqualTo(hex);
    }

    @Test
    void matchingDigestsPass() {
        assertThatCode(() -> check(Map.of("Content-MD5", "r9ip8HWnWXYvXA1Ov5f+8A==",
                "x-amz-checksum-crc32", b64(SmallBodyDigests.checksum("crc32", BODY))), BODY, true)).doesNotThrowAnyException();
        assertThatCode(() -> check(Map.of("x-amz-checksum-crc64nvme", b64(SmallBodyDigests.checksum("crc64nvme", BODY))), BODY, true))
                .doesNotThrowAnyException();
    }

    @Test
    void aDigestThatDoesNotMatchIsBadDigest() {
        assertRefused(() -> check(Map.of("Content-MD5", b64(new byte[16])), BODY, true), S3Error.BAD_DIGEST);
        assertRefused(() -> check(Map.of("x-amz-checksum-sha256", b64(new byte[32])), BODY, false), S3Error.BAD_DIGEST);
    }

    @Test
    void aDigestThatIsNotBase64OfItsLengthIsInvalidDigest() {
        assertRefused(() -> check(Map.of("Content-MD5", "not base64!"), BODY, true), S3Error.INVALID_DIGEST);
        assertRefused(() -> check(Map.of("x-amz-checksum-crc32", b64(new byte[8])), BODY, true), S3Error.INVALID_DIGEST);
    }

    @Test
    void aRequiredDigestThatIsMissingIsInvalidRequest() {
        assertRefused(() -> check(Map.of(), BODY, true), S3Error.INVALID_REQUEST);
        assertThatCode(() -> check(Map.of(), BODY, false)).doesNotThrowAnyException();
    }
}
