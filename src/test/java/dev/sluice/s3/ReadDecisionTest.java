package dev.sluice.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import org.junit.jupiter.api.Test;

/**
 * What a GET or HEAD answers: the conditions in RFC 9110 §13.2.2's order, every status, and the
 * headers of each answer. The backends' own tests and {@code ReadPathContract} check the same
 * answers end to end against a directory and an S3 server.
 */
class ReadDecisionTest {
    private static final String ETAG = "\"0123456789abcdef0123456789abcdef\"";
    private static final String BARE = "0123456789abcdef0123456789abcdef";
    private static final String OTHER = "\"ffffffffffffffffffffffffffffffff\"";
    /** Sub-second part on purpose: HTTP dates have whole seconds, so comparisons must ignore it. */
    private static final Instant MODIFIED = Instant.parse("2024-06-03T10:15:30.750Z");
    private static final String SAME_SECOND = "Mon, 03 Jun 2024 10:15:30 GMT";
    private static final String SECOND_EARLIER = "Mon, 03 Jun 2024 10:15:29 GMT";
    private static final String SECOND_LATER = "Mon, 03 Jun 2024 10:15:31 GMT";
    private static final List<Map.Entry<String, String>> STORED = List.of(
            Map.entry("Content-Type", "text/csv"), Map.entry("Content-Encoding", "gzip"),
            Map.entry("Cache-Control", "max-age=60"), Map.entry("Expires", "Thu, 01 Jan 2037 00:00:00 GMT"),
            Map.entry("x-amz-meta-origin", "survey"));

    /** A 23-byte object with one ETag. */
    private static ObjectMeta object(long size) {
        return new ObjectMeta(Optional.of(ETAG), List.of(), Optional.of(MODIFIED), OptionalLong.of(size), STORED);
    }

    private static ReadDecision.Request get(Preconditions p) {
        return new ReadDecision.Request(Optional.empty(), Optional.empty(), p, false, ResponseOverrides.NONE);
    }

    private static ReadDecision.Request ranged(String range, boolean headOnly) {
        return new ReadDecision.Request(ByteRange.parse(range), Optional.empty(), Preconditions.NONE, headOnly, ResponseOverrides.NONE);
    }

    private static ReadDecision.Request part(int n, boolean headOnly) {
        return new ReadDecision.Request(Optional.empty(), Optional.of(n), Preconditions.NONE, headOnly, ResponseOverrides.NONE);
    }

    /** The status answered, a thrown S3 error counting as its status. */
    private static int status(ReadDecision.Request request, ObjectMeta object) {
        try {
            return ReadDecision.decide(request, object).status();
        } catch (S3Exception e) {
            return e.error().status();
        }
    }

    private static int status(String ifMatch, String ifNoneMatch, String ifModifiedSince, String ifUnmodifiedSince) {
        return status(get(Preconditions.of(ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince)), object(23));
    }

    /** An object answering to {@code etags} at once (a file's content tag and its provisional tag). */
    private static int status(Preconditions p, List<String> etags) {
        ObjectMeta object = new ObjectMeta(Optional.of(etags.get(0)), etags.subList(1, etags.size()), Optional.of(MODIFIED),
                OptionalLong.of(23), List.of());
        return status(get(p), object);
    }

    private static void assertS3Error(Runnable call, S3Error error, List<Map.Entry<String, String>> headers) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(S3Exception.class, e -> {
            assertThat(e.error()).isEqualTo(error);
            assertThat(e.error().status()).isEqualTo(error.status());
            assertThat(e.extraHeaders()).containsExactlyElementsOf(headers);
        });
    }

    // --- If-Match ---------------------------------------------------------------------------

    @Test
    void ifMatchWithTheQuotedEtagProceeds() {
        assertThat(status(ETAG, null, null, null)).isEqualTo(200);
    }

    @Test
    void ifMatchWithTheUnquotedEtagProceeds() {
        // aws-cli passes --if-match through as typed, usually without quotes; S3 accepts it.
        assertThat(status(BARE, null, null, null)).isEqualTo(200);
    }

    @Test
    void ifMatchWithAnotherEtagFails() {
        assertThat(status(OTHER, null, null, null)).isEqualTo(412);
    }

    @Test
    void ifMatchStarProceedsForAnExistingObject() {
        assertThat(status("*", null, null, null)).isEqualTo(200);
    }

    @Test
    void ifMatchListProceedsWhenAnyMemberMatches() {
        assertThat(status(OTHER + ", " + ETAG, null, null, null)).isEqualTo(200);
        assertThat(status(ETAG + "," + OTHER, null, null, null)).isEqualTo(200);
    }

    @Test
    void ifMatchListFailsWhenNoMemberMatches() {
        assertThat(status(OTHER + ", \"abc\"", null, null, null)).isEqualTo(412);
    }

    @Test
    void ifMatchWithAWeakTagFailsBecauseIfMatchComparesStrongly() {
        // RFC 9110 13.1.1: If-Match uses the strong comparison, and a weak tag never matches strongly.
        assertThat(status("W/" + ETAG, null, null, null)).isEqualTo(412);
        assertThat(status("W/" + ETAG + ", " + ETAG, null, null, null)).isEqualTo(200);
    }

    @Test
    void ifMatchDoesNotMatchAPrefixOrSuperstringOfTheEtag() {
        assertThat(status("\"0123456789abcdef\"", null, null, null)).isEqualTo(412);
        assertThat(status("\"" + BARE + "0\"", null, null, null)).isEqualTo(412);
    }

    // --- If-Unmodified-Since -----------------------------------------------------------------

    @Test
    void ifUnmodifiedSinceTheSameSecondProceeds() {
        assertThat(status(null, null, null, SAME_SECOND)).isEqualTo(200);
    }

    @Test
    void ifUnmodifiedSinceOneSecondEarlierFails() {
        assertThat(status(null, null, null, SECOND_EARLIER)).isEqualTo(412);
    }

    @Test
    void ifUnmodifiedSinceLaterProceeds() {
        assertThat(status(null, null, null, SECOND_LATER)).isEqualTo(200);
    }

    @Test
    void ifMatchThatHoldsOverridesAFailingIfUnmodifiedSince() {
        assertThat(status(ETAG, null, null, SECOND_EARLIER)).isEqualTo(200);
    }

    @Test
    void ifMatchThatFailsFailsEvenWhenIfUnmodifiedSinceHolds() {
        assertThat(status(OTHER, null, null, SECOND_LATER)).isEqualTo(412);
    }

    // --- If-None-Match -----------------------------------------------------------------------

    @Test
    void ifNoneMatchWithTheEtagIsNotModified() {
        assertThat(status(null, ETAG, null, null)).isEqualTo(304);
        assertThat(status(null, BARE, null, null)).isEqualTo(304);
    }

    @Test
    void ifNoneMatchWithAnotherEtagProceeds() {
        assertThat(status(null, OTHER, null, null)).isEqualTo(200);
    }

    @Test
    void ifNoneMatchStarIsNotModifiedForAnExistingObject() {
        assertThat(status(null, "*", null, null)).isEqualTo(304);
    }

    @Test
    void ifNoneMatchListIsNotModifiedWhenAnyMemberMatches() {
        assertThat(status(null, OTHER + ", " + ETAG, null, null)).isEqualTo(304);
    }

    @Test
    void ifNoneMatchWithAWeakTagIsNotModifiedBecauseIfNoneMatchComparesWeakly() {
        // RFC 9110 13.1.2: If-None-Match uses the weak comparison.
        assertThat(status(null, "W/" + ETAG, null, null)).isEqualTo(304);
    }

    @Test
    void ifNoneMatchThatDoesNotMatchOverridesAnIfModifiedSinceThatWouldSayNotModified() {
        assertThat(status(null, OTHER, SECOND_LATER, null)).isEqualTo(200);
    }

    @Test
    void ifNoneMatchThatMatchesIsNotModifiedEvenWhenModifiedSince() {
        assertThat(status(null, ETAG, SECOND_EARLIER, null)).isEqualTo(304);
    }

    // --- If-Modified-Since -------------------------------------------------------------------

    @Test
    void ifModifiedSinceTheSameSecondIsNotModified() {
        assertThat(status(null, null, SAME_SECOND, null)).isEqualTo(304);
    }

    @Test
    void ifModifiedSinceOneSecondEarlierProceeds() {
        assertThat(status(null, null, SECOND_EARLIER, null)).isEqualTo(200);
    }

    @Test
    void ifModifiedSinceLaterIsNotModified() {
        assertThat(status(null, null, SECOND_LATER, null)).isEqualTo(304);
    }

    // --- precedence across the two groups ------------------------------------------------------

    @Test
    void preconditionFailedWinsOverNotModified() {
        assertThat(status(OTHER, ETAG, null, null)).isEqualTo(412);
        assertThat(status(null, ETAG, null, SECOND_EARLIER)).isEqualTo(412);
        assertThat(status(null, null, SAME_SECOND, SECOND_EARLIER)).isEqualTo(412);
    }

    @Test
    void ifMatchHoldingAndIfNoneMatchMatchingIsNotModified() {
        assertThat(status(ETAG, ETAG, null, null)).isEqualTo(304);
    }

    @Test
    void anUnparseableIfUnmodifiedSinceDoesNotStopIfModifiedSinceFromApplying() {
        assertThat(status(null, null, SAME_SECOND, "not a date")).isEqualTo(304);
    }

    @Test
    void anIfMatchNamingEitherOfTheObjectsTagsHolds() {
        List<String> both = List.of(ETAG, OTHER);

        assertThat(status(Preconditions.of(OTHER, null, null, null), both)).isEqualTo(200);
        assertThat(status(Preconditions.of(ETAG, null, null, null), both)).isEqualTo(200);
        assertThat(status(Preconditions.of("\"abc\"", null, null, null), both)).isEqualTo(412);
    }

    @Test
    void anIfNoneMatchNamingEitherOfTheObjectsTagsIsNotModified() {
        List<String> both = List.of(ETAG, OTHER);

        assertThat(status(Preconditions.of(null, OTHER, null, null), both)).isEqualTo(304);
        assertThat(status(Preconditions.of(null, "W/" + ETAG, null, null), both)).isEqualTo(304);
        assertThat(status(Preconditions.of(null, "\"abc\"", SAME_SECOND, null), both)).isEqualTo(200);
    }

    @Test
    void anIfMatchOnOneTagAndAnIfNoneMatchOnTheOtherIsNotModified() {
        assertThat(status(Preconditions.of(ETAG, OTHER, null, null), List.of(ETAG, OTHER))).isEqualTo(304);
    }


    // --- 200 and its headers ---------------------------------------------------------------------

    @Test
    void aPlainGetIs200WithTheWholeObjectAndEveryStoredHeader() {
        ReadDecision.Answer a = ReadDecision.decide(get(Preconditions.NONE), object(23));

        assertThat(a.status()).isEqualTo(200);
        assertThat(a.headers()).containsExactly(Map.entry("ETag", ETAG), Map.entry("Last-Modified", SAME_SECOND),
                Map.entry("Accept-Ranges", "bytes"), Map.entry("Content-Length", "23"),
                Map.entry("Content-Type", "text/csv"), Map.entry("Content-Encoding", "gzip"),
                Map.entry("Cache-Control", "max-age=60"), Map.entry("Expires", "Thu, 01 Jan 2037 00:00:00 GMT"),
                Map.entry("x-amz-meta-origin", "survey"));
        assertThat(a.bytes()).contains(new ByteRange(0, 22));
    }

    @Test
    void aHeadAnswersTheGetsStatusAndHeadersWithoutBytes() {
        ReadDecision.Request head = new ReadDecision.Request(Optional.empty(), Optional.empty(), Preconditions.NONE, true,
                ResponseOverrides.NONE);
        ReadDecision.Answer a = ReadDecision.decide(head, object(23));

        assertThat(a.status()).isEqualTo(200);
        assertThat(a.headers()).isEqualTo(ReadDecision.decide(get(Preconditions.NONE), object(23)).headers());
        assertThat(a.bytes()).isEmpty();
    }

    @Test
    void anEmptyObjectIs200WithNoBytesToSend() {
        ReadDecision.Answer a = ReadDecision.decide(get(Preconditions.NONE), object(0));

        assertThat(a.status()).isEqualTo(200);
        assertThat(a.headers()).contains(Map.entry("Content-Length", "0"));
        assertThat(a.bytes()).hasValueSatisfying(r -> assertThat(r.length()).isZero());
    }

    // --- 206 and 416 -----------------------------------------------------------------------------

    @Test
    void aRangeIs206WithItsLengthAndContentRange() {
        ReadDecision.Answer a = ReadDecision.decide(ranged("bytes=5-9", false), object(23));

        assertThat(a.status()).isEqualTo(206);
        assertThat(a.headers()).contains(Map.entry("Content-Length", "5"), Map.entry("Content-Range", "bytes 5-9/23"));
        assertThat(a.bytes()).contains(new ByteRange(5, 9));
    }

    @Test
    void openAndSuffixRangesAndRangesPastTheEndAreCutAtTheLastByte() {
        assertThat(ReadDecision.decide(ranged("bytes=20-", false), object(23)).bytes()).contains(new ByteRange(20, 22));
        assertThat(ReadDecision.decide(ranged("bytes=-3", false), object(23)).bytes()).contains(new ByteRange(20, 22));
        assertThat(ReadDecision.decide(ranged("bytes=-100", false), object(23)).headers())
                .contains(Map.entry("Content-Range", "bytes 0-22/23"));
        assertThat(ReadDecision.decide(ranged("bytes=8-100", false), object(23)).bytes()).contains(new ByteRange(8, 22));
    }

    @Test
    void aHeadWithARangeIs206FromTheSizeWithoutBytes() {
        ReadDecision.Answer a = ReadDecision.decide(ranged("bytes=-3", true), object(23));

        assertThat(a.status()).isEqualTo(206);
        assertThat(a.headers()).contains(Map.entry("Content-Length", "3"), Map.entry("Content-Range", "bytes 20-22/23"));
        assertThat(a.bytes()).isEmpty();
    }

    @Test
    void anUnsatisfiableRangeIs416InvalidRangeNamingTheSize() {
        for (String range : List.of("bytes=23-", "bytes=-0")) {
            for (boolean headOnly : new boolean[] {false, true}) {
                assertS3Error(() -> ReadDecision.decide(ranged(range, headOnly), object(23)), S3Error.INVALID_RANGE,
                        List.of(Map.entry("Content-Range", "bytes */23")));
            }
        }
        assertS3Error(() -> ReadDecision.decide(ranged("bytes=0-", false), object(0)), S3Error.INVALID_RANGE,
                List.of(Map.entry("Content-Range", "bytes */0")));
    }

    @Test
    void aFailedConditionIsAnsweredBeforeAnUnsatisfiableRange() {
        ReadDecision.Request request = new ReadDecision.Request(ByteRange.parse("bytes=100-"), Optional.empty(),
                Preconditions.of(OTHER, null, null, null), false, ResponseOverrides.NONE);

        assertS3Error(() -> ReadDecision.decide(request, object(23)), S3Error.PRECONDITION_FAILED, List.of());
    }

    @Test
    void notModifiedIsAnsweredBeforeAnUnsatisfiableRange() {
        ReadDecision.Request request = new ReadDecision.Request(ByteRange.parse("bytes=100-"), Optional.empty(),
                Preconditions.of(null, ETAG, null, null), false, ResponseOverrides.NONE);

        assertThat(ReadDecision.decide(request, object(23)).status()).isEqualTo(304);
    }

    // --- partNumber ------------------------------------------------------------------------------

    @Test
    void partOneIsTheWholeObjectAs206() {
        for (boolean headOnly : new boolean[] {false, true}) {
            ReadDecision.Answer a = ReadDecision.decide(part(1, headOnly), object(23));

            assertThat(a.status()).isEqualTo(206);
            assertThat(a.headers()).contains(Map.entry("Content-Length", "23"), Map.entry("Content-Range", "bytes 0-22/23"));
            assertThat(a.bytes()).isEqualTo(headOnly ? Optional.empty() : Optional.of(new ByteRange(0, 22)));
        }
    }

    @Test
    void partOneOfAnEmptyObjectIs200BecauseItHasNoByteRange() {
        ReadDecision.Answer a = ReadDecision.decide(part(1, false), object(0));

        assertThat(a.status()).isEqualTo(200);
        assertThat(a.headers()).contains(Map.entry("Content-Length", "0")).extracting(Map.Entry::getKey).doesNotContain("Content-Range");
    }

    @Test
    void anyOtherPartIs416InvalidPartNumberUnlessAConditionFails() {
        assertS3Error(() -> ReadDecision.decide(part(2, false), object(23)), S3Error.INVALID_PART_NUMBER, List.of());
        assertS3Error(() -> ReadDecision.decide(part(2, true), object(0)), S3Error.INVALID_PART_NUMBER, List.of());
        ReadDecision.Request notModified = new ReadDecision.Request(Optional.empty(), Optional.of(2),
                Preconditions.of(null, ETAG, null, null), false, ResponseOverrides.NONE);
        assertS3Error(() -> ReadDecision.decide(notModified, object(23)), S3Error.INVALID_PART_NUMBER, List.of());
        ReadDecision.Request failed = new ReadDecision.Request(Optional.empty(), Optional.of(2),
                Preconditions.of(OTHER, null, null, null), false, ResponseOverrides.NONE);
        assertS3Error(() -> ReadDecision.decide(failed, object(23)), S3Error.PRECONDITION_FAILED, List.of());
    }

    // --- 304 -------------------------------------------------------------------------------------

    @Test
    void notModifiedKeepsOnlyValidatorsAndCachingHeaders() {
        ReadDecision.Answer a = ReadDecision.decide(get(Preconditions.of(null, ETAG, null, null)), object(23));

        assertThat(a.status()).isEqualTo(304);
        assertThat(a.headers()).containsExactly(Map.entry("ETag", ETAG), Map.entry("Last-Modified", SAME_SECOND),
                Map.entry("Cache-Control", "max-age=60"), Map.entry("Expires", "Thu, 01 Jan 2037 00:00:00 GMT"));
        assertThat(a.bytes()).isEmpty();
    }

    @Test
    void anObjectWhoseStoreAlreadyAnsweredNotModifiedIs304() {
        ObjectMeta notModified = new ObjectMeta(Optional.of(ETAG), List.of(), Optional.of(MODIFIED), OptionalLong.empty(), STORED);

        assertThat(status(get(Preconditions.of(null, ETAG, null, null)), notModified)).isEqualTo(304);
        assertThat(status(ranged("bytes=0-3", false), notModified)).isEqualTo(304);
        // The store judged the ETags only: a date condition it was not given can still fail.
        assertThat(status(get(Preconditions.of(null, ETAG, null, SECOND_EARLIER)), notModified)).isEqualTo(412);
    }

    @Test
    void conditionsAreNotJudgedAgainstAStoreThatGaveNoValidators() {
        ObjectMeta unvalidated = new ObjectMeta(Optional.empty(), List.of(), Optional.empty(), OptionalLong.of(23), List.of());
        ReadDecision.Answer a = ReadDecision.decide(get(Preconditions.of(OTHER, null, null, SECOND_EARLIER)), unvalidated);

        assertThat(a.status()).isEqualTo(200);
        assertThat(a.headers()).extracting(Map.Entry::getKey).doesNotContain("ETag", "Last-Modified");
    }

    // --- response-* overrides --------------------------------------------------------------------

    @Test
    void overridesReplaceTheStoredHeadersOf200And206() {
        ResponseOverrides overrides = new ResponseOverrides(List.of(Map.entry("Content-Type", "text/plain"),
                Map.entry("Content-Disposition", "attachment")));
        for (Optional<ByteRange.Spec> range : List.of(Optional.<ByteRange.Spec>empty(), ByteRange.parse("bytes=0-3"))) {
            ReadDecision.Request request = new ReadDecision.Request(range, Optional.empty(), Preconditions.NONE, false, overrides);
            ReadDecision.Answer a = ReadDecision.decide(request, object(23));

            assertThat(a.headers()).contains(Map.entry("Content-Type", "text/plain"), Map.entry("Content-Disposition", "attachment"),
                    Map.entry("Content-Encoding", "gzip"));
            assertThat(a.headers()).extracting(Map.Entry::getKey).containsOnlyOnce("Content-Type");
        }
    }

    @Test
    void overridesMatchStoredHeadersWhateverTheirCase() {
        ResponseOverrides overrides = new ResponseOverrides(List.of(Map.entry("Cache-Control", "no-store")));
        ObjectMeta lowerCase = new ObjectMeta(Optional.of(ETAG), List.of(), Optional.of(MODIFIED), OptionalLong.of(23),
                List.of(Map.entry("cache-control", "max-age=60")));
        ReadDecision.Answer a = ReadDecision.decide(
                new ReadDecision.Request(Optional.empty(), Optional.empty(), Preconditions.NONE, true, overrides), lowerCase);

        assertThat(a.headers()).contains(Map.entry("Cache-Control", "no-store")).doesNotContain(Map.entry("cache-control", "max-age=60"));
    }

    @Test
    void overridesDoNotApplyToNotModified() {
        ResponseOverrides overrides = new ResponseOverrides(List.of(Map.entry("Cache-Control", "no-store")));
        ReadDecision.Request request = new ReadDecision.Request(Optional.empty(), Optional.empty(),
                Preconditions.of(null, ETAG, null, null), false, overrides);

        assertThat(ReadDecision.decide(request, object(23)).headers()).contains(Map.entry("Cache-Control", "max-age=60"))
                .doesNotContain(Map.entry("Cache-Control", "no-store"));
    }

    // --- x-amz-checksum-mode ------------------------------------------------------------------

    private static final List<Map.Entry<String, String>> WITH_CHECKSUMS = List.of(
            Map.entry("Content-Type", "text/csv"), Map.entry("x-amz-checksum-crc32", "AAAAAA=="),
            Map.entry("x-amz-checksum-sha256", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));

    private static ObjectMeta checksummed() {
        return new ObjectMeta(Optional.of(ETAG), List.of(), Optional.of(MODIFIED), OptionalLong.of(23), WITH_CHECKSUMS);
    }

    private static List<String> names(ReadDecision.Answer answer) {
        return answer.headers().stream().map(Map.Entry::getKey).toList();
    }

    @Test
    void storedChecksumsAreSentForTheWholeObjectWhenChecksumModeIsEnabled() {
        for (boolean head : new boolean[]{false, true}) {
            ReadDecision.Answer answer = ReadDecision.decide(new ReadDecision.Request(Optional.empty(), Optional.empty(),
                    Preconditions.NONE, head, ResponseOverrides.NONE, true), checksummed());

            assertThat(answer.headers()).contains(Map.entry("x-amz-checksum-crc32", "AAAAAA=="),
                    Map.entry("x-amz-checksum-sha256", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
        }
    }

    @Test
    void storedChecksumsAreNeverSentWithoutChecksumMode() {
        ReadDecision.Answer answer = ReadDecision.decide(get(Preconditions.NONE), checksummed());

        assertThat(names(answer)).contains("Content-Type").noneMatch(n -> n.startsWith("x-amz-checksum-"));
    }

    @Test
    void storedChecksumsAreNotSentForARangeOrAPartEvenInChecksumMode() {
        ReadDecision.Answer ranged = ReadDecision.decide(new ReadDecision.Request(ByteRange.parse("bytes=0-9"), Optional.empty(),
                Preconditions.NONE, false, ResponseOverrides.NONE, true), checksummed());
        ReadDecision.Answer part = ReadDecision.decide(new ReadDecision.Request(Optional.empty(), Optional.of(1),
                Preconditions.NONE, false, ResponseOverrides.NONE, true), checksummed());

        assertThat(ranged.status()).isEqualTo(206);
        assertThat(names(ranged)).noneMatch(n -> n.startsWith("x-amz-checksum-"));
        assertThat(names(part)).noneMatch(n -> n.startsWith("x-amz-checksum-"));
    }
}
