package dev.sluice.backend;

import dev.sluice.s3.ByteRange;
import dev.sluice.s3.ObjectMeta;
import dev.sluice.s3.S3Exception;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.io.Content;

import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A store's answer to a read, as the object it describes: the metadata its store-specific reader
 * ({@link S3ObjectReply}, {@link AzureBlobReply}) took from the response head, and the response
 * body as the object's bytes, taken at most once.
 *
 * <p>The body is handed out only for exactly the bytes it holds ({@link #extent}). A server that
 * answers a Range with other bytes than asked for (a 200 with the whole object) fails the read,
 * 503, rather than send the client a body its decided {@code Content-Length} and
 * {@code Content-Range} contradict; so does a 200 or 206 without a length to check the body by.
 */
final class StreamedReply implements StoredObject {
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d{1,18})-(\\d{1,18})/(\\d{1,18})");

    /**
     * Why an exchange is aborted once sluice is done with its body: every read ends this way
     * (aborting a finished exchange does nothing), so the reasons are made once instead of
     * one exception with a stack trace per request; shared, they take no stack trace and no
     * suppressed exceptions.
     */
    private static final Exception NOT_WANTED = new ReleasedBody("response body not wanted");
    private static final Exception RELEASED = new ReleasedBody("response body released");

    private static final class ReleasedBody extends Exception {
        ReleasedBody(String message) {
            super(message, null, false, false);
        }
    }

    private final Request request;
    private final Content.Source source;
    private final ObjectMeta meta;
    private final Optional<ByteRange> sent;
    private final String what;
    private boolean taken;

    /**
     * The object {@code meta} describes, whose bytes {@code sent} are {@code source} (none, when
     * empty); {@code what} names the backend and request for the log.
     */
    StreamedReply(Request request, Content.Source source, ObjectMeta meta, Optional<ByteRange> sent, String what) {
        this.request = request;
        this.source = source;
        this.meta = meta;
        this.sent = sent;
        this.what = what;
    }

    /** Which bytes of the object a 200 or 206 holds, and the object's size. */
    record Extent(ByteRange sent, long size) {
    }

    /**
     * The extent of a 200 or 206: from {@code Content-Range} on a 206, from
     * {@code Content-Length} on a 200. Throws 503 for a head that does not say.
     */
    static Extent extent(Response response, String what) {
        if (response.getStatus() == 206) {
            String contentRange = Optional.ofNullable(response.getHeaders().get("Content-Range")).orElse("");
            Matcher m = CONTENT_RANGE.matcher(contentRange.trim());
            if (!m.matches()) {
                throw S3Exception.unavailable(what + " answered 206 with Content-Range '" + contentRange + "'", null);
            }
            return new Extent(new ByteRange(Long.parseLong(m.group(1)), Long.parseLong(m.group(2))), Long.parseLong(m.group(3)));
        }
        long size = Optional.ofNullable(response.getHeaders().get("Content-Length")).flatMap(StreamedReply::parseLength)
                .orElseThrow(() -> S3Exception.unavailable(what + " answered 200 without a Content-Length", null));
        return new Extent(new ByteRange(0, size - 1), size);
    }

    /** How many bytes the body holds: the extent of a 200 or 206, -1 for a 304, which has none. */
    long bodyLength() {
        return sent.map(ByteRange::length).orElse(-1L);
    }

    /**
     * This object with {@code bytes} as its body, read whole into memory ahead of the read's
     * decision; 503 when they are not as many as the head said.
     */
    StreamedReply holding(byte[] bytes) {
        if (bytes.length != bodyLength()) {
            request.abort(RELEASED);
            throw S3Exception.unavailable(what + " sent " + bytes.length + " bytes of " + bodyLength(), null);
        }
        return new StreamedReply(request, Content.Source.from(ByteBuffer.wrap(bytes)), meta, sent, what);
    }

    @Override
    public ObjectMeta meta() {
        return meta;
    }

    @Override
    public ObjectBody body(ByteRange range) {
        if (!sent.equals(Optional.of(range)) || request.getMethod().equals("HEAD")) {
            throw S3Exception.unavailable(what + " sent " + sent.map(b -> b.first() + "-" + b.last()).orElse("nothing")
                    + ", not " + range.first() + "-" + range.last(), null);
        }
        taken = true;
        return body(request, source);
    }

    @Override
    public void close() {
        if (!taken) {
            request.abort(NOT_WANTED);
        }
    }

    /** {@code request}'s response body, passed through chunk by chunk; closing it unread aborts the exchange. */
    static ObjectBody body(Request request, Content.Source source) {
        return new StreamBody(Optional.of(request), source);
    }

    /** A body of no bytes, for a range of none: no request is made for it. */
    static ObjectBody noBytes() {
        return new StreamBody(Optional.empty(), Content.Source.from(new ByteBuffer[0]));
    }

    private static Optional<Long> parseLength(String value) {
        try {
            long n = Long.parseLong(value.trim());
            return n >= 0 ? Optional.of(n) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private record StreamBody(Optional<Request> request, Content.Source source) implements ObjectBody {
        @Override
        public void close() {
            request.ifPresent(r -> r.abort(RELEASED));
        }
    }
}
