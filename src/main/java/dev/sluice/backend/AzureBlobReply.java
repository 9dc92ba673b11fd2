package dev.sluice.backend;

import dev.sluice.s3.HttpDate;
import dev.sluice.s3.ObjectMeta;
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
 * An Azure Blob service's 200 or 206 to Get Blob, or its 200 to Get Blob Properties, read as the
 * object S3 clients see (docs/azure.md, "What S3 behaviour is matched"): the ETag as Azure sends
 * it (already a quoted opaque string, {@code "0x8D…"}), {@code Last-Modified}, the size (from
 * {@code Content-Range}'s total on a 206, from {@code Content-Length} otherwise), the content
 * headers stored with the blob, and its {@code x-ms-meta-*} metadata as {@code x-amz-meta-*}.
 *
 * <p>As for S3, the body is handed out only for exactly the bytes it holds
 * ({@link StreamedReply}); anything else fails the read with 503 rather than contradict the
 * decided {@code Content-Length}.
 */
final class AzureBlobReply {
    /** Content headers Azure keeps with a blob and sends back as they are. */
    private static final Set<String> STORED = Set.of(
            "content-type", "content-encoding", "content-disposition", "content-language", "cache-control");
    private static final String AZURE_META = "x-ms-meta-";

    private AzureBlobReply() {
    }

    /**
     * The blob {@code response} describes; with {@code bytes} the body holds its bytes (a GET),
     * without it none (Get Blob Properties, or a GET whose body is not wanted).
     */
    static StreamedReply of(Request request, Response response, Content.Source body, boolean bytes, String what) {
        Optional<String> etag = Optional.ofNullable(response.getHeaders().get("ETag")).map(AzureBlobReply::quoted);
        Optional<Instant> modified = Optional.ofNullable(response.getHeaders().get("Last-Modified")).flatMap(HttpDate::parse);
        List<Map.Entry<String, String>> stored = storedHeaders(response);
        StreamedReply.Extent extent = StreamedReply.extent(response, what);
        ObjectMeta meta = new ObjectMeta(etag, List.of(), modified, OptionalLong.of(extent.size()), stored);
        return new StreamedReply(request, body, meta, bytes ? Optional.of(extent.sent()) : Optional.empty(), what);
    }

    /** An ETag as S3 clients expect it, quoted; Azure's listings give it bare ({@code 0x8D…}). */
    static String quoted(String etag) {
        String e = etag.trim();
        return e.startsWith("\"") || e.startsWith("W/\"") ? e : "\"" + e + "\"";
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
}
