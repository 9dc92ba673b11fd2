package dev.sluice.s3;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The conditional request headers of a GET or HEAD, evaluated the way S3 evaluates them:
 * <ol>
 *   <li>{@code If-Match} fails → 412; when it is present and holds, {@code If-Unmodified-Since} is ignored;</li>
 *   <li>otherwise {@code If-Unmodified-Since} fails (modified after) → 412;</li>
 *   <li>{@code If-None-Match} matches → 304; when it is present and does not match,
 *       {@code If-Modified-Since} is ignored;</li>
 *   <li>otherwise {@code If-Modified-Since} not modified since → 304.</li>
 * </ol>
 * Dates that do not parse are ignored, as S3 and RFC 9110 do. Times compare at whole seconds,
 * the resolution of HTTP dates. ETags compare as RFC 9110 §13.1 says: {@code If-Match}
 * strongly (a {@code W/} tag never matches), {@code If-None-Match} weakly (the {@code W/} is
 * disregarded).
 */
public record Preconditions(Optional<String> ifMatch, Optional<String> ifNoneMatch,
                            Optional<Instant> ifModifiedSince, Optional<Instant> ifUnmodifiedSince) {

    public static final Preconditions NONE = new Preconditions(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());

    /** What the preconditions say about an object with this ETag and modification time. */
    public enum Outcome { PROCEED, NOT_MODIFIED, PRECONDITION_FAILED }

    public static Preconditions of(String ifMatch, String ifNoneMatch, String ifModifiedSince, String ifUnmodifiedSince) {
        return new Preconditions(Optional.ofNullable(ifMatch), Optional.ofNullable(ifNoneMatch),
                parseHttpDate(ifModifiedSince), parseHttpDate(ifUnmodifiedSince));
    }

    public boolean isEmpty() {
        return ifMatch.isEmpty() && ifNoneMatch.isEmpty() && ifModifiedSince.isEmpty() && ifUnmodifiedSince.isEmpty();
    }

    public Outcome evaluate(String etag, Instant lastModified) {
        return evaluate(List.of(etag), lastModified);
    }

    /**
     * As {@link #evaluate(String, Instant)} for an object that answers to several strong ETags
     * at once (a file served under its provisional tag until its content hash is known, see
     * {@code docs/behaviour.md}): a header's tag list matches when it names any of them.
     */
    public Outcome evaluate(List<String> etags, Instant lastModified) {
        long modified = lastModified.getEpochSecond();
        if (ifMatch.isPresent()) {
            if (!anyMatches(ifMatch.get(), etags, false)) {
                return Outcome.PRECONDITION_FAILED;
            }
        } else if (ifUnmodifiedSince.isPresent() && modified > ifUnmodifiedSince.get().getEpochSecond()) {
            return Outcome.PRECONDITION_FAILED;
        }
        if (ifNoneMatch.isPresent()) {
            if (anyMatches(ifNoneMatch.get(), etags, true)) {
                return Outcome.NOT_MODIFIED;
            }
        } else if (ifModifiedSince.isPresent() && modified <= ifModifiedSince.get().getEpochSecond()) {
            return Outcome.NOT_MODIFIED;
        }
        return Outcome.PROCEED;
    }

    /** Throws the S3 answer for a failed precondition; {@code NOT_MODIFIED} is the caller's to answer (304 has no body). */
    public static void throwIfFailed(Outcome outcome) {
        if (outcome == Outcome.PRECONDITION_FAILED) {
            throw new S3Exception(S3Error.PRECONDITION_FAILED);
        }
    }

    private static boolean anyMatches(String header, List<String> etags, boolean weakComparison) {
        return etags.stream().anyMatch(etag -> etagListMatches(header, etag, weakComparison));
    }

    static boolean etagListMatches(String header, String etag, boolean weakComparison) {
        String bare = unquote(etag);
        for (String candidate : header.split(",")) {
            String c = candidate.trim();
            if (c.equals("*")) {
                return true;
            }
            if (c.startsWith("W/")) {
                if (!weakComparison) {
                    continue;
                }
                c = c.substring(2);
            }
            if (unquote(c).equals(bare)) {
                return true;
            }
        }
        return false;
    }

    private static String unquote(String s) {
        String t = s.trim();
        if (t.length() >= 2 && t.startsWith("\"") && t.endsWith("\"")) {
            return t.substring(1, t.length() - 1);
        }
        return t;
    }

    static Optional<Instant> parseHttpDate(String value) {
        return HttpDate.parse(value);
    }
}
