package dev.sluice.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;

class SealerTest {
    private static final String KEY = "sluice:v1:cred:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    private static final byte[] PLAINTEXT = "{\"ak\":\"ASIAEXAMPLE\",\"sk\":\"secret\"}".getBytes(StandardCharsets.UTF_8);

    private final byte[] sealKey = key(1);
    private final Sealer sealer = new Sealer(sealKey, new SecureRandom());

    private static byte[] key(int seed) {
        byte[] k = new byte[32];
        Arrays.fill(k, (byte) seed);
        k[31] = (byte) (seed * 31);
        return k;
    }

    @Test
    void opensWhatItSealed() {
        byte[] sealed = sealer.seal(KEY, PLAINTEXT);

        assertThat(sealer.open(KEY, sealed)).hasValueSatisfying(p -> assertThat(p).isEqualTo(PLAINTEXT));
    }

    @Test
    void opensAnEmptyPlaintext() {
        assertThat(sealer.open(KEY, sealer.seal(KEY, new byte[0]))).hasValueSatisfying(p -> assertThat(p).isEmpty());
    }

    @Test
    void sealedBytesDoNotContainThePlaintext() {
        byte[] sealed = sealer.seal(KEY, PLAINTEXT);

        assertThat(new String(sealed, StandardCharsets.ISO_8859_1)).doesNotContain("ASIAEXAMPLE").doesNotContain("secret");
    }

    @Test
    void layoutIsVersionNonceThenCiphertextWithTag() {
        byte[] sealed = sealer.seal(KEY, PLAINTEXT);

        assertThat(sealed[0]).isEqualTo((byte) 1);
        assertThat(sealed).hasSize(1 + 12 + PLAINTEXT.length + 16);
    }

    @Test
    void aValueCopiedUnderAnotherRedisKeyDoesNotOpen() {
        byte[] sealed = sealer.seal(KEY, PLAINTEXT);

        assertThat(sealer.open(KEY + "x", sealed)).isEmpty();
        assertThat(sealer.open("sluice:v1:cred:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", sealed)).isEmpty();
        assertThat(sealer.open("", sealed)).isEmpty();
    }

    @Test
    void flippingAnySingleByteMakesTheValueUnopenable() {
        byte[] sealed = sealer.seal(KEY, PLAINTEXT);

        for (int i = 0; i < sealed.length; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] tampered = sealed.clone();
                tampered[i] ^= (byte) (1 << bit);
                assertThat(sealer.open(KEY, tampered)).as("bit %d of byte %d flipped", bit, i).isEmpty();
            }
        }
        assertThat(sealer.open(KEY, sealed)).as("the original still opens").isPresent();
    }

    @Test
    void everyTruncationIsUnopenable() {
        byte[] sealed = sealer.seal(KEY, PLAINTEXT);

        for (int length = 0; length < sealed.length; length++) {
            assertThat(sealer.open(KEY, Arrays.copyOf(sealed, length))).as("first %d bytes", length).isEmpty();
        }
    }

    @Test
    void emptyInputIsUnopenable() {
        assertThat(sealer.open(KEY, new byte[0])).isEmpty();
    }

    @Test
    void anInputShorterThanVersionNonceAndTagIsUnopenable() {
        byte[] shortest = new byte[1 + 12 + 16 - 1];
        shortest[0] = 1;

        assertThat(sealer.open(KEY, shortest)).isEmpty();
        assertThat(sealer.open(KEY, new byte[] {1})).isEmpty();
    }

    @Test
    void anUnknownVersionByteIsUnopenable() {
        byte[] sealed = sealer.seal(KEY, PLAINTEXT);

        for (int version : new int[] {0, 2, 0x7f, 0x80, 0xff}) {
            byte[] other = sealed.clone();
            other[0] = (byte) version;
            assertThat(sealer.open(KEY, other)).as("version %d", version).isEmpty();
        }
    }

    @Test
    void aValueSealedWithAnotherKeyIsAbsentNotAnError() {
        byte[] sealedBeforeRotation = new Sealer(key(2), new SecureRandom()).seal(KEY, PLAINTEXT);

        assertThat(sealer.open(KEY, sealedBeforeRotation)).isEmpty();
    }

    @Test
    void garbageOfPlausibleLengthIsUnopenable() {
        byte[] garbage = new byte[200];
        new SecureRandom().nextBytes(garbage);
        garbage[0] = 1;

        assertThat(sealer.open(KEY, garbage)).isEmpty();
    }

    @Test
    void twoSealsOfTheSamePlaintextDifferBecauseEachHasAFreshNonce() {
        byte[] first = sealer.seal(KEY, PLAINTEXT);
        byte[] second = sealer.seal(KEY, PLAINTEXT);

        assertThat(second).isNotEqualTo(first);
        assertThat(Arrays.copyOfRange(second, 1, 13)).isNotEqualTo(Arrays.copyOfRange(first, 1, 13));
        assertThat(sealer.open(KEY, first)).isPresent();
        assertThat(sealer.open(KEY, second)).isPresent();
    }

    @Test
    void takesItsNonceFromTheInjectedRandomSource() {
        SecureRandom fixed = new SecureRandom() {
            @Override
            public void nextBytes(byte[] bytes) {
                Arrays.fill(bytes, (byte) 7);
            }
        };
        byte[] sealed = new Sealer(sealKey, fixed).seal(KEY, PLAINTEXT);

        byte[] sevens = new byte[12];
        Arrays.fill(sevens, (byte) 7);
        assertThat(Arrays.copyOfRange(sealed, 1, 13)).isEqualTo(sevens);
        assertThat(sealer.open(KEY, sealed)).as("any sealer with the key opens it").isPresent();
    }

    @Test
    void keysThatAreNot32BytesAreRejected() {
        for (int length : new int[] {0, 16, 24, 31, 33, 64}) {
            assertThatThrownBy(() -> new Sealer(new byte[length], new SecureRandom()))
                    .as("%d bytes", length)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("32 bytes");
        }
    }

    @Test
    void keepsItsOwnCopyOfTheKey() {
        byte[] k = key(3);
        Sealer s = new Sealer(k, new SecureRandom());
        byte[] sealed = s.seal(KEY, PLAINTEXT);

        Arrays.fill(k, (byte) 0);

        assertThat(s.open(KEY, sealed)).isPresent();
    }

    @Test
    void toStringRevealsNothingOfTheKey() {
        String text = sealer.toString();

        assertThat(text).isEqualTo("Sealer[AES-256-GCM]");
        assertThat(text).doesNotContain(Base64.getEncoder().encodeToString(sealKey))
                .doesNotContain(HexFormat.of().formatHex(sealKey))
                .doesNotContain(Arrays.toString(sealKey));
    }

    @Test
    void aChosenNonceSealsTheSameInputToTheSameOutputThatOpensAsAnyOther() {
        byte[] nonce = new byte[12];
        Arrays.fill(nonce, (byte) 7);

        byte[] sealed = sealer.seal(KEY, PLAINTEXT, nonce);

        assertThat(sealer.seal(KEY, PLAINTEXT, nonce)).isEqualTo(sealed);
        assertThat(sealer.open(KEY, sealed)).hasValueSatisfying(p -> assertThat(p).isEqualTo(PLAINTEXT));
        assertThat(Arrays.copyOfRange(sealed, 1, 13)).isEqualTo(nonce);
        assertThatThrownBy(() -> sealer.seal(KEY, PLAINTEXT, new byte[8])).isInstanceOf(IllegalArgumentException.class);
    }
}
