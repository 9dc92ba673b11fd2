package dev.sluice.upload;

import dev.sluice.backend.Upload;
import dev.sluice.s3.S3Exception;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A body that keeps {@link Upload}'s promise: every byte but the last is handed on as it is
 * decoded, and the last only once everything after it has been read and checked (the rest of
 * the framing, every signature, the trailer, every digest, the end of the bytes). A read that
 * would include the last byte is cut one short, so the byte is held back in a read of its own
 * that runs the checks first. A failed check fails that read with the S3 error, and every read
 * after it with the same one; an {@link IOException} from the connection (the client went away)
 * passes through as it is, and sticks the same way.
 *
 * <p>Memory: the framing's buffer and the digests' state, whatever the body's size.
 */
final class CheckedUpload implements Upload {
    private final BodySource source;
    private final long length;
    private final BodyChecks checks;
    private final InputStream stream = new Checked();
    private long delivered;
    private boolean checked;
    private Exception failure;

    CheckedUpload(BodySource source, long length, BodyChecks checks) {
        this.source = source;
        this.length = length;
        this.checks = checks;
    }

    @Override
    public InputStream stream() {
        return stream;
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public String md5Hex() {
        if (!checked) {
            throw new IllegalStateException("the body has not been read to its end");
        }
        String md5 = checks.md5Hex();
        if (md5 == null) {
            throw new IllegalStateException("the body's MD5 was not computed: its store said it does not need it");
        }
        return md5;
    }

    /** Before the end, the checksum a header declared (the body fails if it does not match); after it, those verified. */
    @Override
    public List<Map.Entry<String, String>> checksums() {
        return checked ? checks.verified() : checks.declared();
    }

    @Override
    public Optional<PendingChecksum> pendingChecksum() {
        return checks.pending();
    }

    private final class Checked extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (failure != null) {
                throw rethrow(failure);
            }
            if (len == 0) {
                return 0;
            }
            long remaining = length - delivered;
            if (remaining == 0 && checked) {
                return -1;
            }
            try {
                if (remaining > 1) {
                    int n = source.read(b, off, (int) Math.min(len, remaining - 1));
                    checks.update(b, off, n);
                    delivered += n;
                    return n;
                }
                int n = remaining == 1 ? source.read(b, off, 1) : 0;
                checks.update(b, off, n);
                source.finish();
                checks.verify(source.trailer());
                delivered += n;
                checked = true;
                return n == 0 ? -1 : n;
            } catch (S3Exception | IOException e) {
                failure = e;
                throw e;
            }
        }

        @Override
        public void close() throws IOException {
            source.close();
        }

        private IOException rethrow(Exception e) {
            if (e instanceof S3Exception s3) {
                throw s3;
            }
            return (IOException) e;
        }
    }
}
