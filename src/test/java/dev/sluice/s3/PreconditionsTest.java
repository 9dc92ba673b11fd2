package dev.sluice.s3;

import static dev.sluice.s3.Preconditions.Outcome.NOT_MODIFIED;
import static dev.sluice.s3.Preconditions.Outcome.PRECONDITION_FAILED;
import static dev.sluice.s3.Preconditions.Outcome.PROCEED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PreconditionsTest {
    private static final String ETAG = "\"0123456789abcdef0123456789abcdef\"";
    private static final String BARE = "0123456789abcdef0123456789abcdef";
    private static final String OTHER = "\"ffffffffffffffffffffffffffffffff\"";
    /** Sub-second part on purpose: HTTP dates have whole seconds, so comparisons must ignore it. */
    private static final Instant MODIFIED = Instant.parse("2024-06-03T10:15:30.750Z");
    private static final String SAME_SECOND = "Mon, 03 Jun 2024 10:15:30 GMT";
    private static final String SECOND_EARLIER = "Mon, 03 Jun 2024 10:15:29 GMT";
    private static final String SECOND_LATER = "Mon, 03 Jun 2024 10:15:31 GMT";

    private static Preconditions.Outcome evaluate(String ifMatch, String ifNoneMatch, String ifModifiedSince,
                                                  String ifUnmodifiedSince) {
        return Preconditions.of(ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince).evaluate(ETAG, MODIFIED);
    }

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

    // --- If-Match ---------------------------------------------------------------------------

    @Test
    void ifMatchWithTheQuotedEtagProceeds() {
        assertThat(evaluate(ETAG, null, null, null)).isEqualTo(PROCEED);
    }

    @Test
    void ifMatchWithTheUnquotedEtagProceeds() {
        // aws-cli passes --if-match through as typed, usually without quotes; S3 accepts it.
        assertThat(evaluate(BARE, null, null, null)).isEqualTo(PROCEED);
    }

    @Test
    void ifMatchWithAnotherEtagFails() {
        assertThat(evaluate(OTHER, null, null, null)).isEqualTo(PRECONDITION_FAILED);
    }

    @Test
    void ifMatchStarProceedsForAnExistingObject() {
        assertThat(evaluate("*", null, null, null)).isEqualTo(PROCEED);
    }

    @Test
    void ifMatchListProceedsWhenAnyMemberMatches() {
        assertThat(evaluate(OTHER + ", " + ETAG, null, null, null)).isEqualTo(PROCEED);
        assertThat(evaluate(ETAG + "," + OTHER, null, null, null)).isEqualTo(PROCEED);
    }

    @Test
    void ifMatchListFailsWhenNoMemberMatches() {
        assertThat(evaluate(OTHER + ", \"abc\"", null, null, null)).isEqualTo(PRECONDITION_FAILED);
    }

    @Test
    void ifMatchWithAWeakTagFailsBecauseIfMatchComparesStrongly() {
        // RFC 9110 13.1.1: If-Match uses the strong comparison, and a weak tag never matches strongly.
        assertThat(evaluate("W/" + ETAG, null, null, null)).isEqualTo(PRECONDITION_FAILED);
        assertThat(evaluate("W/" + ETAG + ", " + ETAG, null, null, null)).isEqualTo(PROCEED);
    }

    @Test
    void ifMatchDoesNotMatchAPrefixOrSuperstringOfTheEtag() {
        assertThat(evaluate("\"0123456789abcdef\"", null, null, null)).isEqualTo(PRECONDITION_FAILED);
        assertThat(evaluate("\"" + BARE + "0\"", null, null, null)).isEqualTo(PRECONDITION_FAILED);
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

    // --- If-Unmodified-Since -----------------------------------------------------------------

    @Test
    void ifUnmodifiedSinceTheSameSecondProceeds() {
        assertThat(evaluate(null, null, null, SAME_SECOND)).isEqualTo(PROCEED);
    }

    @Test
    void ifUnmodifiedSinceOneSecondEarlierFails() {
        assertThat(evaluate(null, null, null, SECOND_EARLIER)).isEqualTo(PRECONDITION_FAILED);
    }

    @Test
    void ifUnmodifiedSinceLaterProceeds() {
        assertThat(evaluate(null, null, null, SECOND_LATER)).isEqualTo(PROCEED);
    }

    @Test
    void ifMatchThatHoldsOverridesAFailingIfUnmodifiedSince() {
        assertThat(evaluate(ETAG, null, null, SECOND_EARLIER)).isEqualTo(PROCEED);
    }

    @Test
    void ifMatchThatFailsFailsEvenWhenIfUnmodifiedSinceHolds() {
        assertThat(evaluate(OTHER, null, null, SECOND_LATER)).isEqualTo(PRECONDITION_FAILED);
    }

    // --- If-None-Match -----------------------------------------------------------------------

    @Test
    void ifNoneMatchWithTheEtagIsNotModified() {
        assertThat(evaluate(null, ETAG, null, null)).isEqualTo(NOT_MODIFIED);
        assertThat(evaluate(null, BARE, null, null)).isEqualTo(NOT_MODIFIED);
    }

    @Test
    void ifNoneMatchWithAnotherEtagProceeds() {
        assertThat(evaluate(null, OTHER, null, null)).isEqualTo(PROCEED);
    }

    @Test
    void ifNoneMatchStarIsNotModifiedForAnExistingObject() {
        assertThat(evaluate(null, "*", null, null)).isEqualTo(NOT_MODIFIED);
    }

    @Test
    void ifNoneMatchListIsNotModifiedWhenAnyMemberMatches() {
        assertThat(evaluate(null, OTHER + ", " + ETAG, null, null)).isEqualTo(NOT_MODIFIED);
    }

    @Test
    void ifNoneMatchWithAWeakTagIsNotModifiedBecauseIfNoneMatchComparesWeakly() {
        // RFC 9110 13.1.2: If-None-Match uses the weak comparison.
        assertThat(evaluate(null, "W/" + ETAG, null, null)).isEqualTo(NOT_MODIFIED);
    }

    @Test
    void ifNoneMatchThatDoesNotMatchOverridesAnIfModifiedSinceThatWouldSayNotModified() {
        assertThat(evaluate(null, OTHER, SECOND_LATER, null)).isEqualTo(PROCEED);
    }

    @Test
    void ifNoneMatchThatMatchesIsNotModifiedEvenWhenModifiedSince() {
        assertThat(evaluate(null, ETAG, SECOND_EARLIER, null)).isEqualTo(NOT_MODIFIED);
    }

    // --- If-Modified-Since -------------------------------------------------------------------

    @Test
    void ifModifiedSinceTheSameSecondIsNotModified() {
        assertThat(evaluate(null, null, SAME_SECOND, null)).isEqualTo(NOT_MODIFIED);
    }

    @Test
    void ifModifiedSinceOneSecondEarlierProceeds() {
        assertThat(evaluate(null, null, SECOND_EARLIER, null)).isEqualTo(PROCEED);
    }

    @Test
    void ifModifiedSinceLaterIsNotModified() {
        assertThat(evaluate(null, null, SECOND_LATER, null)).isEqualTo(NOT_MODIFIED);
    }

    // --- precedence across the two groups ------------------------------------------------------

    @Test
    void preconditionFailedWinsOverNotModified() {
        assertThat(evaluate(OTHER, ETAG, null, null)).isEqualTo(PRECONDITION_FAILED);
        assertThat(evaluate(null, ETAG, null, SECOND_EARLIER)).isEqualTo(PRECONDITION_FAILED);
        assertThat(evaluate(null, null, SAME_SECOND, SECOND_EARLIER)).isEqualTo(PRECONDITION_FAILED);
    }

    @Test
    void ifMatchHoldingAndIfNoneMatchMatchingIsNotModified() {
        assertThat(evaluate(ETAG, ETAG, null, null)).isEqualTo(NOT_MODIFIED);
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
    void anUnparseableIfUnmodifiedSinceDoesNotStopIfModifiedSinceFromApplying() {
        assertThat(evaluate(null, null, SAME_SECOND, "not a date")).isEqualTo(NOT_MODIFIED);
    }

    @Test
    void parsesImfFixdateAndItsSingleDigitDayVariant() {
        assertThat(Preconditions.parseHttpDate("Mon, 03 Jun 2024 10:15:30 GMT")).contains(Instant.parse("2024-06-03T10:15:30Z"));
        assertThat(Preconditions.parseHttpDate("Mon, 3 Jun 2024 10:15:30 GMT")).contains(Instant.parse("2024-06-03T10:15:30Z"));
    }

    // An object known by two tags at once (the file backend's provisional and content-MD5 tags).

    @Test
    void anIfMatchNamingEitherOfTheObjectsTagsHolds() {
        List<String> both = List.of(ETAG, OTHER);

        assertThat(Preconditions.of(OTHER, null, null, null).evaluate(both, MODIFIED)).isEqualTo(PROCEED);
        assertThat(Preconditions.of(ETAG, null, null, null).evaluate(both, MODIFIED)).isEqualTo(PROCEED);
        assertThat(Preconditions.of("\"abc\"", null, null, null).evaluate(both, MODIFIED)).isEqualTo(PRECONDITION_FAILED);
    }

    @Test
    void anIfNoneMatchNamingEitherOfTheObjectsTagsIsNotModified() {
        List<String> both = List.of(ETAG, OTHER);

        assertThat(Preconditions.of(null, OTHER, null, null).evaluate(both, MODIFIED)).isEqualTo(NOT_MODIFIED);
        assertThat(Preconditions.of(null, "W/" + ETAG, null, null).evaluate(both, MODIFIED)).isEqualTo(NOT_MODIFIED);
        assertThat(Preconditions.of(null, "\"abc\"", SAME_SECOND, null).evaluate(both, MODIFIED)).isEqualTo(PROCEED);
    }

    @Test
    void anIfMatchOnOneTagAndAnIfNoneMatchOnTheOtherIsNotModified() {
        assertThat(Preconditions.of(ETAG, OTHER, null, null).evaluate(List.of(ETAG, OTHER), MODIFIED)).isEqualTo(NOT_MODIFIED);
    }

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
