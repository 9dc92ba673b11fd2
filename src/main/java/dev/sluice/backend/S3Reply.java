package dev.sluice.backend;

import dev.sluice.s3.S3Exception;
import org.eclipse.jetty.client.BufferingResponseListener;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.Result;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * A backend's whole answer to a write or a multipart call, its body buffered up to a bound
 * (these answers are small XML documents).
 *
 * <p>The answer is kept even when the request itself failed: a server may answer an upload
 * before reading all of its body (an error it can tell from the head) and close the
 * connection, which fails the request's body; the answer then says why, not the broken pipe.
 *
 * @param response the response, when one arrived
 * @param body     its body, up to the bound
 * @param failure  why the exchange failed, when it did
 */
record S3Reply(Optional<Response> response, byte[] body, Optional<Throwable> failure) {

    /** Sends {@code request} and completes with its answer; a body over {@code maxBytes} fails the exchange. */
    static CompletableFuture<S3Reply> send(Request request, int maxBytes) {
        CompletableFuture<S3Reply> reply = new CompletableFuture<>();
        request.send(new BufferingResponseListener(maxBytes) {
            @Override
            public void onComplete(Result result) {
                Response response = result.getResponse();
                boolean answered = response != null && response.getStatus() > 0;
                reply.complete(new S3Reply(answered ? Optional.of(response) : Optional.empty(),
                        answered ? getContent() : new byte[0], Optional.ofNullable(result.getFailure())));
            }
        });
        return reply;
    }

    /**
     * The answer within {@code limit}, or 503 (the request aborted) when none arrived in time or
     * the exchange failed before a response head came back.
     */
    static S3Reply await(CompletableFuture<S3Reply> pending, Request request, Duration limit, String what) {
        S3Reply reply;
        try {
            reply = BackendWaits.await(pending, limit);
        } catch (TimeoutException e) {
            request.abort(e);
            throw S3Exception.unavailable(what + ": no answer within " + limit, e);
        } catch (ExecutionException e) {
            throw S3Exception.unavailable(what + " failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            request.abort(e);
            throw S3Exception.unavailable("interrupted waiting for " + what, e);
        }
        if (reply.response().isEmpty()) {
            throw S3Exception.unavailable(what + " failed", reply.failure().orElse(null));
        }
        return reply;
    }

    /**
     * The body without the whitespace S3 may send before it: CopyObject and
     * CompleteMultipartUpload answer 200 at once and send spaces while the work goes on, then
     * the document, which an XML parser refuses after whitespace when it opens with a
     * declaration.
     */
    byte[] document() {
        int start = 0;
        while (start < body.length && (body[start] == ' ' || body[start] == '\t' || body[start] == '\r' || body[start] == '\n')) {
            start++;
        }
        return start == 0 ? body : java.util.Arrays.copyOfRange(body, start, body.length);
    }

    int status() {
        return response.map(Response::getStatus).orElse(0);
    }

    Optional<String> header(String name) {
        return response.map(r -> r.getHeaders().get(name));
    }
}
