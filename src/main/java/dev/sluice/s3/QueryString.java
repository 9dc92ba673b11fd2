package dev.sluice.s3;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The one parser of a query string (and of a form body, which has the same syntax): the
 * {@code name=value} segments split on {@code &}, in wire order, empty segments dropped, each
 * split on its first {@code =} (a bare flag such as {@code ?location} has an empty value). Each
 * {@link Parameter} keeps its name and value exactly as sent and decodes them on request, by
 * the rule its reader needs:
 *
 * <ul>
 *   <li>{@link Parameter#formName()}, {@link Parameter#formValue()}: what an S3 operation
 *       parameter means. A {@code +} is a space and {@code %2B} a plus, as S3 reads a query
 *       (form encoding): clients that encode spaces as {@code +} on unsigned requests (URL
 *       builders, browsers, hand-written scripts) otherwise listed {@code prefix=dir/a+b} as the
 *       literal "a+b" and silently skipped every directory with a space in its name.
 *   <li>{@link Parameter#name()}, {@link Parameter#value()}: percent-decoding only, {@code +}
 *       stays {@code +}, as signatures read authentication parameters and sub-resources (a
 *       Base64 signature sent with a literal {@code +} is read as meant).
 *   <li>{@link Parameter#rawName()}, {@link Parameter#rawValue()}, {@link Parameter#segment()}:
 *       the bytes as sent, which is what a signature covers.
 * </ul>
 *
 * <p>Splitting never fails; decoding a malformed percent-escape or invalid UTF-8 does, and each
 * reader says what that means for it ({@link #parse} answers {@code 400 InvalidArgument}).
 */
public final class QueryString {
    private final List<Parameter> parameters;
    /** The form-decoded (name, value) of each parameter, in order. */
    private final List<Map.Entry<String, String>> decoded;

    private QueryString(List<Parameter> parameters, List<Map.Entry<String, String>> decoded) {
        this.parameters = parameters;
        this.decoded = decoded;
    }

    /** One {@code name=value} segment of a query string, as sent. */
    public record Parameter(String rawName, String rawValue, boolean hasValue) {

        /** The segment exactly as sent: {@code name}, or {@code name=value}. */
        public String segment() {
            return hasValue ? rawName + "=" + rawValue : rawName;
        }

        /** The name percent-decoded ({@code +} stays {@code +}); empty when it does not decode. */
        public Optional<String> name() {
            return percentDecoded(rawName);
        }

        /** The name percent-decoded, or as sent when it does not decode: for matching names only. */
        public String nameOrRaw() {
            return name().orElse(rawName);
        }

        /** The value percent-decoded ({@code +} stays {@code +}); empty when it does not decode. */
        public Optional<String> value() {
            return percentDecoded(rawValue);
        }

        /**
         * The name as an S3 operation reads it: {@code +} is a space.
         *
         * @throws IllegalArgumentException on a malformed percent-escape or invalid UTF-8
         */
        public String formName() {
            return formDecoded(rawName);
        }

        /**
         * The value as an S3 operation reads it: {@code +} is a space.
         *
         * @throws IllegalArgumentException on a malformed percent-escape or invalid UTF-8
         */
        public String formValue() {
            return formDecoded(rawValue);
        }

        private static Optional<String> percentDecoded(String raw) {
            try {
                return Optional.of(UriEncoding.decode(raw));
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        }

        private static String formDecoded(String raw) {
            return UriEncoding.decode(raw.indexOf('+') < 0 ? raw : raw.replace("+", "%20"));
        }
    }

    /** The parameters of a query (or form body) as sent, in order; never fails. */
    public static List<Parameter> split(String rawQuery) {
        if (rawQuery == null || rawQuery.isEmpty()) {
            return List.of();
        }
        List<Parameter> out = new ArrayList<>();
        for (String segment : rawQuery.split("&", -1)) {
            if (segment.isEmpty()) {
                continue;
            }
            int eq = segment.indexOf('=');
            out.add(eq < 0 ? new Parameter(segment, "", false)
                    : new Parameter(segment.substring(0, eq), segment.substring(eq + 1), true));
        }
        return List.copyOf(out);
    }

    /**
     * The query of an S3 operation, its names and values form-decoded up front.
     *
     * @throws S3Exception {@code 400 InvalidArgument} when a name or value does not decode
     */
    public static QueryString parse(String rawQuery) {
        List<Parameter> parameters = split(rawQuery);
        List<Map.Entry<String, String>> decoded = new ArrayList<>(parameters.size());
        for (Parameter p : parameters) {
            try {
                decoded.add(Map.entry(p.formName(), p.formValue()));
            } catch (IllegalArgumentException e) {
                throw new S3Exception(S3Error.INVALID_ARGUMENT, "The query string is not correctly percent-encoded.");
            }
        }
        return new QueryString(parameters, List.copyOf(decoded));
    }

    /** The parameters as sent, in order. */
    public List<Parameter> parameters() {
        return parameters;
    }

    /** The form-decoded value of the first parameter whose form-decoded name is {@code name}. */
    public Optional<String> first(String name) {
        for (Map.Entry<String, String> p : decoded) {
            if (p.getKey().equals(name)) {
                return Optional.of(p.getValue());
            }
        }
        return Optional.empty();
    }

    /** Whether the query has no parameter at all. */
    public boolean isEmpty() {
        return parameters.isEmpty();
    }

    public boolean has(String name) {
        return first(name).isPresent();
    }
}
