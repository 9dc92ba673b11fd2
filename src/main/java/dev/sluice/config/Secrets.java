package dev.sluice.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Function;

/**
 * Secret values named by the configuration: from an environment variable ({@code *_env}) or a
 * file ({@code *_file}, resolved against the config file's directory), never from the file
 * itself. PEM keys, access-key secrets and base64 AES keys.
 */
final class Secrets {
    private final Function<String, Optional<String>> environment;

    Secrets(Function<String, Optional<String>> environment) {
        this.environment = environment;
    }

    /** An OIDC signing key: PEM from {@code pem_env} or {@code pem_file}, as written (PEM tolerates surrounding whitespace). */
    SluiceConfig.Key key(Node n, Path base) {
        n.allowOnly("pem_file", "pem_env", "kid");
        String pem = envOrFile(n, "pem_env", "pem_file", base, "set exactly one of pem_file or pem_env").text();
        return new SluiceConfig.Key(new SluiceConfig.Secret(pem), n.optionalText("kid"));
    }

    /**
     * A secret from {@code NAME_env} (an environment variable) or {@code NAME_file} (a file's
     * trimmed content, a relative path resolved against the config file's directory).
     */
    SluiceConfig.Secret secret(Node n, String name, Path base) {
        Read read = envOrFile(n, name + "_env", name + "_file", base,
                "set exactly one of " + name + "_env or " + name + "_file");
        if (read.file().isEmpty()) {
            return new SluiceConfig.Secret(read.text());
        }
        // A file usually ends with a newline no secret contains.
        String value = read.text().trim();
        if (value.isEmpty()) {
            throw new ConfigException(n.path(name + "_file") + ": file " + read.file().get() + " is empty");
        }
        return new SluiceConfig.Secret(value);
    }

    /** What {@link #envOrFile} read, and the file it came from (empty: the environment). */
    private record Read(String text, Optional<Path> file) {
    }

    /**
     * The one rule for every secret: exactly one of {@code envKey} (an environment variable,
     * which must be set and non-empty) or {@code fileKey} (a file, relative to the config file's
     * directory, which must be readable).
     */
    private Read envOrFile(Node n, String envKey, String fileKey, Path base, String exactlyOne) {
        Optional<String> env = n.optionalText(envKey);
        Optional<String> file = n.optionalText(fileKey);
        if (env.isPresent() == file.isPresent()) {
            throw new ConfigException(n.path() + ": " + exactlyOne);
        }
        if (env.isPresent()) {
            String value = environment.apply(env.get()).filter(v -> !v.isEmpty()).orElseThrow(() ->
                    new ConfigException(n.path(envKey) + ": environment variable " + env.get() + " is not set"));
            return new Read(value, Optional.empty());
        }
        Path path = base.resolve(file.get()).normalize();
        try {
            return new Read(Files.readString(path, StandardCharsets.UTF_8), Optional.of(path));
        } catch (IOException e) {
            throw new ConfigException(n.path(fileKey) + ": file " + path + " cannot be read");
        }
    }

    /** A 32-byte AES key given as base64 in {@code NAME_env} or {@code NAME_file}. */
    SluiceConfig.AesKey key32(Node n, String name, Path base) {
        SluiceConfig.Secret secret = secret(n, name, base);
        String what = name.replace('_', ' ');
        byte[] raw;
        try {
            raw = java.util.Base64.getDecoder().decode(secret.value().trim());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(n.path() + ": the " + what + " is not base64");
        }
        if (raw.length != 32) {
            throw new ConfigException(n.path() + ": the " + what + " must decode to 32 bytes, not " + raw.length);
        }
        return new SluiceConfig.AesKey(raw);
    }
}
