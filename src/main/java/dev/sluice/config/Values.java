package dev.sluice.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.backend.HttpEndpoint;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The value rules every section shares, each written once: durations, sizes, whole numbers,
 * booleans, lists, listener addresses, http(s) URLs, "must be positive" and the session range
 * AWS STS allows. Each throws a {@link ConfigException} naming the key's dotted path.
 */
final class Values {
    private Values() {
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)?");
    private static final Pattern BYTE_SIZE = Pattern.compile("(\\d+)\\s*(KiB|MiB|GiB)?");
    private static final Duration MIN_SESSION = Duration.ofMinutes(15);
    static final Duration MAX_SESSION = Duration.ofHours(12);

    static Duration duration(String text, String path) {
        Matcher m = DURATION.matcher(text.trim());
        if (!m.matches()) {
            throw new ConfigException(path + ": '" + text + "' is not a duration (examples: 100ms, 5s, 2m, 1h)");
        }
        String unit = m.group(2) == null ? "s" : m.group(2);
        try {
            long v = Long.parseLong(m.group(1));
            return switch (unit) {
                case "ms" -> Duration.ofMillis(v);
                case "s" -> Duration.ofSeconds(v);
                case "m" -> Duration.ofMinutes(v);
                case "h" -> Duration.ofHours(v);
                default -> Duration.ofDays(v);
            };
        } catch (NumberFormatException | ArithmeticException e) {
            throw new ConfigException(path + ": '" + text + "' is too large for a duration");
        }
    }

    static Duration positive(Node n, String key, Duration fallback) {
        Duration d = n.duration(key, fallback);
        if (!d.isPositive()) {
            throw new ConfigException(n.path(key) + ": must be positive");
        }
        return d;
    }

    /** Within 15m to 12h, the session durations AWS STS grants. */
    static boolean inStsSessionRange(Duration d) {
        return d.compareTo(MIN_SESSION) >= 0 && d.compareTo(MAX_SESSION) <= 0;
    }

    static Duration sessionDuration(Node n, String key, Duration fallback) {
        Duration d = n.duration(key, fallback);
        if (!inStsSessionRange(d)) {
            throw new ConfigException(n.path(key) + ": must be between 15m and 12h (the range AWS STS allows)");
        }
        return d;
    }

    static long wholeNumber(String text, String path, long min, long max) {
        try {
            long v = Long.parseLong(text.trim());
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new ConfigException(path + ": '" + text + "' is not a whole number from " + min + " to " + max);
    }

    /** A size in bytes: a whole number, or one with a {@code KiB}, {@code MiB} or {@code GiB} suffix; of at least 64 KiB and less than 2 GiB. */
    static long byteSize(String text, String path) {
        Matcher m = BYTE_SIZE.matcher(text.trim());
        long v;
        try {
            v = m.matches() ? Long.parseLong(m.group(1)) : -1;
        } catch (NumberFormatException e) {
            v = -1;
        }
        long unit = !m.matches() || m.group(2) == null ? 1 : switch (m.group(2)) {
            case "KiB" -> 1024L;
            case "MiB" -> 1024L * 1024;
            default -> 1024L * 1024 * 1024;
        };
        if (v < 0 || v > Integer.MAX_VALUE / unit || v * unit < 64 * 1024 || v * unit > Integer.MAX_VALUE) {
            throw new ConfigException(path + ": '" + text + "' is not a size of at least 64KiB and less than 2GiB (examples: 65536, 256KiB, 32MiB)");
        }
        return v * unit;
    }

    static boolean bool(Node n, String key, boolean fallback) {
        String v = n.text(key, Boolean.toString(fallback));
        return switch (v) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new ConfigException(n.path(key) + ": must be true or false, not '" + v + "'");
        };
    }

    static List<String> nonEmptyTexts(Node n, String key) {
        List<String> values = texts(n, key);
        if (values.isEmpty()) {
            throw new ConfigException(n.path(key) + ": must list at least one value");
        }
        return values;
    }

    static List<String> texts(Node n, String key) {
        JsonNode c = n.node().get(key);
        if (c == null || c.isNull()) {
            return List.of();
        }
        if (!c.isArray()) {
            throw new ConfigException(n.path(key) + ": expected a list");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < c.size(); i++) {
            if (!c.get(i).isValueNode() || c.get(i).asText().isBlank()) {
                throw new ConfigException(n.path(key) + "[" + i + "]: expected a non-empty value");
            }
            out.add(c.get(i).asText());
        }
        return List.copyOf(out);
    }

    static SluiceConfig.HostPort hostPort(Node n, String key, String fallback) {
        String value = n.text(key, fallback);
        int colon = value.lastIndexOf(':');
        if (colon < 0) {
            throw new ConfigException(n.path(key) + ": expected host:port or :port, got '" + value + "'");
        }
        // ":8080" has no host: every interface, as in Go's net.Listen and most servers' listen options.
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
            if (host.isEmpty()) {
                throw new ConfigException(n.path(key) + ": '[]' is not a host; for every interface write ':PORT' or '[::]:PORT'");
            }
        }
        try {
            int port = Integer.parseInt(value.substring(colon + 1));
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
            return new SluiceConfig.HostPort(host, port);
        } catch (NumberFormatException e) {
            throw new ConfigException(n.path(key) + ": '" + value.substring(colon + 1) + "' is not a port number");
        }
    }

    /** A URL as sluice joins paths to it: {@code https://host/base/} and {@code https://host/base} are the same. */
    static String withoutTrailingSlashes(String url) {
        return url.replaceAll("/+$", "");
    }

    static void requireHttpUrl(String url, String path) {
        if (!HttpEndpoint.isValid(url)) {
            throw new ConfigException(path + ": '" + url + "' is not an http(s) URL");
        }
    }
}
