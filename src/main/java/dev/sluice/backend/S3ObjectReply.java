package dev.sluice.backend;

import dev.sluice.s3.HttpDate;
import dev.sluice.s3.ObjectMeta;
import dev.sluice.s3.WriteHeaders;
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

/**
 * An S3 server's 200, 206 or 304 to a GET or HEAD of an object, read as the object: its
 * metadata from the response head (the size from {@code Content-Range}'s total on a 206, from
 * {@code Content-Length} on a 200, unknown on a 304), and the response body as its bytes,
 * handed out only for exactly the bytes it holds ({@link StreamedReply}).
 */
final class S3ObjectReply {
    /** Headers stored with an object and passed on, with {@code x-amz-meta-*}; validators and lengths are the decision's. */
    private static final Set<String> STORED = Set.of(
            "content-type", "content-encoding", "content-disposition", "content-language", "cache-control", "expires");

    private S3ObjectReply() {
    }

    /**
     * The object {@code response} (200, 206 or 304) describes; {@code what} names the backend and
     * request for the log. Throws 503 for a head that does not say which bytes the body holds.
     */
    static StreamedReply of(Request request, Response response, Content.Source body, String what) {
        Optional<String> etag = Optional.ofNullable(response.getHeaders().get("ETag"));
        Optional<Instant> modified = Optional.ofNullable(response.getHeaders().get("Last-Modified")).flatMap(HttpDate::parse);
        // A stored checksum is of the whole object: a 206's bytes are not what it sums.
        List<Map.Entry<String, String>> stored = storedHeaders(response, response.getStatus() != 206);
        if (response.getStatus() == 304) {
            return new StreamedReply(request, body, new ObjectMeta(etag, List.of(), modified, OptionalLong.empty(), stored),
                    Optional.empty(), what);
        }
        StreamedReply.Extent extent = StreamedReply.extent(response, what);
        return new StreamedReply(request, body, new ObjectMeta(etag, List.of(), modified, OptionalLong.of(extent.size()), stored),
                Optional.of(extent.sent()), what);
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
            if (name.equals("content-encoding")) {
                WriteHeaders.storedCoding(f.getValue()).ifPresent(coding -> out.add(Map.entry(f.getName(), coding)));
            } else if (STORED.contains(name) || name.startsWith("x-amz-meta-") || (checksums && name.startsWith("x-amz-checksum-"))) {
                out.add(Map.entry(f.getName(), f.getValue()));
            }
        }
        return out;
    }
}
