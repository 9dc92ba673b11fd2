package dev.sluice.registry;

import java.util.List;
import java.util.Optional;

/** Resolves product addresses to products. */
public interface Registry extends AutoCloseable {

    Optional<Product> find(ProductRef ref);

    /** The account's products in S3 key order of their names. */
    List<Product> list(String account);

    @Override
    default void close() {
    }
}
