package dev.sluice.backend;

/**
 * Where Azure Blob and GCS backends get their bearer tokens: the token tier in production
 * (cached in process and in the shared tier, renewed ahead of expiry, exchanged at the
 * identity provider within a deadline; docs/federation.md, "Azure Blob and GCS tokens"). A named collaborator that
 * {@link Backends} is given, so a backend never builds its own way to tokens.
 */
@FunctionalInterface
public interface AccessTokens {

    /**
     * A token for {@code grant}, usable now; throws an {@link dev.sluice.s3.S3Exception} when
     * none can be had in time (refused: 403 or 502; deadline, throttling or garbage: 503 with
     * {@code Retry-After}).
     */
    BearerToken token(TokenGrant grant);
}
