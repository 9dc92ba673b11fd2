package dev.sluice.backend;

import java.io.IOException;
import java.io.OutputStream;

/** Object bytes streamed to the client without holding them whole in memory. */
public interface ObjectBody extends AutoCloseable {

    /** Copies the bytes to {@code out}; returns how many were copied. */
    long transferTo(OutputStream out) throws IOException;

    @Override
    void close();
}
