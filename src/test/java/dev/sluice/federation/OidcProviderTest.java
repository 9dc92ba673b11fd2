package dev.sluice.federation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import dev.sluice.testing.MutableClock;
import dev.sluice.testing.TestKeys;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a relying party (AWS STS) sees of sluice's OIDC provider: the discovery document, the
 * JWKS, and tokens that verify against that JWKS with nimbus, the way any standard verifier
 * would; and key rotation from the relying party's side.
 */
class OidcProviderTest {
    private static final String ISSUER = "https://sluice.example.com";
    private static final String SUBJECT = "sluice:product:demo/hello";
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
    private static final Duration FIVE_MINUTES = Duration.ofMinutes(5);
    private static final ObjectMapper JSON = new ObjectMapper();

    private static SigningKey keyA;
    private static SigningKey keyB;
    private static SigningKey notPublished;

    private final MutableClock clock = new MutableClock(NOW);

    @BeforeAll
    static void loadKeys() {
        keyA = TestKeys.load("test-rsa-a", "key-a");
        keyB = TestKeys.load("test-rsa-b", "key-b");
        notPublished = TestKeys.load("test-rsa-c", "key-c");
    }

    // ---- discovery ----

    @Test
    void discoveryDocumentNamesIssuerJwksUriAndRs256IdTokens() throws Exception {
        OidcProvider provider = new OidcProvider(ISSUER, keyA, Optional.empty(), clock);

        JsonNode doc = JSON.readTree(provider.discoveryDocument());

        assertThat(doc.get("issuer").asText()).isEqualTo(ISSUER);
        assertThat(doc.get("jwks_uri").asText()).isEqualTo(ISSUER + "/.well-known/jwks.json");
        assertThat(strings(doc.get("response_types_supported"))).containsExactly("id_token");
        assertThat(strings(doc.get("subject_types_supported"))).containsExactly("public");
        assertThat(strings(doc.get("id_token_signing_alg_values_supported"))).containsExactly("RS256");
    }

    @Test
    void issuerWithTrailingSlashIsPublishedAndSignedWithout() throws Exception {
        // STS compares iss with the provider URL exactly; "…com/" and "…com" must not both appear.
        OidcProvider provider = new OidcProvider(ISSUER + "/", keyA, Optional.empty(), clock);

        JsonNode doc = JSON.readTree(provider.discoveryDocument());

        assertThat(provider.issuer()).isEqualTo(ISSUER);
        assertThat(doc.get("issuer").asText()).isEqualTo(ISSUER);
        assertThat(doc.get("jwks_uri").asText()).isEqualTo(ISSUER + "/.well-known/jwks.json");
        String token = provider.mint(SUBJECT, OidcProvider.STS_AUDIENCE, FIVE_MINUTES);
        assertThat(SignedJWT.parse(token).getJWTClaimsSet().getIssuer()).isEqualTo(ISSUER);
    }

    // ---- JWKS ----

    @Test
    void jwksPublishesEachKeyAsAnRs256SigningKeyWithOnlyPublicMembers() throws Exception {
        OidcProvider provider = new OidcProvider(ISSUER, keyA, Optional.empty(), clock);

        JsonNode keys = JSON.readTree(provider.jwksDocument()).get("keys");

        assertThat(keys).hasSize(1);
        JsonNode key = keys.get(0);
        assertThat(fieldNames(key)).containsExactlyInAnyOrder("kty", "alg", "use", "kid", "n", "e");
        assertThat(key.get("kty").asText()).isEqualTo("RSA");
        assertThat(key.get("alg").asText()).isEqualTo("RS256");
        assertThat(key.get("use").asText()).isEqualTo("sig");
        assertThat(key.get("kid").asText()).isEqualTo("key-a");
        RSAKey parsed = RSAKey.parse(key.toString());
        assertThat(parsed.toRSAPublicKey()).isEqualTo(keyA.publicKey());
    }

    @Test
    void jwksListsThePreviousKeyButTokensAreSignedWithTheCurrentKid() throws Exception {
        OidcProvider provider = new OidcProvider(ISSUER, keyB, Optional.of(keyA), clock);

        JWKSet jwks = JWKSet.parse(provider.jwksDocument());
        SignedJWT token = SignedJWT.parse(provider.mint(SUBJECT, OidcProvider.STS_AUDIENCE, FIVE_MINUTES));

        assertThat(jwks.getKeys()).extracting(k -> k.getKeyID()).containsExactly("key-b", "key-a");
        for (JsonNode key : JSON.readTree(provider.jwksDocument()).get("keys")) {
            assertThat(fieldNames(key)).containsExactlyInAnyOrder("kty", "alg", "use", "kid", "n", "e");
        }
        assertThat(token.getHeader().getKeyID()).isEqualTo("key-b");
        assertThat(token.verify(new RSASSAVerifier(keyB.publicKey()))).isTrue();
    }

    @Test
    void previousKeyMustHaveItsOwnKid() {
        SigningKey sameKid = new SigningKey("key-a", keyB.privateKey(), keyB.publicKey());

        assertThatIllegalArgumentException()
                .isThrownBy(() -> new OidcProvider(ISSUER, keyA, Optional.of(sameKid), clock))
                .withMessageContaining("different kid");
    }

    // ---- tokens ----

    @Test
    void mintedTokenVerifiesAgainstThePublishedJwksAndCarriesEveryClaim() throws Exception {
        OidcProvider provider = new OidcProvider(ISSUER, keyA, Optional.empty(), clock);

        String token = provider.mint(SUBJECT, OidcProvider.STS_AUDIENCE, FIVE_MINUTES);
        JWTClaimsSet claims = verify(token, provider.jwksDocument());

        JWSHeader header = SignedJWT.parse(token).getHeader();
        assertThat(header.getAlgorithm()).isEqualTo(JWSAlgorithm.RS256);
        assertThat(header.getKeyID()).isEqualTo("key-a");
        assertThat(header.getType()).isEqualTo(JOSEObjectType.JWT);
        assertThat(claims.getIssuer()).isEqualTo(ISSUER);
        assertThat(claims.getSubject()).isEqualTo(SUBJECT);
        assertThat(claims.getAudience()).containsExactly("sts.amazonaws.com");
        assertThat(claims.getIssueTime()).isEqualTo(Date.from(NOW));
        assertThat(claims.getNotBeforeTime()).isEqualTo(Date.from(NOW));
        assertThat(claims.getExpirationTime()).isEqualTo(Date.from(NOW.plus(FIVE_MINUTES)));
        assertThat(claims.getJWTID()).isNotBlank();
    }

    @Test
    void timesComeFromTheInjectedClockAndEachTokenHasItsOwnJti() throws Exception {
        OidcProvider provider = new OidcProvider(ISSUER, keyA, Optional.empty(), clock);
        JWTClaimsSet first = SignedJWT.parse(provider.mint(SUBJECT, OidcProvider.STS_AUDIENCE, FIVE_MINUTES)).getJWTClaimsSet();

        clock.advance(Duration.ofMinutes(42));
        JWTClaimsSet second = SignedJWT.parse(provider.mint(SUBJECT, OidcProvider.STS_AUDIENCE, FIVE_MINUTES)).getJWTClaimsSet();

        Instant later = NOW.plus(Duration.ofMinutes(42));
        assertThat(second.getIssueTime()).isEqualTo(Date.from(later));
        assertThat(second.getExpirationTime()).isEqualTo(Date.from(later.plus(FIVE_MINUTES)));
        assertThat(second.getJWTID()).isNotEqualTo(first.getJWTID());
    }

    // ---- rotation, as a relying party sees it ----

    @Test
    void afterRotationTokensOfBothKeysVerifyAgainstTheNewJwks() throws Exception {
        OidcProvider before = new OidcProvider(ISSUER, keyA, Optional.empty(), clock);
        OidcProvider after = new OidcProvider(ISSUER, keyB, Optional.of(keyA), clock);
        String signedBefore = before.mint(SUBJECT, OidcProvider.STS_AUDIENCE, FIVE_MINUTES);
        String signedAfter = after.mint(SUBJECT, OidcProvider.STS_AUDIENCE, FIVE_MINUTES);

        assertThat(verify(signedAfter, after.jwksDocument()).getSubject()).isEqualTo(SUBJECT);
        assertThat(verify(signedBefore, after.jwksDocument()).getSubject())
                .as("a token minted just before the rotation still verifies").isEqualTo(SUBJECT);
    }

    @Test
    void newKeysTokenFailsAgainstAJwksCachedBeforeRotation() throws Exception {
        // Why the previous key must stay listed, and the new one be published before it signs.
        OidcProvider before = new OidcProvider(ISSUER, keyA, Optional.empty(), clock);
        OidcProvider after = new OidcProvider(ISSUER, keyB, Optional.of(keyA), clock);

        String signedAfter = after.mint(SUBJECT, OidcProvider.STS_AUDIENCE, FIVE_MINUTES);

        assertThatThrownBy(() -> verify(signedAfter, before.jwksDocument())).isInstanceOf(BadJOSEException.class);
    }

    @Test
    void tokenSignedByAKeyNotInTheJwksFails() throws Exception {
        OidcProvider published = new OidcProvider(ISSUER, keyB, Optional.of(keyA), clock);
        OidcProvider stranger = new OidcProvider(ISSUER, notPublished, Optional.empty(), clock);
        // Same kid as a published key, different key material: the kid alone must not be trusted.
        OidcProvider impostor = new OidcProvider(ISSUER,
                new SigningKey("key-b", notPublished.privateKey(), notPublished.publicKey()), Optional.empty(), clock);

        String unknownKid = stranger.mint(SUBJECT, OidcProvider.STS_AUDIENCE, FIVE_MINUTES);
        String borrowedKid = impostor.mint(SUBJECT, OidcProvider.STS_AUDIENCE, FIVE_MINUTES);

        assertThatThrownBy(() -> verify(unknownKid, published.jwksDocument())).isInstanceOf(BadJOSEException.class);
        assertThatThrownBy(() -> verify(borrowedKid, published.jwksDocument())).isInstanceOf(BadJOSEException.class);
    }

    // ---- helpers ----

    /**
     * Verifies as a relying party would: RS256 only, keys from the JWKS document, iss/sub/aud
     * checked, all time claims required, and "now" taken from the test clock.
     */
    private JWTClaimsSet verify(String token, String jwksDocument) throws Exception {
        DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
        processor.setJWSKeySelector(new JWSVerificationKeySelector<>(JWSAlgorithm.RS256,
                new ImmutableJWKSet<>(JWKSet.parse(jwksDocument))));
        processor.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>(
                Set.of(OidcProvider.STS_AUDIENCE),
                new JWTClaimsSet.Builder().issuer(ISSUER).subject(SUBJECT).build(),
                Set.of("iss", "sub", "aud", "iat", "nbf", "exp", "jti"),
                Set.of()) {
            @Override
            protected Date currentTime() {
                return Date.from(clock.instant());
            }
        });
        return processor.process(token, null);
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static List<String> fieldNames(JsonNode object) {
        List<String> out = new ArrayList<>();
        object.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
