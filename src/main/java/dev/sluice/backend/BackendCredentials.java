package dev.sluice.backend;

import dev.sluice.sigv4.AwsCredentials;

import java.util.Optional;

/**
 * How an S3 backend obtains the credentials to sign a request with. Empty means the request
 * goes unsigned (a public bucket). Implementations that must fetch credentials do so within
 * their own deadline and throw an {@link dev.sluice.s3.S3Exception} when they cannot.
 */
@FunctionalInterface
public interface BackendCredentials {

    Optional<AwsCredentials> current();

    static BackendCredentials anonymous() {
        return Optional::empty;
    }

    static BackendCredentials fixed(AwsCredentials credentials) {
        Optional<AwsCredentials> value = Optional.of(credentials);
        return () -> value;
    }
}
