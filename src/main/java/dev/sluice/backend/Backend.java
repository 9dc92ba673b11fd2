package dev.sluice.backend;

/**
 * An object store holding one product's bytes. Keys are relative to the product's root (a
 * directory, or a bucket plus prefix). Implementations answer every failure with an
 * {@link dev.sluice.s3.S3Exception} and bound every wait.
 */
public interface Backend extends AutoCloseable {

    /** GetObject or HeadObject; the response body (if any) must be closed by the caller. */
    ObjectResponse read(ObjectRead request);

    /** One page of keys under {@code query.prefix()}. */
    ListPage list(ListQuery query);

    /** Where the bytes live, for logs (no credentials). */
    String describe();

    @Override
    default void close() {
    }
}
