package dev.sluice.s3;

import java.nio.charset.StandardCharsets;

/**
 * Which object keys sluice accepts. A key is exactly what the client sent, percent-decoded
 * once; it is never normalised. Keys that cannot name an object safely on every backend are
 * refused up front: {@code .} and {@code ..} segments, empty segments, and control
 * characters. That refusal is what keeps the {@code file} backend inside its directory (it
 * also checks), and it keeps the two backends answering alike.
 */
public final class ObjectKeys {
    /** S3's limit on key length, in UTF-8 bytes. */
    public static final int MAX_KEY_BYTES = 1024;

    private ObjectKeys() {
    }

    /**
     * Whether some key {@link #requireValid} accepts could start with {@code prefix}: no control
     * characters, at most {@link #MAX_KEY_BYTES}, and no {@code .}, {@code ..} or empty segment
     * before its last {@code /}. The text after the last {@code /} is a partial segment and may
     * be anything ({@code a/.} is the start of {@code a/.hidden}).
     */
    public static boolean canPrefixAValidKey(String prefix) {
        if (prefix.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            char c = prefix.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return false;
            }
        }
        String[] segments = prefix.split("/", -1);
        for (int i = 0; i < segments.length - 1; i++) {
            String s = segments[i];
            if (s.isEmpty() || s.equals(".") || s.equals("..")) {
                return false;
            }
        }
        return true;
    }

    /** Throws {@code 400 InvalidRequest} (or {@code KeyTooLongError}) for a key no backend may be asked for. */
    public static void requireValid(String key) {
        if (key.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
            throw new S3Exception(S3Error.KEY_TOO_LONG);
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw new S3Exception(S3Error.INVALID_REQUEST, "Object keys may not contain control characters.");
            }
        }
        String[] segments = key.split("/", -1);
        for (int i = 0; i < segments.length; i++) {
            String s = segments[i];
            boolean trailing = i == segments.length - 1;
            if (s.equals(".") || s.equals("..")) {
                throw new S3Exception(S3Error.INVALID_REQUEST, "Object keys may not contain '.' or '..' segments.");
            }
            if (s.isEmpty() && !trailing) {
                throw new S3Exception(S3Error.INVALID_REQUEST, "Object keys may not contain empty segments.");
            }
        }
    }
}
