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

    /**
     * What {@link #current} answers, when it can be had from memory now; empty when it may wait
     * on an exchange. Never waits.
     */
    default Optional<Now> withoutWaiting() {
        return Optional.empty();
    }

    /** The credentials to sign with now; none for an unsigned request. */
    record Now(Optional<AwsCredentials> credentials) {
    }

    static BackendCredentials anonymous() {
        return new Held(Optional.empty());
    }

    static BackendCredentials fixed(AwsCredentials credentials) {
        return new Held(Optional.of(credentials));
    }

    /** A web identity role's credentials from {@code source}, held in memory when it has them. */
    static BackendCredentials federated(FederatedCredentials source, String roleArn, String subject) {
        return new BackendCredentials() {
            @Override
            public Optional<AwsCredentials> current() {
                return Optional.of(source.credentials(roleArn, subject));
            }

            @Override
            public Optional<Now> withoutWaiting() {
                return source.heldNow(roleArn, subject).map(c -> new Now(Optional.of(c)));
            }
        };
    }

    /** Credentials known from the configuration, or none: always held. */
    final class Held implements BackendCredentials {
        private final Optional<AwsCredentials> current;
        private final Optional<Now> now;

        Held(Optional<AwsCredentials> current) {
            this.current = current;
            this.now = Optional.of(new Now(current));
        }

        @Override
        public Optional<AwsCredentials> current() {
            return current;
        }

        @Override
        public Optional<Now> withoutWaiting() {
            return now;
        }
    }
}
