package dev.sluice.auth;

import dev.sluice.registry.Product;
import dev.sluice.registry.ProductRef;
import dev.sluice.registry.Visibility;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;

import java.util.Optional;

/**
 * Step 6 of the request lifecycle: may this principal do this action on this key of this
 * product? One decision function, so every path (reads, listings, later writes) answers alike.
 *
 * <ul>
 *   <li>Reads of public products are open to everyone, signed or not.</li>
 *   <li>Anonymous callers get nothing else, and a restricted or unknown product answers
 *       {@code 404 NoSuchBucket}: its existence is not revealed.</li>
 *   <li>A request signed with a key sluice does not know is served as anonymous where that is
 *       allowed (public reads); anything else answers {@code 403 InvalidAccessKeyId}, whether or
 *       not the product exists, so the answer reveals nothing either.</li>
 *   <li>An authenticated caller needs a scope covering the product, the action and the key (for
 *       listings, the listed prefix). Without one: {@code 403 AccessDenied} on a product that
 *       exists, {@code 404 NoSuchBucket} on one that does not.</li>
 * </ul>
 */
public final class Authorizer {

    private Authorizer() {
    }

    /**
     * A write's decision: {@link #authorize} (so an anonymous caller is refused, and a
     * restricted or unknown product answers as it does to reads), then the product must take
     * writes ({@link Product#acceptsWrites()}: a static product configured {@code writable},
     * a control-plane product the caller may write to on a connection that is not read-only).
     * A product that does not is {@code 403 AccessDenied}; nothing is written.
     */
    public static Product authorizeWrite(Principal principal, Action action, ProductRef ref, Optional<Product> product,
                                         String key) {
        Product allowed = authorize(principal, action, ref, product, key);
        if (!allowed.acceptsWrites()) {
            throw new S3Exception(S3Error.ACCESS_DENIED, "This product is read-only.");
        }
        return allowed;
    }

    /**
     * Throws the S3 error the caller is answered with, or returns the product when allowed.
     *
     * @param product what the registry resolved for this caller; empty when there is no such product
     * @param key the object key, or for a listing the {@code prefix} parameter inside the product
     */
    public static Product authorize(Principal principal, Action action, ProductRef ref, Optional<Product> product,
                                    String key) {
        boolean publicRead = action.isRead() && product.map(p -> p.visibility() == Visibility.PUBLIC).orElse(false);
        if (publicRead) {
            return product.get();
        }
        switch (principal) {
            case Principal.Anonymous a -> {
                if (a.unknownKeyId().isPresent()) {
                    throw new S3Exception(S3Error.INVALID_ACCESS_KEY_ID);
                }
                if (product.isEmpty() || product.get().visibility() != Visibility.PUBLIC) {
                    throw new S3Exception(S3Error.NO_SUCH_BUCKET);
                }
                throw new S3Exception(S3Error.ACCESS_DENIED);
            }
            case Principal.AccessKey k -> {
                return scoped(principal, action, ref, product, key);
            }
            case Principal.Session s -> {
                return scoped(principal, action, ref, product, key);
            }
        }
    }

    /** Whether the principal may see the product at all (for account listings and HeadBucket). */
    public static boolean canSee(Principal principal, Product product) {
        if (product.visibility() == Visibility.PUBLIC) {
            return true;
        }
        return principal.scopes().stream().anyMatch(s -> s.coversProduct(product.ref()));
    }

    /**
     * Whether the principal may list the whole product (every key), as listings that span
     * products need: a scope limited to some prefixes lists only inside them.
     */
    public static boolean canListWhole(Principal principal, Product product) {
        if (product.visibility() == Visibility.PUBLIC) {
            return true;
        }
        return allowedByScope(principal, Action.LIST_BUCKET, product.ref(), "");
    }

    private static Product scoped(Principal principal, Action action, ProductRef ref, Optional<Product> product,
                                  String key) {
        if (product.isEmpty()) {
            throw new S3Exception(S3Error.NO_SUCH_BUCKET);
        }
        if (allowedByScope(principal, action, ref, key)) {
            return product.get();
        }
        throw new S3Exception(S3Error.ACCESS_DENIED);
    }

    static boolean allowedByScope(Principal principal, Action action, ProductRef ref, String key) {
        for (Scope s : principal.scopes()) {
            if (action.grantedBy(s.actions()) && s.coversProduct(ref) && s.coversKey(key)) {
                return true;
            }
        }
        return false;
    }
}
