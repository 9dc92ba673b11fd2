package dev.sluice.backend;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import org.eclipse.jetty.client.AsyncRequestContent;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.util.FutureCallback;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Sends an {@link Upload} to an S3 server as a request body (PutObject, UploadPart), streamed
 * with its declared {@code Content-Length}, never held whole ({@code docs/writes.md}, "S3 backend").
 *
 * <p>The calling thread (the client's request, a virtual thread) pumps, with two buffers: it
 * fills one from the client's body while the HTTP client sends the other, and reuses a buffer
 * only once its bytes went out, so reading the client overlaps writing to the backend and
 * memory per upload is the two buffers. Reading on the caller rather than letting the HTTP
 * client pull from an {@code InputStream} keeps the client's blocking reads off the HTTP
 * client's few selector and worker threads.
 *
 * <p>The {@link Upload} withholds its last byte until every check passed; when a check fails
 * ({@link S3Exception} from {@code read}) or the client goes away ({@link IOException}), the
 * request is aborted: its connection closes with the body one byte short at least of its
 * {@code Content-Length}, which no S3 server stores, so the object under the key stays as it
 * was. The same holds when the backend itself fails mid-body.
 */
final class S3UploadSender {
    /** Bytes per write: large enough that the per-write hand-off to the HTTP client is cheap. */
    static final int BUFFER = 256 * 1024;

    private S3UploadSender() {
    }

    /**
     * Sends {@code request} with {@code body} and returns the backend's answer, which the
     * caller judges; throws the failed check's {@link S3Exception}, {@code IncompleteBody} for
     * a client that went away, or 503 when the backend went away or did not answer within
     * {@code limit} of the last byte.
     */
    static S3Reply send(Request request, Upload body, Duration limit, String what) {
        long length = body.length();
        AsyncRequestContent content = new AsyncRequestContent() {
            @Override
            public long getLength() {
                return length; // the Content-Length header: S3 refuses a chunked PutObject
            }
        };
        if (length > 0) {
            // As the AWS SDKs do for PutObject and UploadPart: a backend that refuses from the head
            // alone (403, 400, a failed condition) answers before any body byte is sent, instead of
            // closing on a body it will not read, when its answer can be lost to the reset (the
            // HTTP client's write fails first and the exchange ends without the answer).
            request.headers(h -> h.put(HttpHeader.EXPECT, HttpHeaderValue.CONTINUE.asString()));
        }
        request.body(content);
        CompletableFuture<S3Reply> pending = S3Reply.send(request, S3Backend.MAX_REPLY_BYTES);
        int size = (int) Math.min(BUFFER, Math.max(1, length));
        byte[][] buffers = {new byte[size], new byte[size]};
        InputStream in = body.stream();
        FutureCallback sending = null;
        for (int turn = 0; ; turn ^= 1) {
            int n;
            try {
                n = fill(in, buffers[turn]);
            } catch (S3Exception failedCheck) {
                request.abort(failedCheck);
                throw failedCheck;
            } catch (IOException clientGone) {
                request.abort(clientGone);
                throw Upload.clientFailure(clientGone);
            } catch (RuntimeException bug) {
                request.abort(bug);
                throw bug;
            }
            try {
                if (sending != null) {
                    sending.get(limit.toMillis(), TimeUnit.MILLISECONDS); // the other buffer is free again
                }
                if (n < 0) {
                    content.close();
                    break;
                }
                sending = new FutureCallback();
                content.write(ByteBuffer.wrap(buffers[turn], 0, n), sending);
            } catch (ExecutionException backendGone) {
                // The backend closed or failed the exchange, often after answering from the head
                // alone (403, 400): the HTTP client is still reading that answer, and aborting now
                // would discard it, so wait for it first (bounded: no answer in time aborts).
                return answered(pending, request, limit, what);
            } catch (TimeoutException backendStalled) {
                // The backend stopped reading without closing: end the exchange, then take any answer it sent first.
                request.abort(backendStalled);
                return answered(pending, request, limit, what);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                request.abort(e);
                throw S3Exception.unavailable("interrupted sending to " + what, e);
            }
        }
        return S3Reply.await(pending, request, limit, what);
    }

    /**
     * Reads until {@code buffer} is full or the body ends: a client's body arrives in pieces of
     * the server's input buffer (16 KiB), and handing each to the HTTP client on its own would
     * cost a hand-off between threads per piece. Returns the bytes read, or -1 at the end.
     */
    private static int fill(InputStream in, byte[] buffer) throws IOException {
        int filled = 0;
        while (filled < buffer.length) {
            int n = in.read(buffer, filled, buffer.length - filled);
            if (n < 0) {
                return filled == 0 ? -1 : filled;
            }
            filled += n;
        }
        return filled;
    }

    /** The answer a backend gave before it stopped reading the body; 503 when it gave none. */
    private static S3Reply answered(CompletableFuture<S3Reply> pending, Request request, Duration limit, String what) {
        S3Reply reply = S3Reply.await(pending, request, limit, what);
        if (reply.status() / 100 == 2) {
            throw S3Exception.unavailable(what + ": the backend answered " + reply.status() + " to an incomplete body",
                    reply.failure().orElse(null));
        }
        return reply;
    }
}
