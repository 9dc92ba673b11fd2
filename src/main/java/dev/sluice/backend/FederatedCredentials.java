package dev.sluice.backend;

import dev.sluice.sigv4.AwsCredentials;

/**
 * Where an S3 backend signed through a web identity role gets its credentials: the credential
 * tier in production (cached, renewed ahead of expiry, exchanged at STS). A named collaborator
 * that {@link Backends} is given, so a backend never builds its own way to credentials.
 */
@FunctionalInterface
public interface FederatedCredentials {

    /** Credentials for {@code roleArn} as {@code subject}, usable now; throws an {@link dev.sluice.s3.S3Exception} when none can be had in time. */
    AwsCredentials credentials(String roleArn, String subject);

    /**
     * The credentials {@link #credentials} would answer, when they are held in memory and
     * usable now; empty when getting them may wait (an exchange). Never waits.
     */
    default java.util.Optional<AwsCredentials> heldNow(String roleArn, String subject) {
        return java.util.Optional.empty();
    }
}
