package dev.sluice.server;

import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.PreEncodedHttpField;

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

    /** The same on every response: encoded once, copied into each response head as bytes. */
    private static final HttpField ALLOW_ORIGIN = new PreEncodedHttpField("Access-Control-Allow-Origin", "*");
    private static final HttpField ALLOW = new PreEncodedHttpField("Access-Control-Allow-Methods", ALLOW_METHODS);
    private static final HttpField EXPOSE = new PreEncodedHttpField("Access-Control-Expose-Headers", EXPOSE_HEADERS);

    /** Adds the CORS headers to a response's headers, which must not hold them yet (they are added, not replaced). */
    static void addTo(HttpFields.Mutable headers) {
        headers.add(ALLOW_ORIGIN);
        headers.add(ALLOW);
        headers.add(EXPOSE);
    }

    /** The extra headers of a preflight answer; the requested headers are echoed back. */
    static List<Map.Entry<String, String>> preflight(String requestedHeaders) {
        return List.of(
                Map.entry("Access-Control-Allow-Headers",
                        requestedHeaders == null || requestedHeaders.isBlank() ? "*" : requestedHeaders),
                Map.entry("Access-Control-Max-Age", "3000"));
    }
}
