package dev.sluice.upload;

import dev.sluice.backend.Upload;
import dev.sluice.sigv4.ChunkSigning;

import java.io.InputStream;
import java.util.Optional;
import java.util.function.Function;

/**
 * Turns a request body into the {@link Upload} a backend stores, in whatever form the client
 * sent it ({@code docs/writes.md}, "Integrity").
 */
public final class UploadBodies {
    private UploadBodies() {
    }

    /**
     * The body of a PutObject or UploadPart as its headers declare it: {@code x-amz-content-sha256}
     * (a hex SHA-256, {@code UNSIGNED-PAYLOAD}, or one of the {@code STREAMING-*} forms),
     * {@code Content-Length}, {@code x-amz-decoded-content-length}, {@code Content-Encoding},
     * {@code x-amz-trailer}, {@code Content-MD5} and {@code x-amz-checksum-*}. Headers that
     * cannot describe a body (no length, a malformed digest, a trailer that is not a checksum,
     * a declared length over {@code maxLength}) are refused here, before a byte is read, with
     * the S3 error for each.
     *
     * @param raw          the bytes as they arrive on the connection
     * @param headers      the request's headers by name, case-insensitive
     * @param chunkSigning present when the request's signature seeds chunk signatures
     *                     (the {@code STREAMING-AWS4-HMAC-SHA256-PAYLOAD} forms; required for them)
     * @param maxLength    the largest decoded length accepted ({@code EntityTooLarge} above it)
     */
    public static Upload open(InputStream raw, Function<String, Optional<String>> headers,
                              Optional<ChunkSigning> chunkSigning, long maxLength) {
        throw new UnsupportedOperationException("not built yet");
    }

    /**
     * Bytes sluice itself reads from a store (a copy between two stores): no digest to check,
     * but the same guarantee that a stream shorter than {@code length} fails before its end.
     */
    public static Upload trusted(InputStream bytes, long length) {
        throw new UnsupportedOperationException("not built yet");
    }
}
