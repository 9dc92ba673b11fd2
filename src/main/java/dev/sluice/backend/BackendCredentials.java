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

    /** Whether {@link #current} answers from memory, never waiting on an exchange. */
    default boolean waitsOnNothing() {
        return false;
    }

    static BackendCredentials anonymous() {
        return new Held(Optional.empty());
    }

    static BackendCredentials fixed(AwsCredentials credentials) {
        return new Held(Optional.of(credentials));
    }

    /** Credentials known from the configuration, or none. */
    record Held(Optional<AwsCredentials> current) implements BackendCredentials {
        @Override
        public boolean waitsOnNothing() {
            return true;
        }
    }
}
