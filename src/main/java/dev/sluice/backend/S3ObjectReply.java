package dev.sluice.backend;

import dev.sluice.s3.ByteRange;
import dev.sluice.s3.HttpDate;
import dev.sluice.s3.ObjectMeta;
import dev.sluice.s3.S3Exception;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.io.Content;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An S3 server's 200, 206 or 304 to a GET or HEAD of an object, read as the object: its
 * metadata from the response head (the size from {@code Content-Range}'s total on a 206, from
 * {@code Content-Length} on a 200, unknown on a 304), and the response body as its bytes.
 *
 * <p>The body is handed out only for the bytes it holds. A server that answers a Range with
 * other bytes than S3 would (a 200 with the whole object) fails the read, 503, rather than
 * send the client a body its decided {@code Content-Length} and {@code Content-Range}
 * contradict; so does a 200 or 206 without a length to check the body by.
 */
final class S3ObjectReply implements StoredObject {
    /** Headers stored with an object and passed on, with {@code x-amz-meta-*}; validators and lengths are the decision's. */
    private static final Set<String> STORED = Set.of(
            "content-type", "content-encoding", "content-disposition", "content-language", "cache-control", "expires");
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

    private S3ObjectReply(Request request, Content.Source source, ObjectMeta meta, Optional<ByteRange> sent, String what) {
        this.request = request;
        this.source = source;
        this.meta = meta;
        this.sent = sent;
        this.what = what;
    }

    /**
     * The object {@code response} (200, 206 or 304) describes; {@code what} names the backend and
     * request for the log. Throws 503 for a head that does not say which bytes the body holds.
     */
    static S3ObjectReply of(Request request, Response response, Content.Source body, String what) {
        Optional<String> etag = Optional.ofNullable(response.getHeaders().get("ETag"));
        Optional<Instant> modified = Optional.ofNullable(response.getHeaders().get("Last-Modified")).flatMap(HttpDate::parse);
        // A stored checksum is of the whole object: a 206's bytes are not what it sums.
        List<Map.Entry<String, String>> stored = storedHeaders(response, response.getStatus() != 206);
        if (response.getStatus() == 304) {
            return new S3ObjectReply(request, body, new ObjectMeta(etag, List.of(), modified, OptionalLong.empty(), stored),
                    Optional.empty(), what);
        }
        ByteRange sent;
        long size;
        if (response.getStatus() == 206) {
            String contentRange = Optional.ofNullable(response.getHeaders().get("Content-Range")).orElse("");
            Matcher m = CONTENT_RANGE.matcher(contentRange.trim());
            if (!m.matches()) {
                throw S3Exception.unavailable(what + " answered 206 with Content-Range '" + contentRange + "'", null);
            }
            sent = new ByteRange(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
            size = Long.parseLong(m.group(3));
        } else {
            size = Optional.ofNullable(response.getHeaders().get("Content-Length")).flatMap(S3ObjectReply::parseLength)
                    .orElseThrow(() -> S3Exception.unavailable(what + " answered 200 without a Content-Length", null));
            sent = new ByteRange(0, size - 1);
        }
        return new S3ObjectReply(request, body, new ObjectMeta(etag, List.of(), modified, OptionalLong.of(size), stored),
                Optional.of(sent), what);
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
        return new StreamBody(request, source);
    }

    @Override
    public void close() {
        if (!taken) {
            request.abort(NOT_WANTED);
        }
    }

    /**
     * The headers kept with the object, and with {@code checksums} the {@code x-amz-checksum-*}
     * the server keeps with it (sent because the read asked with {@code x-amz-checksum-mode}),
     * which the read path passes on only to a client that asks the same.
     */
    private static List<Map.Entry<String, String>> storedHeaders(Response response, boolean checksums) {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        for (HttpField f : response.getHeaders()) {
            String name = f.getName().toLowerCase(Locale.ROOT);
            if (STORED.contains(name) || name.startsWith("x-amz-meta-") || (checksums && name.startsWith("x-amz-checksum-"))) {
                out.add(Map.entry(f.getName(), f.getValue()));
            }
        }
        return out;
    }

    private static Optional<Long> parseLength(String value) {
        try {
            long n = Long.parseLong(value.trim());
            return n >= 0 ? Optional.of(n) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The response body, passed through chunk by chunk; closing it unread aborts the exchange. */
    private record StreamBody(Request request, Content.Source source) implements ObjectBody {
        @Override
        public void close() {
            request.abort(RELEASED);
        }
    }
}
