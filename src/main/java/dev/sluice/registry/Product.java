package dev.sluice.registry;

import dev.sluice.backend.Backend;

/**
 * A product as the registry answered it: its address, who may know it exists, how to get to
 * its bytes, and whether it takes writes. Getting the backend is a step of its own
 * ({@link #resolveBackend()}), which the read path takes after authorization: for a
 * control-plane product it may look up the product's data connection, and a caller who may not
 * know the product exists must be refused before that lookup can answer anything. Whether it
 * takes writes ({@link #acceptsWrites()}) is asked after authorization for the same reason.
 */
public record Product(ProductRef ref, Visibility visibility, BackendResolver backendResolver, WriteAccess writeAccess) {

    /** A read-only product whose backend is already known. */
    public Product(ProductRef ref, Visibility visibility, Backend backend) {
        this(ref, visibility, () -> backend, WriteAccess.READ_ONLY);
    }

    /** A static product: its backend already known, writable or not as configured ({@code writable}). */
    public Product(ProductRef ref, Visibility visibility, Backend backend, boolean writable) {
        this(ref, visibility, () -> backend, writable ? WriteAccess.WRITABLE : WriteAccess.READ_ONLY);
    }

    /** A read-only product whose backend is resolved when first needed. */
    public Product(ProductRef ref, Visibility visibility, BackendResolver backendResolver) {
        this(ref, visibility, backendResolver, WriteAccess.READ_ONLY);
    }

    /** The product's backend; may do registry I/O and throw an {@link dev.sluice.s3.S3Exception}. Call after authorization. */
    public Backend resolveBackend() {
        return backendResolver.resolve();
    }

    /**
     * Whether the caller the registry answered for may write to this product at all (scopes are
     * checked apart, by {@code auth.Authorizer}); may do registry I/O and throw an
     * {@link dev.sluice.s3.S3Exception}. Call after authorization.
     */
    public boolean acceptsWrites() {
        return writeAccess.allowed();
    }

    /** How a product's backend is found: already known, or resolved from the registry's documents when first needed. */
    @FunctionalInterface
    public interface BackendResolver {
        Backend resolve();
    }

    /** Whether a product takes writes from the caller it was resolved for (docs/writes.md, "Who may write"). */
    @FunctionalInterface
    public interface WriteAccess {
        WriteAccess READ_ONLY = () -> false;
        WriteAccess WRITABLE = () -> true;

        boolean allowed();
    }
}
