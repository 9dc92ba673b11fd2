package dev.sluice.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.federation.OidcProvider;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One GET against the control-plane API: bounded by {@code timeout} (connect, head and body
 * together), carrying {@code x-request-id} always and, for a caller with a subject,
 * {@code Authorization: Bearer} a 60 s JWT from sluice's OIDC provider ({@code aud} = the API
 * base URL, {@code sub} = the caller). Answers are JSON trees; every other outcome is a
 * {@link Failure} saying what kind of failure it is, so the registry can decide which may be
 * covered by a stale answer.
 */
public final class ControlPlaneApi {
    /** Lifetime of the JWT presented to the API: long enough for one call and its retries, short if leaked. */
    public static final Duration TOKEN_LIFETIME = Duration.ofSeconds(60);
    /** A control-plane document is small; a bigger body is a fault, not a document. */
    private static final int MAX_BODY_BYTES = 4 * 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What went wrong with a call. */
    public enum FailureKind {
        /** 404: the thing does not exist (or is not shown to this caller). */
        NOT_FOUND,
        /** 401 or 403: the API refuses this caller. */
        DENIED,
        /** 5xx, another unexpected status, timeout, refused connection, or a body that does not parse. */
        UNAVAILABLE
    }

    /** A failed call; stackless, since it may be replayed to many callers. The message is for logs. */
    public static final class Failure extends RuntimeException {
        private final FailureKind kind;

        public Failure(FailureKind kind, String detail, Throwable cause) {
            super(detail, cause, false, false);
            this.kind = kind;
        }

        public FailureKind kind() {
            return kind;
        }
    }

    private final HttpClient http;
    private final String baseUrl;
    private final Optional<OidcProvider> oidc;
    private final Duration timeout;

    public ControlPlaneApi(HttpClient http, String baseUrl, Optional<OidcProvider> oidc, Duration timeout) {
        this.http = http;
        this.baseUrl = baseUrl.replaceAll("/+$", "");
        this.oidc = oidc;
        this.timeout = timeout;
    }

    public String baseUrl() {
        return baseUrl;
    }

    /** {@code GET baseUrl + path} as {@code caller}; {@code path} starts with '/' and is already encoded. */
    public JsonNode get(String path, Optional<String> subject, String requestId) {
        Request request = http.newRequest(URI.create(baseUrl + path))
                .method("GET")
                .timeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .headers(h -> {
                    h.put("Accept", "application/json");
                    h.put("x-request-id", requestId);
                    // Without an OIDC provider sluice cannot say who the caller is; the API then
                    // answers as to an anonymous caller, which never shows more than it should.
                    if (subject.isPresent() && oidc.isPresent()) {
                        h.put("Authorization", "Bearer " + oidc.get().mint(subject.get(), baseUrl, TOKEN_LIFETIME));
                    }
                });
        ContentResponse response;
        try {
            var listener = new org.eclipse.jetty.client.CompletableResponseListener(request, MAX_BODY_BYTES);
            response = listener.send().get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure(FailureKind.UNAVAILABLE, "interrupted calling " + path, e);
        } catch (TimeoutException e) {
            request.abort(e);
            throw new Failure(FailureKind.UNAVAILABLE, "no answer within " + timeout + " for " + path, e);
        } catch (ExecutionException e) {
            // Jetty's client fails a 401 that carries no WWW-Authenticate challenge instead of returning it.
            if (e.getCause() instanceof org.eclipse.jetty.client.HttpResponseException r && r.getResponse() != null
                    && (r.getResponse().getStatus() == 401 || r.getResponse().getStatus() == 403)) {
                throw new Failure(FailureKind.DENIED, r.getResponse().getStatus() + " for " + path, null);
            }
            throw new Failure(FailureKind.UNAVAILABLE, "call failed for " + path + ": " + e.getCause(), e.getCause());
        }
        int status = response.getStatus();
        if (status == 404) {
            throw new Failure(FailureKind.NOT_FOUND, "404 for " + path, null);
        }
        if (status == 401 || status == 403) {
            throw new Failure(FailureKind.DENIED, status + " for " + path, null);
        }
        if (status != 200) {
            throw new Failure(FailureKind.UNAVAILABLE, "status " + status + " for " + path, null);
        }
        try {
            JsonNode tree = JSON.readTree(response.getContent());
            if (tree == null || tree.isMissingNode()) {
                throw new Failure(FailureKind.UNAVAILABLE, "empty body for " + path, null);
            }
            return tree;
        } catch (JsonProcessingException e) {
            throw new Failure(FailureKind.UNAVAILABLE, "body of " + path + " is not JSON", null);
        } catch (java.io.IOException e) {
            throw new Failure(FailureKind.UNAVAILABLE, "body of " + path + " cannot be read", e);
        }
    }
}
