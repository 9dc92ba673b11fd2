package dev.sluice.auth;

import dev.sluice.registry.ProductRef;

import java.util.List;
import java.util.Set;

/**
 * One grant: which products ({@code account/product}, or {@code account/*} for every product
 * of an account), which key prefixes inside them (none listed means every key), and which
 * actions.
 *
 * <p>Prefix rule: a prefix ending in {@code /} matches keys that start with it; any other
 * prefix {@code p} matches the key {@code p} itself and keys under {@code p/}, never
 * {@code p}-something ({@code a} matches {@code a} and {@code a/x}, not {@code ab}).
 */
public record Scope(String product, List<String> prefixes, Set<Action> actions) {

    public Scope {
        int slash = product.indexOf('/');
        if (slash <= 0 || slash == product.length() - 1 || product.indexOf('/', slash + 1) >= 0) {
            throw new IllegalArgumentException("a scope's product is 'account/product' or 'account/*', not '" + product + "'");
        }
        prefixes = List.copyOf(prefixes);
        actions = Set.copyOf(actions);
    }

    public boolean coversProduct(ProductRef ref) {
        int slash = product.indexOf('/');
        String account = product.substring(0, slash);
        String name = product.substring(slash + 1);
        return account.equals(ref.account()) && (name.equals("*") || name.equals(ref.product()));
    }

    /** Whether a key (or, for listings, the listed prefix) lies inside this scope's prefixes. */
    public boolean coversKey(String key) {
        if (prefixes.isEmpty()) {
            return true;
        }
        for (String p : prefixes) {
            if (p.isEmpty() || keyUnder(key, p)) {
                return true;
            }
        }
        return false;
    }

    static boolean keyUnder(String key, String prefix) {
        if (prefix.endsWith("/")) {
            return key.startsWith(prefix);
        }
        return key.equals(prefix) || key.startsWith(prefix + "/");
    }
}
