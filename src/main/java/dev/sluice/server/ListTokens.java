package dev.sluice.server;

import dev.sluice.backend.ListPosition;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * ListObjectsV2 continuation tokens: opaque to clients, and to sluice a product name plus the
 * position inside that product (a key to resume after, or the backend's own token). A token
 * that does not decode is the client's error ({@code 400 InvalidArgument}), as in S3.
 */
final class ListTokens {
    private static final String VERSION = "1";

    record Token(String product, ListPosition position) {
    }

    private ListTokens() {
    }

    static String encode(String product, ListPosition position) {
        String body = switch (position) {
            case ListPosition.Start s -> "S";
            case ListPosition.After a -> "A" + a.key();
            case ListPosition.Resume r -> "R" + r.backendToken();
        };
        String raw = VERSION + "\n" + product + "\n" + body;
        return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
    }

    static Token decode(String token) {
        String raw;
        try {
            raw = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw invalid();
        }
        String[] parts = raw.split("\n", 3);
        if (parts.length != 3 || !parts[0].equals(VERSION) || parts[2].isEmpty()) {
            throw invalid();
        }
        String value = parts[2].substring(1);
        ListPosition position = switch (parts[2].charAt(0)) {
            case 'S' -> new ListPosition.Start();
            case 'A' -> new ListPosition.After(value);
            case 'R' -> new ListPosition.Resume(value);
            default -> throw invalid();
        };
        return new Token(parts[1], position);
    }

    private static S3Exception invalid() {
        return new S3Exception(S3Error.INVALID_ARGUMENT, "The continuation token provided is incorrect");
    }
}
