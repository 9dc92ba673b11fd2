package dev.sluice.testing;

import dev.sluice.federation.SigningKey;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The fixed, published RSA keys under {@code src/test/resources/keys/} (see the README there),
 * for tests that need a signing key but are not about making one: generating RSA-2048 in the
 * JVM costs up to seconds per key.
 */
public final class TestKeys {
    private TestKeys() {
    }

    /** {@code name} is {@code test-rsa-a}, {@code test-rsa-b} or {@code test-rsa-c}. */
    public static SigningKey load(String name, String kid) {
        return SigningKey.fromPem(pem(name), kid);
    }

    /** The PEM text of a test key, for configuration that takes a key as PEM ({@code pem_env}). */
    public static String pem(String name) {
        String resource = "/keys/" + name + ".pem";
        try (InputStream in = TestKeys.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no test key " + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
