package dev.sluice.backend;

import java.util.Objects;

/**
 * An OAuth 2.0 access token that an Azure Blob or GCS backend presents as
 * {@code Authorization: Bearer}. Its {@link #toString()} hides the token, so it can never reach
 * a log by accident.
 */
public record BearerToken(String value) {
    public BearerToken {
        Objects.requireNonNull(value, "value");
        if (value.isBlank()) {
            throw new IllegalArgumentException("an empty bearer token");
        }
    }

    /** The header value: {@code Bearer <token>}. */
    public String authorization() {
        return "Bearer " + value;
    }

    @Override
    public String toString() {
        return "BearerToken[<redacted>]";
    }
}
