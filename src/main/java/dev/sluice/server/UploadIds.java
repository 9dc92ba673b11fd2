package dev.sluice.server;

import dev.sluice.cache.Sealer;
import dev.sluice.registry.ProductRef;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;

/**
 * The multipart upload ids clients see (docs/writes.md, "Operations"): the store's own upload
 * id, sealed with AES-256-GCM ({@link Sealer}) and bound, as associated data, to the account,
 * product and key it was started for. A client can neither read the store's id nor forge one,
 * and an id presented with another product or key does not open: each of those is
 * {@code 404 NoSuchUpload}, as S3 answers an upload id it does not know. Every instance holding
 * the same key opens every other's ids, so a fleet continues an upload on any instance.
 *
 * <p>Sealing is deterministic: the nonce is an HMAC of the binding and the store's id (a
 * synthetic IV, under a key derived for that alone), so one upload has one id however often it
 * is sealed. ListMultipartUploads seals the ids it lists again, and clients match them against
 * the id CreateMultipartUpload gave them; with a random nonce each listing showed a new id.
 */
public final class UploadIds {
    /** Longer than any id this class makes (a store's id is at most a few hundred bytes). */
    private static final int MAX_ID_LENGTH = 4096;
    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

    private static final int NONCE_BYTES = 12;

    private final Sealer sealer;
    private final SecretKeySpec nonceKey;

    /** Ids sealed with {@code key} (32 bytes), the same on every instance of a fleet. */
    public UploadIds(byte[] key) {
        this.sealer = new Sealer(key, new SecureRandom());
        this.nonceKey = new SecretKeySpec(hmac(new SecretKeySpec(key, "HmacSHA256"),
                "sluice upload id nonce key".getBytes(StandardCharsets.UTF_8)), "HmacSHA256");
    }

    /** The id the client is given for the store's upload {@code storeId} of {@code key} in {@code ref}; the same every time. */
    public String seal(ProductRef ref, String key, String storeId) {
        String binding = associatedData(ref, key);
        byte[] plaintext = storeId.getBytes(StandardCharsets.UTF_8);
        byte[] input = (binding + "\u0000" + storeId).getBytes(StandardCharsets.UTF_8);
        byte[] nonce = Arrays.copyOf(hmac(nonceKey, input), NONCE_BYTES);
        return ENCODER.encodeToString(sealer.seal(binding, plaintext, nonce));
    }

    private static byte[] hmac(SecretKeySpec key, byte[] input) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac.doFinal(input);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is required of every JVM", e);
        }
    }

    /** The store's upload id in a client's {@code id} for {@code key} in {@code ref}; {@code 404 NoSuchUpload} when it is not one. */
    public String open(ProductRef ref, String key, String id) {
        return tryOpen(ref, key, id).orElseThrow(() -> new S3Exception(S3Error.NO_SUCH_UPLOAD));
    }

    /** {@link #open}, empty instead of an error. */
    public Optional<String> tryOpen(ProductRef ref, String key, String id) {
        if (id.isEmpty() || id.length() > MAX_ID_LENGTH) {
            return Optional.empty();
        }
        byte[] sealed;
        try {
            sealed = Base64.getUrlDecoder().decode(id);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        return sealer.open(associatedData(ref, key), sealed).map(b -> new String(b, StandardCharsets.UTF_8));
    }

    /**
     * What an id is bound to. Account and product names hold no line feed (configuration and the
     * registry refuse them) and the key comes last, so no two (account, product, key) share one.
     */
    private static String associatedData(ProductRef ref, String key) {
        return "sluice-upload-id\n" + ref.account() + "\n" + ref.product() + "\n" + key;
    }

    @Override
    public String toString() {
        return "UploadIds[AES-256-GCM]";
    }
}
