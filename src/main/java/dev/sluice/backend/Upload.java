package dev.sluice.backend;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;

import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

/**
 * A request body on its way into a store, already decoded from whatever form the client sent
 * it in (a plain body, aws-chunked with or without chunk signatures and trailers) and checked
 * against every digest the client declared ({@code docs/writes.md}, "Integrity").
 *
 * <p>The guarantee a backend builds on: {@link #stream()} delivers the last byte of the body
 * only after every check has passed. A body that disagrees with a digest, is shorter than
 * declared or has malformed framing makes {@code read} throw an
 * {@link dev.sluice.s3.S3Exception} (with the S3 code the client is answered) instead. So a
 * backend that makes an object visible only after reading the stream to its end ({@code -1})
 * never stores a body that failed a check, and a remote store that receives a body of
 * {@link #length()} bytes never receives the last of them.
 */
public interface Upload {

    /** The decoded bytes; read once, to the end, before the object is made visible. */
    InputStream stream();

    /** The decoded length the client declared; the stream delivers exactly this many bytes or fails. */
    long length();

    /** The hex MD5 of the bytes (an S3 ETag's content); only once {@link #stream()} has reached its end. */
    String md5Hex();

    /**
     * The checksums the client sent and the body matched, as {@code x-amz-checksum-<algorithm>}
     * header name and base64 value, to be stored with the object; complete only once
     * {@link #stream()} has reached its end (a trailer arrives after the bytes).
     */
    List<Map.Entry<String, String>> checksums();

    /**
     * The checksum the client declared whose value is known only after the last byte (sent in
     * a trailer, or named by {@code x-amz-sdk-checksum-algorithm} alone, when sluice computes
     * it), known before the first: a store that keeps checksums can be sent it as a trailer of
     * its own. Its value is in {@link #checksums()} once {@link #stream()} has reached its end.
     */
    default Optional<PendingChecksum> pendingChecksum() {
        return Optional.empty();
    }

    /**
     * A checksum to come: its header name ({@code x-amz-checksum-crc32}) and the length of its
     * base64 value, fixed by the algorithm, so the length of a body that ends with it is known.
     */
    record PendingChecksum(String headerName, int valueLength) {
    }

    /**
     * What a body that could not be read from the client answers, whatever the store: S3's
     * {@code 400 RequestTimeout} when the client went silent for the server's idle timeout,
     * else {@code 400 IncompleteBody} (the connection ended before the declared length).
     */
    static S3Exception clientFailure(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof TimeoutException || t instanceof SocketTimeoutException) {
                return new S3Exception(S3Error.REQUEST_TIMEOUT, S3Error.REQUEST_TIMEOUT.defaultMessage(), e);
            }
        }
        return new S3Exception(S3Error.INCOMPLETE_BODY, S3Error.INCOMPLETE_BODY.defaultMessage(), e);
    }
}
