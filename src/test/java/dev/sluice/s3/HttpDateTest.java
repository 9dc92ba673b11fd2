package dev.sluice.s3;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HttpDateTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(textBlock = """
        2024-06-03T10:15:30Z,     'Mon, 03 Jun 2024 10:15:30 GMT'
        2024-06-03T10:15:30.999Z, 'Mon, 03 Jun 2024 10:15:30 GMT'
        1994-11-06T08:49:37Z,     'Sun, 06 Nov 1994 08:49:37 GMT'
        2025-12-31T23:59:59Z,     'Wed, 31 Dec 2025 23:59:59 GMT'
        1970-01-01T00:00:00Z,     'Thu, 01 Jan 1970 00:00:00 GMT'
        """)
    void writesImfFixdateWithATwoDigitDay(Instant instant, String expected) {
        assertThat(HttpDate.format(instant)).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource(textBlock = """
        2024-06-03T10:15:30Z
        2024-02-29T00:00:01Z
        """)
    void whatItWritesParsesBackToTheSameSecond(Instant instant) {
        assertThat(Preconditions.parseHttpDate(HttpDate.format(instant))).contains(instant);
    }
}
