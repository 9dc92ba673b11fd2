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
 * An Azure Blob service's 200 or 206 to Get Blob, or its 200 to Get Blob Properties, read as the
 * object S3 clients see (docs/azure.md, "What S3 behaviour is matched"): the ETag as Azure sends
 * it (already a quoted opaque string, {@code "0x8D…"}), {@code Last-Modified}, the size (from
 * {@code Content-Range}'s total on a 206, from {@code Content-Length} otherwise), the content
 * headers stored with the blob, and its {@code x-ms-meta-*} metadata as {@code x-amz-meta-*}.
 *
 * <p>As for S3 ({@link S3ObjectReply}), the body is handed out only for exactly the bytes it
 * holds; anything else fails the read with 503 rather than contradict the decided
 * {@code Content-Length}.
 */
final class AzureBlobReply implements StoredObject {
    /** Content headers Azure keeps with a blob and sends back as they are. */
    private static final Set<String> STORED = Set.of(
            "content-type", "content-encoding", "content-disposition", "content-language", "cache-control");
    private static final String AZURE_META = "x-ms-meta-";
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d{1,18})-(\\d{1,18})/(\\d{1,18})");
    /** Shared reasons for aborting an exchange sluice is done with: no stack trace per request. */
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

    private AzureBlobReply(Request request, Content.Source source, ObjectMeta meta, Optional<ByteRange> sent, String what) {
        this.request = request;
        this.source = source;
        this.meta = meta;
        this.sent = sent;
        this.what = what;
    }

    /**
     * The blob {@code response} describes; with {@code bytes} the body holds its bytes (a GET),
     * without it none (Get Blob Properties, or a GET whose body is not wanted).
     */
    static AzureBlobReply of(Request request, Response response, Content.Source body, boolean bytes, String what) {
        Optional<String> etag = Optional.ofNullable(response.getHeaders().get("ETag")).map(AzureBlobReply::quoted);
        Optional<Instant> modified = Optional.ofNullable(response.getHeaders().get("Last-Modified")).flatMap(HttpDate::parse);
        List<Map.Entry<String, String>> stored = storedHeaders(response);
        long size;
        ByteRange range;
        if (response.getStatus() == 206) {
            String contentRange = Optional.ofNullable(response.getHeaders().get("Content-Range")).orElse("");
            Matcher m = CONTENT_RANGE.matcher(contentRange.trim());
            if (!m.matches()) {
                throw S3Exception.unavailable(what + " answered 206 with Content-Range '" + contentRange + "'", null);
            }
            range = new ByteRange(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
            size = Long.parseLong(m.group(3));
        } else {
            size = Optional.ofNullable(response.getHeaders().get("Content-Length")).flatMap(AzureBlobReply::parseLength)
                    .orElseThrow(() -> S3Exception.unavailable(what + " answered 200 without a Content-Length", null));
            range = new ByteRange(0, size - 1);
        }
        ObjectMeta meta = new ObjectMeta(etag, List.of(), modified, OptionalLong.of(size), stored);
        return new AzureBlobReply(request, body, meta, bytes ? Optional.of(range) : Optional.empty(), what);
    }

    /** An ETag as S3 clients expect it, quoted; Azure's listings give it bare ({@code 0x8D…}). */
    static String quoted(String etag) {
        String e = etag.trim();
        return e.startsWith("\"") || e.startsWith("W/\"") ? e : "\"" + e + "\"";
    }

    @Override
    public ObjectMeta meta() {
        return meta;
    }

    @Override
    public ObjectBody body(ByteRange range) {
        if (!sent.equals(Optional.of(range))) {
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

    private static List<Map.Entry<String, String>> storedHeaders(Response response) {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        for (HttpField f : response.getHeaders()) {
            String name = f.getName().toLowerCase(Locale.ROOT);
            if (STORED.contains(name)) {
                out.add(Map.entry(f.getName(), f.getValue()));
            } else if (name.startsWith(AZURE_META) && name.length() > AZURE_META.length()) {
                out.add(Map.entry("x-amz-meta-" + name.substring(AZURE_META.length()), f.getValue()));
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
