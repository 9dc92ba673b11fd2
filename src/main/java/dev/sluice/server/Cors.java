package dev.sluice.server;

import org.eclipse.jetty.http.HttpFields;

import java.util.List;
import java.util.Map;

/**
 * CORS for browser clients (DuckDB-WASM, GDAL in the browser, plain fetch): any origin may
 * read, and the headers a ranged or conditional read needs are exposed. Credentials are never
 * allowed cross-origin, so {@code *} is safe.
 */
final class Cors {
    static final String ALLOW_METHODS = "GET, HEAD, PUT, POST, DELETE";
    static final String EXPOSE_HEADERS = "ETag, Content-Range, Content-Length, Content-Type, Content-Encoding, "
            + "Content-Disposition, Last-Modified, Accept-Ranges, Cache-Control, Expires, x-amz-request-id";

    private Cors() {
    }

    static void addTo(HttpFields.Mutable headers) {
        headers.put("Access-Control-Allow-Origin", "*");
        headers.put("Access-Control-Allow-Methods", ALLOW_METHODS);
        headers.put("Access-Control-Expose-Headers", EXPOSE_HEADERS);
    }

    /** The extra headers of a preflight answer; the requested headers are echoed back. */
    static List<Map.Entry<String, String>> preflight(String requestedHeaders) {
        return List.of(
                Map.entry("Access-Control-Allow-Headers",
                        requestedHeaders == null || requestedHeaders.isBlank() ? "*" : requestedHeaders),
                Map.entry("Access-Control-Max-Age", "3000"));
    }
}
