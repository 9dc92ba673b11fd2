package dev.sluice.sigv4;

import dev.sluice.s3.UriEncoding;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Expected signatures here were not produced by this code: the suite-derived ones were computed
 * independently (Python hmac/hashlib over the canonical request spelled out in each test), and the
 * S3 ones are the worked examples of the S3 API Reference, "Signature Calculations for the
 * Authorization Header", which use a secret with {@code /} where the SigV4 suite has {@code +}.
 */
class RequestSignerTest {

    private static final String SUITE_TOKEN = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
    private static final AwsCredentials SUITE = AwsCredentials.of("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    private static final Instant SUITE_TIME = Instant.parse("2015-08-30T12:36:00Z");

    private static final AwsCredentials S3_DOCS = AwsCredentials.of("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    private static final Instant S3_DOCS_TIME = Instant.parse("2013-05-24T00:00:00Z");
    private static final String S3_DOCS_HOST = "examplebucket.s3.amazonaws.com";

    private final RequestSigner suiteSigner = new RequestSigner("us-east-1", "service");
    private final RequestSigner s3Signer = new RequestSigner("us-east-1", "s3");

    /**
     * The suite's get-vanilla request plus the x-amz-content-sha256 header S3 requires, i.e. the
     * canonical request
     * {@code GET\n/\n\nhost:example.amazonaws.com\nx-amz-content-sha256:e3b0…\nx-amz-date:20150830T123600Z\n\nhost;x-amz-content-sha256;x-amz-date\ne3b0…}.
     */
    @Test
    void signsGetVanilla() {
        List<Map.Entry<String, String>> added = suiteSigner.sign("GET", "example.amazonaws.com", "/", "", List.of(),
                SigV4.EMPTY_SHA256, SUITE, SUITE_TIME);

        assertThat(added).containsExactly(
                Map.entry("x-amz-date", "20150830T123600Z"),
                Map.entry("x-amz-content-sha256", SigV4.EMPTY_SHA256),
                Map.entry("authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                        + "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                        + "Signature=726c5c4879a6b4ccbbd3b24edbd6b8826d34f87450fbbf4e85546fc7ba9c1642"));
    }

    /** As {@link #signsGetVanilla} with the suite's session token, which must be sent and signed. */
    @Test
    void sessionTokenIsAddedAndSigned() {
        AwsCredentials temporary = AwsCredentials.of(SUITE.accessKeyId(), SUITE.secretAccessKey(), SUITE_TOKEN);

        List<Map.Entry<String, String>> added = suiteSigner.sign("GET", "example.amazonaws.com", "/", "", List.of(),
                SigV4.EMPTY_SHA256, temporary, SUITE_TIME);

        assertThat(added).containsExactly(
                Map.entry("x-amz-date", "20150830T123600Z"),
                Map.entry("x-amz-content-sha256", SigV4.EMPTY_SHA256),
                Map.entry("x-amz-security-token", SUITE_TOKEN),
                Map.entry("authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                        + "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, "
                        + "Signature=07c4c74d2df5a40f9f6ecbdd88b5567b92c7d67a66979e89962452866bbc164b"));
    }

    @Test
    void signsS3DocsGetObjectWithRange() {
        List<Map.Entry<String, String>> added = s3Signer.sign("GET", S3_DOCS_HOST, "/test.txt", "",
                List.of(Map.entry("Range", "bytes=0-9")), SigV4.EMPTY_SHA256, S3_DOCS, S3_DOCS_TIME);

        assertThat(authorization(added)).isEqualTo(s3DocsAuthorization("host;range;x-amz-content-sha256;x-amz-date",
                "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"));
    }

    @Test
    void signsS3DocsPutObject() {
        String payloadHash = SigV4.sha256Hex("Welcome to Amazon S3.".getBytes(StandardCharsets.UTF_8));

        List<Map.Entry<String, String>> added = s3Signer.sign("PUT", S3_DOCS_HOST,
                UriEncoding.encodePath("/test$file.text"), "",
                List.of(Map.entry("Date", "Fri, 24 May 2013 00:00:00 GMT"),
                        Map.entry("x-amz-storage-class", "REDUCED_REDUNDANCY")),
                payloadHash, S3_DOCS, S3_DOCS_TIME);

        assertThat(added).contains(Map.entry("x-amz-content-sha256",
                "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"));
        assertThat(authorization(added)).isEqualTo(s3DocsAuthorization(
                "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"));
    }

    /** A bare sub-resource flag ({@code ?lifecycle}) is signed as {@code lifecycle=}. */
    @Test
    void signsS3DocsGetBucketLifecycle() {
        List<Map.Entry<String, String>> added = s3Signer.sign("GET", S3_DOCS_HOST, "/", "lifecycle", List.of(),
                SigV4.EMPTY_SHA256, S3_DOCS, S3_DOCS_TIME);

        assertThat(authorization(added)).isEqualTo(s3DocsAuthorization("host;x-amz-content-sha256;x-amz-date",
                "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"));
    }

    @Test
    void signsS3DocsListObjects() {
        List<Map.Entry<String, String>> added = s3Signer.sign("GET", S3_DOCS_HOST, "/", "max-keys=2&prefix=J",
                List.of(), SigV4.EMPTY_SHA256, S3_DOCS, S3_DOCS_TIME);

        assertThat(authorization(added)).isEqualTo(s3DocsAuthorization("host;x-amz-content-sha256;x-amz-date",
                "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"));
    }

    @Test
    void unsignedPayloadIsDeclaredAndSigned() {
        List<Map.Entry<String, String>> added = s3Signer.sign("PUT", "127.0.0.1:9000", "/bucket/key", "", List.of(),
                SigV4.UNSIGNED_PAYLOAD, S3_DOCS, S3_DOCS_TIME);

        assertThat(added).contains(Map.entry("x-amz-content-sha256", "UNSIGNED-PAYLOAD"));
        assertThat(authorization(added)).contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date,");
    }

    @Test
    void signatureDependsOnTheHostPort() {
        String withPort = authorization(s3Signer.sign("GET", "127.0.0.1:9000", "/b/k", "", List.of(),
                SigV4.EMPTY_SHA256, S3_DOCS, S3_DOCS_TIME));
        String withoutPort = authorization(s3Signer.sign("GET", "127.0.0.1", "/b/k", "", List.of(),
                SigV4.EMPTY_SHA256, S3_DOCS, S3_DOCS_TIME));

        assertThat(withPort).isNotEqualTo(withoutPort);
    }

    @ParameterizedTest
    @ValueSource(strings = {"Host", "x-amz-date", "X-Amz-Content-Sha256", "x-amz-security-token", "Authorization"})
    void rejectsExtraHeadersTheSignerSets(String name) {
        assertThatIllegalArgumentException().isThrownBy(() -> s3Signer.sign("GET", S3_DOCS_HOST, "/", "",
                List.of(Map.entry(name, "x")), SigV4.EMPTY_SHA256, S3_DOCS, S3_DOCS_TIME));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "us/east", "us east"})
    void rejectsRegionsThatWouldBreakTheScope(String region) {
        assertThatIllegalArgumentException().isThrownBy(() -> new RequestSigner(region, "s3"));
    }

    private static String authorization(List<Map.Entry<String, String>> added) {
        return added.stream().filter(h -> h.getKey().equals("authorization")).map(Map.Entry::getValue)
                .findFirst().orElseThrow();
    }

    private static String s3DocsAuthorization(String signedHeaders, String signature) {
        return "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=" + signedHeaders + ", Signature=" + signature;
    }
}
