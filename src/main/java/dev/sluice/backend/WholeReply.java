package dev.sluice.backend;

import dev.sluice.s3.S3Exception;
import org.eclipse.jetty.client.CompletableResponseListener;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.Request;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A store's answer read whole, bounded in size and in time: how the s3, azure and gcs backends
 * read a listing page or a metadata document. {@code Request.send()} would buffer at most 2 MiB
 * and fail a larger (legal) listing page as an I/O error, so the bound is the caller's.
 *
 * <p>A failure is a 503 whose log detail names the backend, the request and what went wrong
 * ({@link ResponseHead#kind}), never the exception itself, which may carry the request's URI.
 */
final class WholeReply {
    private WholeReply() {
    }

    /**
     * Sends {@code request} with {@code remainingMillis} as its timeout and reads its answer, at
     * most {@code maxBytes} of body. {@code timeout} is the backend's, for the log; {@code describe}
     * names the backend and {@code what} the request; {@code secret} is what the request's URI
     * carries that no log may show.
     */
    static ContentResponse await(Request request, int maxBytes, long remainingMillis, Duration timeout, String describe, String what,
                                 Optional<String> secret) {
        request.timeout(remainingMillis, TimeUnit.MILLISECONDS);
        try {
            // The request's own timeout ends the exchange; the wait has a deadline of its own all the same.
            return BackendWaits.await(new CompletableResponseListener(request, maxBytes).send(), Duration.ofMillis(remainingMillis + 1_000));
        } catch (TimeoutException e) {
            request.abort(e);
            throw S3Exception.unavailable(describe + ": " + what + " got no response within " + timeout, null);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TimeoutException) {
                throw S3Exception.unavailable(describe + ": " + what + " got no response within " + timeout, null);
            }
            if (e.getCause() instanceof IllegalArgumentException) { // the listener's "buffering capacity exceeded"
                throw S3Exception.unavailable(describe + ": " + what + " answered too large a reply (over " + maxBytes + " bytes)",
                        null);
            }
            throw S3Exception.unavailable(describe + ": " + what + " failed: " + ResponseHead.kind(e.getCause(), secret), null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            request.abort(e);
            throw S3Exception.unavailable("interrupted waiting for " + describe, null);
        }
    }
}
