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

    /** The longest {@code If-Match} or {@code If-None-Match} value accepted: dozens of S3 ETags. */
    public static final int MAX_ETAG_LIST_LENGTH = 2048;

    /**
     * The conditions of a request's headers (each may be null). The entity-tag lists are
     * validated and rewritten in one form, {@code "a", W/"b"} (see {@link #entityTagList}),
     * since a backend is sent them as they are here.
     */
    public static Preconditions of(String ifMatch, String ifNoneMatch, String ifModifiedSince, String ifUnmodifiedSince) {
        return new Preconditions(Optional.ofNullable(ifMatch).map(v -> entityTagList(v, "If-Match")),
                Optional.ofNullable(ifNoneMatch).map(v -> entityTagList(v, "If-None-Match")),
                parseHttpDate(ifModifiedSince), parseHttpDate(ifUnmodifiedSince));
    }

    /**
     * An {@code If-Match} or {@code If-None-Match} value as RFC 9110 §13.1 defines it, {@code *}
     * or a comma-separated list of entity tags ({@code "…"} or {@code W/"…"}, with visible ASCII
     * or non-ASCII inside the quotes), separated by optional spaces or tabs and at most
     * {@link #MAX_ETAG_LIST_LENGTH} characters, rewritten as {@code *} or the tags joined by
     * {@code ", "}. A bare tag without quotes (which S3 matches too) is quoted. Anything else is
     * {@code 400 InvalidArgument} before a backend is asked: a 10 KB value made the S3 backend
     * refuse the request (which looked like a backend failure, 503), and a list separated by
     * tabs, sent on as it was, failed the backend's signature check (its signature trims
     * whitespace differently), which looked like sluice's own credentials being refused.
     */
    static String entityTagList(String value, String header) {
        S3Exception invalid = new S3Exception(S3Error.INVALID_ARGUMENT,
                header + " must be * or a list of entity tags (\"…\" or W/\"…\"), at most " + MAX_ETAG_LIST_LENGTH
                        + " characters.");
        if (value.length() > MAX_ETAG_LIST_LENGTH) {
            throw invalid;
        }
        String trimmed = value.strip();
        if (trimmed.equals("*")) {
            return "*";
        }
        java.util.List<String> tags = new java.util.ArrayList<>();
        int i = 0;
        int n = value.length();
        while (i < n) {
            char c = value.charAt(i);
            if (c == ' ' || c == '\t' || c == ',') {
                i++; // optional whitespace and empty list elements, which RFC 9110 §5.6.1 says to accept
                continue;
            }
            int start = i;
            if (value.startsWith("W/", i)) {
                if (!value.startsWith("W/\"", i)) {
                    throw invalid; // a weak tag is always quoted
                }
                i += 2;
            }
            if (i < n && value.charAt(i) == '"') {
                int close = value.indexOf('"', i + 1);
                if (close < 0 || !etagChars(value, i + 1, close)) {
                    throw invalid;
                }
                i = close + 1;
                tags.add(value.substring(start, i));
            } else {
                int end = i;
                while (end < n && value.charAt(end) != ',' && value.charAt(end) != ' ' && value.charAt(end) != '\t') {
                    end++;
                }
                if (end == i || !etagChars(value, i, end)) {
                    throw invalid;
                }
                tags.add(value.substring(start, i) + "\"" + value.substring(i, end) + "\"");
                i = end;
            }
            while (i < n && (value.charAt(i) == ' ' || value.charAt(i) == '\t')) {
                i++;
            }
            if (i < n && value.charAt(i) != ',') {
                throw invalid;
            }
        }
        if (tags.isEmpty()) {
            throw invalid;
        }
        return String.join(", ", tags);
    }

    /** RFC 9110 {@code etagc}: {@code !}, {@code #} to {@code ~}, or non-ASCII (obs-text). */
    private static boolean etagChars(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!(c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80)) {
                return false;
            }
        }
        return true;
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
