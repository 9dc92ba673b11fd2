package dev.sluice.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class UriEncodingTest {

    @ParameterizedTest
    @ValueSource(strings = {
        "a b.txt",
        "a+b.txt",
        "100%.txt",
        "100%25.txt",
        "country_iso=ETH/part-0.parquet",
        "report*.pdf",
        "tilde~hash#pipe|.bin",
        "ünïcødé/文件.txt",
    })
    void s3KeysRoundTrip(String key) {
        String encoded = UriEncoding.encodePath(key);

        assertThat(UriEncoding.decode(encoded)).isEqualTo(key);
        // Whatever the key, the encoded form must be safe to put in a request target as is.
        assertThat(encoded).matches("[A-Za-z0-9\\-_.~/%]*");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
        a b.txt                        | a%20b.txt
        a+b.txt                        | a%2Bb.txt
        100%.txt                       | 100%25.txt
        100%25.txt                     | 100%2525.txt
        country_iso=ETH/part-0.parquet | country_iso%3DETH/part-0.parquet
        report*.pdf                    | report%2A.pdf
        "tilde~hash#pipe|.bin"         | tilde~hash%23pipe%7C.bin
        ünïcødé/文件.txt                | %C3%BCn%C3%AFc%C3%B8d%C3%A9/%E6%96%87%E4%BB%B6.txt
        -._~AZaz09                     | -._~AZaz09
        test$file.text                 | test%24file.text
        """)
    void encodePathEscapesAllButUnreservedAndSlash(String key, String expected) {
        assertThat(UriEncoding.encodePath(key)).isEqualTo(expected);
    }

    @Test
    void encodeEscapesSlashToo() {
        assertThat(UriEncoding.encode("a/b c")).isEqualTo("a%2Fb%20c");
        assertThat(UriEncoding.encodePath("a/b c")).isEqualTo("a/b%20c");
    }

    @Test
    void encodeUsesUppercaseHexAndKeepsTilde() {
        assertThat(UriEncoding.encode("~:?=&é")).isEqualTo("~%3A%3F%3D%26%C3%A9");
    }

    @Test
    void encodeLeavesUnreservedStringsAlone() {
        assertThat(UriEncoding.encode("")).isEmpty();
        assertThat(UriEncoding.encode("abc-DEF_123.~")).isEqualTo("abc-DEF_123.~");
    }

    @Test
    void encodeRejectsUnpairedSurrogate() {
        // getBytes would silently write '?', signing a key other than the caller's.
        assertThatIllegalArgumentException().isThrownBy(() -> UriEncoding.encode("a\uD800b"));
    }

    @Test
    void decodeKeepsPlusAsPlus() {
        assertThat(UriEncoding.decode("a+b")).isEqualTo("a+b");
        assertThat(UriEncoding.decode("a%2Bb")).isEqualTo("a+b");
    }

    @Test
    void decodeAcceptsLowercaseHexAndRawNonAscii() {
        assertThat(UriEncoding.decode("%2b%7e")).isEqualTo("+~");
        assertThat(UriEncoding.decode("文件%2F%E6%96%87")).isEqualTo("文件/文");
        assertThat(UriEncoding.decode("")).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"%", "%4", "%ZZ", "%C3%28", "abc%", "a%2", "%G0", "%E6%96", "%FF", "%C0%AF"})
    void decodeRejectsMalformedEscapesAndInvalidUtf8(String malformed) {
        assertThatIllegalArgumentException().isThrownBy(() -> UriEncoding.decode(malformed));
    }
}
