package dev.sluice.s3;

import static dev.sluice.s3.Preconditions.Outcome.NOT_MODIFIED;
import static dev.sluice.s3.Preconditions.Outcome.PRECONDITION_FAILED;
import static dev.sluice.s3.Preconditions.Outcome.PROCEED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Parsing the conditional headers; how they are evaluated, in which order and with which
 * answer, is {@link ReadDecisionTest}'s.
 */
class PreconditionsTest {
    private static final String ETAG = "\"0123456789abcdef0123456789abcdef\"";
    private static final String BARE = "0123456789abcdef0123456789abcdef";
    private static final String OTHER = "\"ffffffffffffffffffffffffffffffff\"";
    /** Sub-second part on purpose: HTTP dates have whole seconds, so comparisons must ignore it. */
    private static final Instant MODIFIED = Instant.parse("2024-06-03T10:15:30.750Z");
    private static final String SAME_SECOND = "Mon, 03 Jun 2024 10:15:30 GMT";
    private static final String SECOND_EARLIER = "Mon, 03 Jun 2024 10:15:29 GMT";
    private static final String SECOND_LATER = "Mon, 03 Jun 2024 10:15:31 GMT";

    @Test
    void proceedsWithoutConditions() {
        assertThat(Preconditions.NONE.isEmpty()).isTrue();
        assertThat(Preconditions.NONE.evaluate(ETAG, MODIFIED)).isEqualTo(PROCEED);
        assertThat(Preconditions.of(null, null, null, null)).isEqualTo(Preconditions.NONE);
    }

    @Test
    void fixtureDatesNameTheModificationSecond() {
        assertThat(HttpDate.format(MODIFIED)).isEqualTo(SAME_SECOND);
        assertThat(HttpDate.format(MODIFIED.minusSeconds(1))).isEqualTo(SECOND_EARLIER);
        assertThat(HttpDate.format(MODIFIED.plusSeconds(1))).isEqualTo(SECOND_LATER);
    }

    @Test
    void failedPreconditionIsPreconditionFailed412() {
        assertThatThrownBy(() -> Preconditions.throwIfFailed(PRECONDITION_FAILED))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.error().code()).isEqualTo("PreconditionFailed");
                    assertThat(e.error().status()).isEqualTo(412);
                });
        assertThatCode(() -> Preconditions.throwIfFailed(PROCEED)).doesNotThrowAnyException();
        assertThatCode(() -> Preconditions.throwIfFailed(NOT_MODIFIED)).doesNotThrowAnyException();
    }

    // --- dates -------------------------------------------------------------------------------

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {"", "   ", "yesterday", "2024-06-03T10:15:30Z", "1717409730", "Mon, 03 Jun 2024 25:00:00 GMT",
        "Mon, 32 Jun 2024 10:15:30 GMT"})
    void ignoresDatesThatDoNotParse(String garbage) {
        Preconditions p = Preconditions.of(null, null, garbage, garbage);

        assertThat(p.isEmpty()).isTrue();
        assertThat(p.evaluate(ETAG, MODIFIED)).isEqualTo(PROCEED);
    }

    @Test
    void parsesImfFixdateAndItsSingleDigitDayVariant() {
        assertThat(Preconditions.parseHttpDate("Mon, 03 Jun 2024 10:15:30 GMT")).contains(Instant.parse("2024-06-03T10:15:30Z"));
        assertThat(Preconditions.parseHttpDate("Mon, 3 Jun 2024 10:15:30 GMT")).contains(Instant.parse("2024-06-03T10:15:30Z"));
    }

    // An object known by two tags at once (the file backend's provisional and content-MD5 tags).

    @Test
    void entityTagListsAreRewrittenInOneForm() {
        assertThat(Preconditions.entityTagList("\"a\",\t\"b\"\t,\tW/\"c\"", "If-Match")).isEqualTo("\"a\", \"b\", W/\"c\"");
        assertThat(Preconditions.entityTagList(" * ", "If-Match")).isEqualTo("*");
        assertThat(Preconditions.entityTagList("\"a\", , \"b\",", "If-Match")).isEqualTo("\"a\", \"b\"");
        assertThat(Preconditions.entityTagList("abc123", "If-Match")).isEqualTo("\"abc123\"");
        assertThat(Preconditions.entityTagList("\"\"", "If-Match")).isEqualTo("\"\"");
        assertThat(Preconditions.of("\"a\",\t\"b\"", null, null, null).ifMatch()).hasValue("\"a\", \"b\"");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", ",", "\"open", "\"a\" \"b\"", "\"a\"b", "W/", "W/\"open", "\"a\u0001\"", "\"a\tb\"",
            "a\u0000b", "\"a\"\r\n\"b\""})
    void whatIsNotAnEntityTagListIsInvalidArgument(String value) {
        assertThatThrownBy(() -> Preconditions.of(value, null, null, null))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.INVALID_ARGUMENT));
        assertThatThrownBy(() -> Preconditions.of(null, value, null, null))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.INVALID_ARGUMENT));
    }

    @Test
    void anEntityTagListLongerThanTheLimitIsInvalidArgument() {
        String justFits = "\"" + "a".repeat(Preconditions.MAX_ETAG_LIST_LENGTH - 2) + "\"";
        assertThat(Preconditions.entityTagList(justFits, "If-Match")).isEqualTo(justFits);
        assertThatThrownBy(() -> Preconditions.of("\"" + "a".repeat(Preconditions.MAX_ETAG_LIST_LENGTH - 1) + "\"", null, null, null))
                .isInstanceOf(S3Exception.class);
    }
}
