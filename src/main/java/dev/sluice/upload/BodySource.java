package dev.sluice.upload;

import java.io.IOException;
import java.util.Optional;

/**
 * A body's bytes as they come off the wire, decoded from its framing but not yet checked against
 * its digests. {@link CheckedUpload} reads it up to the declared length and then calls
 * {@link #finish()}, which reads and checks everything after the last byte.
 */
interface BodySource {

    /**
     * Up to {@code len} (at least one) decoded bytes, never past the declared length. Bytes that
     * end early, or framing that is malformed or fails its signature, throw the S3 error.
     */
    int read(byte[] b, int off, int len) throws IOException;

    /** Once the declared length has been read: the rest of the framing, signatures and the end of the bytes. */
    void finish() throws IOException;

    /** The checksum trailer the body ended with, once {@link #finish()} has passed. */
    Optional<Trailer> trailer();

    void close() throws IOException;

    /** An {@code x-amz-checksum-*} trailer: the algorithm and its base64 value as sent. */
    record Trailer(ChecksumAlgorithm algorithm, String value) {
    }
}
