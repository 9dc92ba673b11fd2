package dev.sluice.cache;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Optional;

/**
 * AES-256-GCM sealing of values kept in the shared tier, so a dump of Redis reveals no usable
 * secret. The Redis key is the associated data: a sealed value copied under another key does
 * not open. Every seal uses a fresh random 96-bit nonce. Layout: version byte {@code 1},
 * nonce, ciphertext with its 128-bit tag.
 *
 * <p>Opening never throws: a value sealed under another key (after a key rotation), truncated
 * or tampered with is simply absent, which the shared tier treats as a miss.
 */
public final class Sealer {
    private static final byte VERSION = 1;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;

    private final SecretKeySpec key;
    private final SecureRandom random;

    public Sealer(byte[] key, SecureRandom random) {
        if (key.length != 32) {
            throw new IllegalArgumentException("the seal key must be 32 bytes (AES-256), got " + key.length);
        }
        this.key = new SecretKeySpec(key.clone(), "AES");
        this.random = random;
    }

    public byte[] seal(String associatedData, byte[] plaintext) {
        byte[] nonce = new byte[NONCE_BYTES];
        random.nextBytes(nonce);
        return seal(associatedData, plaintext, nonce);
    }

    /**
     * Seals with a nonce the caller chose, for deterministic sealing: a caller that derives the
     * nonce from the associated data and the plaintext with a key of its own (a synthetic IV)
     * gets the same output for the same input, and distinct inputs practically never share a
     * nonce. Any other fixed or repeated nonce breaks AES-GCM: use {@link #seal(String, byte[])}.
     */
    public byte[] seal(String associatedData, byte[] plaintext, byte[] nonce) {
        if (nonce.length != NONCE_BYTES) {
            throw new IllegalArgumentException("an AES-GCM nonce is " + NONCE_BYTES + " bytes");
        }
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            c.updateAAD(associatedData.getBytes(StandardCharsets.UTF_8));
            byte[] sealed = c.doFinal(plaintext);
            byte[] out = new byte[1 + NONCE_BYTES + sealed.length];
            out[0] = VERSION;
            System.arraycopy(nonce, 0, out, 1, NONCE_BYTES);
            System.arraycopy(sealed, 0, out, 1 + NONCE_BYTES, sealed.length);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is required of every JVM", e);
        }
    }

    public Optional<byte[]> open(String associatedData, byte[] sealed) {
        if (sealed.length < 1 + NONCE_BYTES + TAG_BITS / 8 || sealed[0] != VERSION) {
            return Optional.empty();
        }
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, Arrays.copyOfRange(sealed, 1, 1 + NONCE_BYTES)));
            c.updateAAD(associatedData.getBytes(StandardCharsets.UTF_8));
            return Optional.of(c.doFinal(sealed, 1 + NONCE_BYTES, sealed.length - 1 - NONCE_BYTES));
        } catch (GeneralSecurityException e) {
            return Optional.empty();
        }
    }

    @Override
    public String toString() {
        return "Sealer[AES-256-GCM]";
    }
}
