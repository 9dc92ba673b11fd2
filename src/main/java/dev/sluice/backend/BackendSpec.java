package dev.sluice.backend;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Where a product's bytes are and how to reach them: everything {@link Backends} needs to build
 * its {@link Backend}. The static configuration and the control plane both describe a product's
 * storage as one of these, so a backend is built the same way whichever of them named it.
 */
public sealed interface BackendSpec {

    /**
     * A directory's files; multipart uploads abandoned for longer than
     * {@code abandonedUploadAge} are removed when the backend starts (docs/writes.md, "File
     * backend").
     */
    record File(Path directory, Duration abandonedUploadAge) implements BackendSpec {
        /** How long an unfinished multipart upload is kept unless configured otherwise: 7 days. */
        public static final Duration DEFAULT_ABANDONED_UPLOAD_AGE = Duration.ofDays(7);

        public File(Path directory) {
            this(directory, DEFAULT_ABANDONED_UPLOAD_AGE);
        }
    }

    /**
     * A bucket (and key prefix) on an S3-compatible endpoint, signed as {@code auth} says;
     * {@code timeout} bounds the wait for each response head; {@code checksumTrailers}: whether
     * a PutObject whose checksum comes after its body sends it on as a trailer (by default, to
     * S3 itself only: {@link #takesChecksumTrailers(URI)}).
     */
    record S3(URI endpoint, String region, String bucket, String prefix, BackendAuth auth, Duration timeout,
              boolean checksumTrailers) implements BackendSpec {
        /** With the checksum trailers the endpoint takes by default. */
        public S3(URI endpoint, String region, String bucket, String prefix, BackendAuth auth, Duration timeout) {
            this(endpoint, region, bucket, prefix, auth, timeout, takesChecksumTrailers(endpoint));
        }

        /**
         * Whether a store at {@code endpoint} takes a PutObject framed with a checksum trailer
         * ({@code STREAMING-UNSIGNED-PAYLOAD-TRAILER}) without being told: S3 itself (a host
         * under {@code amazonaws.com} or {@code amazonaws.com.cn}) does. S3-compatible stores
         * differ: not all take the form, and one that refuses it would fail every upload, so
         * theirs is the operator's to switch on ({@code docs/writes.md}, "S3 backend").
         */
        public static boolean takesChecksumTrailers(URI endpoint) {
            String host = endpoint.getHost() == null ? "" : endpoint.getHost().toLowerCase(java.util.Locale.ROOT);
            return host.equals("amazonaws.com") || host.endsWith(".amazonaws.com")
                    || host.equals("amazonaws.com.cn") || host.endsWith(".amazonaws.com.cn");
        }
    }

    /**
     * A container (and blob name prefix) of an Azure Blob storage {@code account}, at
     * {@code endpoint} (by default {@code https://{account}.blob.core.windows.net}; for a
     * path-style endpoint such as Azurite's, the account is the endpoint's last path segment);
     * {@code timeout} bounds the wait for each response head.
     */
    record Azure(URI endpoint, String account, String container, String prefix, AzureAuth auth, Duration timeout)
            implements BackendSpec {
    }

    /**
     * A GCS bucket (and object name prefix) at {@code endpoint} (by default
     * {@code https://storage.googleapis.com}); {@code timeout} bounds the wait for each response head.
     */
    record Gcs(URI endpoint, String bucket, String prefix, GcsAuth auth, Duration timeout) implements BackendSpec {
    }
}
