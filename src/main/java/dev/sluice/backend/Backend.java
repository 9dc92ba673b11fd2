package dev.sluice.backend;

/**
 * An object store holding one product's bytes. Keys are relative to the product's root (a
 * directory, or a bucket plus prefix). A backend fetches an object's metadata and bytes and a
 * page of keys; what a GET or HEAD answers (conditions, ranges, part numbers, which headers) is
 * {@link dev.sluice.s3.ReadDecision}'s, the same for every backend ({@link ObjectResponse#read}).
 * Implementations answer every failure with an {@link dev.sluice.s3.S3Exception} and bound
 * every wait.
 */
public interface Backend extends AutoCloseable {

    /**
     * Opens the object at {@code key}: its metadata now, its bytes when asked. {@code fetch}
     * says what the read will most likely need, so a remote store can be asked once for just
     * that. A missing object is {@code NoSuchKey}.
     */
    StoredObject open(String key, Fetch fetch);

    /** One page of keys under {@code query.prefix()}. */
    ListPage list(ListQuery query);

    /** Where the bytes live, for logs (no credentials). */
    String describe();

    @Override
    default void close() {
    }
}
