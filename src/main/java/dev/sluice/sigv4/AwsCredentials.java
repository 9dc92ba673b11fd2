package dev.sluice.sigv4;

import java.util.Objects;
import java.util.Optional;

/**
 * An access key pair, optionally with a session token (temporary STS credentials), to sign with.
 *
 * <p>{@link #toString()} redacts the secret and the token so credentials can appear in logs and
 * exception messages without leaking; the access key id is shown because it travels in clear in
 * every {@code Authorization} header anyway.
 */
public record AwsCredentials(String accessKeyId, String secretAccessKey, Optional<String> sessionToken) {

    public AwsCredentials {
        Objects.requireNonNull(accessKeyId, "accessKeyId");
        Objects.requireNonNull(secretAccessKey, "secretAccessKey");
        Objects.requireNonNull(sessionToken, "sessionToken");
        if (accessKeyId.isBlank()) {
            throw new IllegalArgumentException("access key id is blank");
        }
        // The access key id is written into "Credential=<id>/<scope>" and parsed back by splitting
        // on '/', ',' and whitespace, so any of those would make the header ambiguous.
        if (accessKeyId.chars().anyMatch(c -> c == '/' || c == ',' || Character.isWhitespace(c))) {
            throw new IllegalArgumentException("access key id must not contain '/', ',' or whitespace");
        }
        if (secretAccessKey.isEmpty()) {
            throw new IllegalArgumentException("secret access key is empty");
        }
        if (sessionToken.filter(String::isBlank).isPresent()) {
            throw new IllegalArgumentException("session token is blank; use Optional.empty() for none");
        }
    }

    /** Long-term credentials: an access key pair without a session token. */
    public static AwsCredentials of(String accessKeyId, String secretAccessKey) {
        return new AwsCredentials(accessKeyId, secretAccessKey, Optional.empty());
    }

    /** Temporary credentials, as issued by STS. */
    public static AwsCredentials of(String accessKeyId, String secretAccessKey, String sessionToken) {
        return new AwsCredentials(accessKeyId, secretAccessKey, Optional.of(sessionToken));
    }

    @Override
    public String toString() {
        return "AwsCredentials[accessKeyId=" + accessKeyId
                + ", secretAccessKey=<redacted>"
                + ", sessionToken=" + (sessionToken.isPresent() ? "<redacted>" : "<none>") + "]";
    }
}
