package dev.sluice.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import dev.sluice.federation.OidcProvider;
import dev.sluice.testing.S3ProxyExtension;
import dev.sluice.testing.TestKeys;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.sluice.it.FederatedSluice.GREETING;
import static dev.sluice.it.FederatedSluice.greeting;
import static dev.sluice.it.FederatedSluice.path;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Sluice as an OIDC provider, checked by an independent relying party (nimbus's remote JWK
 * source, fetching over HTTP as AWS does) in the middle of a key rotation: the new key B
 * signs, the previous key A is still published. Discovery leads to the JWKS; the JWKS lists
 * both public keys and nothing private; tokens verify by kid, those signed by A before the
 * rotation included; and federated reads keep working.
 */
class OidcRotationTest {
    @RegisterExtension
    static final S3ProxyExtension S3PROXY = new S3ProxyExtension();

    static final String PRODUCT = "rotated";
    static final String CURRENT_KID = "2026-11";
    static final String PREVIOUS_KID = "2026-05";
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path base;

    static FederatedSluice federation;
    static String issuer;

    @BeforeAll
    static void start() throws Exception {
        FederatedSluice.createBucket(S3PROXY.get().client());
        FederatedSluice.putProduct(S3PROXY.get().client(), PRODUCT);
        federation = FederatedSluice.builder(S3PROXY.get())
                .signingKey("test-rsa-b", CURRENT_KID)
                .previousKey("test-rsa-a", PREVIOUS_KID)
                .product(PRODUCT)
                .start(base);
        issuer = federation.sluice.s3Endpoint().toString();
    }

    @AfterAll
    static void stop() throws Exception {
        if (federation != null) {
            federation.close();
        }
    }

    @Test
    void discoveryDocumentNamesTheIssuerAndItsJwks() throws Exception {
        SluiceUnderTest.RawResponse r = federation.sluice.send("GET", OidcProvider.DISCOVERY_PATH);

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
        assertCacheable(r);
        JsonNode doc = JSON.readTree(r.body());
        assertThat(doc.path("issuer").asText()).isEqualTo(issuer);
        assertThat(doc.path("jwks_uri").asText()).isEqualTo(issuer + OidcProvider.JWKS_PATH);
        assertThat(texts(doc.path("response_types_supported"))).contains("id_token");
        assertThat(texts(doc.path("subject_types_supported"))).contains("public");
        assertThat(texts(doc.path("id_token_signing_alg_values_supported"))).contains("RS256");
    }

    @Test
    void jwksListsTheCurrentAndThePreviousPublicKey() throws Exception {
        SluiceUnderTest.RawResponse r = federation.sluice.send("GET", jwksUri().getRawPath());

        assertThat(r.status()).isEqualTo(200);
        assertCacheable(r);
        JsonNode keys = JSON.readTree(r.body()).path("keys");
        assertThat(keys).hasSize(2);
        List<String> kids = new ArrayList<>();
        for (JsonNode key : keys) {
            kids.add(key.path("kid").asText());
            assertThat(key.path("kty").asText()).isEqualTo("RSA");
            assertThat(key.path("alg").asText()).isEqualTo("RS256");
            assertThat(key.path("use").asText()).isEqualTo("sig");
            assertThat(key.path("n").asText()).isNotBlank();
            assertThat(key.path("e").asText()).isNotBlank();
            for (String secret : List.of("d", "p", "q", "dp", "dq", "qi")) {
                assertThat(key.has(secret)).as("private member %s of %s", secret, key.path("kid")).isFalse();
            }
        }
        assertThat(kids).containsExactlyInAnyOrder(CURRENT_KID, PREVIOUS_KID);

        // The relying party's view: what nimbus fetches and caches from the same URL.
        List<JWK> fetched = remoteKeys().get(new JWKSelector(new JWKMatcher.Builder().build()), null);
        assertThat(fetched).extracting(JWK::getKeyID).containsExactlyInAnyOrder(CURRENT_KID, PREVIOUS_KID);
        assertThat(fetched).allSatisfy(k -> assertThat(k.isPrivate()).isFalse());
    }

    @Test
    void tokensVerifyAgainstTheFetchedJwksDuringRotation() throws Exception {
        DefaultJWTProcessor<SecurityContext> relyingParty = relyingParty();
        String subject = FederatedSluice.subject("verifier");

        String current = federation.sluice.sluice().oidc().orElseThrow()
                .mint(subject, OidcProvider.STS_AUDIENCE, Duration.ofMinutes(5));
        assertThat(SignedJWT.parse(current).getHeader().getKeyID()).isEqualTo(CURRENT_KID);
        assertThat(SignedJWT.parse(current).getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.RS256);
        JWTClaimsSet claims = relyingParty.process(current, null);
        assertThat(claims.getSubject()).isEqualTo(subject);
        assertThat(claims.getIssuer()).isEqualTo(issuer);
        assertThat(claims.getAudience()).containsExactly(OidcProvider.STS_AUDIENCE);
        assertThat(claims.getJWTID()).isNotBlank();
        assertThat(claims.getNotBeforeTime()).isEqualTo(claims.getIssueTime());
        assertThat(Duration.between(claims.getIssueTime().toInstant(), claims.getExpirationTime().toInstant()))
                .isEqualTo(Duration.ofMinutes(5));

        // Signed before the rotation, by the key that is now the previous one: still valid.
        String beforeRotation = new OidcProvider(issuer, TestKeys.load("test-rsa-a", PREVIOUS_KID), Optional.empty(),
                InstantSource.system()).mint(subject, OidcProvider.STS_AUDIENCE, Duration.ofMinutes(5));
        assertThat(relyingParty.process(beforeRotation, null).getSubject()).isEqualTo(subject);

        // A key sluice does not publish proves nothing, even under a published kid.
        String forged = new OidcProvider(issuer, TestKeys.load("test-rsa-c", CURRENT_KID), Optional.empty(),
                InstantSource.system()).mint(subject, OidcProvider.STS_AUDIENCE, Duration.ofMinutes(5));
        assertThatThrownBy(() -> relyingParty.process(forged, null)).isInstanceOf(BadJOSEException.class);
    }

    @Test
    void federatedReadWorksDuringRotation() {
        SluiceUnderTest.RawResponse r = federation.sluice.send("GET", path(PRODUCT, GREETING));

        assertThat(r.status()).as("status of %s", r.text()).isEqualTo(200);
        assertThat(r.text()).isEqualTo(greeting(PRODUCT));
        assertThat(federation.exchanges(PRODUCT)).isEqualTo(1);
    }

    /** The JWKS URL, found the way a relying party finds it: through the discovery document. */
    private static URI jwksUri() throws Exception {
        return URI.create(JSON.readTree(federation.sluice.send("GET", OidcProvider.DISCOVERY_PATH).body()).path("jwks_uri").asText());
    }

    private static JWKSource<SecurityContext> remoteKeys() throws Exception {
        return JWKSourceBuilder.create(jwksUri().toURL()).retrying(false).build();
    }

    private static DefaultJWTProcessor<SecurityContext> relyingParty() throws Exception {
        DefaultJWTProcessor<SecurityContext> p = new DefaultJWTProcessor<>();
        p.setJWSKeySelector(new JWSVerificationKeySelector<>(JWSAlgorithm.RS256, remoteKeys()));
        p.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>(OidcProvider.STS_AUDIENCE,
                new JWTClaimsSet.Builder().issuer(issuer).build(), Set.of("sub", "iat", "exp", "nbf", "jti")));
        return p;
    }

    private static final Pattern MAX_AGE = Pattern.compile("max-age=(\\d+)");

    /** Relying parties may cache it: public, a positive max-age, and nothing forbidding a cache. */
    private static void assertCacheable(SluiceUnderTest.RawResponse r) {
        assertThat(r.header("Cache-Control")).hasValueSatisfying(cc -> {
            assertThat(cc).doesNotContain("no-store", "no-cache", "private");
            Matcher m = MAX_AGE.matcher(cc);
            assertThat(m.find()).as("max-age in %s", cc).isTrue();
            assertThat(Long.parseLong(m.group(1))).isPositive();
        });
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
