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

    /** A directory's files. */
    record File(Path directory) implements BackendSpec {
    }

    /**
     * A bucket (and key prefix) on an S3-compatible endpoint, signed as {@code auth} says;
     * {@code timeout} bounds the wait for each response head.
     */
    record S3(URI endpoint, String region, String bucket, String prefix, BackendAuth auth, Duration timeout) implements BackendSpec {
    }
}
