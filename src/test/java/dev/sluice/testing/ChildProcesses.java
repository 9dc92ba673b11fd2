package dev.sluice.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** What the test components that run as child processes (S3Proxy, Azurite) share: bounded waits and their output. */
final class ChildProcesses {
    private ChildProcesses() {
    }

    /**
     * Waits up to {@code wait} for {@code process} to exit, waking at once if it does: the
     * pause between two polls of a process that signals nothing else to wait on. Interrupted,
     * it fails naming {@code what} it was waiting for.
     */
    static void pause(Process process, Duration wait, String what) {
        try {
            process.onExit().get(wait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            // still running: the caller polls again
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for " + what, e);
        }
    }

    /** What a process wrote to {@code log}, for a failure message. */
    static String output(Path log) {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }
}
