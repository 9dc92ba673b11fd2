package dev.sluice.backend;

import dev.sluice.sigv4.AwsCredentials;

/** How requests to an S3 backend are signed. */
public sealed interface BackendAuth {

    /** Unsigned requests: a public bucket. */
    record Anonymous() implements BackendAuth {
    }

    /** Signed with a fixed access key pair ({@link AwsCredentials#toString()} hides the secret). */
    record Static(AwsCredentials credentials) implements BackendAuth {
    }

    /**
     * Signed with temporary credentials for {@code roleArn}, obtained by asserting
     * {@code subject} with sluice's own identity token ({@link FederatedCredentials}).
     */
    record WebIdentity(String roleArn, String subject) implements BackendAuth {
    }
}
