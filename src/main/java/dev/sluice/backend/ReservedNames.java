package dev.sluice.backend;

/**
 * The names a {@link FileBackend} keeps for itself inside a product directory, which listings
 * and reads never show and clients can neither write nor read ({@code docs/writes.md}, "File
 * backend"): the {@code .sluice} directory at the root (object metadata sidecars, multipart
 * staging) and files whose name starts with {@code .sluice-tmp-} in any directory (a write in
 * progress, made visible by a rename).
 */
final class ReservedNames {
    /** The directory at the product root that holds what a store keeps besides its objects. */
    static final String AREA = ".sluice";
    /** The start of a temporary file's name, in any directory. */
    static final String TEMP_PREFIX = ".sluice-tmp-";

    private ReservedNames() {
    }

    /** Whether {@code key} names something the store keeps for itself, or lies under it. */
    static boolean reserved(String key) {
        int slash = key.indexOf('/');
        String first = slash < 0 ? key : key.substring(0, slash);
        if (first.equals(AREA)) {
            return true;
        }
        // A segment starts with the prefix: the first, or one after a slash (read on every GET: no split).
        return key.startsWith(TEMP_PREFIX) || key.contains("/" + TEMP_PREFIX);
    }

    /** Whether a directory entry {@code name} under the key prefix {@code dirKey} is hidden from listings. */
    static boolean hidden(String dirKey, String name) {
        return isTemp(name) || dirKey.isEmpty() && name.equals(AREA);
    }

    /** Whether {@code name} is a temporary file's (or a staging directory's on its way out). */
    static boolean isTemp(String name) {
        return name.startsWith(TEMP_PREFIX);
    }
}
