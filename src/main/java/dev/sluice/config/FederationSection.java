package dev.sluice.config;

import static dev.sluice.config.Values.*;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** {@code oidc} (sluice's own identity provider and its signing keys) and {@code sts} (where that identity is exchanged). */
final class FederationSection {
    private FederationSection() {
    }

    static SluiceConfig.Oidc oidc(Node n, Secrets secrets, Path base) {
        n.allowOnly("issuer", "signing_key", "previous_key");
        Optional<String> issuer = n.optionalText("issuer").map(Values::withoutTrailingSlashes);
        issuer.ifPresent(u -> requireHttpUrl(u, n.path("issuer")));
        SluiceConfig.Key current = secrets.key(n.required("signing_key"), base);
        Optional<SluiceConfig.Key> previous = n.has("previous_key") ? Optional.of(secrets.key(n.child("previous_key"), base)) : Optional.empty();
        return new SluiceConfig.Oidc(issuer, current, previous);
    }

    static SluiceConfig.Sts sts(Node n) {
        n.allowOnly("endpoint", "timeout", "session_duration");
        String endpoint = n.text("endpoint", "https://sts.amazonaws.com");
        requireHttpUrl(endpoint, n.path("endpoint"));
        Duration timeout = positive(n, "timeout", Duration.ofSeconds(5));
        Duration session = n.duration("session_duration", Duration.ofHours(1));
        if (!inStsSessionRange(session)) {
            throw new ConfigException(n.path("session_duration") + ": must be between 15m and 12h (STS's limits), not " + session);
        }
        return new SluiceConfig.Sts(endpoint, timeout, session);
    }
}
