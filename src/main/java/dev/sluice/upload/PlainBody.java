package dev.sluice.upload;

import dev.sluice.s3.S3Exception;

import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A body sent as it is: exactly its declared length of bytes, read straight into the caller's
 * array. Bytes that end early or run on past the length fail with the error the caller names
 * ({@code IncompleteBody} for a client's body, a 503 for a store's bytes being copied).
 */
final class PlainBody implements BodySource {
    private final InputStream raw;
    private final Supplier<S3Exception> wrongLength;
    private long remaining;

    PlainBody(InputStream raw, long length, Supplier<S3Exception> wrongLength) {
        this.raw = raw;
        this.remaining = length;
        this.wrongLength = wrongLength;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = raw.read(b, off, (int) Math.min(len, remaining));
        if (n < 0) {
            throw wrongLength.get();
        }
        remaining -= n;
        return n;
    }

    @Override
    public void finish() throws IOException {
        if (raw.read() >= 0) {
            throw wrongLength.get();
        }
    }

    @Override
    public Optional<Trailer> trailer() {
        return Optional.empty();
    }

    @Override
    public void close() throws IOException {
        raw.close();
    }
}
