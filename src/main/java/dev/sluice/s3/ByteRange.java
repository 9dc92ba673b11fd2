package dev.sluice.s3;

import java.util.Optional;

/**
 * A single byte range from a {@code Range} header, resolved against an object's size with S3's
 * rules: {@code bytes=a-b}, {@code bytes=a-}, {@code bytes=-n}. A header that does not parse
 * (whitespace inside a range included), or asks for several ranges, is ignored and the whole
 * object is served (S3 does the same); a range that parses but cannot be satisfied is
 * {@code 416 InvalidRange}.
 */
public record ByteRange(long first, long last) {

    public long length() {
        return last - first + 1;
    }

    public String contentRange(long size) {
        return "bytes " + first + "-" + last + "/" + size;
    }

    /** A parsed but not yet resolved range specification. */
    public sealed interface Spec {
        /** Resolves against an object of {@code size} bytes; throws {@code InvalidRange} when unsatisfiable. */
        ByteRange resolve(long size);
    }

    /** {@code bytes=first-} or {@code bytes=first-last}. */
    public record FromTo(long first, Optional<Long> last) implements Spec {
        @Override
        public ByteRange resolve(long size) {
            if (first >= size) {
                throw invalidRange(size);
            }
            long end = last.map(l -> Math.min(l, size - 1)).orElse(size - 1);
            return new ByteRange(first, end);
        }
    }

    /** {@code bytes=-n}: the last n bytes. */
    public record Suffix(long length) implements Spec {
        @Override
        public ByteRange resolve(long size) {
            if (length == 0 || size == 0) {
                throw invalidRange(size);
            }
            return new ByteRange(Math.max(0, size - length), size - 1);
        }
    }

    /** Parses a Range header value; empty when the header should be ignored. */
    public static Optional<Spec> parse(String header) {
        if (header == null) {
            return Optional.empty();
        }
        // No trimming anywhere: the grammar has no whitespace inside a range, S3 ignores a
        // header with some, and HTTP has already stripped it around the field value.
        if (!header.regionMatches(true, 0, "bytes=", 0, 6)) {
            return Optional.empty();
        }
        String spec = header.substring(6);
        if (spec.isEmpty() || spec.indexOf(',') >= 0) {
            return Optional.empty();
        }
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return Optional.empty();
        }
        String a = spec.substring(0, dash);
        String b = spec.substring(dash + 1);
        try {
            if (a.isEmpty()) {
                return b.isEmpty() ? Optional.empty() : Optional.of(new Suffix(parseNonNegative(b)));
            }
            long first = parseNonNegative(a);
            if (b.isEmpty()) {
                return Optional.of(new FromTo(first, Optional.empty()));
            }
            long last = parseNonNegative(b);
            return last < first ? Optional.empty() : Optional.of(new FromTo(first, Optional.of(last)));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static long parseNonNegative(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                throw new NumberFormatException(s);
            }
        }
        return Long.parseLong(s);
    }

    private static S3Exception invalidRange(long size) {
        return new S3Exception(S3Error.INVALID_RANGE, S3Error.INVALID_RANGE.defaultMessage(), null,
                java.util.List.of(java.util.Map.entry("Content-Range", "bytes */" + size)));
    }
}
