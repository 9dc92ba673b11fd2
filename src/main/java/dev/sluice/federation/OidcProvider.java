package dev.sluice.federation;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Sluice as an OpenID Connect identity provider: it signs short-lived JWTs asserting a
 * subject (a product, a data connection, a caller) and publishes the discovery document and
 * JWKS that relying parties (AWS STS, a control-plane API) fetch to verify them.
 *
 * <p>Rotation: the current key signs; a previous key, when configured, is only published in
 * the JWKS so tokens it signed, and relying parties' cached JWKS, stay valid while the new
 * key propagates.
 */
public final class OidcProvider {
    /** The audience AWS STS expects for AssumeRoleWithWebIdentity. */
    public static final String STS_AUDIENCE = "sts.amazonaws.com";
    public static final String DISCOVERY_PATH = "/.well-known/openid-configuration";
    public static final String JWKS_PATH = "/.well-known/jwks.json";
    /** Relying parties may cache the JWKS this long; a rotation must keep the previous key listed longer. */
    public static final Duration JWKS_MAX_AGE = Duration.ofMinutes(5);

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String issuer;
    private final SigningKey current;
    private final Optional<SigningKey> previous;
    private final InstantSource clock;
    private final RSASSASigner signer;
    private final String discoveryJson;
    private final String jwksJson;

    public OidcProvider(String issuer, SigningKey current, Optional<SigningKey> previous, InstantSource clock) {
        if (previous.isPresent() && previous.get().kid().equals(current.kid())) {
            throw new IllegalArgumentException("the previous key must have a different kid from the current one");
        }
        this.issuer = issuer.replaceAll("/+$", "");
        this.current = current;
        this.previous = previous;
        this.clock = clock;
        this.signer = new RSASSASigner(current.privateKey());
        this.discoveryJson = buildDiscovery(this.issuer);
        List<JWK> keys = new ArrayList<>();
        keys.add(current.publicJwk());
        previous.ifPresent(p -> keys.add(p.publicJwk()));
        this.jwksJson = new JWKSet(keys).toString(true);
    }

    public String issuer() {
        return issuer;
    }

    /** A signed JWT for {@code subject} and {@code audience}, valid for {@code lifetime} from now. */
    public String mint(String subject, String audience, Duration lifetime) {
        Instant now = clock.instant();
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(issuer)
                .subject(subject)
                .audience(audience)
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plus(lifetime)))
                .jwtID(UUID.randomUUID().toString())
                .build();
        JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(current.kid()).type(JOSEObjectType.JWT).build();
        SignedJWT jwt = new SignedJWT(header, claims);
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException("RS256 signing failed", e);
        }
        return jwt.serialize();
    }

    public String discoveryDocument() {
        return discoveryJson;
    }

    public String jwksDocument() {
        return jwksJson;
    }

    private static String buildDiscovery(String issuer) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("issuer", issuer);
        doc.put("jwks_uri", issuer + JWKS_PATH);
        doc.put("response_types_supported", List.of("id_token"));
        doc.put("subject_types_supported", List.of("public"));
        doc.put("id_token_signing_alg_values_supported", List.of("RS256"));
        doc.put("claims_supported", List.of("sub", "aud", "exp", "iat", "iss", "nbf", "jti"));
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(doc);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
