package dev.sluice.testing;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/** The {@code application/x-www-form-urlencoded} bodies the test token services (STS, Entra ID, Google) are sent. */
final class Forms {
    private Forms() {
    }

    /** Each name with its last value, both percent-decoded; a name without {@code =} has the empty value. */
    static Map<String, String> parse(String body) {
        Map<String, String> out = new HashMap<>();
        for (String pair : body.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.put(k, v);
        }
        return out;
    }
}
