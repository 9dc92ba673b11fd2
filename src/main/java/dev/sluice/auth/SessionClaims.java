package dev.sluice.auth;

import java.time.Instant;
import java.util.List;

/**
 * What a sealed session token carries: the temporary access key and its secret, when it
 * expires, whose it is and under which role, and what it may do. Sluice keeps no session
 * state; the token is the session.
 */
public record SessionClaims(String accessKeyId, String secretAccessKey, Instant expiry, String subject, String role,
                            List<Scope> scopes) {
    public SessionClaims {
        scopes = List.copyOf(scopes);
    }

    @Override
    public String toString() {
        return "SessionClaims[accessKeyId=" + accessKeyId + ", secretAccessKey=<redacted>, expiry=" + expiry
                + ", subject=" + subject + ", role=" + role + ", scopes=" + scopes + "]";
    }
}
