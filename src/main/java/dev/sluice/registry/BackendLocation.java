package dev.sluice.registry;

import dev.sluice.backend.BackendAuth;
import dev.sluice.backend.BackendSpec;
import dev.sluice.backend.Backends;

import java.net.URI;
import java.time.Duration;

/**
 * Where a control-plane product's bytes are and how to sign for them: the S3 endpoint,
 * region, bucket, key prefix ({@code base_prefix} + mirror prefix) and authentication. A value,
 * so that one backend can be built and reused per distinct location.
 */
public record BackendLocation(URI endpoint, String region, String bucket, String prefix, Auth auth) {
    /** The deadline for a control-plane backend's response head: a static s3 backend's default. */
    static final Duration BACKEND_TIMEOUT = Duration.ofSeconds(30);

    /** The location as the backend factory takes it: the one place a control-plane location maps onto a backend. */
    public BackendSpec spec() {
        BackendAuth backendAuth = switch (auth) {
            case Auth.Unsigned u -> new BackendAuth.Anonymous();
            case Auth.Federated f -> new BackendAuth.WebIdentity(f.roleArn(), f.subject());
        };
        return new BackendSpec.S3(endpoint, region, bucket, prefix, backendAuth, BACKEND_TIMEOUT);
    }

    /** How requests to the location are signed. */
    public sealed interface Auth {
        /** Unsigned requests: a public bucket. */
        record Unsigned() implements Auth {
        }

        /** Signed with credentials from STS for {@code roleArn}, asserted as {@code subject}. */
        record Federated(String roleArn, String subject) implements Auth {
        }
    }

    /** Builds the backend for a location; throws an {@link dev.sluice.s3.S3Exception} when it cannot. */
    @FunctionalInterface
    public interface Factory {
        dev.sluice.backend.Backend build(BackendLocation location);

        /** Locations built by the backend factory, as in production. */
        static Factory building(Backends backends) {
            return location -> backends.build(location.spec());
        }
    }
}
