package dev.sluice.registry;

import java.util.List;
import java.util.Optional;

/**
 * Resolves product addresses to products. The caller-aware forms are what the read path uses;
 * a registry whose answers do not depend on the caller (the static one) only implements the
 * plain forms.
 */
public interface Registry extends AutoCloseable {

    Optional<Product> find(ProductRef ref);

    /** The account's products in S3 key order of their names. */
    List<Product> list(String account);

    /** {@link #find(ProductRef)} as {@code caller} would be answered; may throw an {@link dev.sluice.s3.S3Exception}. */
    default Optional<Product> find(ProductRef ref, Caller caller) {
        return find(ref);
    }

    /** {@link #list(String)} as {@code caller} would be answered; may throw an {@link dev.sluice.s3.S3Exception}. */
    default List<Product> list(String account, Caller caller) {
        return list(account);
    }

    /**
     * The accounts this registry can name, in S3 key order, for ListBuckets ({@code GET /}).
     * A registry that cannot enumerate its accounts names none; callers then see an empty list.
     */
    default List<String> accounts() {
        return List.of();
    }

    /** Whether every answer is in memory, so that asking never waits on another process. */
    default boolean answersFromMemory() {
        return false;
    }

    @Override
    default void close() {
    }
}
