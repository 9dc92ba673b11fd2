package dev.sluice.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;

import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;

/**
 * How the test identity providers (test STS, test Entra ID, test Google STS) trust an OIDC issuer, as the
 * real ones do: fetch the issuer's discovery document over HTTP, check that it names the
 * issuer, fetch the JWKS it points to, and verify each token's RS256 signature and {@code kid},
 * {@code iss}, {@code aud} and {@code exp}. The trusted issuer can be re-pointed, because
 * sluice's issuer is its own URL, known only once it has bound its port.
 */
final class OidcTrust {
    private static final ObjectMapper JSON = new ObjectMapper();

    private volatile String issuer;
    private volatile DefaultJWTProcessor<SecurityContext> processor;
    private volatile String processorAudience;

    OidcTrust(String issuer) {
        this.issuer = issuer;
    }

    void trust(String newIssuer) {
        issuer = newIssuer;
        processor = null;
    }

    String issuer() {
        return issuer;
    }

    /** The verified claims of {@code jwt} for {@code audience}; throws when it does not verify. */
    JWTClaimsSet verify(String jwt, String audience) throws Exception {
        return processor(audience).process(jwt, null);
    }

    private synchronized DefaultJWTProcessor<SecurityContext> processor(String audience) throws IOException {
        DefaultJWTProcessor<SecurityContext> p = processor;
        if (p != null && audience.equals(processorAudience)) {
            return p;
        }
        String iss = issuer;
        String jwksUri;
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
            HttpResponse<String> discovery = http.send(HttpRequest.newBuilder(URI.create(iss + "/.well-known/openid-configuration"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            if (discovery.statusCode() != 200) {
                throw new IOException("discovery answered " + discovery.statusCode());
            }
            JsonNode doc = JSON.readTree(discovery.body());
            if (!iss.equals(doc.path("issuer").asText())) {
                throw new IOException("discovery names issuer " + doc.path("issuer").asText());
            }
            jwksUri = doc.path("jwks_uri").asText();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        JWKSource<SecurityContext> keys = JWKSourceBuilder.create(new URL(jwksUri)).retrying(false).build();
        p = new DefaultJWTProcessor<>();
        p.setJWSKeySelector(new JWSVerificationKeySelector<>(JWSAlgorithm.RS256, keys));
        p.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>(audience, new JWTClaimsSet.Builder().issuer(iss).build(),
                Set.of("sub", "iat", "exp")));
        processor = p;
        processorAudience = audience;
        return p;
    }
}
