package dev.sluice.it;

import static dev.sluice.it.S3ErrorAssert.assertS3Error;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.testing.TestIssuer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.Date;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.model.AssumeRoleWithWebIdentityResponse;
import software.amazon.awssdk.services.sts.model.Credentials;
import software.amazon.awssdk.services.sts.model.StsException;

/**
 * The client STS endpoint end to end: the AWS SDK's own STS client trades a token from an HTTP
 * test issuer for temporary credentials at {@code /.sts}, and the SDK's S3 client reads with
 * them; the session's scopes come from the role, filled from the token's claims.
 */
class InboundStsTest {

    @TempDir
    static Path dir;
    static TestIssuer issuer;
    static SluiceUnderTest sluice;
    static StsClient sts;

    @BeforeAll
    static void start() throws Exception {
        issuer = new TestIssuer(InstantSource.system());
        Files.createDirectories(dir.resolve("teams/acme"));
        Files.createDirectories(dir.resolve("teams/other"));
        Files.writeString(dir.resolve("teams/acme/report.csv"), "acme,1\n");
        Files.writeString(dir.resolve("teams/other/report.csv"), "other,2\n");
        String yaml = """
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0", body_timeout: 1s }
                registry:
                  products:
                    - { account: demo, product: teams, visibility: restricted, backend: { type: file, path: ./teams } }
                inbound:
                  sts:
                    session_key_env: SESSION_KEY
                    roles:
                      - id: team-reader
                        trusted_issuers: ["%s"]
                        audiences: [sluice]
                        subjects: ["team:*"]
                        max_session_duration: 2h
                        scopes: [ { product: demo/teams, prefixes: ["{team}/"], actions: [get_object, list_bucket] } ]
                """.formatted(issuer.issuer());
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        sluice = SluiceUnderTest.start(yaml, Map.of("SESSION_KEY", Base64.getEncoder().encodeToString(key)), dir);
        sts = StsClient.builder()
                .endpointOverride(URI.create(sluice.s3Endpoint() + "/.sts"))
                .region(Region.US_EAST_1)
                .credentialsProvider(AnonymousCredentialsProvider.create())
                .httpClient(UrlConnectionHttpClient.create())
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
                .build();
    }

    @AfterAll
    static void stop() throws Exception {
        try (TestIssuer i = issuer; SluiceUnderTest s = sluice; StsClient c = sts) {
            // closed in reverse order, each even if another fails
        }
    }

    private static String token(String subject, String team) {
        return issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().subject(subject).claim("team", team).build());
    }

    private static AssumeRoleWithWebIdentityResponse assume(String roleArn, String token) {
        return sts.assumeRoleWithWebIdentity(b -> b.roleArn(roleArn).roleSessionName("it").webIdentityToken(token));
    }

    private static S3Client s3(Credentials c) {
        return sluice.client(StaticCredentialsProvider.create(
                AwsSessionCredentials.create(c.accessKeyId(), c.secretAccessKey(), c.sessionToken())));
    }

    @Test
    void theSdkStsClientGetsCredentialsThatReadWhatTheRoleGrants() {
        AssumeRoleWithWebIdentityResponse r = assume("arn:aws:iam::123456789012:role/team-reader", token("team:acme", "acme"));
        Credentials c = r.credentials();

        assertThat(c.accessKeyId()).startsWith("ASIA");
        assertThat(c.expiration()).isBetween(Instant.now().plus(Duration.ofMinutes(59)), Instant.now().plus(Duration.ofMinutes(61)));
        assertThat(r.subjectFromWebIdentityToken()).isEqualTo("team:acme");
        assertThat(r.assumedRoleUser().arn()).contains("team-reader");
        S3Client client = s3(c);
        assertThat(client.getObject(b -> b.bucket("demo").key("teams/acme/report.csv"), ResponseTransformer.toBytes())
                .asUtf8String()).isEqualTo("acme,1\n");
        assertThat(client.listObjectsV2(b -> b.bucket("demo").prefix("teams/acme/")).contents()).hasSize(1);
        // The grant was filled from the token's team claim: another team's data stays closed.
        assertThatThrownBy(() -> client.getObject(b -> b.bucket("demo").key("teams/other/report.csv"), ResponseTransformer.toBytes()))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.awsErrorDetails().errorCode()).isEqualTo("AccessDenied"));
    }

    @Test
    void theRoleCanBeNamedByItsIdAndTheDurationIsClampedToTheRoleMaximum() {
        Credentials c = sts.assumeRoleWithWebIdentity(b -> b.roleArn("team-reader").roleSessionName("it")
                .webIdentityToken(token("team:acme", "acme")).durationSeconds(43200)).credentials();
        assertThat(c.expiration()).isBetween(Instant.now().plus(Duration.ofMinutes(119)), Instant.now().plus(Duration.ofMinutes(121)));
    }

    @Test
    void aSubjectOutsideTheRoleConditionIsAccessDenied() {
        assertThatThrownBy(() -> assume("team-reader", token("user:mallory", "acme")))
                .isInstanceOfSatisfying(StsException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(403);
                    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("AccessDenied");
                });
    }

    @Test
    void anExpiredTokenIsExpiredTokenException() {
        Instant past = Instant.now().minus(Duration.ofHours(1));
        String expired = issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().subject("team:acme")
                .issueTime(Date.from(past)).notBeforeTime(Date.from(past)).expirationTime(Date.from(past.plusSeconds(300))).build());
        assertThatThrownBy(() -> assume("team-reader", expired))
                .isInstanceOfSatisfying(StsException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(400);
                    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("ExpiredTokenException");
                });
    }

    @Test
    void aTokenFromAnotherAudienceIsInvalidIdentityToken() {
        String wrongAudience = issuer.mint(TestIssuer.DEFAULT_KID, issuer.claims().subject("team:acme").audience("someone-else").build());
        assertThatThrownBy(() -> assume("team-reader", wrongAudience))
                .isInstanceOfSatisfying(StsException.class, e -> assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InvalidIdentityToken"));
    }

    @Test
    void aTamperedSessionTokenIsInvalidTokenAndAnUnsignedCallerStillSeesNothing() {
        Credentials c = assume("team-reader", token("team:acme", "acme")).credentials();
        String token = c.sessionToken();
        char last = token.charAt(token.length() - 2);
        String tampered = token.substring(0, token.length() - 2) + (last == 'A' ? 'B' : 'A') + token.charAt(token.length() - 1);
        S3Client client = s3(Credentials.builder().accessKeyId(c.accessKeyId()).secretAccessKey(c.secretAccessKey())
                .sessionToken(tampered).build());

        assertThatThrownBy(() -> client.getObject(b -> b.bucket("demo").key("teams/acme/report.csv"), ResponseTransformer.toBytes()))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(403);
                    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InvalidToken");
                });
        assertS3Error(sluice.send("GET", "/demo/teams/acme/report.csv"), 404, "NoSuchBucket", "/demo/teams/acme/report.csv");
    }

    @Test
    void aFormPostAndAGetAreBothServedAndNeverMerged() {
        String token = token("team:acme", "acme");
        String form = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=team-reader&RoleSessionName=it&WebIdentityToken="
                + token;
        SluiceUnderTest.RawResponse post = sluice.send(sluice.s3Endpoint(), "POST", "/.sts?WebIdentityToken=ignored",
                "Content-Type", "application/x-www-form-urlencoded");
        // The raw client's POST body is a fixed placeholder, not a form: parameters from the query are not used.
        assertThat(post.status()).isEqualTo(400);
        assertThat(post.text()).contains("<ErrorResponse").doesNotContain(token);

        SluiceUnderTest.RawResponse get = sluice.send("GET", "/.sts?" + form);
        assertThat(get.status()).as(get.text()).isEqualTo(200);
        assertThat(get.text()).contains("<AssumeRoleWithWebIdentityResponse").contains("<SessionToken>");
        assertThat(get.header("Cache-Control")).hasValue("no-store");
    }

    @Test
    void anOversizedStsBodyIsRefusedUnread() throws Exception {
        byte[] big = new byte[70 * 1024];
        java.util.Arrays.fill(big, (byte) 'a');
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(URI.create(sluice.s3Endpoint() + "/.sts"))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(big)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(r.body()).contains("<ErrorResponse").contains("<Code>RequestEntityTooLarge</Code>");
    }

    /** The rest of a body too large to read stays in the connection, so the STS error says the connection closes. */
    @Test
    void anStsBodyRefusedWhileStillComingSaysTheConnectionCloses() throws Exception {
        URI endpoint = sluice.s3Endpoint();
        try (java.net.Socket socket = new java.net.Socket(endpoint.getHost(), endpoint.getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("POST /.sts HTTP/1.1\r\nHost: " + endpoint.getAuthority()
                    + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 2000000\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().write(new byte[64 * 1024]);
            socket.getOutputStream().flush();
            // The rest is never sent: the answer comes anyway, and the connection closes after it.
            SluiceUnderTest.RawResponse r = RawHttp.parse(socket.getInputStream().readAllBytes());

            assertThat(r.status()).isEqualTo(413);
            assertThat(r.text()).contains("<ErrorResponse").contains("<Code>RequestEntityTooLarge</Code>");
            assertThat(r.header("Connection")).hasValue("close");
        }
    }

    @Test
    void anotherMethodIsMethodNotAllowedWithTheAllowedOnes() {
        SluiceUnderTest.RawResponse r = sluice.send("DELETE", "/.sts");
        assertThat(r.status()).isEqualTo(405);
        assertThat(r.header("Allow")).hasValue("GET, POST");
        assertThat(r.text()).contains("<ErrorResponse").contains("MethodNotAllowed");
    }

    @Test
    void aClientThatStopsSendingItsBodyIsAnsweredRequestTimeoutWithinTheBodyTimeout() throws Exception {
        URI endpoint = sluice.s3Endpoint();
        try (java.net.Socket socket = new java.net.Socket(endpoint.getHost(), endpoint.getPort())) {
            socket.setSoTimeout(10_000);
            long started = System.nanoTime();
            socket.getOutputStream().write(("POST /.sts HTTP/1.1\r\nHost: " + endpoint.getAuthority()
                    + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nAction=Assume")
                    .getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            // ... and nothing more: sluice must not wait for the rest beyond server.body_timeout (1 s).
            SluiceUnderTest.RawResponse r = RawHttp.parse(socket.getInputStream().readAllBytes());

            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(4));
            assertThat(r.status()).isEqualTo(400);
            assertThat(r.text()).contains("<ErrorResponse").contains("<Code>RequestTimeout</Code>");
            assertThat(r.header("Connection")).hasValue("close");
        }
    }
}
