package dev.sluice.protect;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * Names of limit state in the shared store: {@code sluice:v1:<namespace>:} + base64url(SHA-256(key)),
 * synthetic like the shared tier's keys, so a client address or key id never appears in Redis
 * (docs/protection.md).
 */
final class StoreKeys {
    private StoreKeys() {
    }

    static String of(String namespace, String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return "sluice:v1:" + namespace + ":" + Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }
}
