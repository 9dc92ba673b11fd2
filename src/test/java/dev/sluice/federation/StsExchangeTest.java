package dev.sluice.federation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sluice.cache.Expiring;
import dev.sluice.federation.StsExchange.Failure;
import dev.sluice.federation.StsExchange.Result;
import dev.sluice.federation.StsExchange.Success;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.sigv4.AwsCredentials;
import dev.sluice.testing.MutableClock;
import dev.sluice.testing.TestKeys;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The STS exchange: how a reply is read ({@link StsExchange#parse}), what session name STS is
 * sent, and the whole exchange against a scripted HTTP server speaking the
 * {@code AssumeRoleWithWebIdentity} query protocol, including what the client of sluice is
 * shown when it fails (never the STS message, never the token).
 */
class StsExchangeTest {
    private static final String NS = "https://sts.amazonaws.com/doc/2011-06-15/";
    private static final String ISSUER = "https://sluice.example.com";
    private static final String ROLE = "arn:aws:iam::123456789012:role/sluice-reader";
    private static final String SUBJECT = "sluice:product:demo/hello";
    private static final CredentialKey KEY = new CredentialKey(ROLE, SUBJECT);
    private static final Pattern SESSION_NAME = Pattern.compile("[\\w+=,.@-]{2,64}");
    /** The STS message of every scripted error; it must reach the log only. */
    private static final String STS_MESSAGE = "Not authorized: secret-ish STS diagnostic 7f3a";

    /** The AssumeRoleWithWebIdentity response example of the AWS STS API reference, verbatim. */
    private static final String AWS_SUCCESS = """
            <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
              <AssumeRoleWithWebIdentityResult>
                <SubjectFromWebIdentityToken>amzn1.account.AF6RHO7KZU5XRVQJGXK6HB56KR2A</SubjectFromWebIdentityToken>
                <Audience>client.5498841531868486423.1548@apps.example.com</Audience>
                <AssumedRoleUser>
                  <Arn>arn:aws:sts::123456789012:assumed-role/FederatedWebIdentityRole/app1</Arn>
                  <AssumedRoleId>AROACLKWSDQRAOEXAMPLE:app1</AssumedRoleId>
                </AssumedRoleUser>
                <Credentials>
                  <SessionToken>AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE</SessionToken>
                  <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
                  <Expiration>2014-10-24T23:00:23Z</Expiration>
                  <AccessKeyId>ASgeIAIOSFODNN7EXAMPLE</AccessKeyId>
                </Credentials>
                <SourceIdentity>SourceIdentityValue</SourceIdentity>
                <Provider>www.amazon.com</Provider>
              </AssumeRoleWithWebIdentityResult>
              <ResponseMetadata>
                <RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId>
              </ResponseMetadata>
            </AssumeRoleWithWebIdentityResponse>
            """;

    private static SigningKey signingKey;
    private static HttpClient http;

    @TempDir
    Path tmp;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final ScriptedSts sts = new ScriptedSts();
    private final List<String> observed = new CopyOnWriteArrayList<>();
    private Server server;
    private URI endpoint;

    @BeforeAll
    static void startClient() throws Exception {
        signingKey = TestKeys.load("test-rsa-a", "key-a");
        // Sign once so that class loading and JIT of the first mint do not count against a test's deadline.
        new OidcProvider(ISSUER, signingKey, Optional.empty(), Instant::now).mint(SUBJECT, OidcProvider.STS_AUDIENCE, Duration.ofMinutes(5));
        http = new HttpClient();
        http.start();
    }

    @AfterAll
    static void stopClient() throws Exception {
        http.stop();
    }

    @BeforeEach
    void startSts() throws Exception {
        server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(sts);
        server.start();
        endpoint = URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/");
    }

    @AfterEach
    void stopSts() throws Exception {
        sts.releaseHungRequests();
        server.stop();
    }

    // ---- (a) reading replies ----

    @Test
    void parsesTheAwsSuccessDocument() {
        Result result = StsExchange.parse(200, bytes(AWS_SUCCESS));

        assertThat(result).isInstanceOf(Success.class);
        Success success = (Success) result;
        AwsCredentials credentials = success.credentials().value();
        assertThat(credentials.accessKeyId()).isEqualTo("ASgeIAIOSFODNN7EXAMPLE");
        assertThat(credentials.secretAccessKey()).isEqualTo("wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
        assertThat(credentials.sessionToken()).contains("AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE");
        assertThat(success.credentials().expiresAt()).isEqualTo(Instant.parse("2014-10-24T23:00:23Z"));
        assertThat(success.requestId()).isEqualTo("ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE");
    }

    @Test
    void parsesTheSuccessDocumentWithoutItsNamespace() {
        Result result = StsExchange.parse(200, bytes(AWS_SUCCESS.replace(" xmlns=\"" + NS + "\"", "")));

        assertThat(result).isInstanceOf(Success.class);
        assertThat(((Success) result).credentials().value().accessKeyId()).isEqualTo("ASgeIAIOSFODNN7EXAMPLE");
    }

    @ParameterizedTest(name = "{0} with HTTP {1} is retryable: {2}")
    @CsvSource({
            "AccessDenied,          403, false",
            "AccessDenied,          400, false",
            "InvalidIdentityToken,  400, false",
            "ExpiredTokenException, 400, false",
            "IDPCommunicationError, 400, true",
            "Throttling,            400, true",
            "InternalFailure,       500, true",
            "ServiceUnavailable,    503, true",
    })
    void errorResponseIsRetryableOnlyForThrottlingIdpCommunicationAnd5xx(String code, int status, boolean retryable) {
        Result result = StsExchange.parse(status, bytes(errorResponse(code)));

        assertThat(result).isEqualTo(new Failure(retryable, "sts_error", code, STS_MESSAGE, "c6104cbe-af31-11e0-8154-cbc7ccf896c7"));
    }

    @Test
    void errorResponseWithoutNamespaceIsReadAlike() {
        Result result = StsExchange.parse(400, bytes(errorResponse("Throttling").replace(" xmlns=\"" + NS + "\"", "")));

        assertThat(result).isEqualTo(new Failure(true, "sts_error", "Throttling", STS_MESSAGE, "c6104cbe-af31-11e0-8154-cbc7ccf896c7"));
    }

    @Test
    void errorResponseWithStatus200IsStillAnError() {
        Result result = StsExchange.parse(200, bytes(errorResponse("AccessDenied")));

        assertThat(result).isInstanceOf(Failure.class);
        assertThat(((Failure) result).code()).isEqualTo("AccessDenied");
        assertThat(((Failure) result).retryable()).isFalse();
    }

    @Test
    void successDocumentWithStatus500IsNotASuccess() {
        Result result = StsExchange.parse(500, bytes(AWS_SUCCESS));

        assertThat(result).isInstanceOf(Failure.class);
        assertThat(((Failure) result).kind()).isEqualTo("garbage");
        assertThat(((Failure) result).retryable()).isTrue();
    }

    @Test
    void successDocumentWithIncompleteOrUnparseableCredentialsIsGarbage() {
        for (String broken : List.of(
                AWS_SUCCESS.replaceAll("<SessionToken>.*</SessionToken>", ""),
                AWS_SUCCESS.replace("2014-10-24T23:00:23Z", "tomorrow"),
                AWS_SUCCESS.replace("<AccessKeyId>ASgeIAIOSFODNN7EXAMPLE</AccessKeyId>", "<AccessKeyId> </AccessKeyId>"))) {
            Result result = StsExchange.parse(200, bytes(broken));
            assertThat(result).isInstanceOf(Failure.class);
            assertThat(((Failure) result).kind()).isEqualTo("garbage");
            assertThat(((Failure) result).retryable()).isFalse();
        }
    }

    @Test
    void bodiesThatAreNotStsDocumentsAreGarbage() {
        String truncated = AWS_SUCCESS.substring(0, AWS_SUCCESS.indexOf("<Expiration>"));
        Map<String, String> bodies = new LinkedHashMap<>();
        bodies.put("html", "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>");
        bodies.put("well-formed html", "<html><body><h1>Service Unavailable</h1></body></html>");
        bodies.put("empty", "");
        bodies.put("truncated", truncated);
        bodies.put("json", "{\"Credentials\":{}}");
        bodies.put("other xml", "<Error><Code>AccessDenied</Code></Error>");
        for (Map.Entry<String, String> body : bodies.entrySet()) {
            Result result = StsExchange.parse(200, bytes(body.getValue()));
            assertThat(result).as(body.getKey()).isInstanceOf(Failure.class);
            assertThat(((Failure) result).kind()).as(body.getKey()).isEqualTo("garbage");
            assertThat(((Failure) result).retryable()).as(body.getKey()).isFalse();
        }
        Result gatewayPage = StsExchange.parse(502, bytes(bodies.get("html")));
        assertThat(((Failure) gatewayPage).retryable()).as("garbage with a 5xx is retried").isTrue();
    }

    @Test
    void doctypeIsRefusedWithoutResolvingEntities() throws Exception {
        Path secret = tmp.resolve("secret.txt");
        Files.writeString(secret, "TOPSECRET-42");
        String viaFile = """
                <?xml version="1.0"?>
                <!DOCTYPE ErrorResponse [<!ENTITY xxe SYSTEM "%s">]>
                <ErrorResponse><Error><Code>&xxe;</Code><Message>&xxe;</Message></Error></ErrorResponse>
                """.formatted(secret.toUri());
        String viaHttp = """
                <?xml version="1.0"?>
                <!DOCTYPE ErrorResponse SYSTEM "%sxxe.dtd">
                <ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>
                """.formatted(endpoint);
        String laughs = """
                <?xml version="1.0"?>
                <!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
                <ErrorResponse><Error><Code>&lol2;</Code></Error></ErrorResponse>
                """;

        for (String body : List.of(viaFile, viaHttp, laughs)) {
            Result result = StsExchange.parse(200, bytes(body));
            assertThat(result).isInstanceOf(Failure.class);
            Failure failure = (Failure) result;
            assertThat(failure.kind()).isEqualTo("garbage");
            assertThat(failure.toString()).doesNotContain("TOPSECRET").doesNotContain("lollol");
        }
        assertThat(sts.paths()).as("no entity was fetched").isEmpty();
    }

    // ---- (b) RoleSessionName ----

    @Test
    void sessionNameKeepsTheSubjectRecognisableInStsCharacters() {
        String name = RoleSessionName.of("sluice:product:demo/hello");

        assertThat(name).isEqualTo("sluice-product-demo-hello").matches(SESSION_NAME);
    }

    @Test
    void sessionNameReplacesEveryCharacterStsRefuses() {
        String name = RoleSessionName.of("ünïcode subject/with spaces;and\"quotes'~#%");

        assertThat(name).matches(SESSION_NAME);
        assertThat(RoleSessionName.of("a+b=c,d.e@f-g_h")).isEqualTo("a+b=c,d.e@f-g_h");
    }

    @Test
    void sessionNameOfALongSubjectIsTruncatedTo64() {
        String subject = "sluice:product:" + "x".repeat(200);

        String name = RoleSessionName.of(subject);

        assertThat(name).hasSize(64).matches(SESSION_NAME).startsWith("sluice-product-xxx");
        assertThat(RoleSessionName.of("y".repeat(64))).isEqualTo("y".repeat(64));
    }

    @Test
    void sessionNameOfAOneCharacterOrEmptySubjectIsPaddedToAtLeastTwo() {
        assertThat(RoleSessionName.of("a")).matches(SESSION_NAME).startsWith("a");
        assertThat(RoleSessionName.of("/")).matches(SESSION_NAME);
        assertThat(RoleSessionName.of("")).matches(SESSION_NAME);
        assertThat(RoleSessionName.of("ab")).isEqualTo("ab");
    }

    // ---- (c) the exchange over HTTP ----

    @Test
    void exchangePostsTheFormWithAFreshTokenAndReturnsTheCredentials() throws Exception {
        sts.reply(200, successFor("ASIAEXAMPLEONE", "2026-01-01T01:00:00Z"));

        Expiring<AwsCredentials> credentials = exchange(Duration.ofSeconds(5)).exchange(KEY);

        assertThat(credentials.value().accessKeyId()).isEqualTo("ASIAEXAMPLEONE");
        assertThat(credentials.value().sessionToken()).contains("FQoGZXIvYXdzEXAMPLE");
        assertThat(credentials.expiresAt()).isEqualTo(Instant.parse("2026-01-01T01:00:00Z"));
        assertThat(sts.attempts()).hasSize(1);
        Attempt attempt = sts.attempts().get(0);
        assertThat(attempt.method()).isEqualTo("POST");
        assertThat(attempt.contentType()).startsWith("application/x-www-form-urlencoded");
        Map<String, String> form = attempt.form();
        assertThat(form).containsOnlyKeys("Action", "Version", "RoleArn", "RoleSessionName", "WebIdentityToken", "DurationSeconds");
        assertThat(form).containsEntry("Action", "AssumeRoleWithWebIdentity")
                .containsEntry("Version", "2011-06-15")
                .containsEntry("RoleArn", ROLE)
                .containsEntry("RoleSessionName", "sluice-product-demo-hello")
                .containsEntry("DurationSeconds", "3600");

        SignedJWT token = SignedJWT.parse(form.get("WebIdentityToken"));
        assertThat(token.verify(new RSASSAVerifier(signingKey.publicKey()))).isTrue();
        assertThat(token.getHeader().getKeyID()).isEqualTo("key-a");
        JWTClaimsSet claims = token.getJWTClaimsSet();
        assertThat(claims.getAudience()).containsExactly("sts.amazonaws.com");
        assertThat(claims.getSubject()).isEqualTo(SUBJECT);
        assertThat(claims.getIssuer()).isEqualTo(ISSUER);
        assertThat(claims.getExpirationTime().toInstant()).isEqualTo(clock.instant().plus(Duration.ofMinutes(5)));
        assertThat(observed).containsExactly("success/");
    }

    @Test
    void throttlingTwiceThenSuccessSucceedsOnTheThirdAttempt() {
        sts.reply(400, errorResponse("Throttling"));
        sts.reply(400, errorResponse("Throttling"));
        sts.reply(200, successFor("ASIAEXAMPLETHREE", "2026-01-01T01:00:00Z"));
        Duration timeout = Duration.ofSeconds(5);

        Expiring<AwsCredentials> credentials = exchange(timeout).exchange(KEY);

        assertThat(credentials.value().accessKeyId()).isEqualTo("ASIAEXAMPLETHREE");
        assertThat(sts.attempts()).hasSize(3);
        assertThat(clock.sleeps()).as("jittered exponential backoff (jitter 0: half of 100 ms, then of 200 ms)")
                .containsExactly(Duration.ofMillis(50), Duration.ofMillis(100));
    }

    @Test
    void throttlingThatOutlastsTheDeadlineIsSlowDown() {
        sts.reply(400, errorResponse("Throttling"));
        Duration timeout = Duration.ofMillis(500);

        S3Exception e = exchangeFails(timeout);

        assertThat(e.error()).isEqualTo(S3Error.SLOW_DOWN);
        assertThat(e.error().status()).isEqualTo(503);
        // 50 + 100 + 200 ms of backoff leave 150 ms: the next backoff (400 ms) would pass the
        // deadline, so the exchange gives up after the fourth attempt instead of sleeping.
        assertThat(clock.sleeps()).containsExactly(Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(200));
        assertThat(sts.attempts()).hasSize(4);
        assertRevealsNothing(e);
        assertThat(observed).containsExactly("sts_error/Throttling");
    }

    @Test
    void idpCommunicationErrorIsRetriedThenServiceUnavailable() {
        sts.reply(400, errorResponse("IDPCommunicationError"));
        sts.reply(400, errorResponse("IDPCommunicationError"));
        sts.reply(200, successFor("ASIAEXAMPLEAFTERIDP", "2026-01-01T01:00:00Z"));

        assertThat(exchange(Duration.ofSeconds(5)).exchange(KEY).value().accessKeyId()).isEqualTo("ASIAEXAMPLEAFTERIDP");
        assertThat(sts.attempts()).hasSize(3);

        sts.reset();
        sts.reply(400, errorResponse("IDPCommunicationError"));
        S3Exception e = exchangeFails(Duration.ofMillis(500));

        assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE);
        assertThat(sts.attempts().size()).isGreaterThan(1);
        assertRevealsNothing(e);
    }

    @Test
    void accessDeniedIsAccessDeniedAfterOneAttempt() {
        sts.reply(403, errorResponse("AccessDenied"));

        S3Exception e = exchangeFails(Duration.ofSeconds(5));

        assertThat(e.error()).isEqualTo(S3Error.ACCESS_DENIED);
        assertThat(e.error().status()).isEqualTo(403);
        assertThat(sts.attempts()).hasSize(1);
        assertRevealsNothing(e);
    }

    @Test
    void invalidIdentityTokenIsBackendAuthenticationFailedAfterOneAttempt() {
        sts.reply(400, errorResponse("InvalidIdentityToken"));

        S3Exception e = exchangeFails(Duration.ofSeconds(5));

        assertThat(e.error()).isEqualTo(S3Error.BACKEND_AUTHENTICATION_FAILED);
        assertThat(e.error().status()).isEqualTo(502);
        assertThat(sts.attempts()).hasSize(1);
        assertRevealsNothing(e);
        assertThat(observed).containsExactly("sts_error/InvalidIdentityToken");
    }

    @Test
    void serverErrorIsRetriedThenServiceUnavailable() {
        sts.reply(500, errorResponse("InternalFailure"));
        Duration timeout = Duration.ofMillis(500);

        S3Exception e = exchangeFails(timeout);

        assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE);
        assertThat(e.error().isRetryable()).as("carries Retry-After").isTrue();
        assertThat(sts.attempts()).hasSize(4);
        assertThat(clock.sleeps()).containsExactly(Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(200));
        assertRevealsNothing(e);
    }

    @Test
    void bare5xxWithoutAnStsDocumentIsRetriedThenServiceUnavailable() {
        sts.reply(502, "<html><body>Bad Gateway</body></html>");

        S3Exception e = exchangeFails(Duration.ofMillis(500));

        assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE);
        assertThat(sts.attempts().size()).isGreaterThan(1);
    }

    @Test
    void garbageWithStatus200IsServiceUnavailableAfterOneAttempt() {
        sts.reply(200, "this is not the document you are looking for");

        S3Exception e = exchangeFails(Duration.ofSeconds(5));

        assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE);
        assertThat(sts.attempts()).hasSize(1);
        assertRevealsNothing(e);
        assertThat(observed).containsExactly("garbage/");
    }

    @Test
    void oversizedReplyIsGarbage() {
        sts.reply(200, AWS_SUCCESS.replace("<Provider>", "<Padding>" + "x".repeat(100_000) + "</Padding><Provider>"));

        S3Exception e = exchangeFails(Duration.ofSeconds(5));

        assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE);
        assertThat(sts.attempts()).hasSize(1);
    }

    @Test
    void stsThatNeverAnswersIsServiceUnavailableWithinTheTimeout() {
        sts.hang();
        Duration timeout = Duration.ofMillis(500);

        S3Exception e = exchangeFails(timeout);

        // The attempt's HTTP timeout is the whole remaining deadline; a hang is not retried.
        assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE);
        assertThat(sts.attempts()).hasSize(1);
        assertThat(clock.sleeps()).isEmpty();
        assertRevealsNothing(e);
        assertThat(observed).containsExactly("deadline/");
    }

    @Test
    void unreachableStsIsRetriedThenServiceUnavailableWithinTheTimeout() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        endpoint = URI.create("http://127.0.0.1:" + closedPort + "/");
        Duration timeout = Duration.ofMillis(500);

        S3Exception e = exchangeFails(timeout);

        assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE);
        assertThat(observed).containsExactly("io/");
        assertThat(clock.sleeps()).as("retried with backoff until the deadline")
                .containsExactly(Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(200));
    }

    // ---- helpers ----

    private StsExchange exchange(Duration timeout) {
        OidcProvider oidc = new OidcProvider(ISSUER, signingKey, Optional.empty(), clock);
        return new StsExchange(http, endpoint, oidc, timeout, Duration.ofHours(1), () -> 0.0, clock,
                (outcome, code, duration) -> observed.add(outcome + "/" + code));
    }

    private S3Exception exchangeFails(Duration timeout) {
        try {
            Expiring<AwsCredentials> unexpected = exchange(timeout).exchange(KEY);
            throw new AssertionError("expected the exchange to fail, got " + unexpected);
        } catch (S3Exception e) {
            return e;
        }
    }

    /**
     * The client sees the generic message of its error code: not the STS message and not
     * the token. The token goes nowhere, not even the cause kept for the log.
     */
    private void assertRevealsNothing(S3Exception e) {
        assertThat(e.clientMessage()).isEqualTo(e.error().defaultMessage()).doesNotContain(STS_MESSAGE);
        List<String> tokens = sts.attempts().stream().map(a -> a.form().get("WebIdentityToken")).toList();
        assertThat(tokens).isNotEmpty();
        for (Throwable t = e; t != null; t = t.getCause()) {
            for (String token : tokens) {
                assertThat(String.valueOf(t.getMessage())).doesNotContain(token).doesNotContain(token.substring(0, 20));
            }
        }
    }

    private static String errorResponse(String code) {
        String type = code.equals("InternalFailure") || code.equals("ServiceUnavailable") ? "Receiver" : "Sender";
        return """
                <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
                  <Error>
                    <Type>%s</Type>
                    <Code>%s</Code>
                    <Message>%s</Message>
                  </Error>
                  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
                </ErrorResponse>
                """.formatted(type, code, STS_MESSAGE);
    }

    private static String successFor(String accessKeyId, String expiration) {
        return AWS_SUCCESS.replace("ASgeIAIOSFODNN7EXAMPLE", accessKeyId)
                .replace("2014-10-24T23:00:23Z", expiration)
                .replace("AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE", "FQoGZXIvYXdzEXAMPLE");
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    record Attempt(String path, String method, String contentType, Map<String, String> form) {
    }

    /**
     * Answers each POST with the next scripted reply (the last one repeats), or never answers;
     * records every request it receives.
     */
    static final class ScriptedSts extends Handler.Abstract {
        private record Reply(int status, String body) {
        }

        private final Deque<Reply> script = new ConcurrentLinkedDeque<>();
        private final List<Attempt> attempts = new CopyOnWriteArrayList<>();
        private final List<Callback> hung = new CopyOnWriteArrayList<>();
        private volatile boolean hang;

        void reply(int status, String body) {
            script.add(new Reply(status, body));
        }

        void reset() {
            script.clear();
            attempts.clear();
        }

        void hang() {
            hang = true;
        }

        List<Attempt> attempts() {
            return attempts;
        }

        List<String> paths() {
            return attempts.stream().map(Attempt::path).toList();
        }

        /** Answers, long after the client gave up, what was left hanging, so the server stops cleanly. */
        void releaseHungRequests() {
            hung.forEach(Callback::succeeded);
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception {
            String body = Content.Source.asString(request, StandardCharsets.UTF_8);
            attempts.add(new Attempt(request.getHttpURI().getPath(), request.getMethod(),
                    request.getHeaders().get(HttpHeader.CONTENT_TYPE), parseForm(body)));
            if (hang) {
                hung.add(callback);
                return true;
            }
            Reply reply = script.size() > 1 ? script.poll() : script.peek();
            if (reply == null) {
                fail("unscripted STS request");
            }
            response.setStatus(reply.status());
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/xml");
            response.write(true, ByteBuffer.wrap(bytes(reply.body())), callback);
            return true;
        }

        private static Map<String, String> parseForm(String body) {
            Map<String, String> form = new LinkedHashMap<>();
            if (body.isEmpty()) {
                return form;
            }
            for (String pair : body.split("&")) {
                int eq = pair.indexOf('=');
                String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                if (form.put(name, value) != null) {
                    fail("form field " + name + " sent twice");
                }
            }
            return form;
        }
    }
}
