package dev.sluice.backend;

import org.eclipse.jetty.io.Content;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Object bytes on their way to the client, as a demand-driven Jetty {@link Content.Source}:
 * the server writes each chunk as the backend produces it, without copying it through an
 * intermediate buffer or holding the object whole. An earlier revision copied through
 * InputStream/OutputStream pairs and delivered a third of the backend's throughput.
 */
public interface ObjectBody extends AutoCloseable {

    /** The bytes; read once. */
    Content.Source source();

    /** Copies the bytes to {@code out} (for tools and tests; the server uses {@link #source()}). */
    default long transferTo(OutputStream out) throws IOException {
        try (InputStream in = Content.Source.asInputStream(source())) {
            return in.transferTo(out);
        }
    }

    /**
     * Whether the object became shorter than the bytes promised for it while they were sent
     * (a file truncated mid-download); asked when writing to the client failed, because a
     * file sent from a memory mapping fails the write, not the read, when it is cut.
     */
    default boolean shrank() {
        return false;
    }

    /** Releases the body; a body not read to the end is aborted. */
    @Override
    void close();
}
