package dev.sluice.s3;

import dev.sluice.s3.UriEncoding;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A raw query string split into decoded (name, value) pairs in wire order. A {@code +} is a
 * space and {@code %2B} a plus, as S3 reads a query (form encoding): clients that encode
 * spaces as {@code +} on unsigned requests (URL builders, browsers, hand-written scripts)
 * otherwise listed {@code prefix=dir/a+b} as the literal "a+b" and silently skipped every
 * directory with a space in its name. A bare flag ({@code ?location}) has an empty value.
 *
 * <p>Only the meaning of parameters is decoded here; a signature is verified over the query
 * exactly as sent ({@code sigv4.SigV4#canonicalQueryString}), never over these values.
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
                out.add(Map.entry(decode(name), decode(value)));
            } catch (IllegalArgumentException e) {
                throw new S3Exception(S3Error.INVALID_ARGUMENT, "The query string is not correctly percent-encoded.");
            }
        }
        return new QueryString(List.copyOf(out));
    }

    private static String decode(String raw) {
        return UriEncoding.decode(raw.indexOf('+') < 0 ? raw : raw.replace("+", "%20"));
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
