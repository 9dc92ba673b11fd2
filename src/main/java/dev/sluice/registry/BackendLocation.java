package dev.sluice.registry;

import dev.sluice.backend.Backend;
import dev.sluice.backend.BackendSpec;
import dev.sluice.backend.Backends;

import java.time.Duration;

/**
 * How the control-plane registry turns a data connection's location (a {@link BackendSpec},
 * a value, so one backend is built and reused per distinct location) into a backend.
 */
public final class BackendLocation {
    /** The deadline for a control-plane backend's response head: a static backend's default. */
    static final Duration BACKEND_TIMEOUT = Duration.ofSeconds(30);

    private BackendLocation() {
    }

    /** Builds the backend for a location; throws an {@link dev.sluice.s3.S3Exception} when it cannot. */
    @FunctionalInterface
    public interface Factory {
        Backend build(BackendSpec location);

        /** Locations built by the backend factory, as in production. */
        static Factory building(Backends backends) {
            return backends::build;
        }
    }
}
