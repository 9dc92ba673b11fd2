package dev.sluice.registry;

import java.util.Set;

/**
 * Whether a caller may write to a control-plane product, decided from facts already fetched:
 * who the caller is, whether the product's data connection is read-only, and the caller's
 * permissions from {@code /permissions}. Pure, so every rule is tested on its own; the order
 * of the checks is the order in which they cost nothing to the API (an anonymous caller is
 * refused before its permissions would be asked).
 */
public enum WriteDecision {
    ALLOW,
    /** Writes need an authenticated caller. */
    DENY_ANONYMOUS,
    /** The data connection is read-only, whatever the caller's permissions. */
    DENY_READ_ONLY,
    /** The API does not grant this caller {@code write}. */
    DENY_NO_WRITE_PERMISSION;

    public static final String WRITE = "write";

    public static WriteDecision decide(Caller caller, boolean connectionReadOnly, Set<String> permissions) {
        if (caller.isAnonymous()) {
            return DENY_ANONYMOUS;
        }
        if (connectionReadOnly) {
            return DENY_READ_ONLY;
        }
        if (!permissions.contains(WRITE)) {
            return DENY_NO_WRITE_PERMISSION;
        }
        return ALLOW;
    }

    public boolean allowed() {
        return this == ALLOW;
    }
}
