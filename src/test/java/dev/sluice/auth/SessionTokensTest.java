package dev.sluice.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SessionTokensTest {
    private static final Instant NOW = Instant.parse("2026-11-26T07:00:00Z");
    private static final byte[] KEY = key(1);
    private static final byte[] OLD_KEY = key(2);

    private final SessionTokens tokens = new SessionTokens(KEY, Optional.empty(), new SecureRandom());

    private static byte[] key(int fill) {
        byte[] k = new byte[32];
        Arrays.fill(k, (byte) fill);
        return k;
    }

    private static SessionClaims claims() {
        return new SessionClaims("ASIAABCDEFGHIJKLMNOP", "s3cr3t/+Secret0123456789012345678901234", NOW.plus(Duration.ofHours(1)),
                "repo:acme/data:ref:refs/heads/main", "ci-reader",
                List.of(new Scope("acme/data", List.of("raw/", "curated"), Set.of(Action.GET_OBJECT, Action.LIST_BUCKET)),
                        new Scope("acme/*", List.of(), EnumSet.allOf(Action.class)),
                        new Scope("other/x", List.of(), Set.of())));
    }

    private static void assertInvalid(Runnable open) {
        assertThatThrownBy(open::run).isInstanceOfSatisfying(S3Exception.class,
                e -> assertThat(e.error()).isEqualTo(S3Error.INVALID_TOKEN));
    }

    @Test
    void roundTripsEveryField() {
        SessionClaims c = claims();
        String token = tokens.seal(c);
        assertThat(token).startsWith("s1.").matches("s1\\.[A-Za-z0-9_-]+");
        assertThat(tokens.open(token, NOW)).isEqualTo(c);
    }

    @Test
    void sealsWithAFreshNonceEachTime() {
        assertThat(tokens.seal(claims())).isNotEqualTo(tokens.seal(claims()));
    }

    @Test
    void doesNotRevealTheSecretInTheTokenOrToString() {
        SessionClaims c = claims();
        String token = tokens.seal(c);
        assertThat(token).doesNotContain(c.secretAccessKey()).doesNotContain("ASIAABCDEFGHIJKLMNOP");
        assertThat(new String(Base64.getUrlDecoder().decode(token.substring(3)), java.nio.charset.StandardCharsets.ISO_8859_1))
                .doesNotContain("s3cr3t").doesNotContain("ci-reader");
        assertThat(c.toString()).doesNotContain(c.secretAccessKey());
    }

    @Test
    void refusesEveryFlippedByte() {
        String token = tokens.seal(claims());
        byte[] raw = Base64.getUrlDecoder().decode(token.substring(3));
        for (int i = 0; i < raw.length; i++) {
            for (int bit : new int[] {0x01, 0x80}) {
                byte[] tampered = raw.clone();
                tampered[i] ^= (byte) bit;
                String t = "s1." + Base64.getUrlEncoder().withoutPadding().encodeToString(tampered);
                assertInvalid(() -> tokens.open(t, NOW));
            }
        }
    }

    @Test
    void refusesEveryTruncation() {
        String token = tokens.seal(claims());
        for (int len = 0; len < token.length(); len++) {
            String t = token.substring(0, len);
            assertInvalid(() -> tokens.open(t, NOW));
        }
        byte[] raw = Base64.getUrlDecoder().decode(token.substring(3));
        for (int len = 0; len < raw.length; len++) {
            String t = "s1." + Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(raw, len));
            assertInvalid(() -> tokens.open(t, NOW));
        }
    }

    @Test
    void refusesATokenSealedUnderAnotherKey() {
        String foreign = new SessionTokens(key(9), Optional.empty(), new SecureRandom()).seal(claims());
        assertInvalid(() -> tokens.open(foreign, NOW));
    }

    @Test
    void opensTokensSealedUnderThePreviousKey() {
        String old = new SessionTokens(OLD_KEY, Optional.empty(), new SecureRandom()).seal(claims());
        SessionTokens rotated = new SessionTokens(KEY, Optional.of(OLD_KEY), new SecureRandom());
        assertThat(rotated.open(old, NOW)).isEqualTo(claims());
        assertThat(rotated.open(rotated.seal(claims()), NOW)).isEqualTo(claims());
        assertInvalid(() -> tokens.open(old, NOW));
    }

    @Test
    void refusesASealedCacheValueUnderTheSameKey() {
        byte[] sealed = new dev.sluice.cache.Sealer(KEY, new SecureRandom()).seal("some-redis-key", "{}".getBytes());
        String t = "s1." + Base64.getUrlEncoder().withoutPadding().encodeToString(sealed);
        assertInvalid(() -> tokens.open(t, NOW));
    }

    @Test
    void answersExpiredTokenFromTheExpiryInstantOn() {
        String token = tokens.seal(claims());
        Instant expiry = claims().expiry();
        assertThat(tokens.open(token, expiry.minusNanos(1))).isEqualTo(claims());
        for (Instant at : List.of(expiry, expiry.plusSeconds(1))) {
            assertThatThrownBy(() -> tokens.open(token, at)).isInstanceOfSatisfying(S3Exception.class,
                    e -> assertThat(e.error()).isEqualTo(S3Error.EXPIRED_TOKEN));
        }
    }

    @Test
    void refusesGarbageWithInvalidTokenOnly() {
        String good = tokens.seal(claims());
        List<String> garbage = Arrays.asList(null, "", "s1.", "s1", "s2." + good.substring(3), good.substring(3),
                "s1.!!!!", "s1.a", "s1.AAAA", "s1." + good.substring(3) + "=", "s1." + good.substring(3) + "==",
                "s1." + "A".repeat(20_000), "FwoGZXIvYXdzE" + "x".repeat(200), "s1.\u0000\u00ff", "s1." + good,
                good + ".", good.replace('-', '+'), "s1.%41%41");
        for (String g : garbage) {
            assertInvalid(() -> tokens.open(g, NOW));
        }
    }

    @Test
    void refusesSealedJsonThatLacksAField() {
        dev.sluice.cache.Sealer sealer = new dev.sluice.cache.Sealer(KEY, new SecureRandom());
        List<String> documents = List.of("{}", "[]", "null", "not json",
                "{\"akid\":\"A\",\"secret\":\"s\",\"exp\":\"2030-01-01T00:00:00Z\",\"sub\":\"x\",\"role\":\"r\"}",
                "{\"akid\":\"A\",\"secret\":\"s\",\"exp\":\"soon\",\"sub\":\"x\",\"role\":\"r\",\"scopes\":[]}",
                "{\"akid\":1,\"secret\":\"s\",\"exp\":\"2030-01-01T00:00:00Z\",\"sub\":\"x\",\"role\":\"r\",\"scopes\":[]}",
                "{\"akid\":\"A\",\"secret\":\"s\",\"exp\":\"2030-01-01T00:00:00Z\",\"sub\":\"x\",\"role\":\"r\","
                        + "\"scopes\":[{\"product\":\"nope\",\"prefixes\":[],\"actions\":[]}]}",
                "{\"akid\":\"A\",\"secret\":\"s\",\"exp\":\"2030-01-01T00:00:00Z\",\"sub\":\"x\",\"role\":\"r\","
                        + "\"scopes\":[{\"product\":\"a/b\",\"prefixes\":[],\"actions\":[\"fly\"]}]}",
                "{\"akid\":\"A\",\"secret\":\"s\",\"exp\":\"2030-01-01T00:00:00Z\",\"sub\":\"x\",\"role\":\"r\","
                        + "\"scopes\":[{\"product\":\"a/b\",\"actions\":[]}]}");
        for (String doc : documents) {
            byte[] sealed = sealer.seal(SessionTokens.ASSOCIATED_DATA, doc.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            String t = "s1." + Base64.getUrlEncoder().withoutPadding().encodeToString(sealed);
            assertInvalid(() -> tokens.open(t, NOW));
        }
        String complete = "{\"akid\":\"A\",\"secret\":\"s\",\"exp\":\"2030-01-01T00:00:00Z\",\"sub\":\"x\",\"role\":\"r\","
                + "\"scopes\":[{\"product\":\"a/b\",\"prefixes\":[\"p\"],\"actions\":[\"get_object\"]}]}";
        byte[] sealed = sealer.seal(SessionTokens.ASSOCIATED_DATA, complete.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(tokens.open("s1." + Base64.getUrlEncoder().withoutPadding().encodeToString(sealed), NOW).scopes())
                .containsExactly(new Scope("a/b", List.of("p"), Set.of(Action.GET_OBJECT)));
    }

    @Test
    void refusesKeysThatAreNot32Bytes() {
        assertThatThrownBy(() -> new SessionTokens(new byte[16], Optional.empty(), new SecureRandom()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SessionTokens(KEY, Optional.of(new byte[31]), new SecureRandom()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
