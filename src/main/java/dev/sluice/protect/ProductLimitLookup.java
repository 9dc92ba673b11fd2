package dev.sluice.protect;

import dev.sluice.auth.Principal;
import dev.sluice.config.SluiceConfig;

/**
 * Where the gate finds a product's limits (docs/protection.md): the static registry's
 * configured ones, or what a control-plane registry's answer for the product carries. Asked
 * once per request that names a product, on the request path, so an implementation answers
 * from what it already holds (a map, the registry's cached product answer) and never adds a
 * call to a remote service of its own.
 */
@FunctionalInterface
public interface ProductLimitLookup {

    /**
     * The limits of {@code account/product} as {@code principal} is served it (in request
     * {@code requestId}, which a registry passes on to its API), the defaults
     * ({@code limits.product}) filled in; {@link SluiceConfig.ProductLimits#NONE} when it has none.
     * May throw the S3 error the registry answers when it cannot say (the request would get
     * the same from the read path).
     */
    SluiceConfig.ProductLimits of(String account, String product, Principal principal, String requestId);
}
