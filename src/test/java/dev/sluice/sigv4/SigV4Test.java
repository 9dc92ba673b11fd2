package dev.sluice.sigv4;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SigV4Test {

    private static final List<Map.Entry<String, String>> HOST = List.of(Map.entry("Host", "example.com"));

    @Test
    void amzDateIsUtcToTheSecond() {
        assertThat(SigV4.amzDate(Instant.parse("2015-08-30T12:36:00.987Z"))).isEqualTo("20150830T123600Z");
        assertThat(SigV4.amzDate(Instant.parse("2013-05-24T00:00:00Z"))).isEqualTo("20130524T000000Z");
    }

    @Test
    void credentialScopeNamesDayRegionAndService() {
        assertThat(SigV4.credentialScope(LocalDate.of(2015, 8, 30), "us-east-1", "s3"))
                .isEqualTo("20150830/us-east-1/s3/aws4_request");
    }

    @Test
    void sha256OfNothingIsTheEmptyPayloadHash() {
        assertThat(SigV4.sha256Hex(new byte[0])).isEqualTo(SigV4.EMPTY_SHA256);
    }

    @Test
    void signingKeyMatchesTheAwsDocumentedDerivation() {
        // The example in the AWS General Reference ("Examples of how to derive a signing key").
        byte[] key = SigV4.signingKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", LocalDate.of(2012, 2, 15),
                "us-east-1", "iam");
        assertThat(HexFormat.of().formatHex(key))
                .isEqualTo("f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
    }

    @ParameterizedTest(name = "?{0} -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
        ""                        | ""
        acl                       | acl=
        uploads&prefix=a          | prefix=a&uploads=
        a=                        | a=
        b=2&a=1                   | a=1&b=2
        a=2&a=1&a=10              | a=1&a=10&a=2
        a=1&B=2                   | B=2&a=1
        prefix=a+b                | prefix=a%2Bb
        prefix=a%20b              | prefix=a%20b
        prefix=%7e%2f%2b          | prefix=~%2F%2B
        prefix=x=y                | prefix=x%3Dy
        list-type=2&prefix=文件/  | list-type=2&prefix=%E6%96%87%E4%BB%B6%2F
        a=1&&b=2&                 | a=1&b=2
        """)
    void canonicalQueryDecodesReencodesAndSorts(String rawQuery, String expected) {
        assertThat(SigV4.canonicalQueryString(rawQuery)).isEqualTo(expected);
    }

    @Test
    void canonicalQueryRejectsMalformedEscapes() {
        assertThatIllegalArgumentException().isThrownBy(() -> SigV4.canonicalQueryString("prefix=%ZZ"));
    }

    @Test
    void canonicalUriIsTakenAsSentNeverNormalised() {
        // S3 keys may contain '//', '.' and '..' segments; S3 signs the path exactly as sent.
        for (String path : List.of("/bucket//a/./b/../c", "/bucket/a%20b", "/bucket/%7E")) {
            String creq = SigV4.canonicalRequest("GET", path, "", HOST, List.of("host"), SigV4.EMPTY_SHA256);
            assertThat(creq.lines().toList().get(1)).isEqualTo(path);
        }
        String root = SigV4.canonicalRequest("GET", "", "", HOST, List.of("host"), SigV4.EMPTY_SHA256);
        assertThat(root.lines().toList().get(1)).isEqualTo("/");
    }

    @Test
    void headersAreLowercasedTrimmedCollapsedJoinedAndSorted() {
        List<Map.Entry<String, String>> headers = List.of(
                Map.entry("Host", "example.com"),
                Map.entry("X-Amz-Meta-B", "  two\t\twords  "),
                Map.entry("x-amz-meta-a", "first"),
                Map.entry("X-AMZ-META-A", "second"),
                Map.entry("X-Unsigned", "ignored"),
                Map.entry("X-Empty", ""));

        String creq = SigV4.canonicalRequest("PUT", "/b/k", "", headers,
                List.of("x-amz-meta-b", "host", "x-amz-meta-a", "x-empty"), SigV4.UNSIGNED_PAYLOAD);

        assertThat(creq).isEqualTo("""
                PUT
                /b/k

                host:example.com
                x-amz-meta-a:first,second
                x-amz-meta-b:two words
                x-empty:

                host;x-amz-meta-a;x-amz-meta-b;x-empty
                UNSIGNED-PAYLOAD""");
    }

    @Test
    void missingSignedHeaderIsRejected() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> SigV4.canonicalRequest("GET", "/", "", HOST, List.of("host", "range"),
                        SigV4.EMPTY_SHA256))
                .withMessageContaining("range");
    }

    @Test
    void lineBreaksInLineFieldsAreRejected() {
        assertThatIllegalArgumentException().isThrownBy(
                () -> SigV4.canonicalRequest("GET", "/a\nb", "", HOST, List.of("host"), SigV4.EMPTY_SHA256));
        assertThatIllegalArgumentException().isThrownBy(
                () -> SigV4.canonicalRequest("GET", "/", "", HOST, List.of("host"), "x\nhost:evil"));
    }

    @Test
    void stringToSignHashesTheCanonicalRequest() {
        String creq = "GET\n/\n\nhost:example.com\n\nhost\n" + SigV4.EMPTY_SHA256;
        assertThat(SigV4.stringToSign(Instant.parse("2015-08-30T12:36:00Z"), "eu-west-1", "s3", creq))
                .isEqualTo("AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/eu-west-1/s3/aws4_request\n"
                        + SigV4.sha256Hex(creq.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void constantTimeEqualsComparesWholeStrings() {
        assertThat(SigV4.constantTimeEquals("abc", "abc")).isTrue();
        assertThat(SigV4.constantTimeEquals("abc", "abd")).isFalse();
        assertThat(SigV4.constantTimeEquals("abc", "ab")).isFalse();
        assertThat(SigV4.constantTimeEquals("", "")).isTrue();
    }
}
