package dev.sluice.federation;

import dev.sluice.cache.Expiring;
import dev.sluice.observe.LogText;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.s3.XmlReader;
import dev.sluice.sigv4.AwsCredentials;
import dev.sluice.time.Ticker;
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
 * token go nowhere. The deadline, retry and backoff are {@link ExchangeLoop}'s, shared with
 * the token exchanges of Azure Blob and GCS backends.
 */
public final class StsExchange {
    private static final Logger LOG = LoggerFactory.getLogger(StsExchange.class);
    private static final Duration TOKEN_LIFETIME = Duration.ofMinutes(5);
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
        ExchangeLoop loop = new ExchangeLoop(jitter, ticker, observer::exchanged, LOG,
                "sts exchange role=" + key.roleArn() + " subject=" + LogText.escape(key.subject()));
        return loop.run(timeout, deadline -> attempt(loop, key, deadline), new ExchangeLoop.Conclusion<>() {
            @Override
            public Expiring<AwsCredentials> succeeded(ExchangeLoop.Got<Expiring<AwsCredentials>> got, int attempts, Duration took) {
                LOG.info("sts exchange role={} subject={} outcome=success attempts={} duration_ms={} sts_request_id={} expires={}",
                        key.roleArn(), LogText.escape(key.subject()), attempts, took.toMillis(), got.requestId(),
                        got.value().expiresAt());
                return got.value();
            }

            @Override
            public RuntimeException failed(ExchangeLoop.Failed<Expiring<AwsCredentials>> f, int attempts, Duration took,
                                           boolean outOfTime) {
                return StsExchange.this.failed(key, new Failure(f.retryable(), f.kind(), f.code(), f.message(), f.requestId()),
                        attempts, took, outOfTime);
            }
        });
    }

    private ExchangeLoop.Outcome<Expiring<AwsCredentials>> attempt(ExchangeLoop loop, CredentialKey key, long deadlineNanos) {
        Fields form = new Fields();
        form.put("Action", "AssumeRoleWithWebIdentity");
        form.put("Version", "2011-06-15");
        form.put("RoleArn", key.roleArn());
        form.put("RoleSessionName", RoleSessionName.of(key.subject()));
        form.put("WebIdentityToken", oidc.mint(key.subject(), OidcProvider.STS_AUDIENCE, TOKEN_LIFETIME));
        form.put("DurationSeconds", Long.toString(sessionDuration.toSeconds()));
        Request request = http.newRequest(endpoint)
                .method(HttpMethod.POST)
                .body(new FormRequestContent(form))
                .headers(h -> h.put("Accept", "application/xml"));
        return loop.send(request, deadlineNanos, MAX_RESPONSE_BYTES, (status, answer) -> switch (parse(status, answer)) {
            case Success s -> new ExchangeLoop.Got<>(s.credentials(), s.requestId());
            case Failure f -> new ExchangeLoop.Failed<>(f.retryable(), f.kind(), f.code(), f.message(), f.requestId());
        });
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

    private S3Exception failed(CredentialKey key, Failure f, int attempts, Duration took, boolean outOfTime) {
        LOG.warn("sts exchange role={} subject={} outcome={} code={} message=\"{}\" attempts={} duration_ms={} sts_request_id={}",
                key.roleArn(), LogText.escape(key.subject()), f.kind(), LogText.escape(f.code()), LogText.escape(f.message()), attempts,
                took.toMillis(), LogText.escape(f.requestId()));
        String detail = "STS " + f.kind() + " " + f.code() + " for role " + key.roleArn() + " (request id " + f.requestId() + ")";
        if (f.code().equals("AccessDenied")) {
            return new S3Exception(S3Error.ACCESS_DENIED, S3Error.ACCESS_DENIED.defaultMessage(),
                    new S3Exception.DependencyFailure(detail, null));
        }
        if (f.kind().equals("sts_error") && !f.retryable()) {
            return new S3Exception(S3Error.BACKEND_AUTHENTICATION_FAILED, S3Error.BACKEND_AUTHENTICATION_FAILED.defaultMessage(),
                    new S3Exception.DependencyFailure(detail, null));
        }
        if (f.code().equals("Throttling")) {
            return new S3Exception(S3Error.SLOW_DOWN, S3Error.SLOW_DOWN.defaultMessage(), new S3Exception.DependencyFailure(detail, null));
        }
        return S3Exception.unavailable(detail + (outOfTime ? ", out of time after " + took.toMillis() + " ms" : ""), null);
    }

    sealed interface Result permits Success, Failure {
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
