package dev.sluice.federation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.backend.BearerToken;
import dev.sluice.backend.TokenGrant;
import dev.sluice.cache.Expiring;
import dev.sluice.observe.LogText;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import org.slf4j.Logger;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How the token exchanges read their providers' replies and what the client of sluice is shown
 * when one fails (docs/federation.md, "Azure Blob and GCS tokens"): one place, so Entra ID,
 * Google STS, IAM credentials and Google's OAuth endpoint are mapped alike.
 *
 * <table>
 *   <caption>Failure kinds and what the client sees</caption>
 *   <tr><th>kind</th><th>meaning</th><th>S3 error</th></tr>
 *   <tr><td>{@code refused}</td><td>the provider refused the identity</td><td>403 AccessDenied</td></tr>
 *   <tr><td>{@code provider_error}, not retryable</td><td>misconfiguration (scope, request, target, not found)</td>
 *       <td>502 BackendAuthenticationFailed</td></tr>
 *   <tr><td>{@code throttled}</td><td>429, Entra {@code temporarily_unavailable}: retried, then</td><td>503 SlowDown</td></tr>
 *   <tr><td>anything else</td><td>5xx retried out, I/O, deadline, garbage</td><td>503 ServiceUnavailable</td></tr>
 * </table>
 *
 * <p>The provider's message, codes and correlation ids go to the log; the token, the assertion
 * and any private key go nowhere.
 */
final class TokenReplies {
    static final ObjectMapper JSON = new ObjectMapper();
    /** A reply bigger than this is garbage: token replies are a few KiB. */
    static final int MAX_RESPONSE_BYTES = 64 * 1024;
    static final String REFUSED = "refused";
    static final String PROVIDER_ERROR = "provider_error";
    static final String THROTTLED = "throttled";
    static final String GARBAGE = "garbage";

    private TokenReplies() {
    }

    /** An OAuth 2.0 error reply ({@code error}, {@code error_description}, Entra's {@code error_codes}). */
    record OAuthError(int status, String error, String description, List<Long> codes) {
    }

    /** Decides, per provider, what kind of failure an OAuth error reply is, and whether it is retried. */
    @FunctionalInterface
    interface Classifier {
        ExchangeLoop.Failed<Expiring<BearerToken>> classify(OAuthError error, String requestId);
    }

    static Optional<JsonNode> json(byte[] body) {
        try {
            JsonNode node = JSON.readTree(body);
            return node != null && node.isObject() ? Optional.of(node) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Reads an OAuth 2.0 token reply ({@code access_token}, {@code expires_in}) or error reply,
     * deciding from the body, not only the status.
     */
    static ExchangeLoop.Outcome<Expiring<BearerToken>> oauth(int status, byte[] body, Instant now, Classifier classifier) {
        Optional<JsonNode> parsed = json(body);
        if (parsed.isEmpty()) {
            return garbage(status, "HTTP " + status + " with a body that is not a JSON object", "-");
        }
        JsonNode doc = parsed.get();
        String requestId = requestId(doc);
        if (doc.hasNonNull("error")) {
            List<Long> codes = new ArrayList<>();
            doc.path("error_codes").forEach(c -> codes.add(c.asLong()));
            JsonNode error = doc.get("error");
            // Google answers some failures (429 above all) in its API error shape, {"error": {"status": …, "message": …}}.
            String code = error.isObject() ? error.path("status").asText("") : error.asText();
            String description = error.isObject() ? error.path("message").asText("") : doc.path("error_description").asText("");
            return classifier.classify(new OAuthError(status, code, description, codes), requestId);
        }
        if (status == 200) {
            String token = doc.path("access_token").asText("");
            long expiresIn = seconds(doc.path("expires_in"));
            if (token.isBlank() || expiresIn <= 0) {
                return new ExchangeLoop.Failed<>(false, GARBAGE, "", "a token reply without a token or a lifetime", requestId);
            }
            return new ExchangeLoop.Got<>(new Expiring<>(new BearerToken(token), now.plusSeconds(expiresIn)), requestId);
        }
        return byStatus(status, "HTTP " + status + " without an error code", requestId);
    }

    /** A reply that says nothing useful: retried when the status says the provider may do better. */
    static <T> ExchangeLoop.Failed<T> garbage(int status, String message, String requestId) {
        return new ExchangeLoop.Failed<>(status >= 500 || status == 429, GARBAGE, "", message, requestId);
    }

    /** An error known only by its status. */
    static <T> ExchangeLoop.Failed<T> byStatus(int status, String message, String requestId) {
        if (status == 429) {
            return new ExchangeLoop.Failed<>(true, THROTTLED, "http_429", message, requestId);
        }
        return new ExchangeLoop.Failed<>(status >= 500, PROVIDER_ERROR, "http_" + status, message, requestId);
    }

    /** {@code expires_in} as a number, or a numeric string as Entra's v1 endpoint sends it; 0 when neither. */
    static long seconds(JsonNode node) {
        if (node.isIntegralNumber()) {
            return node.asLong();
        }
        if (node.isTextual() && node.asText().matches("[0-9]{1,9}")) {
            return Long.parseLong(node.asText());
        }
        return 0;
    }

    static Optional<Instant> instant(JsonNode node) {
        if (!node.isTextual()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.parse(node.asText()));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    /** Entra's correlation and trace ids, for finding the exchange in its sign-in logs. */
    private static String requestId(JsonNode doc) {
        String correlation = doc.path("correlation_id").asText("");
        String trace = doc.path("trace_id").asText("");
        if (correlation.isEmpty() && trace.isEmpty()) {
            return "-";
        }
        return "correlation_id=" + correlation + " trace_id=" + trace;
    }

    /**
     * What a token exchange does with its final outcome: logs it under {@code provider}, naming
     * the grant and {@code subject} (never the token), and returns the token or throws the S3
     * error the client sees.
     */
    static ExchangeLoop.Conclusion<Expiring<BearerToken>> conclusion(Logger log, String provider, TokenGrant grant, String subject) {
        return new ExchangeLoop.Conclusion<>() {
            @Override
            public Expiring<BearerToken> succeeded(ExchangeLoop.Got<Expiring<BearerToken>> got, int attempts, Duration took) {
                logSuccess(log, provider, grant, subject, attempts, took, got.requestId(), got.value().expiresAt());
                return got.value();
            }

            @Override
            public RuntimeException failed(ExchangeLoop.Failed<Expiring<BearerToken>> f, int attempts, Duration took, boolean outOfTime) {
                return failure(log, provider, grant, subject, f, attempts, took, outOfTime);
            }
        };
    }

    /** Logs a successful exchange (no token). */
    private static void logSuccess(Logger log, String provider, TokenGrant grant, String subject, int attempts, Duration took,
                                   String requestId, Instant expires) {
        log.info("token exchange provider={} grant=\"{}\" subject={} outcome=success attempts={} duration_ms={} request_id={} expires={}",
                provider, LogText.escape(grant.describe()), LogText.escape(subject), attempts, took.toMillis(),
                LogText.escape(requestId), expires);
    }

    /** Logs a failed exchange and returns what the client sees. */
    private static S3Exception failure(Logger log, String provider, TokenGrant grant, String subject, ExchangeLoop.Failed<?> f,
                                       int attempts, Duration took, boolean outOfTime) {
        log.warn("token exchange provider={} grant=\"{}\" subject={} outcome={} code={} message=\"{}\" attempts={} duration_ms={} "
                        + "request_id={}", provider, LogText.escape(grant.describe()), LogText.escape(subject), f.kind(),
                LogText.escape(f.code()), LogText.escape(f.message()), attempts, took.toMillis(), LogText.escape(f.requestId()));
        String detail = provider + " token exchange " + f.kind() + " " + f.code() + " for " + grant.describe() + " (" + f.requestId()
                + ")" + (outOfTime ? ", out of time after " + took.toMillis() + " ms" : "");
        if (f.kind().equals(REFUSED)) {
            return new S3Exception(S3Error.ACCESS_DENIED, S3Error.ACCESS_DENIED.defaultMessage(),
                    new S3Exception.DependencyFailure(detail, null));
        }
        if (f.kind().equals(PROVIDER_ERROR) && !f.retryable()) {
            return new S3Exception(S3Error.BACKEND_AUTHENTICATION_FAILED, S3Error.BACKEND_AUTHENTICATION_FAILED.defaultMessage(),
                    new S3Exception.DependencyFailure(detail, null));
        }
        if (f.kind().equals(THROTTLED)) {
            return new S3Exception(S3Error.SLOW_DOWN, S3Error.SLOW_DOWN.defaultMessage(), new S3Exception.DependencyFailure(detail, null));
        }
        return S3Exception.unavailable(detail, null);
    }
}
