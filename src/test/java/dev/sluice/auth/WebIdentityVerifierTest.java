package dev.sluice.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.SignedJWT;
import dev.sluice.auth.WebIdentityVerifier.Rejected;
import dev.sluice.auth.WebIdentityVerifier.Rejected.Reason;
import dev.sluice.testing.MutableClock;
import dev.sluice.testing.TestIssuer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.eclipse.jetty.client.HttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The checks of {@link WebIdentityVerifier} each on its own, and {@link IssuerKeys}' caching
 * policy at its boundaries, against a {@link TestIssuer} over real HTTP with a controlled clock.
 */
class WebIdentityVerifierTest {
    private static final Instant NOW = Instant.parse("2026-11-26T07:00:00Z");

    private final MutableClock clock = new MutableClock(NOW);
    private TestIssuer issuer;
    private HttpClient http;
    private IssuerKeys keys;
    private WebIdentityVerifier verifier;
    private Role role;

    @BeforeEach
    void start() throws Exception {
        issuer = new TestIssuer(clock);
        http = new HttpClient();
        http.start();
        // Loads run on the caller's thread, so a background renewal has happened when a lookup returns.
        keys = new IssuerKeys(http, clock, IssuerKeys.DEFAULT_TIMEOUT, Runnable::run);
        verifier = new WebIdentityVerifier(keys, clock);
        role = role(List.of());
    }

    @AfterEach
    void stop() throws Exception {
        keys.close();
        http.stop();
        issuer.close();
    }

    private Role role(List<String> subjects) {
        return new Role("ci", List.of(issuer.issuer()), List.of("sluice", "other"), subjects, Duration.ofHours(1), List.of());
    }

    private Reason rejection(String token) {
        return rejection(token, role);
    }

    private static Reason rejectionFrom(WebIdentityVerifier v, String token, Role r) {
        try {
            v.verify(token, r);
        } catch (Rejected e) {
            if (token.length() > 16) {
                assertThat(e.getMessage()).doesNotContain(token);
            }
            return e.reason();
        }
        throw new AssertionError("the token was accepted");
    }

    private Reason rejection(String token, Role r) {
        return rejectionFrom(verifier, token, r);
    }

    private static String b64(String s) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    // ---- accepted tokens ----

    @Test
    void acceptsAnRs256TokenOfATrustedIssuer() throws Exception {
        VerifiedToken t = verifier.verify(issuer.mint(), role);
        assertThat(t.subject()).isEqualTo(TestIssuer.DEFAULT_SUBJECT);
        assertThat(t.issuer()).isEqualTo(issuer.issuer());
        assertThat(t.audience()).isEqualTo("sluice");
        assertThat(t.claims()).containsEntry("sub", TestIssuer.DEFAULT_SUBJECT).containsKey("exp");
    }

    @Test
    void acceptsAnEs256Token() throws Exception {
        issuer.addEcKey("ec-1");
        VerifiedToken t = verifier.verify(issuer.mint("ec-1", issuer.claims().claim("repo", "data").build()), role);
        assertThat(t.claims()).containsEntry("repo", "data");
    }

    @Test
    void acceptsAnAudienceArrayThatIncludesOneOfTheRolesAudiences() throws Exception {
        String token = issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().audience(List.of("x", "other")).build());
        assertThat(verifier.verify(token, role).audience()).isEqualTo("other");
    }

    // ---- issuer and audience ----

    @Test
    void refusesAnIssuerTheRoleDoesNotTrustWithoutContactingIt() throws Exception {
        try (TestIssuer stranger = new TestIssuer(clock)) {
            assertThat(rejection(stranger.mint())).isEqualTo(Reason.INVALID);
            assertThat(stranger.discoveryFetches()).isZero();
        }
        assertThat(rejection(issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().issuer(issuer.issuer() + "/").build())))
                .isEqualTo(Reason.INVALID);
        assertThat(rejection(issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().issuer(null).build()))).isEqualTo(Reason.INVALID);
    }

    @Test
    void refusesAnIssuerWhoseDiscoveryDocumentNamesAnotherIssuer() {
        issuer.claimIssuer("https://evil.example");
        assertThat(rejection(issuer.mint())).isEqualTo(Reason.ISSUER_UNREACHABLE);
    }

    @Test
    void refusesAWrongAudience() {
        assertThat(rejection(issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().audience("sts.amazonaws.com").build())))
                .isEqualTo(Reason.INVALID);
        assertThat(rejection(issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().audience(List.of()).build())))
                .isEqualTo(Reason.INVALID);
    }

    // ---- time ----

    @Test
    void refusesAnExpiredTokenButAcceptsOneWithinTheSkew() throws Exception {
        Instant exp = NOW.minusSeconds(60);
        String justExpired = issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().notBeforeTime(null)
                .issueTime(Date.from(NOW.minusSeconds(600))).expirationTime(Date.from(exp)).build());
        assertThat(rejection(justExpired)).isEqualTo(Reason.EXPIRED);
        clock.set(exp.plusSeconds(59));
        assertThat(verifier.verify(justExpired, role).subject()).isEqualTo(TestIssuer.DEFAULT_SUBJECT);
        clock.set(exp.plusSeconds(60).minusNanos(1));
        verifier.verify(justExpired, role);
        clock.set(exp.plusSeconds(3600));
        assertThat(rejection(justExpired)).isEqualTo(Reason.EXPIRED);
    }

    @Test
    void refusesATokenWithoutExpiry() {
        assertThat(rejection(issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().expirationTime(null).build())))
                .isEqualTo(Reason.INVALID);
    }

    @Test
    void refusesATokenNotValidYetBeyondTheSkew() throws Exception {
        String early = issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().notBeforeTime(Date.from(NOW.plusSeconds(61))).build());
        assertThat(rejection(early)).isEqualTo(Reason.INVALID);
        String withinSkew = issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().notBeforeTime(Date.from(NOW.plusSeconds(60))).build());
        verifier.verify(withinSkew, role);
    }

    // ---- algorithms and keys ----

    @Test
    void refusesAnUnsignedAlgNoneToken() {
        String claims = issuer.claims().build().toString();
        String none = b64("{\"alg\":\"none\",\"kid\":\"" + TestIssuer.DEFAULT_KID + "\"}") + "." + b64(claims) + ".";
        assertThat(rejection(none)).isEqualTo(Reason.INVALID);
        String noneWithSignature = none + issuer.mint().split("\\.")[2];
        assertThat(rejection(noneWithSignature)).isEqualTo(Reason.INVALID);
        assertThat(issuer.discoveryFetches()).isZero();
    }

    @Test
    void refusesHs256SignedWithTheIssuersPublicKeyBytes() throws Exception {
        RSAKey rsa = issuer.publicKey(TestIssuer.DEFAULT_KID).toRSAKey();
        verifier.verify(issuer.mint(), role);
        for (byte[] secret : List.of(rsa.toRSAPublicKey().getEncoded(), rsa.toJSONString().getBytes(StandardCharsets.UTF_8))) {
            SignedJWT forged = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(TestIssuer.DEFAULT_KID).build(),
                    issuer.claims().build());
            forged.sign(new MACSigner(secret));
            assertThat(rejection(forged.serialize())).isEqualTo(Reason.INVALID);
        }
    }

    @Test
    void refusesOtherAlgorithmsEvenWithAnRsaKey() throws Exception {
        for (JWSAlgorithm alg : List.of(JWSAlgorithm.RS384, JWSAlgorithm.RS512, JWSAlgorithm.PS256)) {
            String header = b64("{\"alg\":\"" + alg.getName() + "\",\"kid\":\"" + TestIssuer.DEFAULT_KID + "\"}");
            String[] parts = issuer.mint().split("\\.");
            assertThat(rejection(header + "." + parts[1] + "." + parts[2])).isEqualTo(Reason.INVALID);
        }
    }

    @Test
    void refusesAKeyWhoseTypeDoesNotFitTheAlgorithm() throws Exception {
        issuer.addEcKey("ec-1");
        // ES256 signature, header naming the RSA key
        assertThat(rejection(issuer.mint("ec-1", TestIssuer.DEFAULT_KID, issuer.claims().build()))).isEqualTo(Reason.INVALID);
        // RS256 signature, header naming the EC key
        assertThat(rejection(issuer.mint(TestIssuer.DEFAULT_KID, "ec-1", issuer.claims().build()))).isEqualTo(Reason.INVALID);
    }

    @Test
    void refusesASignatureByAnotherKeyUnderAPublishedKid() {
        issuer.addRsaKey("rsa-b", "test-rsa-b").withdraw("rsa-b");
        assertThat(rejection(issuer.mint("rsa-b", TestIssuer.DEFAULT_KID, issuer.claims().build()))).isEqualTo(Reason.INVALID);
    }

    @Test
    void refusesTamperedClaims() {
        String[] parts = issuer.mint().split("\\.");
        String other = b64(issuer.claims().subject("repo:acme/admin").build().toString());
        assertThat(rejection(parts[0] + "." + other + "." + parts[2])).isEqualTo(Reason.INVALID);
    }

    @Test
    void refusesATokenSpeltWithStandardBase64Characters() throws Exception {
        // '/' and '+' decode to the same bits as '_' and '-' in a lenient decoder, so such a token
        // carries a valid signature, yet it is not the token the issuer minted (RFC 7515 allows
        // only base64url without padding): found by the /.sts fuzz test.
        String token = null;
        for (int i = 0; i < 100 && token == null; i++) {
            String minted = issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().jwtID("jti-" + i).build());
            if (minted.substring(minted.lastIndexOf('.')).contains("_")) {
                token = minted;
            }
        }
        assertThat(token).as("a minted token whose signature has a '_'").isNotNull();
        verifier.verify(token, role);
        int last = token.lastIndexOf('.');
        String respelt = token.substring(0, last) + token.substring(last).replaceFirst("_", "/");

        assertThat(rejection(respelt)).isEqualTo(Reason.INVALID);
        assertThat(rejection(token + "=")).isEqualTo(Reason.INVALID);
    }

    @Test
    void refusesATokenWithoutKid() throws Exception {
        String[] parts = issuer.mint().split("\\.");
        assertThat(rejection(b64("{\"alg\":\"RS256\"}") + "." + parts[1] + "." + parts[2])).isEqualTo(Reason.INVALID);
    }

    @Test
    void refusesGarbage() {
        for (String g : List.of("", "x", "a.b.c", "a.b", "....", "eyJ.eyJ.sig", "{}", b64("{\"alg\":\"RS256\"}") + ".!.!",
                "x".repeat(20_001))) {
            assertThat(rejection(g)).as(g.length() > 40 ? g.substring(0, 40) : g).isEqualTo(Reason.INVALID);
        }
    }

    // ---- subject ----

    @Test
    void refusesAMissingSubject() {
        assertThat(rejection(issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().subject(null).build()))).isEqualTo(Reason.INVALID);
    }

    @Test
    void matchesTheSubjectAgainstTheRolesGlobs() throws Exception {
        Role mainOnly = role(List.of("repo:acme/*:ref:refs/heads/main", "repo:acme/tools:*"));
        verifier.verify(issuer.mint(), mainOnly);
        verifier.verify(issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().subject("repo:acme/tools:pull_request").build()), mainOnly);
        String branch = issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().subject("repo:acme/data:ref:refs/heads/dev").build());
        assertThat(rejection(branch, mainOnly)).isEqualTo(Reason.NOT_AUTHORIZED);
        String otherOrg = issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().subject("repo:evil/x:ref:refs/heads/main").build());
        assertThat(rejection(otherOrg, mainOnly)).isEqualTo(Reason.NOT_AUTHORIZED);
    }

    @Test
    void refusesControlCharactersInTheClaimsItUses() {
        for (String sub : List.of("user:a\n{\"forged\":true}", "a\rb", "a\u0000", "a\u2028b", "a\u0085")) {
            assertThat(rejection(issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().subject(sub).build()))).as(sub)
                    .isEqualTo(Reason.INVALID);
        }
        String badAudience = issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().audience(List.of("sluice", "x\ny")).build());
        assertThat(rejection(badAudience)).isEqualTo(Reason.INVALID);
    }

    // ---- token lifetime (a role's max_token_lifetime, 24 h by default) ----

    private String lifetimeToken(Instant issuedAt, Instant expiresAt) {
        return issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims()
                .issueTime(issuedAt == null ? null : Date.from(issuedAt)).expirationTime(Date.from(expiresAt)).build());
    }

    @Test
    void refusesATokenThatLivesLongerThanTheRoleAllows() {
        assertThat(rejection(lifetimeToken(NOW, Instant.parse("3000-01-01T00:00:00Z")))).isEqualTo(Reason.INVALID);
        assertThat(rejection(lifetimeToken(null, Instant.parse("3000-01-01T00:00:00Z")))).isEqualTo(Reason.INVALID);
        assertThat(rejection(lifetimeToken(NOW, NOW.plus(Duration.ofHours(24)).plus(WebIdentityVerifier.CLOCK_SKEW).plusSeconds(1))))
                .isEqualTo(Reason.INVALID);
        // issued "in the future", so exp - iat is short, but it would be accepted for years
        assertThat(rejection(lifetimeToken(Instant.parse("2999-12-31T23:00:00Z"), Instant.parse("3000-01-01T00:00:00Z"))))
                .isEqualTo(Reason.INVALID);
    }

    @Test
    void acceptsATokenUpToTheRolesLifetimeMeasuredFromIssueOrNow() throws Exception {
        verifier.verify(lifetimeToken(NOW, NOW.plus(Duration.ofHours(24))), role);
        verifier.verify(lifetimeToken(null, NOW.plus(Duration.ofHours(24))), role);
        // issued an hour ago for a day: its lifetime is measured from iat
        clock.advance(Duration.ofHours(1));
        assertThat(rejection(lifetimeToken(NOW, NOW.plus(Duration.ofHours(25))))).isEqualTo(Reason.INVALID);
        verifier.verify(lifetimeToken(NOW, NOW.plus(Duration.ofHours(24))), role);
        Role shortLived = new Role("short", List.of(issuer.issuer()), List.of("sluice"), List.of(), Duration.ofHours(1),
                Duration.ofMinutes(10), List.of());
        assertThat(rejection(lifetimeToken(null, clock.instant().plus(Duration.ofMinutes(20))), shortLived)).isEqualTo(Reason.INVALID);
        verifier.verify(lifetimeToken(null, clock.instant().plus(Duration.ofMinutes(10))), shortLived);
    }

    // ---- the role asked for, among several ----

    @Test
    void checksTheTokenAgainstEveryRoleBeforeTheOneAskedFor() throws Exception {
        Role other = new Role("other", List.of("https://elsewhere.example"), List.of("elsewhere"), List.of(), Duration.ofHours(1),
                List.of());
        List<Role> roles = List.of(role, other);
        // A genuine token for a role that does not trust its issuer, or for no role, is refused as the role's refusal.
        assertThat(rejection(() -> verifier.verify(issuer.mint(), roles, java.util.Optional.of(other))))
                .isEqualTo(Reason.NOT_AUTHORIZED);
        assertThat(rejection(() -> verifier.verify(issuer.mint(), roles, java.util.Optional.empty())))
                .isEqualTo(Reason.NOT_AUTHORIZED);
        // A bad token is refused as a bad token, whatever role is asked for.
        for (java.util.Optional<Role> wanted : List.of(java.util.Optional.of(role), java.util.Optional.of(other),
                java.util.Optional.<Role>empty())) {
            assertThat(rejection(() -> verifier.verify("not-a-jwt", roles, wanted))).isEqualTo(Reason.INVALID);
        }
        assertThat(verifier.verify(issuer.mint(), roles, java.util.Optional.of(role)).audience()).isEqualTo("sluice");
    }

    private static Reason rejection(Callable<VerifiedToken> verification) {
        try {
            verification.call();
        } catch (Rejected e) {
            return e.reason();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("the token was accepted");
    }

    // ---- key fetching policy (IssuerKeys) ----

    @Test
    void cachesKeysForFifteenMinutesThenRenewsThem() throws Exception {
        verifier.verify(issuer.mint(), role);
        clock.advance(IssuerKeys.KEYS_TTL.minusNanos(1));
        verifier.verify(issuer.mint(), role);
        assertThat(issuer.discoveryFetches()).isEqualTo(1);
        assertThat(issuer.jwksFetches()).isEqualTo(1);
        clock.advance(Duration.ofNanos(1));
        verifier.verify(issuer.mint(), role);
        assertThat(issuer.discoveryFetches()).isEqualTo(2);
        assertThat(issuer.jwksFetches()).isEqualTo(2);
    }

    @Test
    void anIssuerDownWhenItsKeysAreRenewedCostsNothingUntilTheyExpire() throws Exception {
        verifier.verify(issuer.mint(), role);
        issuer.outage(TestIssuer.Outage.ERROR_500);
        clock.advance(IssuerKeys.KEYS_TTL);

        verifier.verify(issuer.mint(), role); // the renewal fails; the cached keys still verify
        assertThat(issuer.discoveryFetches()).isEqualTo(2);
        clock.advance(IssuerKeys.REFRESH_LEAD.minusNanos(1));
        verifier.verify(issuer.mint(), role);

        clock.advance(Duration.ofNanos(1));
        assertThat(rejection(issuer.mint())).isEqualTo(Reason.ISSUER_UNREACHABLE);
    }

    @Test
    void picksUpARotatedKeyWithOneRefetchAndRateLimitsUnknownKids() throws Exception {
        verifier.verify(issuer.mint(), role);
        assertThat(issuer.jwksFetches()).isEqualTo(1);

        issuer.addRsaKey("rsa-b", "test-rsa-b");
        clock.advance(Duration.ofSeconds(1));
        verifier.verify(issuer.mint("rsa-b", issuer.claims().build()), role);
        assertThat(issuer.jwksFetches()).isEqualTo(2);
        verifier.verify(issuer.mint("rsa-b", issuer.claims().build()), role);
        assertThat(issuer.jwksFetches()).isEqualTo(2);

        clock.advance(IssuerKeys.REFETCH_INTERVAL.minusNanos(1));
        assertThat(rejection(issuer.mint("rsa-b", "made-up-1", issuer.claims().build()))).isEqualTo(Reason.INVALID);
        assertThat(issuer.jwksFetches()).isEqualTo(2);

        clock.advance(Duration.ofNanos(1));
        assertThat(rejection(issuer.mint("rsa-b", "made-up-2", issuer.claims().build()))).isEqualTo(Reason.INVALID);
        assertThat(issuer.jwksFetches()).isEqualTo(3);
        assertThat(rejection(issuer.mint("rsa-b", "made-up-3", issuer.claims().build()))).isEqualTo(Reason.INVALID);
        assertThat(issuer.jwksFetches()).isEqualTo(3);
    }

    @Test
    void aRotatedKeyWithinTheRefetchIntervalWaitsForIt() throws Exception {
        verifier.verify(issuer.mint(), role);
        assertThat(rejection(issuer.mint(TestIssuer.DEFAULT_KID, "made-up", issuer.claims().build()))).isEqualTo(Reason.INVALID);
        assertThat(issuer.jwksFetches()).isEqualTo(2);
        issuer.addRsaKey("rsa-b", "test-rsa-b");
        assertThat(rejection(issuer.mint("rsa-b", issuer.claims().build()))).isEqualTo(Reason.INVALID);
        clock.advance(IssuerKeys.REFETCH_INTERVAL);
        verifier.verify(issuer.mint("rsa-b", issuer.claims().build()), role);
        assertThat(issuer.jwksFetches()).isEqualTo(3);
    }

    @Test
    void remembersAFailedFetchForThirtySeconds() throws Exception {
        issuer.outage(TestIssuer.Outage.ERROR_500);
        assertThat(rejection(issuer.mint())).isEqualTo(Reason.ISSUER_UNREACHABLE);
        assertThat(issuer.discoveryFetches()).isEqualTo(1);
        issuer.outage(TestIssuer.Outage.NONE);
        clock.advance(IssuerKeys.FAILURE_TTL.minusNanos(1));
        assertThat(rejection(issuer.mint())).isEqualTo(Reason.ISSUER_UNREACHABLE);
        assertThat(issuer.discoveryFetches()).isEqualTo(1);
        clock.advance(Duration.ofNanos(1));
        verifier.verify(issuer.mint(), role);
        assertThat(issuer.discoveryFetches()).isEqualTo(2);
    }

    @Test
    void aRefusedConnectionIsAnUnreachableIssuer() throws Exception {
        issuer.outage(TestIssuer.Outage.REFUSE);
        assertThat(rejection(issuer.mint())).isEqualTo(Reason.ISSUER_UNREACHABLE);
    }

    @Test
    void aFailedRefetchForAnUnknownKidKeepsTheCachedKeys() throws Exception {
        verifier.verify(issuer.mint(), role);
        issuer.outage(TestIssuer.Outage.ERROR_500);
        assertThat(rejection(issuer.mint(TestIssuer.DEFAULT_KID, "made-up", issuer.claims().build())))
                .isEqualTo(Reason.ISSUER_UNREACHABLE);
        verifier.verify(issuer.mint(), role);
        assertThat(issuer.discoveryFetches()).isEqualTo(2);
        assertThat(issuer.jwksFetches()).isEqualTo(1);
    }

    @Test
    void anIssuerThatTricklesItsAnswerIsUnreachableWithinTheTimeout() throws Exception {
        issuer.outage(TestIssuer.Outage.TRICKLE);
        assertUnreachableWithin(Duration.ofMillis(300));
    }

    @Test
    void anIssuerThatNeverAnswersIsUnreachableWithinTheTimeout() throws Exception {
        issuer.hold();
        assertUnreachableWithin(Duration.ofMillis(300));
    }

    /** A verifier whose key fetches time out after {@code timeout} rejects promptly, then the issuer is let go. */
    private void assertUnreachableWithin(Duration timeout) throws Exception {
        try (IssuerKeys quick = new IssuerKeys(http, clock, timeout)) {
            WebIdentityVerifier impatient = new WebIdentityVerifier(quick, clock);
            long started = System.nanoTime();
            assertThatThrownBy(() -> impatient.verify(issuer.mint(), role))
                    .isInstanceOfSatisfying(WebIdentityVerifier.Rejected.class,
                            r -> assertThat(r.reason()).isEqualTo(Reason.ISSUER_UNREACHABLE));
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(timeout.plusSeconds(2));
        } finally {
            issuer.release();
        }
    }

    @Test
    void concurrentColdLookupsShareOneFetch() throws Exception {
        issuer.hold();
        int callers = 8;
        List<Future<VerifiedToken>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < callers; i++) {
                String token = issuer.mint();
                results.add(pool.submit((Callable<VerifiedToken>) () -> verifier.verify(token, role)));
            }
            assertThat(issuer.awaitFirstRequest(Duration.ofSeconds(5))).isTrue();
            issuer.release();
            for (Future<VerifiedToken> f : results) {
                assertThat(f.get().subject()).isEqualTo(TestIssuer.DEFAULT_SUBJECT);
            }
        }
        assertThat(issuer.discoveryFetches()).isEqualTo(1);
        assertThat(issuer.jwksFetches()).isEqualTo(1);
    }

    @Test
    void claimsOfTheTokenAreExposedButUnmodifiable() throws Exception {
        VerifiedToken t = verifier.verify(issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().claim("team", "data").build()), role);
        assertThatThrownBy(() -> t.claims().put("team", "admin")).isInstanceOf(UnsupportedOperationException.class);
    }
}
