package dev.sluice.registry;

import dev.sluice.backend.Backend;

/**
 * A product as the registry answered it: its address, who may know it exists, and how to get to
 * its bytes. Getting the backend is a step of its own ({@link #resolveBackend()}), which the read
 * path takes after authorization: for a control-plane product it may look up the product's
 * data connection, and a caller who may not know the product exists must be refused before
 * that lookup can answer anything.
 */
public record Product(ProductRef ref, Visibility visibility, BackendResolver backendResolver) {

    /** A product whose backend is already known (every static product). */
    public Product(ProductRef ref, Visibility visibility, Backend backend) {
        this(ref, visibility, () -> backend);
    }

    /** The product's backend; may do registry I/O and throw an {@link dev.sluice.s3.S3Exception}. Call after authorization. */
    public Backend resolveBackend() {
        return backendResolver.resolve();
    }

    /** How a product's backend is found: already known, or resolved from the registry's documents when first needed. */
    @FunctionalInterface
    public interface BackendResolver {
        Backend resolve();
    }
}
