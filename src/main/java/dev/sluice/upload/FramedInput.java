package dev.sluice.upload;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * The raw bytes of an aws-chunked body, read as CRLF-terminated lines (chunk headers, trailers)
 * and runs of data. One fixed buffer holds what a line read brought in beyond the line; data is
 * read straight into the caller's array once that buffer is drained, so chunk data is copied
 * once. A line longer than its limit, a bare LF, or the end of the bytes inside the framing is
 * malformed framing, which S3 answers {@code 400 IncompleteBody}.
 */
final class FramedInput {
    static final String MALFORMED = "The request body terminated unexpectedly";

    private final InputStream raw;
    private final byte[] buffer;
    private int position;
    private int limit;

    FramedInput(InputStream raw, int bufferSize) {
        this.raw = raw;
        this.buffer = new byte[bufferSize];
    }

    /** The next line without its CRLF, at most {@code max} bytes (ASCII in practice; Latin-1 decoded). */
    String readLine(int max) throws IOException {
        int scanned = 0;
        while (true) {
            for (int i = position + scanned; i < limit; i++) {
                if (buffer[i] == '\n') {
                    int length = i - position;
                    if (length == 0 || buffer[i - 1] != '\r' || length - 1 > max) {
                        throw malformed();
                    }
                    String line = new String(buffer, position, length - 1, StandardCharsets.ISO_8859_1);
                    position = i + 1;
                    return line;
                }
            }
            scanned = limit - position;
            if (scanned > max + 1) {
                throw malformed();
            }
            if (!fill()) {
                throw malformed();
            }
        }
    }

    /** Exactly CRLF, as after each chunk's data. */
    void expectCrlf() throws IOException {
        if (readByte() != '\r' || readByte() != '\n') {
            throw malformed();
        }
    }

    /** Up to {@code len} bytes of data, at least one; the end of the bytes here is malformed framing. */
    int read(byte[] b, int off, int len) throws IOException {
        if (position < limit) {
            int n = Math.min(len, limit - position);
            System.arraycopy(buffer, position, b, off, n);
            position += n;
            return n;
        }
        int n = raw.read(b, off, len);
        if (n < 0) {
            throw malformed();
        }
        return n;
    }

    /** True when no byte follows. */
    boolean atEnd() throws IOException {
        return position >= limit && !fill();
    }

    void close() throws IOException {
        raw.close();
    }

    private int readByte() throws IOException {
        if (position >= limit && !fill()) {
            throw malformed();
        }
        return buffer[position++];
    }

    /** Keeps the unread bytes at the front and reads more after them; false at the end of the bytes. */
    private boolean fill() throws IOException {
        if (position > 0) {
            System.arraycopy(buffer, position, buffer, 0, limit - position);
            limit -= position;
            position = 0;
        }
        if (limit == buffer.length) {
            throw malformed();
        }
        int n = raw.read(buffer, limit, buffer.length - limit);
        if (n < 0) {
            return false;
        }
        limit += n;
        return true;
    }

    static S3Exception malformed() {
        return new S3Exception(S3Error.INCOMPLETE_BODY, MALFORMED);
    }
}
