package dev.sluice.s3;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * GetObject's {@code response-content-type}, {@code response-content-disposition}, … query
 * parameters: values that replace the stored object's headers in this one response.
 */
public record ResponseOverrides(List<Map.Entry<String, String>> headers) {
    public static final ResponseOverrides NONE = new ResponseOverrides(List.of());

    static final Map<String, String> PARAMETERS = Map.of(
            "response-content-type", "Content-Type",
            "response-content-language", "Content-Language",
            "response-expires", "Expires",
            "response-cache-control", "Cache-Control",
            "response-content-disposition", "Content-Disposition",
            "response-content-encoding", "Content-Encoding");

    static ResponseOverrides from(QueryString query) {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        for (var p : PARAMETERS.entrySet()) {
            query.first(p.getKey()).ifPresent(v -> out.add(Map.entry(p.getValue(), v)));
        }
        return out.isEmpty() ? NONE : new ResponseOverrides(List.copyOf(out));
    }
}
