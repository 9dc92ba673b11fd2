package dev.sluice.backend;

/** How requests to a GCS backend are authorized. */
public sealed interface GcsAuth {

    /** Unauthorized requests: a bucket readable by {@code allUsers}. */
    record Anonymous() implements GcsAuth {
    }

    /**
     * A bearer token for {@code grant} ({@link AccessTokens}): a service-account key or
     * workload identity federation with sluice's own identity.
     */
    record Token(TokenGrant grant) implements GcsAuth {
    }
}
