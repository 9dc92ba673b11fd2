package dev.sluice.auth;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An OIDC token that {@link WebIdentityVerifier} accepted for a role: its subject and issuer,
 * the audience through which the role accepted it, and all its claims (for
 * {@link ScopeTemplate} placeholders). Claim values are as nimbus parses them: strings,
 * numbers, booleans, lists, maps, and {@link java.util.Date} for {@code exp}, {@code nbf},
 * {@code iat}.
 */
public record VerifiedToken(String subject, String issuer, String audience, Map<String, Object> claims) {
    public VerifiedToken {
        claims = Collections.unmodifiableMap(new LinkedHashMap<>(claims));
    }
}
