package dev.sluice.backend;

import dev.sluice.s3.S3Exception;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.io.Content;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The head of a store's answer to a request whose body streams, and that body as a
 * demand-driven source: how the s3, azure and gcs backends send a read and wait for its
 * answer, each within the backend's {@code timeout}.
 *
 * <p>A failure to get the head is a 503 whose log detail names the backend, the request and
 * what went wrong on the wire ({@link #kind}), never the exception itself: a Jetty exception's
 * message or cause may carry the request's URI, and an Azure SAS token lives in its query.
 */
record ResponseHead(Response response, Content.Source body) {
    /** The most of an error answer's body read for the log. */
    static final int MAX_ERROR_BYTES = 64 * 1024;

    /**
     * Sends {@code request} and waits at most {@code timeout} for its response head; a request
     * not answered in time is aborted. {@code describe} names the backend and {@code what} the
     * request in the log; {@code secret} is what the request's URI carries that no log may show.
     */
    static ResponseHead await(Request request, Duration timeout, String describe, String what, Optional<String> secret) {
        try {
            return BackendWaits.await(send(request), timeout);
        } catch (TimeoutException e) {
            request.abort(e);
            throw S3Exception.unavailable(describe + ": no response within " + timeout + " for " + what, null);
        } catch (ExecutionException e) {
            throw S3Exception.unavailable(describe + ": " + what + " failed: " + kind(e.getCause(), secret), null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            request.abort(e);
            throw S3Exception.unavailable("interrupted waiting for " + describe, null);
        }
    }

    /**
     * Sends {@code request}; the future completes with its response head, on the thread that
     * read it, or with the exchange's failure. No deadline: the caller sets one.
     */
    static CompletableFuture<ResponseHead> send(Request request) {
        CompletableFuture<ResponseHead> head = new CompletableFuture<>();
        request.onResponseContentSource((response, source) -> head.complete(new ResponseHead(response, source)));
        request.send(result -> {
            if (result.isFailed()) {
                head.completeExceptionally(result.getFailure());
            } else {
                head.complete(new ResponseHead(result.getResponse(), Content.Source.from(new ByteBuffer[0])));
            }
        });
        return head;
    }

    /**
     * What {@link #await} throws for an exchange that failed with {@code failure} or passed its
     * deadline ({@link BackendWaits#within}), for a caller that did not wait: the same 503.
     */
    static S3Exception unavailable(Throwable failure, Duration timeout, String describe, String what, Optional<String> secret) {
        Throwable cause = failure;
        while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof S3Exception s3) {
            return s3;
        }
        if (BackendWaits.expired(cause)) {
            return S3Exception.unavailable(describe + ": no response within " + timeout + " for " + what, null);
        }
        return S3Exception.unavailable(describe + ": " + what + " failed: " + kind(cause, secret), null);
    }

    /**
     * The body of an error answer, at most 64 KiB of it, read within {@code timeout} for the log;
     * empty when it cannot be had in time.
     */
    byte[] errorBody(Duration timeout) {
        try {
            return Content.Source.asByteArrayAsync(body, MAX_ERROR_BYTES).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new byte[0];
        } catch (ExecutionException | TimeoutException e) {
            return new byte[0];
        }
    }

    /**
     * What went wrong on the wire, for the log: the exception's type and message, with
     * {@code secret} and any query cut out of the message, never the exception itself.
     */
    static String kind(Throwable t, Optional<String> secret) {
        String message = t == null || t.getMessage() == null ? "" : t.getMessage();
        if (secret.isPresent() && !secret.get().isEmpty()) {
            message = message.replace(secret.get(), "<secret>");
        }
        int q = message.indexOf('?');
        if (q >= 0) {
            message = message.substring(0, q) + "?<query>";
        }
        return (t == null ? "unknown" : t.getClass().getSimpleName()) + (message.isEmpty() ? "" : " (" + message + ")");
    }
}
