package dev.sluice.sigv4;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An inbound request exactly as it arrived, reduced to what a SigV4 signature covers. Nothing here
 * is normalised or decoded: a signature is over the bytes the client sent, so a verifier that
 * looked at a cleaned-up form could be shown one request and grant another.
 *
 * @param method the request method as sent ({@code GET})
 * @param rawPath the path percent-encoded as sent, never normalised or decoded
 * @param rawQuery the query as sent, without {@code ?}; empty when there is none
 * @param headers every header in wire order, repeats included; names in any case
 */
public record SignableRequest(String method, String rawPath, String rawQuery,
        List<Map.Entry<String, String>> headers) {

    public SignableRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(rawPath, "rawPath");
        Objects.requireNonNull(rawQuery, "rawQuery");
        headers = List.copyOf(headers);
    }

    /** The first value of a header, its name matched case-insensitively. */
    public Optional<String> header(String name) {
        for (Map.Entry<String, String> header : headers) {
            if (header.getKey().equalsIgnoreCase(name)) {
                return Optional.of(header.getValue());
            }
        }
        return Optional.empty();
    }

    /** Every value of a header in wire order, its name matched case-insensitively. */
    List<String> headerValues(String name) {
        List<String> values = new ArrayList<>(1);
        for (Map.Entry<String, String> header : headers) {
            if (header.getKey().equalsIgnoreCase(name)) {
                values.add(header.getValue());
            }
        }
        return values;
    }
}
