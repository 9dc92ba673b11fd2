package dev.sluice.registry;

import java.net.URI;

/**
 * Where a control-plane product's bytes are and how to sign for them: the S3 endpoint,
 * region, bucket, key prefix ({@code base_prefix} + mirror prefix) and authentication. A value,
 * so that one backend can be built and reused per distinct location.
 */
public record BackendLocation(URI endpoint, String region, String bucket, String prefix, Auth auth) {

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
    }
}
