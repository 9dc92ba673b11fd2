package dev.sluice.config;

import static dev.sluice.config.Values.*;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** {@code usage}: the usage meter's file, interval, client hash key and instance id (docs/protection.md, "Usage metering"). */
final class UsageSection {
    /** A shorter hash key is guessable, and with it every client address behind a hash (IPv4 has only 2^32). */
    static final int MIN_CLIENT_HASH_KEY_LENGTH = 16;

    private UsageSection() {
    }

    static SluiceConfig.Usage usage(Node n, Secrets secrets, Path base) {
        n.allowOnly("file", "interval", "client_hash_key_env", "client_hash_key_file", "instance_id", "max_keys");
        Path file = base.resolve(n.requiredText("file")).normalize();
        Duration interval = positive(n, "interval", Duration.ofSeconds(60));
        if (interval.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new ConfigException(n.path("interval") + ": must be at least 1s");
        }
        Optional<SluiceConfig.Secret> key = Optional.empty();
        if (n.has("client_hash_key_env") || n.has("client_hash_key_file")) {
            SluiceConfig.Secret secret = secrets.secret(n, "client_hash_key", base);
            if (secret.value().length() < MIN_CLIENT_HASH_KEY_LENGTH) {
                throw new ConfigException(n.path() + ": the client hash key must be at least " + MIN_CLIENT_HASH_KEY_LENGTH
                        + " characters (e.g. head -c32 /dev/urandom | base64)");
            }
            key = Optional.of(secret);
        }
        Optional<String> instance = n.optionalText("instance_id").filter(s -> !s.isBlank());
        int maxKeys = (int) wholeNumber(n.text("max_keys", "10000"), n.path("max_keys"), 1, 1_000_000);
        return new SluiceConfig.Usage(file, interval, key, instance, maxKeys);
    }
}
