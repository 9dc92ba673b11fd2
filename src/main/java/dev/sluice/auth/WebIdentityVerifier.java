package dev.sluice.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.SignedJWT;

import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Decides whether an OIDC token (a CI provider's, the platform login's) lets its bearer assume
 * a {@link Role}, checking what AWS STS checks for {@code AssumeRoleWithWebIdentity}. First the
 * token itself, against the trust of all the roles together (as AWS checks it against the
 * account's OIDC providers), the same whichever role is asked for:
 * <ol>
 *   <li>the token is a JWS signed with RS256 or ES256. {@code alg: none} and every other
 *       algorithm are refused before any key is looked at; in particular HS256, the classic
 *       confusion attack where a token is "signed" with the issuer's public key bytes as an HMAC
 *       secret and a naive verifier picks the algorithm from the header;</li>
 *   <li>{@code iss} is trusted by one of the roles, checked before any key is fetched so a
 *       token cannot make sluice call a URL of its choosing;</li>
 *   <li>the key named by {@code kid} is published by that issuer ({@link IssuerKeys}), is of the
 *       type the algorithm needs (RSA for RS256, EC P-256 for ES256) and verifies the signature;</li>
 *   <li>{@code exp} is present and not passed, and {@code nbf} (if present) is reached, both
 *       with {@link #CLOCK_SKEW} of tolerance;</li>
 *   <li>{@code aud} (a string or an array) includes an audience of a role trusting the issuer;</li>
 *   <li>{@code sub} is present, and {@code sub}, {@code iss} and every {@code aud} are free of
 *       control characters ({@link Role#isControl}): they are logged, echoed and matched.</li>
 * </ol>
 * Any failure so far makes the token {@link Rejected.Reason#INVALID} (or expired, or its issuer
 * unreachable) whatever role was asked for, so the answer does not depend on whether that role
 * exists, and the same work is done either way. Then the role: it must exist, trust the issuer,
 * accept one of the token's audiences and admit its subject, or the answer is
 * {@link Rejected.Reason#NOT_AUTHORIZED} (AWS answers {@code AccessDenied}), the same for a role
 * that does not exist. Last, the token's lifetime ({@code exp} minus the earlier of {@code iat}
 * and now) must be within the role's {@link Role#maxTokenLifetime} (plus skew), or it is
 * {@code INVALID}; that answer only reaches callers the role admits. Verified against one role
 * alone ({@link #verify(String, Role)}), an issuer or audience it does not trust is
 * {@code INVALID}, as AWS answers {@code InvalidIdentityToken} for both. Rejection messages name
 * the failed check and never quote the token.
 */
public final class WebIdentityVerifier {
    public static final Duration CLOCK_SKEW = Duration.ofSeconds(60);
    /** AWS's limit on {@code WebIdentityToken}. */
    public static final int MAX_TOKEN_CHARS = 20_000;

    private final IssuerKeys keys;
    private final InstantSource clock;

    public WebIdentityVerifier(IssuerKeys keys, InstantSource clock) {
        this.keys = keys;
        this.clock = clock;
    }

    /** Why a token was not accepted, in terms the STS endpoint maps to error codes. */
    public static final class Rejected extends Exception {
        public enum Reason {
            /** Malformed, badly signed, wrong issuer or audience, not yet valid: {@code InvalidIdentityToken}. */
            INVALID,
            /** Past {@code exp} (plus skew): {@code ExpiredTokenException}. */
            EXPIRED,
            /** Genuine, but its subject may not assume the role: {@code AccessDenied}. */
            NOT_AUTHORIZED,
            /** The issuer's keys could not be fetched: {@code IDPCommunicationError}. */
            ISSUER_UNREACHABLE
        }

        private final Reason reason;

        Rejected(Reason reason, String message) {
            super(message, null, false, false);
            this.reason = reason;
        }

        public Reason reason() {
            return reason;
        }
    }

    /** Verifies {@code jwt} for {@code role} alone. */
    public VerifiedToken verify(String jwt, Role role) throws Rejected {
        return verify(jwt, List.of(role), Optional.of(role));
    }

    /**
     * Verifies {@code jwt} against the trust of all {@code roles}, then for {@code wanted}: the
     * role asked for, empty when none of that name exists.
     */
    public VerifiedToken verify(String jwt, List<Role> roles, Optional<Role> wanted) throws Rejected {
        if (jwt == null || jwt.isEmpty() || jwt.length() > MAX_TOKEN_CHARS) {
            throw invalid("the token is empty or longer than " + MAX_TOKEN_CHARS + " characters");
        }
        SignedJWT signed = parse(jwt);
        JWSAlgorithm alg = signed.getHeader().getAlgorithm();
        if (!JWSAlgorithm.RS256.equals(alg) && !JWSAlgorithm.ES256.equals(alg)) {
            throw invalid("the token's algorithm is not RS256 or ES256");
        }
        JWTClaimsSet claims;
        try {
            claims = signed.getJWTClaimsSet();
        } catch (ParseException e) {
            throw invalid("the token's claims are not a JSON object");
        }
        String issuer = claims.getIssuer();
        List<Role> trusting = issuer == null ? List.of() : roles.stream().filter(r -> r.trustedIssuers().contains(issuer)).toList();
        if (trusting.isEmpty()) {
            throw invalid("the token's issuer is not trusted");
        }
        String kid = signed.getHeader().getKeyID();
        if (kid == null) {
            throw invalid("the token names no key (kid)");
        }
        JWK key;
        try {
            key = keys.find(issuer, kid).orElseThrow(() -> invalid("the issuer publishes no key with the token's kid"));
        } catch (IssuerKeys.Unreachable e) {
            throw new Rejected(Rejected.Reason.ISSUER_UNREACHABLE, "could not fetch the keys of the token's issuer");
        }
        checkSignature(signed, alg, key);

        Instant now = clock.instant();
        Date exp = claims.getExpirationTime();
        if (exp == null) {
            throw invalid("the token has no expiry (exp)");
        }
        if (!now.isBefore(exp.toInstant().plus(CLOCK_SKEW))) {
            throw new Rejected(Rejected.Reason.EXPIRED, "the token has expired");
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && now.plus(CLOCK_SKEW).isBefore(nbf.toInstant())) {
            throw invalid("the token is not valid yet (nbf)");
        }
        List<String> audiences = claims.getAudience();
        if (audiences.stream().noneMatch(a -> trusting.stream().anyMatch(r -> r.audiences().contains(a)))) {
            throw invalid("the token's audience is not accepted");
        }
        String subject = claims.getSubject();
        if (subject == null || subject.isEmpty()) {
            throw invalid("the token has no subject (sub)");
        }
        if (Role.hasControl(subject) || Role.hasControl(issuer) || audiences.stream().anyMatch(Role::hasControl)) {
            throw invalid("the token's sub, iss or aud holds a control character");
        }

        Role role = wanted.filter(trusting::contains).orElseThrow(WebIdentityVerifier::notAuthorized);
        Optional<String> audience = audiences.stream().filter(role.audiences()::contains).findFirst();
        if (audience.isEmpty() || !role.admitsSubject(subject)) {
            throw notAuthorized();
        }
        Date iat = claims.getIssueTime();
        Instant from = iat == null || iat.toInstant().isAfter(now) ? now : iat.toInstant();
        if (Duration.between(from, exp.toInstant()).compareTo(role.maxTokenLifetime().plus(CLOCK_SKEW)) > 0) {
            throw invalid("the token is valid for longer than role " + role.id() + " accepts (" + role.maxTokenLifetime() + ")");
        }
        return new VerifiedToken(subject, issuer, audience.get(), claims.getClaims());
    }

    private static Rejected notAuthorized() {
        return new Rejected(Rejected.Reason.NOT_AUTHORIZED, "the token's subject may not assume the role");
    }

    /**
     * The JWS compact serialization: three base64url parts without padding (RFC 7515 §3.1,
     * §2). A lenient decoder reads '/' and '+' as '_' and '-', so without this check a token
     * spelt differently from the one the issuer minted carried a valid signature.
     */
    private static final Pattern COMPACT_JWS = Pattern.compile("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+");

    private static SignedJWT parse(String jwt) throws Rejected {
        if (!COMPACT_JWS.matcher(jwt).matches()) {
            throw invalid("the token is not a JWS in compact serialization");
        }
        JWT parsed;
        try {
            parsed = JWTParser.parse(jwt);
        } catch (ParseException | RuntimeException e) {
            throw invalid("the token is not a JWT");
        }
        if (!(parsed instanceof SignedJWT signed)) {
            throw invalid("the token is not signed");
        }
        return signed;
    }

    private static void checkSignature(SignedJWT signed, JWSAlgorithm alg, JWK key) throws Rejected {
        if (key.getKeyUse() != null && !KeyUse.SIGNATURE.equals(key.getKeyUse())) {
            throw invalid("the token's key is not a signing key");
        }
        if (key.getAlgorithm() != null && !key.getAlgorithm().equals(alg)) {
            throw invalid("the token's key is published for another algorithm");
        }
        JWSVerifier verifier;
        try {
            if (JWSAlgorithm.RS256.equals(alg) && key instanceof RSAKey rsa) {
                verifier = new RSASSAVerifier(rsa.toRSAPublicKey());
            } else if (JWSAlgorithm.ES256.equals(alg) && key instanceof ECKey ec && Curve.P_256.equals(ec.getCurve())) {
                verifier = new ECDSAVerifier(ec.toECPublicKey());
            } else {
                throw invalid("the token's key does not fit its algorithm");
            }
            if (!signed.verify(verifier)) {
                throw invalid("the token's signature does not verify");
            }
        } catch (JOSEException | RuntimeException e) {
            throw invalid("the token's signature does not verify");
        }
    }

    private static Rejected invalid(String message) {
        return new Rejected(Rejected.Reason.INVALID, message);
    }

    @Override
    public String toString() {
        return "WebIdentityVerifier[RS256, ES256]";
    }
}
