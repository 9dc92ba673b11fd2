package dev.sluice.s3;

import java.util.Optional;

/**
 * The parameters of a ListObjects (V1) or ListObjectsV2 request, validated. {@code maxKeys} is
 * already capped at {@link #MAX_KEYS_CAP}, as S3 does.
 */
public record ListRequest(int version, String prefix, Optional<String> delimiter, int maxKeys,
                          Optional<String> continuationToken, Optional<String> startAfter,
                          boolean urlEncoding, boolean fetchOwner) {

    public static final int MAX_KEYS_CAP = 1000;

    /**
     * A {@code prefix}, {@code marker} or {@code start-after} that no key sluice serves could
     * start with ({@link ObjectKeys#canPrefixAValidKey}: a {@code .}, {@code ..} or empty
     * segment, a control character) is {@code 400 InvalidArgument}. S3 treats these values as
     * opaque, but sluice refuses such keys on GET, so a listing could only ever be empty, or,
     * passed to a backend, list keys a GET then refuses ({@code p/./}) or make the backend fail
     * ({@code ..} answered 503): a clear error is more useful than either.
     */
    public ListRequest {
        requireListable(prefix, "prefix");
        startAfter.ifPresent(s -> requireListable(s, version == 2 ? "start-after" : "marker"));
    }

    private static void requireListable(String value, String parameter) {
        if (!ObjectKeys.canPrefixAValidKey(value)) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "The " + parameter
                    + " cannot match any key: keys have no '.', '..' or empty segments and no control characters.");
        }
    }

    /** V1's marker and V2's start-after mean the same thing: list keys after this one. */
    public Optional<String> marker() {
        return startAfter;
    }
}
