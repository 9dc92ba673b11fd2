package dev.sluice.server;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The request-body rules of the S3 listener. A read carries no body and one that does is
 * refused unread ({@link #refuse}); a {@code /.sts} call's form body is read whole, but only up
 * to {@link #MAX_SMALL_BODY}, within the body deadline, held under the {@link BodyBudget} until
 * the call is answered ({@link #reserve}, {@link #read}); the XML of CompleteMultipartUpload and
 * DeleteObjects the same way, up to {@link #MAX_WRITE_DOCUMENT}. Object bodies of writes are
 * never held: they stream into the store.
 */
final class SmallBodyReader {
    /** The largest body sluice reads to check a signature or parse an STS call. */
    static final int MAX_SMALL_BODY = 64 * 1024;
    /**
     * The largest CompleteMultipartUpload or DeleteObjects document: 10,000 parts with their
     * checksums, or 1,000 keys of up to 1,024 bytes, fit.
     */
    static final int MAX_WRITE_DOCUMENT = 2 * 1024 * 1024;
    /** How much of an oversized body is read and thrown away so that its error reaches the client. */
    static final int MAX_DRAINED_BODY = 1024 * 1024;

    private final BodyBudget bodyBudget;
    private final Duration bodyDeadline;

    SmallBodyReader(BodyBudget bodyBudget, Duration bodyDeadline) {
        this.bodyBudget = bodyBudget;
        this.bodyDeadline = bodyDeadline;
    }

    /**
     * Refuses a body on a request that takes none (every read, and the writes whose request is
     * all in its head) with {@code 400 InvalidRequest}, before reading any of it: a body sluice does
     * not need is not worth memory or a wait. What has already arrived is dropped; with more to
     * come, the connection is closed (the reply says so: {@code ReplyWriter}).
     */
    static void refuse(Request request) {
        long length = request.getLength();
        if (length > 0 || (length < 0 && request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING))) {
            throw new S3Exception(S3Error.INVALID_REQUEST, "A " + request.getMethod() + " request must not have a body.");
        }
    }

    /**
     * Reserves room in the {@link BodyBudget} for the body {@link #read} will keep: its
     * declared length, or {@link #MAX_SMALL_BODY} when it is chunked; nothing for a body too
     * large to keep (it is only counted while drained). When the budget is spent the request
     * is refused unread with {@code 503 SlowDown}.
     */
    BodyBudget.Reservation reserve(Request request) {
        return reserve(request, MAX_SMALL_BODY);
    }

    /** {@link #reserve(Request)} for a body of at most {@code max} bytes. */
    BodyBudget.Reservation reserve(Request request, int max) {
        return bodyBudget.tryReserve(keptBytes(request, max)).orElseThrow(() -> new S3Exception(S3Error.SLOW_DOWN));
    }

    /** How many bytes of this request's body {@link #read} keeps at most. */
    private static int keptBytes(Request request, int max) {
        long length = request.getLength();
        if (length < 0) {
            return request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING) ? max : 0;
        }
        return length > max ? 0 : (int) length;
    }

    /**
     * The whole body of a request that should carry little or none, read within
     * {@code bodyDeadline} from first byte to last: empty when there is none,
     * {@code 400 MaxMessageLengthExceeded} when it is larger than {@link #MAX_SMALL_BODY},
     * {@code 400 RequestTimeout} when the client is too slow. At most {@link #MAX_SMALL_BODY}
     * bytes are ever kept (the caller has reserved them); an oversized body is read and
     * dropped chunk by chunk up to {@link #MAX_DRAINED_BODY} first: a server that closes a
     * connection with unread bytes in it makes the kernel reset it, and the client loses the
     * error it was sent.
     */
    byte[] read(Request request) throws IOException {
        return read(request, MAX_SMALL_BODY);
    }

    /** {@link #read(Request)} for a body of at most {@code max} bytes (drained up to the larger of {@code max} and {@link #MAX_DRAINED_BODY}). */
    byte[] read(Request request, int max) throws IOException {
        long length = request.getLength();
        boolean chunked = request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING);
        if (length == 0 || (length < 0 && !chunked)) {
            return new byte[0];
        }
        int drained = Math.max(max, MAX_DRAINED_BODY);
        if (length > drained) {
            throw tooLarge();
        }
        BoundedRead read = new BoundedRead(request, keptBytes(request, max), drained);
        read.run();
        try {
            read.result.get(bodyDeadline.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            read.result.cancel(false);
            request.fail(e);
            throw new S3Exception(S3Error.REQUEST_TIMEOUT); // the request was failed: its connection closes
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw tooLarge(); // more than the drained limit
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while reading the request body", e);
        }
        if (read.total > max) {
            throw tooLarge();
        }
        return read.kept.toByteArray();
    }

    /**
     * Reads a body to its end without blocking a thread, keeping its first {@code keep}
     * bytes and counting the rest; fails once more than {@code drained} arrived.
     * Each chunk is copied and released at once, so a slow client holds no network buffers.
     */
    private static final class BoundedRead implements Runnable {
        final CompletableFuture<Void> result = new CompletableFuture<>();
        final ByteArrayOutputStream kept;
        private final Content.Source source;
        private final int keep;
        private final int drained;
        volatile long total;

        BoundedRead(Content.Source source, int keep, int drained) {
            this.source = source;
            this.keep = keep;
            this.drained = drained;
            this.kept = new ByteArrayOutputStream(keep);
        }

        @Override
        public void run() {
            while (!result.isDone()) {
                Content.Chunk chunk = source.read();
                if (chunk == null) {
                    source.demand(this);
                    return;
                }
                if (Content.Chunk.isFailure(chunk)) {
                    Throwable failure = chunk.getFailure();
                    result.completeExceptionally(failure instanceof IOException ? failure : new IOException(failure));
                    return;
                }
                ByteBuffer bytes = chunk.getByteBuffer();
                int n = bytes.remaining();
                int copy = (int) Math.max(0, Math.min(n, keep - total));
                if (copy > 0) {
                    byte[] part = new byte[copy];
                    bytes.get(part);
                    kept.writeBytes(part);
                }
                total += n;
                boolean last = chunk.isLast();
                chunk.release();
                if (total > drained) {
                    result.completeExceptionally(new IllegalStateException("body over " + drained + " bytes"));
                    return;
                }
                if (last) {
                    result.complete(null);
                    return;
                }
            }
        }
    }

    private static S3Exception tooLarge() {
        return new S3Exception(S3Error.MAX_MESSAGE_LENGTH_EXCEEDED);
    }
}
