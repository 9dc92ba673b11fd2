package dev.sluice.it;

import dev.sluice.federation.CredentialKey;
import dev.sluice.federation.OidcProvider;
import dev.sluice.federation.SigningKey;
import dev.sluice.federation.StsExchange;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.testing.S3ProxyExtension;
import dev.sluice.testing.TestKeys;
import dev.sluice.testing.TestSts.Fault;
import dev.sluice.time.Ticker;
import org.eclipse.jetty.client.HttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.sluice.it.FederatedSluice.GREETING;
import static dev.sluice.it.FederatedSluice.ROLE;
import static dev.sluice.it.FederatedSluice.path;
import static dev.sluice.it.FederatedSluice.subject;
import static dev.sluice.it.S3ErrorAssert.assertS3Error;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What a client sees when the exchange fails (docs/federation.md, docs/behaviour.md "Errors"): each STS failure becomes its
 * S3 error, as a parseable XML document without the STS message, the JWT or the session
 * token, and within the exchange deadline whatever STS does, hanging included.
 *
 * <p>Each case reads a product of its own (its own subject), so the failure backoff one case
 * starts cannot answer another case's request.
 */
class FederatedFailureTest {
    @RegisterExtension
    static final S3ProxyExtension S3PROXY = new S3ProxyExtension();

    static final Duration STS_TIMEOUT = Duration.ofSeconds(1);
    /** How long past the exchange deadline a failing request may take. */
    static final Duration SLACK = Duration.ofMillis(1500);
    static final String BACKOFF = "backoff";
    static final String ON_TIME = "on-time";
    static final String WARM = "warm";
    static final String GARBLED = "garbled";
    static final String SHORT_LIVED = "short-lived";
    static final String HANG_BURST = "hang-burst";
    static final String RETRIED = "retried";

    /** Text of the STS's answers (messages, codes) and of credentials that must never reach a client. */
    static final List<String> NEVER_IN_A_RESPONSE = List.of("Rate exceeded", "Injected", "Not authorized",
            "sts:AssumeRoleWithWebIdentity", "upstream said", "InternalFailure", "Throttling", "IDPCommunicationError",
            "InvalidIdentityToken", "ExpiredToken", "arn:aws:iam", FederatedSluice.SUBJECT_PREFIX, "eyJ", "FwoGZXIvYXdzE",
            "127.0.0.1");

    /** Each STS failure and what the client must be answered. */
    enum StsFailure {
        ACCESS_DENIED(Fault.ACCESS_DENIED, 403, "AccessDenied"),
        INVALID_IDENTITY_TOKEN(Fault.INVALID_IDENTITY_TOKEN, 502, "BackendAuthenticationFailed"),
        THROTTLING(Fault.THROTTLING, 503, "SlowDown"),
        IDP_COMMUNICATION_ERROR(Fault.IDP_COMMUNICATION_ERROR, 503, "ServiceUnavailable"),
        INTERNAL_ERROR(Fault.INTERNAL_ERROR, 503, "ServiceUnavailable"),
        GARBAGE(Fault.GARBAGE, 503, "ServiceUnavailable"),
        CLOSE_CONNECTION(Fault.CLOSE_CONNECTION, 503, "ServiceUnavailable"),
        HANG(Fault.HANG, 503, "ServiceUnavailable");

        final Fault fault;
        final int status;
        final String code;

        StsFailure(Fault fault, int status, String code) {
            this.fault = fault;
            this.status = status;
            this.code = code;
        }

        String product() {
            return "fault-" + name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    @TempDir
    static Path base;

    static FederatedSluice federation;

    @BeforeAll
    static void start() throws Exception {
        FederatedSluice.createBucket(S3PROXY.get().client());
        FederatedSluice.Builder builder = FederatedSluice.builder(S3PROXY.get()).stsTimeout(STS_TIMEOUT);
        for (StsFailure f : StsFailure.values()) {
            builder.product(f.product());
        }
        builder.product(BACKOFF).product(WARM).product(GARBLED).product(SHORT_LIVED).product(HANG_BURST).product(RETRIED);
        federation = builder.start(base);
        // One exchange end to end first, so that no case's 1 s deadline is spent on the test JVM's
        // one-time costs (class loading, the test STS fetching sluice's JWKS): on a loaded
        // machine those alone took over a second. What is under test is the mapping.
        FederatedSluice.putProduct(S3PROXY.get().client(), WARM);
        FederatedSluice.putProduct(S3PROXY.get().client(), RETRIED);
        assertThat(federation.sluice.send("GET", path(WARM, GREETING)).status()).isEqualTo(200);
    }

    @AfterAll
    static void stop() throws Exception {
        if (federation != null) {
            federation.close();
        }
    }

    @AfterEach
    void stsAnswersNormallyAgain() {
        federation.sts.fault(Fault.NONE);
        federation.sts.credentialLifetime(null);
    }

    @ParameterizedTest
    @EnumSource(StsFailure.class)
    void stsFailureBecomesItsS3ErrorWithinTheDeadline(StsFailure failure) {
        String object = path(failure.product(), GREETING);
        int stsRequests = federation.sts.requests();
        federation.sts.fault(failure.fault);

        long started = System.nanoTime();
        SluiceUnderTest.RawResponse r = federation.sluice.send("GET", object);
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertThat(took).as("time to answer").isLessThan(STS_TIMEOUT.plus(SLACK));
        assertS3Error(r, failure.status, failure.code, object);
        if (failure.status == 503) {
            assertThat(r.header("Retry-After")).hasValueSatisfying(v -> assertThat(Integer.parseInt(v)).isPositive());
        }
        assertThat(r.text()).doesNotContain(NEVER_IN_A_RESPONSE);
        assertThat(federation.sts.requests()).as("requests that reached STS").isGreaterThan(stsRequests);
        assertThat(federation.exchanges(failure.product())).isZero();
    }

    @Test
    void credentialsThatExpireWithinMinServeAreAnUnavailableDependencyNotABug() {
        // STS (or a skewed clock) hands out credentials with less than min_serve (5 s) left: unusable.
        federation.sts.credentialLifetime(Duration.ofSeconds(1));
        String object = path(SHORT_LIVED, GREETING);

        SluiceUnderTest.RawResponse r = federation.sluice.send("GET", object);

        assertS3Error(r, 503, "ServiceUnavailable", object);
        assertThat(r.header("Retry-After")).isPresent();
        assertThat(federation.exchanges(SHORT_LIVED)).isEqualTo(1);
    }

    @Test
    void concurrentColdReadsWhileStsHangsAllFailWithinTheDeadlineOnOneAttempt() throws Exception {
        federation.sts.fault(Fault.HANG);
        int stsRequests = federation.sts.requests();
        String object = path(HANG_BURST, GREETING);
        int callers = 50;
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Duration>> tooks = new ArrayList<>();
        try (ExecutorService threads = Executors.newFixedThreadPool(callers)) {
            for (int i = 0; i < callers; i++) {
                tooks.add(threads.submit(() -> {
                    go.await();
                    long started = System.nanoTime();
                    SluiceUnderTest.RawResponse r = federation.sluice.send("GET", object);
                    Duration took = Duration.ofNanos(System.nanoTime() - started);
                    assertS3Error(r, 503, "ServiceUnavailable", object);
                    assertThat(r.header("Retry-After")).isPresent();
                    return took;
                }));
            }
            go.countDown();
            for (Future<Duration> took : tooks) {
                assertThat(took.get()).as("time to answer").isLessThan(STS_TIMEOUT.plus(SLACK));
            }
        }
        // The callers shared one exchange: STS was asked once, not fifty times.
        assertThat(federation.sts.requests() - stsRequests).isEqualTo(1);
    }

    @Test
    void transientThrottlingIsRetriedWithinTheDeadline() {
        federation.sts.fault(Fault.THROTTLING, 2);
        int refused = federation.sts.refusals().size();

        SluiceUnderTest.RawResponse r = federation.sluice.send("GET", path(RETRIED, GREETING));

        assertThat(r.status()).as("status of %s", r.text()).isEqualTo(200);
        assertThat(federation.sts.refusals().subList(refused, federation.sts.refusals().size()))
                .containsExactly("Throttling", "Throttling");
        assertThat(federation.exchanges(RETRIED)).isEqualTo(1);
    }

    @Test
    void failureIsRepeatedDuringTheBackoffWithoutAskingStsAgain() {
        federation.sts.fault(Fault.ACCESS_DENIED);
        String object = path(BACKOFF, GREETING);
        assertS3Error(federation.sluice.send("GET", object), 403, "AccessDenied", object);
        int stsRequests = federation.sts.requests();
        federation.sts.fault(Fault.NONE);

        // Well inside failure_backoff (1 s at least): the same answer, and STS is not asked.
        assertS3Error(federation.sluice.send("GET", object), 403, "AccessDenied", object);
        assertThat(federation.sts.requests()).isEqualTo(stsRequests);
    }

    @Test
    void unparseableStsReplyIsReportedInTheLogNotPrintedRawToStandardError() {
        String object = path(GARBLED, GREETING);
        federation.sts.fault(Fault.GARBAGE);
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        PrintStream original = System.err;
        System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
        SluiceUnderTest.RawResponse r;
        try {
            r = federation.sluice.send("GET", object);
        } finally {
            System.setErr(original);
        }

        assertS3Error(r, 503, "ServiceUnavailable", object);
        // The log line (the console appender writes to System.err) shows the capture worked.
        assertThat(stderr.toString(StandardCharsets.UTF_8)).contains("outcome=garbage").doesNotContain("[Fatal Error]");
    }

    @Test
    void expiredTokenIsRefusedByStsAndSurfacesAsBackendAuthenticationFailed() throws Exception {
        String issuer = federation.sluice.s3Endpoint().toString();
        // The key sluice signs with, so the STS finds it in sluice's JWKS: only the time is wrong.
        SigningKey key = TestKeys.load("test-rsa-a", "key-a");
        CredentialKey credential = new CredentialKey(ROLE, subject(ON_TIME));
        HttpClient http = new HttpClient();
        http.start();
        try {
            InstantSource tenMinutesAgo = () -> Instant.now().minus(Duration.ofMinutes(10));
            StsExchange late = exchange(http, new OidcProvider(issuer, key, Optional.empty(), tenMinutesAgo));
            assertThatThrownBy(() -> late.exchange(credential)).isInstanceOfSatisfying(S3Exception.class, e -> {
                assertThat(e.error()).isEqualTo(S3Error.BACKEND_AUTHENTICATION_FAILED);
                assertThat(e.error().status()).isEqualTo(502);
                assertThat(e.clientMessage()).doesNotContain(NEVER_IN_A_RESPONSE);
            });
            List<String> refusals = federation.sts.refusals();
            assertThat(refusals).isNotEmpty();
            assertThat(refusals.get(refusals.size() - 1)).isEqualTo("ExpiredTokenException");

            // The same exchange with the right time succeeds: the clock was the only fault.
            StsExchange onTime = exchange(http, new OidcProvider(issuer, key, Optional.empty(), InstantSource.system()));
            assertThat(onTime.exchange(credential).value().sessionToken()).isPresent();
        } finally {
            http.stop();
        }
    }

    @Test
    void tokenForTheWrongAudienceIsRefusedAndSurfacesAs502() throws Exception {
        // IAM's OIDC provider registered with another audience: every token sluice mints is wrong.
        try (FederatedSluice elsewhere = FederatedSluice.builder(S3PROXY.get()).stsTimeout(STS_TIMEOUT)
                .stsAudience("https://audience.example.org").product("wrong-aud").start(base)) {
            String object = path("wrong-aud", GREETING);
            long started = System.nanoTime();
            SluiceUnderTest.RawResponse r = elsewhere.sluice.send("GET", object);
            Duration took = Duration.ofNanos(System.nanoTime() - started);

            assertS3Error(r, 502, "BackendAuthenticationFailed", object);
            assertThat(r.text()).doesNotContain(NEVER_IN_A_RESPONSE).doesNotContain("audience.example.org");
            assertThat(took).isLessThan(STS_TIMEOUT.plus(SLACK));
            assertThat(elsewhere.sts.refusals()).containsExactly("InvalidIdentityToken");
            assertThat(elsewhere.exchanges("wrong-aud")).isZero();
        }
    }

    private static StsExchange exchange(HttpClient http, OidcProvider oidc) {
        return new StsExchange(http, federation.sts.endpoint(), oidc, STS_TIMEOUT, Duration.ofMinutes(15), () -> 0.5, Ticker.SYSTEM,
                StsExchange.Observer.NONE);
    }

    static {
        // The cases cover every fault the test STS can inject but DELAY (not a failure) and NONE.
        assert Arrays.stream(StsFailure.values()).map(f -> f.fault).distinct().count() == Fault.values().length - 2;
    }
}
