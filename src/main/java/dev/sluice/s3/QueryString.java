package dev.sluice.s3;

import dev.sluice.sigv4.UriEncoding;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A raw query string split into decoded (name, value) pairs in wire order. Decoding is
 * percent-decoding only: a {@code +} stays a {@code +}, as S3 clients encode spaces as
 * {@code %20}. A bare flag ({@code ?location}) has an empty value.
 */
public record QueryString(List<Map.Entry<String, String>> parameters) {

    public static QueryString parse(String rawQuery) {
        if (rawQuery == null || rawQuery.isEmpty()) {
            return new QueryString(List.of());
        }
        List<Map.Entry<String, String>> out = new ArrayList<>();
        for (String part : rawQuery.split("&")) {
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
            String name = eq < 0 ? part : part.substring(0, eq);
            String value = eq < 0 ? "" : part.substring(eq + 1);
            try {
                out.add(Map.entry(UriEncoding.decode(name), UriEncoding.decode(value)));
            } catch (IllegalArgumentException e) {
                throw new S3Exception(S3Error.INVALID_ARGUMENT, "The query string is not correctly percent-encoded.");
            }
        }
        return new QueryString(List.copyOf(out));
    }

    public Optional<String> first(String name) {
        for (var p : parameters) {
            if (p.getKey().equals(name)) {
                return Optional.of(p.getValue());
            }
        }
        return Optional.empty();
    }

    public boolean has(String name) {
        return first(name).isPresent();
    }
}
