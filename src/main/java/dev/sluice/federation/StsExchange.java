package dev.sluice.federation;

import dev.sluice.cache.Expiring;
import dev.sluice.observe.LogText;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.s3.XmlReader;
import dev.sluice.sigv4.AwsCredentials;
import dev.sluice.time.Ticker;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.FormRequestContent;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.DoubleSupplier;

/**
 * {@code AssumeRoleWithWebIdentity} against AWS STS (or any endpoint speaking its query
 * protocol): mint a JWT for the subject, POST the form, read the credentials.
 *
 * <p>One overall deadline covers connecting, every retry and reading. Only failures that
 * another attempt may cure are retried ({@code Throttling}, {@code IDPCommunicationError},
 * 5xx, I/O), with jittered exponential backoff, and never past the deadline. The outcome is
 * decided from the body, not only the status: STS has answered errors with odd statuses.
 *
 * <p>What the client of sluice sees: {@code AccessDenied} → 403 {@code AccessDenied}; a
 * retryable failure that outlasted the deadline, a deadline, I/O or a reply that does not
 * parse → 503 ({@code SlowDown} for throttling, else {@code ServiceUnavailable}) with
 * {@code Retry-After}; any other STS code → 502 {@code BackendAuthenticationFailed}. The STS
 * message and request id go to the log, never to the client. The JWT, secret and session
 * token go nowhere.
 */
public final class StsExchange {
    private static final Logger LOG = LoggerFactory.getLogger(StsExchange.class);
    private static final Duration TOKEN_LIFETIME = Duration.ofMinutes(5);
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(1);
    private static final int MAX_RESPONSE_BYTES = 64 * 1024;

    /** What happened, for metrics: outcome and STS error code ("" when none). */
    public interface Observer {
        Observer NONE = (outcome, code, duration) -> { };

        void exchanged(String outcome, String code, Duration duration);
    }

    private final HttpClient http;
    private final URI endpoint;
    private final OidcProvider oidc;
    private final Duration timeout;
    private final Duration sessionDuration;
    private final DoubleSupplier jitter;
    private final Ticker ticker;
    private final Observer observer;

    public StsExchange(HttpClient http, URI endpoint, OidcProvider oidc, Duration timeout, Duration sessionDuration,
                       DoubleSupplier jitter, Ticker ticker, Observer observer) {
        this.http = http;
        this.endpoint = endpoint;
        this.oidc = oidc;
        this.timeout = timeout;
        this.sessionDuration = sessionDuration;
        this.jitter = jitter;
        this.ticker = ticker;
        this.observer = observer;
    }

    public Duration timeout() {
        return timeout;
    }

    /** Exchanges a fresh JWT for {@code key.subject()} for temporary credentials of {@code key.roleArn()}. */
    public Expiring<AwsCredentials> exchange(CredentialKey key) {
        long started = ticker.nanoTime();
        long deadline = started + timeout.toNanos();
        Duration backoff = FIRST_BACKOFF;
        int attempt = 0;
        Failure last = null;
        while (true) {
            attempt++;
            if (ticker.remainingNanos(deadline) == 0) {
                return fail(key, last != null ? last : Failure.deadline(), attempt - 1, started, true);
            }
            Result result = attempt(key, deadline);
            if (result instanceof Success s) {
                Duration took = ticker.since(started);
                observer.exchanged("success", "", took);
                LOG.info("sts exchange role={} subject={} outcome=success attempts={} duration_ms={} sts_request_id={} expires={}",
                        key.roleArn(), LogText.escape(key.subject()), attempt, took.toMillis(), s.requestId(), s.credentials().expiresAt());
                return s.credentials();
            }
            last = (Failure) result;
            if (!last.retryable()) {
                return fail(key, last, attempt, started, false);
            }
            Duration sleep = Duration.ofNanos((long) (backoff.toNanos() * (0.5 + jitter.getAsDouble())));
            if (sleep.toNanos() >= ticker.remainingNanos(deadline)) {
                return fail(key, last, attempt, started, true);
            }
            LOG.debug("sts exchange role={} subject={} attempt {} failed ({} {}), retrying", key.roleArn(),
                    LogText.escape(key.subject()), attempt, LogText.escape(last.code()), LogText.escape(last.message()));
            try {
                ticker.sleep(sleep);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return fail(key, last, attempt, started, true);
            }
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        }
    }

    private Result attempt(CredentialKey key, long deadlineNanos) {
        Fields form = new Fields();
        form.put("Action", "AssumeRoleWithWebIdentity");
        form.put("Version", "2011-06-15");
        form.put("RoleArn", key.roleArn());
        form.put("RoleSessionName", RoleSessionName.of(key.subject()));
        form.put("WebIdentityToken", oidc.mint(key.subject(), OidcProvider.STS_AUDIENCE, TOKEN_LIFETIME));
        form.put("DurationSeconds", Long.toString(sessionDuration.toSeconds()));
        long remainingNanos = ticker.remainingNanos(deadlineNanos);
        if (remainingNanos == 0) {
            return Failure.deadline();
        }
        Request request = http.newRequest(endpoint)
                .method(HttpMethod.POST)
                .body(new FormRequestContent(form))
                .headers(h -> h.put("Accept", "application/xml"))
                .timeout(Math.max(1, TimeUnit.NANOSECONDS.toMillis(remainingNanos)), TimeUnit.MILLISECONDS);
        ContentResponse response;
        try {
            response = request.send();
        } catch (TimeoutException e) {
            return Failure.deadline();
        } catch (ExecutionException e) {
            return new Failure(true, "io", "", String.valueOf(e.getCause()), "-");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Failure.deadline();
        }
        byte[] body = response.getContent();
        int status = response.getStatus();
        if (body.length > MAX_RESPONSE_BYTES) {
            return new Failure(status >= 500, "garbage", "", "response of " + body.length + " bytes", "-");
        }
        return parse(status, body);
    }

    /** Decides from the body: an ErrorResponse is an error whatever the status; credentials are success only with 200. */
    static Result parse(int status, byte[] body) {
        Optional<Document> doc = XmlReader.parse(body);
        if (doc.isEmpty()) {
            return new Failure(status >= 500, "garbage", "", "HTTP " + status + " with a body that is not XML", "-");
        }
        Element root = doc.get().getDocumentElement();
        String requestId = XmlReader.text(root, "RequestId").or(() -> XmlReader.text(root, "ResponseMetadata", "RequestId")).orElse("-");
        if ("ErrorResponse".equals(root.getLocalName())) {
            String code = XmlReader.text(root, "Error", "Code").orElse("");
            String message = XmlReader.text(root, "Error", "Message").orElse("");
            boolean retryable = code.equals("Throttling") || code.equals("IDPCommunicationError") || status >= 500;
            return new Failure(retryable, "sts_error", code, message, requestId);
        }
        if ("AssumeRoleWithWebIdentityResponse".equals(root.getLocalName()) && status == 200) {
            Optional<String> id = XmlReader.text(root, "AssumeRoleWithWebIdentityResult", "Credentials", "AccessKeyId");
            Optional<String> secret = XmlReader.text(root, "AssumeRoleWithWebIdentityResult", "Credentials", "SecretAccessKey");
            Optional<String> token = XmlReader.text(root, "AssumeRoleWithWebIdentityResult", "Credentials", "SessionToken");
            Optional<String> expiration = XmlReader.text(root, "AssumeRoleWithWebIdentityResult", "Credentials", "Expiration");
            if (id.isPresent() && secret.isPresent() && token.isPresent() && expiration.isPresent()) {
                try {
                    Instant expires = Instant.parse(expiration.get().trim());
                    AwsCredentials creds = AwsCredentials.of(id.get().trim(), secret.get().trim(), token.get().trim());
                    return new Success(new Expiring<>(creds, expires), requestId);
                } catch (DateTimeParseException | IllegalArgumentException e) {
                    return new Failure(false, "garbage", "", "credentials that do not parse", requestId);
                }
            }
            return new Failure(false, "garbage", "", "a response without complete credentials", requestId);
        }
        return new Failure(status >= 500, "garbage", "", "HTTP " + status + " with an unexpected document <"
                + root.getLocalName() + ">", requestId);
    }

    private Expiring<AwsCredentials> fail(CredentialKey key, Failure f, int attempts, long started, boolean outOfTime) {
        Duration took = ticker.since(started);
        observer.exchanged(f.kind(), f.code(), took);
        LOG.warn("sts exchange role={} subject={} outcome={} code={} message=\"{}\" attempts={} duration_ms={} sts_request_id={}",
                key.roleArn(), LogText.escape(key.subject()), f.kind(), LogText.escape(f.code()), LogText.escape(f.message()), attempts,
                took.toMillis(), LogText.escape(f.requestId()));
        String detail = "STS " + f.kind() + " " + f.code() + " for role " + key.roleArn() + " (request id " + f.requestId() + ")";
        if (f.code().equals("AccessDenied")) {
            throw new S3Exception(S3Error.ACCESS_DENIED, S3Error.ACCESS_DENIED.defaultMessage(),
                    new S3Exception.DependencyFailure(detail, null));
        }
        if (f.kind().equals("sts_error") && !f.retryable()) {
            throw new S3Exception(S3Error.BACKEND_AUTHENTICATION_FAILED, S3Error.BACKEND_AUTHENTICATION_FAILED.defaultMessage(),
                    new S3Exception.DependencyFailure(detail, null));
        }
        if (f.code().equals("Throttling")) {
            throw new S3Exception(S3Error.SLOW_DOWN, S3Error.SLOW_DOWN.defaultMessage(), new S3Exception.DependencyFailure(detail, null));
        }
        throw S3Exception.unavailable(detail + (outOfTime ? ", out of time after " + took.toMillis() + " ms" : ""), null);
    }

    sealed interface Result {
    }

    record Success(Expiring<AwsCredentials> credentials, String requestId) implements Result {
    }

    /** @param kind {@code sts_error}, {@code io}, {@code deadline} or {@code garbage} */
    record Failure(boolean retryable, String kind, String code, String message, String requestId) implements Result {
        static Failure deadline() {
            return new Failure(false, "deadline", "", "no answer within the deadline", "-");
        }
    }
}
