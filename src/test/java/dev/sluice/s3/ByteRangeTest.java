package dev.sluice.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ByteRangeTest {

    private static ByteRange resolve(String header, long size) {
        return ByteRange.parse(header).orElseThrow(() -> new AssertionError(header + " did not parse")).resolve(size);
    }

    @ParameterizedTest(name = "{0} of {1} bytes -> {2}-{3}")
    @CsvSource(textBlock = """
        bytes=0-0,     100, 0,  0
        bytes=0-99,    100, 0,  99
        bytes=10-19,   100, 10, 19
        bytes=99-99,   100, 99, 99
        bytes=10-,     100, 10, 99
        bytes=99-,     100, 99, 99
        bytes=-1,      100, 99, 99
        bytes=-10,     100, 90, 99
        bytes=-100,    100, 0,  99
        Bytes=1-2,     100, 1,  2
        """)
    void resolvesSatisfiableRanges(String header, long size, long first, long last) {
        ByteRange range = resolve(header, size);

        assertThat(range).isEqualTo(new ByteRange(first, last));
        assertThat(range.length()).isEqualTo(last - first + 1);
        assertThat(range.contentRange(size)).isEqualTo("bytes " + first + "-" + last + "/" + size);
    }

    @Test
    void clampsAnEndBeyondTheObjectToItsLastByte() {
        assertThat(resolve("bytes=90-1000", 100)).isEqualTo(new ByteRange(90, 99));
        assertThat(resolve("bytes=0-" + Long.MAX_VALUE, 100)).isEqualTo(new ByteRange(0, 99));
    }

    @Test
    void servesTheWholeObjectForASuffixLongerThanIt() {
        assertThat(resolve("bytes=-500", 100)).isEqualTo(new ByteRange(0, 99));
    }

    @Test
    void parsesIntoTheSpecKinds() {
        assertThat(ByteRange.parse("bytes=5-9")).contains(new ByteRange.FromTo(5, Optional.of(9L)));
        assertThat(ByteRange.parse("bytes=5-")).contains(new ByteRange.FromTo(5, Optional.empty()));
        assertThat(ByteRange.parse("bytes=-5")).contains(new ByteRange.Suffix(5));
    }

    @ParameterizedTest(name = "{0} of {1} bytes")
    @CsvSource(textBlock = """
        bytes=100-,    100
        bytes=100-200, 100
        bytes=1000-,   100
        bytes=-0,      100
        bytes=0-,      0
        bytes=0-0,     0
        bytes=-1,      0
        bytes=-0,      0
        """)
    void refusesUnsatisfiableRangesWithInvalidRangeAndTheObjectSize(String header, long size) {
        ByteRange.Spec spec = ByteRange.parse(header).orElseThrow();

        assertThatThrownBy(() -> spec.resolve(size))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.error()).isEqualTo(S3Error.INVALID_RANGE);
                    assertThat(e.error().code()).isEqualTo("InvalidRange");
                    assertThat(e.error().status()).isEqualTo(416);
                    assertThat(e.extraHeaders()).containsExactly(Map.entry("Content-Range", "bytes */" + size));
                });
    }

    @Test
    void firstByteAtTheLastPositionIsSatisfiableButOnePastItIsNot() {
        assertThat(resolve("bytes=99-", 100)).isEqualTo(new ByteRange(99, 99));
        assertThatThrownBy(() -> resolve("bytes=100-", 100))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.INVALID_RANGE));
    }

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {
        "",
        "bytes=",
        "bytes=-",
        "bytes=abc",
        "bytes=a-b",
        "bytes=1-b",
        "bytes=5",
        "bytes=+1-2",
        "bytes=1-+2",
        "bytes=-+2",
        "bytes=--2",
        "bytes=1--2",
        "bytes=0x10-",
        "bytes=1.5-2",
        "bytes=99999999999999999999-",
        "bytes=0-1,2-3",
        "bytes=0-1,",
        "bytes=,0-1",
        "bytes=-1,-2",
        "bytes=5-4",
        "bytes=100-0",
        "items=0-1",
        "bits=0-1",
        "0-1",
        "bytes 0-1",
        "bytes:0-1",
        "bytes==0-1",
    })
    void ignoresHeadersThatDoNotParseAsOneByteRange(String header) {
        assertThat(ByteRange.parse(header)).isEmpty();
    }

    /**
     * RFC 9110's byte-range grammar has no whitespace inside a range, and S3 ignores such a
     * header. HTTP strips whitespace around a field value before it gets here, so none is
     * tolerated at either end either.
     */
    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {
        "bytes= 0-1",
        "bytes=0 -1",
        "bytes=0- 1",
        "bytes=0-1 ",
        " bytes=0-1",
        "bytes=- 1",
        "bytes =0-1",
        "bytes=\t0-1",
    })
    void ignoresRangesWithWhitespaceInside(String header) {
        assertThat(ByteRange.parse(header)).isEmpty();
    }

    @Test
    void ignoresAnAbsentHeader() {
        assertThat(ByteRange.parse(null)).isEmpty();
    }
}
