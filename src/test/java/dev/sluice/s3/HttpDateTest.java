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
}
