package dev.sluice.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.s3.XmlReader;
import dev.sluice.testing.MutableClock;
import dev.sluice.testing.TestIssuer;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.eclipse.jetty.client.HttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;

/**
 * The STS endpoint as an AWS SDK sees it: query-protocol requests in, STS XML out, parsed back
 * with a real XML parser; every refusal with its code and status.
 */
class StsServiceTest {
    private static final Instant NOW = Instant.parse("2026-11-26T07:00:00.250Z");
    private static final String FORM = "application/x-www-form-urlencoded";
    private static final Set<Action> READ = Set.of(Action.GET_OBJECT, Action.HEAD_OBJECT, Action.LIST_BUCKET);
    private static final byte[] SEAL_KEY = new byte[32];

    private final MutableClock clock = new MutableClock(NOW);
    private TestIssuer issuer;
    private HttpClient http;
    private IssuerKeys keys;
    private StsService sts;
    private final SessionTokens tokens = new SessionTokens(SEAL_KEY, Optional.empty(), new SecureRandom());

    @BeforeEach
    void start() throws Exception {
        issuer = new TestIssuer(clock);
        http = new HttpClient();
        http.start();
        // Loads run on the caller's thread, so a background renewal has happened when a lookup returns.
        keys = new IssuerKeys(http, clock, IssuerKeys.DEFAULT_TIMEOUT, Runnable::run);
        sts = service(new WebIdentityVerifier(keys, clock));
    }

    private StsService service(WebIdentityVerifier verifier) {
        Role ci = new Role("ci-reader", List.of(issuer.issuer()), List.of("sluice"), List.of("repo:acme/*"), Duration.ofHours(2),
                List.of(new ScopeTemplate("acme/data", List.of("home/{sub}/", "shared"), READ),
                        new ScopeTemplate("acme/{missing_claim}", List.of(), READ),
                        new ScopeTemplate("acme/{repository}", List.of(), Set.of(Action.GET_OBJECT))));
        Role anyone = new Role("anyone", List.of(issuer.issuer()), List.of("sluice"), List.of(), Duration.ofSeconds(1200), List.of());
        return new StsService(List.of(ci, anyone), verifier, tokens, clock, new SecureRandom());
    }

    @AfterEach
    void stop() throws Exception {
        keys.close();
        http.stop();
        issuer.close();
    }

    // ---- helpers ----

    private Map<String, String> params(String... extra) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("Action", "AssumeRoleWithWebIdentity");
        p.put("Version", "2011-06-15");
        p.put("RoleArn", "arn:aws:iam::000000000000:role/ci-reader");
        p.put("WebIdentityToken", issuer.mint());
        for (int i = 0; i < extra.length; i += 2) {
            if (extra[i + 1] == null) {
                p.remove(extra[i]);
            } else {
                p.put(extra[i], extra[i + 1]);
            }
        }
        return p;
    }

    private static String encode(Map<String, String> params) {
        return params.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
    }

    private StsReply post(Map<String, String> params) {
        return sts.handle("POST", "", Optional.of(FORM), encode(params).getBytes(StandardCharsets.UTF_8), "req-1");
    }

    private StsReply get(Map<String, String> params) {
        return sts.handle("GET", encode(params), Optional.empty(), new byte[0], "req-1");
    }

    private static Element root(StsReply reply) {
        assertThat(reply.contentType()).isEqualTo("text/xml");
        Element root = XmlReader.parse(reply.body().getBytes(StandardCharsets.UTF_8)).orElseThrow().getDocumentElement();
        assertThat(root.getNamespaceURI()).isEqualTo("https://sts.amazonaws.com/doc/2011-06-15/");
        return root;
    }

    private static String text(Element root, String... path) {
        return XmlReader.text(root, path).orElseThrow(() -> new AssertionError("no " + String.join("/", path)));
    }

    private static String credential(StsReply reply, String name) {
        return text(root(reply), "AssumeRoleWithWebIdentityResult", "Credentials", name);
    }

    private static void assertError(StsReply reply, int status, String code) {
        assertThat(reply.status()).as(reply.body()).isEqualTo(status);
        Element root = root(reply);
        assertThat(root.getLocalName()).isEqualTo("ErrorResponse");
        assertThat(text(root, "Error", "Code")).isEqualTo(code);
        assertThat(text(root, "Error", "Type")).isEqualTo(status >= 500 ? "Receiver" : "Sender");
        assertThat(text(root, "Error", "Message")).isNotBlank();
        assertThat(text(root, "RequestId")).isEqualTo("req-1");
    }

    // ---- success ----

    @Test
    void issuesSealedTemporaryCredentialsOverPost() {
        StsReply reply = post(params());
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        Element root = root(reply);
        assertThat(root.getLocalName()).isEqualTo("AssumeRoleWithWebIdentityResponse");
        String keyId = credential(reply, "AccessKeyId");
        String secret = credential(reply, "SecretAccessKey");
        assertThat(keyId).matches("ASIA[A-Z2-7]{16}");
        assertThat(secret).hasSize(40).matches("[A-Za-z0-9+/]{40}");
        assertThat(credential(reply, "Expiration")).isEqualTo("2026-11-26T08:00:00Z");

        SessionClaims claims = tokens.open(credential(reply, "SessionToken"), NOW);
        assertThat(claims.accessKeyId()).isEqualTo(keyId);
        assertThat(claims.secretAccessKey()).isEqualTo(secret);
        assertThat(claims.expiry()).isEqualTo(Instant.parse("2026-11-26T08:00:00Z"));
        assertThat(claims.subject()).isEqualTo(TestIssuer.DEFAULT_SUBJECT);
        assertThat(claims.role()).isEqualTo("ci-reader");
        assertThat(claims.scopes()).containsExactly(
                new Scope("acme/data", List.of("home/" + TestIssuer.DEFAULT_SUBJECT + "/", "shared"), READ));

        Element result = (Element) root.getElementsByTagNameNS("*", "AssumeRoleWithWebIdentityResult").item(0);
        String session = "repo-acme-data-ref-refs-heads-main";
        assertThat(text(result, "SubjectFromWebIdentityToken")).isEqualTo(TestIssuer.DEFAULT_SUBJECT);
        assertThat(text(result, "AssumedRoleUser", "Arn")).isEqualTo("arn:aws:sts::000000000000:assumed-role/ci-reader/" + session);
        assertThat(text(result, "AssumedRoleUser", "AssumedRoleId")).matches("AROA[A-Z2-7]{16}:" + session);
        assertThat(text(result, "Provider")).isEqualTo(issuer.issuer());
        assertThat(text(result, "Audience")).isEqualTo("sluice");
        assertThat(text(root, "ResponseMetadata", "RequestId")).isEqualTo("req-1");
    }

    @Test
    void issuesCredentialsOverGetWithTheGivenSessionName() {
        StsReply reply = get(params("RoleSessionName", "build-42@ci", "Version", null));
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        assertThat(text(root(reply), "AssumeRoleWithWebIdentityResult", "AssumedRoleUser", "Arn"))
                .endsWith(":assumed-role/ci-reader/build-42@ci");
    }

    @Test
    void eachIssueHasFreshKeys() {
        StsReply a = post(params());
        StsReply b = post(params());
        assertThat(credential(a, "AccessKeyId")).isNotEqualTo(credential(b, "AccessKeyId"));
        assertThat(credential(a, "SecretAccessKey")).isNotEqualTo(credential(b, "SecretAccessKey"));
    }

    @Test
    void acceptsAFormContentTypeWithACharset() {
        StsReply reply = sts.handle("POST", "", Optional.of("Application/X-WWW-Form-URLEncoded ; charset=UTF-8"),
                encode(params()).getBytes(StandardCharsets.UTF_8), "req-1");
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
    }

    @Test
    void resolvesScopeTemplatesFromTheTokensClaims() {
        String token = issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().claim("repository", "warehouse").build());
        SessionClaims claims = tokens.open(credential(post(params("WebIdentityToken", token)), "SessionToken"), NOW);
        assertThat(claims.scopes()).containsExactlyInAnyOrder(
                new Scope("acme/data", List.of("home/" + TestIssuer.DEFAULT_SUBJECT + "/", "shared"), READ),
                new Scope("acme/warehouse", List.of(), Set.of(Action.GET_OBJECT)));
        String widening = issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().claim("repository", "*").build());
        assertThat(tokens.open(credential(post(params("WebIdentityToken", widening)), "SessionToken"), NOW).scopes())
                .extracting(Scope::product).containsExactly("acme/data");
    }

    @Test
    void escapesWhatItEchoes() {
        String sub = "repo:acme/<x>&\"y\"";
        String token = issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().subject(sub).build());
        StsReply reply = sts.handle("POST", "", Optional.of(FORM), encode(params("WebIdentityToken", token)).getBytes(StandardCharsets.UTF_8),
                "<req & id>");
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        Element root = root(reply);
        assertThat(text(root, "AssumeRoleWithWebIdentityResult", "SubjectFromWebIdentityToken")).isEqualTo(sub);
        assertThat(text(root, "AssumeRoleWithWebIdentityResult", "AssumedRoleUser", "Arn")).endsWith("/repo-acme--x---y-");
        assertThat(text(root, "ResponseMetadata", "RequestId")).isEqualTo("<req & id>");
    }

    // ---- role ARN ----

    @Test
    void findsTheRoleByIdOrAnyIamRoleArn() {
        for (String arn : List.of("ci-reader", "arn:aws:iam::123456789012:role/ci-reader", "arn:aws-us-gov:iam::000000000000:role/teams/data/ci-reader")) {
            assertThat(post(params("RoleArn", arn)).status()).as(arn).isEqualTo(200);
        }
    }

    @Test
    void deniesAnUnknownRoleLikeARefusedSubject() {
        StsReply unknown = post(params("RoleArn", "arn:aws:iam::000000000000:role/admin"));
        assertError(unknown, 403, "AccessDenied");
        String outsider = issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().subject("repo:evil/x").build());
        StsReply refused = post(params("WebIdentityToken", outsider));
        assertError(refused, 403, "AccessDenied");
        assertThat(text(root(unknown), "Error", "Message")).isEqualTo(text(root(refused), "Error", "Message"));
        assertError(post(params("RoleArn", "arn:aws:iam::000000000000:user/ci-reader")), 403, "AccessDenied");
    }

    /**
     * The docs promise that the endpoint does not tell which roles exist: a garbage token named a
     * known role 400 InvalidIdentityToken and an unknown one 403 AccessDenied. Every token now
     * gets the same answer for a role that exists as for one that does not.
     */
    @Test
    void answersAnUnknownRoleExactlyAsAKnownOneWhateverTheToken() throws Exception {
        String forged = issuer.mint().replaceAll(".{6}$", "AAAAAA");
        String expired = issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims()
                .expirationTime(java.util.Date.from(NOW.minus(Duration.ofHours(1)))).build());
        String outsider = issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().subject("repo:evil/x").build());
        String strangers;
        try (TestIssuer stranger = new TestIssuer(clock)) {
            strangers = stranger.mint();
        }
        for (String token : List.of("not-a-jwt", forged, expired, outsider, strangers)) {
            StsReply known = post(params("WebIdentityToken", token));
            StsReply unknown = post(params("WebIdentityToken", token, "RoleArn", "arn:aws:iam::000000000000:role/admin"));
            assertThat(unknown.status()).as(token).isEqualTo(known.status());
            assertThat(text(root(unknown), "Error", "Code")).as(token).isEqualTo(text(root(known), "Error", "Code"));
            assertThat(text(root(unknown), "Error", "Message")).as(token).isEqualTo(text(root(known), "Error", "Message"));
        }
        assertError(post(params("WebIdentityToken", "not-a-jwt", "RoleArn", "admin")), 400, "InvalidIdentityToken");
    }

    @Test
    void verifiesTheTokenWithItsIssuerEvenForAnUnknownRole() throws Exception {
        issuer.outage(TestIssuer.Outage.ERROR_500);
        assertError(post(params("RoleArn", "arn:aws:iam::000000000000:role/admin")), 400, "IDPCommunicationError");
    }

    // ---- duration ----

    @Test
    void defaultsToAnHourClampedToTheRoleMaximum() {
        assertThat(credential(post(params()), "Expiration")).isEqualTo("2026-11-26T08:00:00Z");
        assertThat(credential(post(params("RoleArn", "anyone")), "Expiration")).isEqualTo("2026-11-26T07:20:00Z");
    }

    @Test
    void clampsDurationSecondsToNineHundredAndTheRoleMaximum() {
        Map<String, String> expected = Map.of(
                "1", "2026-11-26T07:15:00Z",
                "-5", "2026-11-26T07:15:00Z",
                "899", "2026-11-26T07:15:00Z",
                "900", "2026-11-26T07:15:00Z",
                "901", "2026-11-26T07:15:01Z",
                "7200", "2026-11-26T09:00:00Z",
                "7201", "2026-11-26T09:00:00Z",
                "99999999999999999999999", "2026-11-26T09:00:00Z");
        expected.forEach((asked, expiry) ->
                assertThat(credential(post(params("DurationSeconds", asked)), "Expiration")).as(asked).isEqualTo(expiry));
    }

    @Test
    void refusesADurationThatIsNotAnInteger() {
        for (String d : List.of("", "1.5", "abc", "3600s", "+3600", " 3600", "1e3")) {
            assertError(post(params("DurationSeconds", d)), 400, "InvalidParameterValue");
        }
    }

    // ---- parameters ----

    @Test
    void neverMergesQueryAndForm() {
        Map<String, String> p = params();
        String token = p.remove("WebIdentityToken");
        StsReply reply = sts.handle("POST", "WebIdentityToken=" + token, Optional.of(FORM),
                encode(p).getBytes(StandardCharsets.UTF_8), "req-1");
        assertError(reply, 400, "MissingParameter");
        assertThat(reply.body()).doesNotContain(token);

        StsReply getWithBody = sts.handle("GET", "", Optional.of(FORM), encode(params()).getBytes(StandardCharsets.UTF_8), "req-1");
        assertError(getWithBody, 400, "MissingAction");
    }

    @Test
    void refusesAPostThatIsNotAForm() {
        byte[] body = encode(params()).getBytes(StandardCharsets.UTF_8);
        for (Optional<String> type : List.of(Optional.<String>empty(), Optional.of("application/json"), Optional.of("text/plain"),
                Optional.of("application/x-www-form-urlencoded-extra"), Optional.of("application/x-www-form-urlencoded; boundary=x"))) {
            assertError(sts.handle("POST", encode(params()), type, body, "req-1"), 400, "InvalidParameterValue");
        }
    }

    @Test
    void refusesOtherMethods() {
        for (String method : List.of("PUT", "DELETE", "HEAD", "PATCH", "get")) {
            assertError(sts.handle(method, encode(params()), Optional.of(FORM), new byte[0], "req-1"), 405, "MethodNotAllowed");
        }
    }

    @Test
    void refusesABodyOver64KiB() {
        byte[] body = new byte[64 * 1024 + 1];
        Arrays.fill(body, (byte) 'a');
        assertError(sts.handle("POST", "", Optional.of(FORM), body, "req-1"), 413, "RequestEntityTooLarge");
    }

    @Test
    void refusesAMissingOrOtherAction() {
        assertError(post(params("Action", null)), 400, "MissingAction");
        assertError(post(params("Action", "AssumeRole")), 400, "InvalidAction");
        assertError(post(params("Action", "GetCallerIdentity")), 400, "InvalidAction");
        assertError(post(params("Version", "2099-01-01")), 400, "InvalidAction");
    }

    @Test
    void refusesMissingParameters() {
        assertError(post(params("WebIdentityToken", null)), 400, "MissingParameter");
        assertError(post(params("WebIdentityToken", "")), 400, "MissingParameter");
        assertError(post(params("RoleArn", null)), 400, "MissingParameter");
    }

    @Test
    void refusesAnInvalidSessionName() {
        for (String name : List.of("a", "x".repeat(65), "has space", "semi;colon", "slash/name", "")) {
            assertError(post(params("RoleSessionName", name)), 400, "ValidationError");
        }
        assertThat(post(params("RoleSessionName", "x".repeat(64))).status()).isEqualTo(200);
    }

    @Test
    void refusesAParameterGivenTwiceOrBadlyEncoded() {
        String once = encode(params());
        assertError(sts.handle("GET", once + "&RoleArn=other", Optional.empty(), new byte[0], "req-1"), 400, "MalformedQueryString");
        assertError(sts.handle("GET", once + "&x=%zz", Optional.empty(), new byte[0], "req-1"), 400, "MalformedQueryString");
        assertError(sts.handle("GET", once + "&x=%4", Optional.empty(), new byte[0], "req-1"), 400, "MalformedQueryString");
    }

    // ---- the token ----

    @Test
    void refusesAnInvalidTokenWithoutEchoingIt() {
        String forged = issuer.mint().replaceAll(".$", "A").replaceAll(".{6}$", "AAAAAA");
        for (String token : List.of("not-a-jwt", forged)) {
            StsReply reply = post(params("WebIdentityToken", token));
            assertError(reply, 400, "InvalidIdentityToken");
            assertThat(reply.body()).doesNotContain(token);
        }
    }

    @Test
    void refusesATokenOfAnUntrustedIssuerOrAudience() throws Exception {
        try (TestIssuer stranger = new TestIssuer(clock)) {
            assertError(post(params("WebIdentityToken", stranger.mint())), 400, "InvalidIdentityToken");
        }
        String wrongAudience = issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().audience("sts.amazonaws.com").build());
        assertError(post(params("WebIdentityToken", wrongAudience)), 400, "InvalidIdentityToken");
    }

    @Test
    void refusesASubjectWithControlCharactersBeforeAnyGlobSeesIt() {
        String forged = issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims()
                .subject("repo:acme/x\n{\"principal\":\"admin\"}").build());
        StsReply reply = sts.handle("POST", "", Optional.of(FORM),
                encode(params("WebIdentityToken", forged, "RoleArn", "anyone")).getBytes(StandardCharsets.UTF_8), "req-1");
        assertError(reply, 400, "InvalidIdentityToken");
    }

    @Test
    void refusesATokenValidForLongerThanTheRolesMaximumTokenLifetime() {
        String year3000 = issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims()
                .expirationTime(java.util.Date.from(Instant.parse("3000-01-01T00:00:00Z"))).build());
        assertError(post(params("WebIdentityToken", year3000)), 400, "InvalidIdentityToken");
        assertError(post(params("WebIdentityToken", year3000, "RoleArn", "anyone")), 400, "InvalidIdentityToken");
    }

    @Test
    void refusesAnExpiredToken() {
        String token = issuer.mint();
        clock.advance(Duration.ofMinutes(10));
        StsReply reply = post(params("WebIdentityToken", token));
        assertError(reply, 400, "ExpiredTokenException");
        assertThat(reply.body()).doesNotContain(token);
    }

    @Test
    void reportsAnUnreachableIssuer() throws Exception {
        issuer.outage(TestIssuer.Outage.ERROR_500);
        assertError(post(params()), 400, "IDPCommunicationError");
    }

    @Test
    void answersAnUnexpectedFailureWithAGenericInternalFailure() {
        StsService broken = service(new WebIdentityVerifier(null, clock));
        StsReply reply = broken.handle("POST", "", Optional.of(FORM), encode(params()).getBytes(StandardCharsets.UTF_8), "req-1");
        assertError(reply, 500, "InternalFailure");
        assertThat(reply.body()).doesNotContain("NullPointer");
    }

    @Test
    void answersEvenWhenTheCallerPassesNothingUsable() {
        assertThat(sts.handle(null, null, null, null, null).status()).isEqualTo(500);
        assertThat(sts.handle("POST", null, Optional.of(FORM), null, null).status()).isEqualTo(500);
        assertThat(sts.handle("GET", null, Optional.empty(), null, "req-1").status()).isEqualTo(400);
    }

    // ---- fuzz ----

    /**
     * Mutated and random web identity tokens and parameter strings: every answer is a 4xx STS
     * error document that parses, never a 5xx and never credentials, and the unmutated token
     * is granted (so a service refusing everything would fail this test).
     */
    @Test
    void mutatedTokensAndParametersAreNeverGrantedNorAnswered5xx() {
        assertThat(post(params()).status()).isEqualTo(200);
        java.util.Random random = new java.util.Random(11);
        String alphabet = "abcXYZ019-_.=&%+/ \u00e9\u20ac{}\"'<>";
        int cases = 0;
        for (int i = 0; i < 1500; i++) {
            String token = issuer.mint();
            StringBuilder b = new StringBuilder(token);
            switch (i % 4) {
                case 0 -> { // flip characters, never into the same character
                    for (int k = 0; k < 1 + random.nextInt(3); k++) {
                        int at = random.nextInt(b.length());
                        char c;
                        do {
                            c = alphabet.charAt(random.nextInt(alphabet.length()));
                        } while (c == b.charAt(at));
                        b.setCharAt(at, c);
                    }
                }
                case 1 -> b.setLength(random.nextInt(b.length()));
                case 2 -> { // swap two of the three parts: header, payload, signature
                    String[] parts = token.split("\\.", -1);
                    int x = random.nextInt(3);
                    int y = (x + 1 + random.nextInt(2)) % 3;
                    String t = parts[x];
                    parts[x] = parts[y];
                    parts[y] = t;
                    b = new StringBuilder(String.join(".", parts));
                }
                default -> { // random printable garbage, sometimes shaped like a JWT
                    b = new StringBuilder();
                    for (int k = 0; k < random.nextInt(300); k++) {
                        b.append(random.nextInt(20) == 0 ? '.' : alphabet.charAt(random.nextInt(alphabet.length())));
                    }
                }
            }
            String mutated = b.toString();
            if (mutated.equals(token)) {
                continue;
            }
            cases++;
            StsReply reply = i % 2 == 0 ? post(params("WebIdentityToken", mutated)) : get(params("WebIdentityToken", mutated));
            assertThat(reply.status()).as(mutated).isBetween(400, 499);
            Element root = root(reply);
            assertThat(root.getLocalName()).as(mutated).isEqualTo("ErrorResponse");
            assertThat(reply.body()).doesNotContain("<Credentials>");
        }
        for (int i = 0; i < 1000; i++) { // random raw query strings and form bodies
            StringBuilder q = new StringBuilder();
            for (int k = 0; k < random.nextInt(200); k++) {
                q.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            String raw = (i % 3 == 0 ? "Action=AssumeRoleWithWebIdentity&" : "") + q;
            StsReply reply = i % 2 == 0
                    ? sts.handle("GET", raw, Optional.empty(), new byte[0], "req-f")
                    : sts.handle("POST", "", Optional.of(FORM), raw.getBytes(StandardCharsets.UTF_8), "req-f");
            assertThat(reply.status()).as(raw).isBetween(400, 499);
            assertThat(root(reply).getLocalName()).isEqualTo("ErrorResponse");
            cases++;
        }
        assertThat(cases).isGreaterThan(2000);
    }
}
