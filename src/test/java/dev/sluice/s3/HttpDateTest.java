package dev.sluice.s3;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HttpDateTest {

    private static final Instant T = Instant.parse("1994-11-06T08:49:37Z");

    @Test
    void writesImfFixdateWithATwoDigitDay() {
        assertThat(HttpDate.format(Instant.parse("2024-06-03T10:15:30Z"))).isEqualTo("Mon, 03 Jun 2024 10:15:30 GMT");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "Sun, 06 Nov 1994 08:49:37 GMT",   // IMF-fixdate
            "Sunday, 06-Nov-94 08:49:37 GMT",  // obsolete RFC 850
            "Sun Nov  6 08:49:37 1994",        // obsolete asctime
            "  Sun, 06 Nov 1994 08:49:37 GMT ",
    })
    void readsTheThreeFormsRfc9110AsksRecipientsToAccept(String text) {
        assertThat(HttpDate.parse(text)).contains(T);
    }

    @Test
    void readsARecentRfc850YearInThisCentury() {
        assertThat(HttpDate.parse("Thursday, 26-Nov-26 07:00:00 GMT")).contains(Instant.parse("2026-11-26T07:00:00Z"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "yesterday", "2024-06-03T10:15:30Z", "Sun, 06 Nov 1994 08:49:37", "Sun, 31 Feb 1994 08:49:37 GMT"})
    void anythingElseIsNoDate(String text) {
        assertThat(HttpDate.parse(text)).isEmpty();
    }

    @Test
    void nullIsNoDate() {
        assertThat(HttpDate.parse(null)).isEmpty();
    }

    /**
     * The hand-written IMF-fixdate reader and writer agree with java.time's on every second of
     * days spread over four centuries (leap years, month ends, each weekday), and leave a wrong
     * weekday or an impossible date to the general parsers, which refuse them.
     */
    @Test
    void theFastImfFixdatePathAgreesWithJavaTime() {
        java.time.format.DateTimeFormatter reference = java.time.format.DateTimeFormatter
                .ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", java.util.Locale.ROOT).withZone(java.time.ZoneOffset.UTC);
        java.util.Random random = new java.util.Random(7);
        long from = Instant.parse("1900-01-01T00:00:00Z").getEpochSecond();
        long to = Instant.parse("2300-01-01T00:00:00Z").getEpochSecond();
        for (int i = 0; i < 20_000; i++) {
            Instant t = Instant.ofEpochSecond(from + (long) (random.nextDouble() * (to - from)));
            String text = reference.format(t);
            assertThat(HttpDate.format(t)).isEqualTo(text);
            assertThat(HttpDate.parse(text)).contains(t);
        }
        assertThat(HttpDate.format(Instant.parse("2024-02-29T23:59:59Z"))).isEqualTo("Thu, 29 Feb 2024 23:59:59 GMT");
        assertThat(HttpDate.parse("Thu, 29 Feb 2024 23:59:59 GMT")).contains(Instant.parse("2024-02-29T23:59:59Z"));
        assertThat(HttpDate.parse("Mon, 06 Nov 1994 08:49:37 GMT")).isEmpty(); // 6 Nov 1994 was a Sunday
        assertThat(HttpDate.parse("Fri, 29 Feb 2023 08:49:37 GMT")).isEmpty();
        // A character that is not a digit in any number is no date, never an exception.
        for (int at : new int[] {5, 6, 12, 15, 17, 18, 20, 21, 23, 24}) {
            String text = "Sun, 06 Nov 1994 08:49:37 GMT";
            assertThat(HttpDate.parse(text.substring(0, at) + "x" + text.substring(at + 1))).as("x at %d", at).isEmpty();
        }
        // java.time's RFC 1123 reader takes 24:00:00 as the end of the day; the fast path leaves it to that reader.
        assertThat(HttpDate.parse("Sun, 06 Nov 1994 24:00:00 GMT")).contains(Instant.parse("1994-11-07T00:00:00Z"));
    }
}
