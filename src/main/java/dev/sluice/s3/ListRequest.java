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

    /** V1's marker and V2's start-after mean the same thing: list keys after this one. */
    public Optional<String> marker() {
        return startAfter;
    }
}
