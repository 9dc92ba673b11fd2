package dev.sluice.backend;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.s3.WriteHeaders;
import org.eclipse.jetty.client.AsyncRequestContent;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.FutureCallback;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
 *
 * <p>A body whose checksum is known only at its end ({@link Upload#pendingChecksum()}) can be
 * sent framed as {@code STREAMING-UNSIGNED-PAYLOAD-TRAILER} (aws-chunked, one chunk per buffer,
 * then the checksum as a trailer), so the backend checks and keeps it too; the trailer goes
 * only after every check passed, so a failed body is short of its framing as well.
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
        return send(request, body, Optional.empty(), limit, what);
    }

    /**
     * {@link #send(Request, Upload, Duration, String)}, the body framed with {@code trailer} at
     * its end when present (the request's headers must say so: {@link #framingHeaders}).
     */
    static S3Reply send(Request request, Upload body, Optional<Upload.PendingChecksum> trailer, Duration limit, String what) {
        long length = body.length();
        int size = (int) Math.min(BUFFER, Math.max(1, length));
        Framing framing = trailer.map(t -> new Framing(t, size)).orElse(null);
        long wireLength = framing == null ? length : framing.encodedLength(length);
        AsyncRequestContent content = new AsyncRequestContent() {
            @Override
            public long getLength() {
                return wireLength; // the Content-Length header: S3 refuses a chunked PutObject
            }
        };
        if (wireLength > 0) {
            // As the AWS SDKs do for PutObject and UploadPart: a backend that refuses from the head
            // alone (403, 400, a failed condition) answers before any body byte is sent, instead of
            // closing on a body it will not read, when its answer can be lost to the reset (the
            // HTTP client's write fails first and the exchange ends without the answer).
            request.headers(h -> h.put(HttpHeader.EXPECT, HttpHeaderValue.CONTINUE.asString()));
        }
        request.body(content);
        CompletableFuture<S3Reply> pending = S3Reply.send(request, S3Backend.MAX_REPLY_BYTES);
        int room = framing == null ? 0 : framing.headRoom;
        int capacity = framing == null ? size : room + size + CRLF.length;
        byte[][] buffers = {new byte[capacity], new byte[capacity]};
        InputStream in = body.stream();
        FutureCallback sending = null;
        for (int turn = 0; ; turn ^= 1) {
            int n;
            ByteBuffer end = null;
            try {
                n = fill(in, buffers[turn], room, size);
                if (n < 0 && framing != null) {
                    end = framing.end(body.checksums()); // the checks have passed: the trailer's value is known
                }
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
                    if (end != null) {
                        content.write(end, Callback.NOOP); // its failure fails the exchange, which the answer says
                    }
                    content.close();
                    break;
                }
                sending = new FutureCallback();
                content.write(framing == null ? ByteBuffer.wrap(buffers[turn], 0, n) : framing.chunk(buffers[turn], n), sending);
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
     * at most the server's input buffer (64 KiB, {@code SluiceServer.INPUT_BUFFER}), and handing
     * each to the HTTP client on its own would cost a hand-off between threads per piece.
     * Returns the bytes read, or -1 at the end.
     */
    private static int fill(InputStream in, byte[] buffer, int offset, int size) throws IOException {
        int filled = 0;
        while (filled < size) {
            int n = in.read(buffer, offset + filled, size - filled);
            if (n < 0) {
                return filled == 0 ? -1 : filled;
            }
            filled += n;
        }
        return filled;
    }

    /**
     * The headers that say a body is framed with {@code trailer}, added to {@code headers} (a
     * write's signed headers): {@code Content-Encoding: aws-chunked} first of any coding the
     * object has, the decoded length, and the trailer's name.
     */
    static List<Map.Entry<String, String>> framingHeaders(List<Map.Entry<String, String>> headers, long length,
                                                          Upload.PendingChecksum trailer) {
        List<Map.Entry<String, String>> out = new ArrayList<>(headers.size() + 3);
        String coding = WriteHeaders.AWS_CHUNKED;
        for (Map.Entry<String, String> h : headers) {
            if (h.getKey().equalsIgnoreCase("content-encoding")) {
                coding = WriteHeaders.AWS_CHUNKED + "," + h.getValue();
            } else {
                out.add(h);
            }
        }
        out.add(Map.entry("content-encoding", coding));
        out.add(Map.entry("x-amz-decoded-content-length", Long.toString(length)));
        out.add(Map.entry("x-amz-trailer", trailer.headerName()));
        return out;
    }

    private static final byte[] CRLF = {'\r', '\n'};

    /**
     * aws-chunked framing without chunk signatures: each buffer of data is one chunk
     * ({@code <hex size>CRLF<data>CRLF}), written into room the buffer keeps before and after
     * its data, so framing copies nothing; then {@code 0CRLF<name>:<value>CRLF CRLF}. Every chunk
     * but the last holds {@code size} bytes, so the encoded length is known from the start.
     */
    private static final class Framing {
        final Upload.PendingChecksum trailer;
        final int size;
        final int headRoom;

        Framing(Upload.PendingChecksum trailer, int size) {
            this.trailer = trailer;
            this.size = size;
            this.headRoom = Integer.toHexString(size).length() + CRLF.length;
        }

        long encodedLength(long length) {
            long full = length / size;
            int rest = (int) (length % size);
            long chunks = full * (headRoom + size + CRLF.length)
                    + (rest == 0 ? 0 : Integer.toHexString(rest).length() + CRLF.length + rest + CRLF.length);
            return chunks + end("x".repeat(trailer.valueLength())).remaining();
        }

        /** The chunk of the {@code n} bytes at {@code headRoom} in {@code buffer}, framed in place. */
        ByteBuffer chunk(byte[] buffer, int n) {
            byte[] head = (Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            int start = headRoom - head.length;
            System.arraycopy(head, 0, buffer, start, head.length);
            buffer[headRoom + n] = '\r';
            buffer[headRoom + n + 1] = '\n';
            return ByteBuffer.wrap(buffer, start, head.length + n + CRLF.length);
        }

        /** The last chunk and the trailer, with the value {@code checksums} holds for it. */
        ByteBuffer end(List<Map.Entry<String, String>> checksums) {
            String value = checksums.stream().filter(c -> c.getKey().equalsIgnoreCase(trailer.headerName()))
                    .map(Map.Entry::getValue).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no value for " + trailer.headerName() + " after the body"));
            if (value.length() != trailer.valueLength()) {
                throw new IllegalStateException(trailer.headerName() + " is " + value.length() + " characters, not "
                        + trailer.valueLength());
            }
            return end(value);
        }

        private ByteBuffer end(String value) {
            return ByteBuffer.wrap(("0\r\n" + trailer.headerName() + ":" + value + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        }
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
