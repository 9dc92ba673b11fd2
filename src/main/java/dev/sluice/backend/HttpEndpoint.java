package dev.sluice.backend;

import java.util.regex.Pattern;

/**
 * The shape of an endpoint sluice sends HTTP to (a backend, STS, the control plane, an issuer):
 * {@code http(s)://host[:port][/path]}, checked once for configuration and for endpoints a
 * control plane names.
 */
public final class HttpEndpoint {
    private static final Pattern VALID = Pattern.compile("https?://[^/\\s]+(/\\S*)?");

    private HttpEndpoint() {
    }

    public static boolean isValid(String url) {
        return VALID.matcher(url).matches();
    }
}
