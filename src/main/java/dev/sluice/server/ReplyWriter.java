package dev.sluice.server;

import dev.sluice.backend.ObjectBody;
import dev.sluice.backend.ObjectResponse;
import dev.sluice.observe.LogText;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.s3.XmlDocuments;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.PreEncodedHttpField;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Blocker;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Sends a {@link Reply} and says what went out: the one place that writes to the Jetty
 * response. A small body is written whole; an object body is copied from the backend chunk by
 * chunk, never buffered, counting the bytes the client actually took and noting a body cut
 * short by either side; an S3 error becomes the S3 XML error document (no body for a HEAD,
 * {@code Retry-After} on a retryable error, the request id and CORS headers kept). Once the
 * head of a response is out nothing else can be sent: the connection is failed instead.
 */
final class ReplyWriter {
    private static final Logger LOG = LoggerFactory.getLogger(ReplyWriter.class);
    private static final HttpField NOSNIFF = new PreEncodedHttpField("X-Content-Type-Options", "nosniff");

    /**
     * What was sent: the status the head carried (499 when none went out because the client
     * had gone), the body bytes written to the client, the error code of an error reply, and
     * why a body whose head went out did not arrive whole.
     */
    record Sent(int status, long bytes, Optional<String> errorCode, Optional<Truncation> truncation) {
    }

    /**
     * Why a response whose head was already sent ended before its body was complete: the client
     * sees a status 200 or 206 and a short body, and the access log and metrics must say so,
     * not count a success. The client going away is told apart from the backend failing.
     */
    enum Truncation {
        /** Writing to the client failed: it closed the connection or stopped reading. */
        CLIENT_DISCONNECTED("ClientDisconnected", "client_disconnected"),
        /** The backend's body failed mid-stream (an S3 connection that died). */
        BACKEND_STREAM_FAILED("BackendStreamFailed", "backend_failed"),
        /** The backend's body ended before its Content-Length (a file that shrank while read). */
        INCOMPLETE_BODY("IncompleteBody", "incomplete_body");

        final String code;
        final String metricReason;

        Truncation(String code, String metricReason) {
            this.code = code;
            this.metricReason = metricReason;
        }
    }

    /**
     * How long a CompleteMultipartUpload or CopyObject may take before its {@code 200} goes out
     * ahead of its document; then how often a space keeps the connection alive, and how long
     * in all the store may take (docs/writes.md, "Completing a large upload, or copying one").
     */
    static final Duration KEEP_ALIVE_AFTER = Duration.ofSeconds(1);
    static final Duration KEEP_ALIVE_EVERY = Duration.ofSeconds(1);
    static final Duration COMPLETION_LIMIT = Duration.ofHours(1);
    private static final String XML_DECLARATION = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

    private final Duration keepAliveAfter;
    private final Duration keepAliveEvery;
    private final Duration completionLimit;

    ReplyWriter() {
        this(KEEP_ALIVE_AFTER, KEEP_ALIVE_EVERY, COMPLETION_LIMIT);
    }

    ReplyWriter(Duration keepAliveAfter, Duration keepAliveEvery, Duration completionLimit) {
        this.keepAliveAfter = keepAliveAfter;
        this.keepAliveEvery = keepAliveEvery;
        this.completionLimit = completionLimit;
    }

    /**
     * Sends {@code reply} and completes {@code callback}.
     *
     * @param resource the request path, named in an error document
     */
    Sent write(Reply reply, Response response, Callback callback, String requestId, String resource) {
        return switch (reply) {
            case Reply.Small s -> send(response, callback, requestId, resource, progress -> {
                progress.status = s.status();
                progress.errorCode = s.errorCode();
                response.setStatus(s.status());
                s.headers().forEach(h -> response.getHeaders().put(h.getKey(), h.getValue()));
                closeIfBodyUnread(response);
                progress.bytes = finish(response, s.body().orElse(null));
            });
            case Reply.Read r -> send(response, callback, requestId, resource,
                    progress -> streamObject(r.object(), response, progress));
            case Reply.Failure f -> sendError(response, callback, f.error(), resource, requestId);
            case Reply.Completing c -> {
                Reply done = await(c.outcome(), keepAliveAfter);
                yield done != null ? write(done, response, callback, requestId, resource)
                        : send(response, callback, requestId, resource, progress -> keepAlive(c, response, progress, requestId, resource));
            }
            case Reply.Pending p -> throw new IllegalStateException("a pending reply is settled before it is written");
            case Reply.Abandoned a -> {
                LOG.debug("request {}: client connection failed: {}", requestId, a.cause().toString());
                callback.failed(a.cause());
                yield new Sent(499, 0, Optional.empty(), Optional.empty());
            }
        };
    }

    /**
     * Sends a read without waiting, on the calling thread: the whole body (a local file's, at
     * most {@link #AT_ONCE_MAX} bytes) is read first, then head and body go out in one write,
     * and {@code done} is told what was sent when that write completes, on whichever thread
     * completes it, before {@code callback}. Nothing here blocks: a client that does not read
     * leaves the write pending, not the thread.
     *
     * @return empty when sent (or being sent); else the reply to send the waiting way, nothing
     *     sent yet: the read itself when its body is larger or of unknown length, or a 503 when
     *     the body did not read whole (a file that shrank or failed between open and read)
     */
    Optional<Reply> sendAtOnce(Reply.Read read, Response response, Callback callback, String requestId, Consumer<Sent> done) {
        ObjectResponse object = read.object();
        ByteBuffer bytes = null;
        if (object.body().isPresent()) {
            long expected = contentLength(object);
            if (expected < 0 || expected > AT_ONCE_MAX) {
                return Optional.of(read);
            }
            try (ObjectBody body = object.body().get()) {
                bytes = whole(body.source(), (int) expected);
            }
            if (bytes == null) {
                return Optional.of(new Reply.Failure(read.facts(),
                        S3Exception.unavailable("the object's " + expected + " bytes did not read whole", null)));
            }
        }
        int status = head(object, response);
        ByteBuffer body = bytes;
        int length = body == null ? 0 : body.remaining();
        // done before the callback: once the callback completes, the connection may go on to its next request.
        response.write(true, body, Callback.from(() -> {
            try {
                done.accept(new Sent(status, length, Optional.empty(), Optional.empty()));
            } finally {
                callback.succeeded();
            }
        }, failure -> {
            LOG.debug("request {}: client connection failed: {}", requestId, failure.toString());
            try {
                done.accept(new Sent(status, body == null ? 0 : length - body.remaining(), Optional.empty(),
                        body == null ? Optional.empty() : Optional.of(Truncation.CLIENT_DISCONNECTED)));
            } finally {
                callback.failed(failure);
            }
        }));
        return Optional.empty();
    }

    /**
     * A completion or copy that outlasts {@link #keepAliveAfter}, answered as S3 answers one: the
     * {@code 200} and the XML declaration at once, a space every {@link #keepAliveEvery} while
     * the store works (a client's read timeout never sees a silence that long), then the
     * result document, or the S3 error document in the same {@code 200}, which SDKs read as
     * the error it is. The store goes on if the client leaves; it is given
     * {@link #completionLimit} in all.
     */
    private void keepAlive(Reply.Completing completing, Response response, Progress progress, String requestId, String resource)
            throws IOException {
        try {
            keepAliveThenAnswer(completing, response, progress, requestId, resource);
        } catch (IOException e) {
            // The client left (its read timeout, or it gave up): the store goes on regardless.
            progress.truncation = Truncation.CLIENT_DISCONNECTED;
            throw e;
        }
    }

    private void keepAliveThenAnswer(Reply.Completing completing, Response response, Progress progress, String requestId,
                                     String resource) throws IOException {
        progress.status = 200;
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/xml");
        progress.bytes += writeText(response, false, XML_DECLARATION + "\n");
        long deadline = System.nanoTime() + completionLimit.toNanos();
        Reply outcome;
        while ((outcome = await(completing.outcome(), keepAliveEvery)) == null) {
            if (System.nanoTime() - deadline > 0) {
                outcome = new Reply.Failure(completing.facts(), new S3Exception(S3Error.INTERNAL_ERROR,
                        "The request is still being carried out after " + completionLimit.toMinutes() + " minutes."));
                LOG.warn("request {}: the write to {} outlasted {}; answered InternalError", requestId,
                        LogText.escape(resource), completionLimit);
                break;
            }
            progress.bytes += writeText(response, false, " ");
        }
        String document = switch (outcome) {
            case Reply.Small s -> s.body().orElse("");
            case Reply.Failure f -> {
                progress.errorCode = Optional.of(f.error().error().code());
                f.error().logCause().ifPresent(cause -> LOG.warn("request {}: {} {}: {}", requestId, f.error().error().code(),
                        resource, describe(cause)));
                yield XmlDocuments.error(f.error().error(), f.error().clientMessage(), resource, requestId);
            }
            default -> {
                LOG.error("request {}: a completion answered {}, not a document", requestId, outcome.getClass().getSimpleName());
                progress.errorCode = Optional.of(S3Error.INTERNAL_ERROR.code());
                yield XmlDocuments.error(S3Error.INTERNAL_ERROR, new S3Exception(S3Error.INTERNAL_ERROR).clientMessage(), resource,
                        requestId);
            }
        };
        progress.bytes += writeText(response, true, document.startsWith(XML_DECLARATION)
                ? document.substring(XML_DECLARATION.length()) : document);
    }

    /** The reply {@code outcome} holds if it comes within {@code wait}; null if it does not. */
    private static Reply await(CompletableFuture<Reply> outcome, Duration wait) {
        try {
            return outcome.get(wait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Reply.Failure(Reply.Facts.of("interrupted"), S3Exception.unavailable("interrupted", e));
        } catch (ExecutionException e) {
            return new Reply.Failure(Reply.Facts.of("failed"), new S3Exception(S3Error.INTERNAL_ERROR));
        }
    }

    /** Writes part of a body and waits for it to be written; returns its bytes. */
    private static long writeText(Response response, boolean last, String text) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        int length = buffer.remaining();
        try (Blocker.Callback done = Blocker.callback()) {
            response.write(last, buffer, done);
            done.block();
        }
        return length;
    }

    /** Sets a read's status and headers on {@code response}; returns the status. */
    private static int head(ObjectResponse object, Response response) {
        HttpFields.Mutable headers = response.getHeaders();
        // Added, not put: an object's headers name each header once and none the handler set
        // (request id, CORS), and putting would scan every field already there for each one.
        for (Map.Entry<String, String> h : object.headers()) {
            add(headers, h.getKey(), h.getValue());
        }
        // Object bytes are whatever was stored: a browser must take the declared type, never
        // guess HTML from the content (docs/behaviour.md, "Headers").
        headers.add(NOSNIFF);
        response.setStatus(object.status());
        return object.status();
    }

    /**
     * Adds an object's header, by Jetty's constant for the names every read sends: a header
     * added by name alone is looked up in Jetty's table of known names first.
     */
    private static void add(HttpFields.Mutable headers, String name, String value) {
        HttpHeader known = switch (name) {
            case "Content-Length" -> HttpHeader.CONTENT_LENGTH;
            case "Content-Type" -> HttpHeader.CONTENT_TYPE;
            case "ETag" -> HttpHeader.ETAG;
            case "Last-Modified" -> HttpHeader.LAST_MODIFIED;
            case "Accept-Ranges" -> HttpHeader.ACCEPT_RANGES;
            case "Content-Range" -> HttpHeader.CONTENT_RANGE;
            default -> null;
        };
        if (known != null) {
            headers.add(known, value);
        } else {
            headers.add(name, value);
        }
    }

    /** The most body {@link #sendAtOnce} reads before writing: a small object's, in one buffer. */
    static final int AT_ONCE_MAX = 64 * 1024;

    /** The source's bytes when it gives exactly {@code expected} of them without waiting; null otherwise. */
    private static ByteBuffer whole(Content.Source source, int expected) {
        ByteBuffer into = ByteBuffer.allocate(expected);
        while (true) {
            Content.Chunk chunk = source.read();
            if (chunk == null || Content.Chunk.isFailure(chunk)) {
                return null;
            }
            try {
                ByteBuffer b = chunk.getByteBuffer();
                if (b.remaining() > into.remaining()) {
                    return null;
                }
                into.put(b);
                if (chunk.isLast()) {
                    return into.hasRemaining() ? null : into.flip();
                }
            } finally {
                chunk.release();
            }
        }
    }

    private static long contentLength(ObjectResponse object) {
        for (Map.Entry<String, String> h : object.headers()) {
            if (h.getKey().equalsIgnoreCase("Content-Length")) {
                return parseLength(h.getValue());
            }
        }
        return -1;
    }

    /** Writing one reply's head and body, noting in {@code progress} how far it got. */
    private interface Writing {
        void run(Progress progress) throws IOException;
    }

    private static Sent send(Response response, Callback callback, String requestId, String resource, Writing writing) {
        Progress progress = new Progress();
        try {
            writing.run(progress);
            callback.succeeded();
            return progress.sent();
        } catch (IOException e) {
            if (progress.truncation == Truncation.BACKEND_STREAM_FAILED || progress.truncation == Truncation.INCOMPLETE_BODY) {
                LOG.warn("request {}: {} after {} body bytes sent; the connection is aborted: {}", requestId,
                        progress.truncation.code, progress.bytes, e.toString());
            } else {
                LOG.debug("request {}: client connection failed: {}", requestId, e.toString());
            }
            callback.failed(e);
            return progress.sent();
        } catch (RuntimeException e) {
            LOG.error("request {}: writing the reply to {} failed with a bug", requestId, LogText.escape(resource), e);
            return sendError(response, callback, new S3Exception(S3Error.INTERNAL_ERROR), resource, requestId);
        }
    }

    private static void streamObject(ObjectResponse object, Response response, Progress outcome)
            throws IOException {
        outcome.status = head(object, response);
        if (object.body().isEmpty()) {
            finish(response, null);
            return;
        }
        long expected = contentLength(object);
        Transfer transfer = new Transfer();
        try (var body = object.body().get()) {
            Content.Sink counted = (last, buffer, cb) -> {
                int n = buffer == null ? 0 : buffer.remaining();
                response.write(last, buffer, Callback.from(() -> {
                    transfer.sent += n;
                    cb.succeeded();
                }, failure -> {
                    // A chunk can be megabytes (a mapped file region): count what of it went
                    // out, which the connection's writes consumed. Without a Content-Length the
                    // response is chunked, written through slices, and only whole chunks count.
                    if (expected >= 0 && buffer != null) {
                        transfer.sent += n - buffer.remaining();
                    }
                    cb.failed(failure);
                }));
            };
            try {
                copy(body.source(), counted, transfer);
            } catch (IOException e) {
                outcome.truncation = transfer.why(expected, body.shrank());
                throw e;
            } finally {
                outcome.bytes = transfer.sent;
            }
            if (expected >= 0 && transfer.sent < expected) {
                // The body ended early without an error; a normal end would make it look whole.
                outcome.truncation = Truncation.INCOMPLETE_BODY;
                throw new IOException("the body ended after " + transfer.sent + " of " + expected + " bytes");
            }
        }
    }

    /**
     * Copies {@code source} to {@code sink} on the calling thread, a chunk at a time: each chunk
     * is written and its write waited for before the next is read, and when none is there the
     * thread waits for the source's demand. The backend client reads its answers on its selector
     * (Sluice's backend client), which therefore only wakes this thread and never copies.
     */
    private static void copy(Content.Source source, Content.Sink sink, Transfer transfer) throws IOException {
        while (true) {
            Content.Chunk chunk = source.read();
            if (chunk == null) {
                try (Blocker.Runnable ready = Blocker.runnable()) {
                    source.demand(ready);
                    ready.block();
                }
                continue;
            }
            if (Content.Chunk.isFailure(chunk)) {
                transfer.sourceFailed = true;
                Throwable failure = chunk.getFailure();
                throw failure instanceof IOException io ? io : new IOException(failure);
            }
            try (Blocker.Callback written = Blocker.callback()) {
                transfer.received += chunk.remaining();
                transfer.sourceEnded = chunk.isLast();
                sink.write(chunk.isLast(), chunk.getByteBuffer(), written);
                written.block();
            } finally {
                chunk.release();
            }
            if (chunk.isLast()) {
                return;
            }
        }
    }

    private static long parseLength(String value) {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** What one body transfer did: bytes taken from the backend, bytes written to the client, how the backend's side ended. */
    private static final class Transfer {
        volatile long received;
        volatile long sent;
        volatile boolean sourceEnded;
        volatile boolean sourceFailed;

        /** Why a transfer failed; {@code shrank}: the object became shorter while sent, which a mapped file reports as a failed write. */
        Truncation why(long expected, boolean shrank) {
            if (sourceFailed) {
                return Truncation.BACKEND_STREAM_FAILED;
            }
            if ((sourceEnded && expected >= 0 && received < expected) || shrank) {
                return Truncation.INCOMPLETE_BODY;
            }
            return Truncation.CLIENT_DISCONNECTED;
        }
    }

    /** How far sending one reply got, for {@link Sent}; written only by the thread sending it. */
    private static final class Progress {
        int status;
        long bytes;
        Optional<String> errorCode = Optional.empty();
        Truncation truncation;

        Sent sent() {
            return new Sent(status == 0 ? 499 : status, bytes, errorCode, Optional.ofNullable(truncation));
        }
    }

    /**
     * Writes a complete small body (or none) and waits for it to be written; returns the body
     * bytes the client gets, none for a HEAD (whose body HTTP never sends, even when the head
     * declares its length).
     */
    private static long finish(Response response, String text) throws IOException {
        ByteBuffer buffer = text == null ? null : ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        int length = buffer == null ? 0 : buffer.remaining();
        if (buffer != null) {
            response.getHeaders().put("Content-Length", length);
        }
        try (Blocker.Callback done = Blocker.callback()) {
            response.write(true, buffer, done);
            done.block();
        }
        return response.getRequest().getMethod().equals("HEAD") ? 0 : length;
    }

    private static Sent sendError(Response response, Callback callback, S3Exception e, String resource, String requestId) {
        Optional<String> code = Optional.of(e.error().code());
        e.logCause().ifPresent(cause -> LOG.warn("request {}: {} {}: {}", requestId, e.error().code(), resource, describe(cause)));
        if (response.isCommitted()) {
            callback.failed(e);
            return new Sent(e.error().status(), 0, code, Optional.empty());
        }
        long bytes = 0;
        try {
            response.reset();
            HttpFields.Mutable headers = response.getHeaders();
            headers.put("x-amz-request-id", requestId);
            Cors.addTo(headers);
            for (Map.Entry<String, String> h : e.extraHeaders()) {
                headers.put(h.getKey(), h.getValue());
            }
            closeIfBodyUnread(response);
            if (e.error().isRetryable() && !headers.contains("Retry-After")) {
                headers.put("Retry-After", "1");
            }
            response.setStatus(e.error().status());
            headers.put("Content-Type", "application/xml");
            boolean head = response.getRequest().getMethod().equals("HEAD");
            String xml = XmlDocuments.error(e.error(), e.clientMessage(), resource, requestId);
            bytes = finish(response, head ? null : xml);
            callback.succeeded();
        } catch (IOException | RuntimeException io) {
            callback.failed(io);
        }
        return new Sent(e.error().status(), bytes, code, Optional.empty());
    }

    /**
     * Says {@code Connection: close} on a reply sent before the request's body was read to its
     * end, after reading and dropping what of it has already arrived (never waiting for more).
     * An error often answers a request before its body is read (a bad signature, a refused key,
     * a body too large or too slow, a read that must carry none); Jetty then closes the
     * connection after the reply, since the rest of the body is still in it, and the reply must
     * say so: a client that is not told puts the connection back in its pool and its next
     * request fails with no response at all (RFC 9112 §9.6). A small body that has arrived whole
     * is dropped, and the connection kept. Every reply with a head of its own passes here: the
     * S3 error documents, and the small replies (the STS endpoint's errors among them).
     */
    private static void closeIfBodyUnread(Response response) {
        boolean consumed;
        try {
            consumed = response.getRequest().consumeAvailable();
        } catch (RuntimeException e) {
            consumed = false;
        }
        if (!consumed) {
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
        }
    }

    private static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder(t.toString());
        for (Throwable c = t.getCause(); c != null && c != t; c = c.getCause()) {
            sb.append(" <- ").append(c);
        }
        return sb.toString();
    }
}
