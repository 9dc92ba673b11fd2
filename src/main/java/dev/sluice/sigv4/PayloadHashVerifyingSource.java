package dev.sluice.sigv4;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import org.eclipse.jetty.io.Content;

/**
 * A request body that checks itself against its declared {@code x-amz-content-sha256} while it is
 * read, for bodies too large to hold before forwarding. Each chunk is hashed as it passes; at the
 * end of the stream, if the digest differs from the declared one, the reader gets a failure chunk
 * carrying {@code XAmzContentSHA256Mismatch} in place of the last chunk, so whatever consumes the
 * body (an upload to a backend) fails instead of completing with bytes the client did not sign.
 *
 * <p>Bytes before the last chunk have already gone on by then; that is the price of streaming,
 * and why the consumer must treat a failure chunk as the end of the request, not of the body.
 */
public final class PayloadHashVerifyingSource implements Content.Source {

    private final Content.Source body;
    private final String declaredSha256;
    private final MessageDigest digest;
    /** Set once the stream has ended; returned to every later read. Reads are serial (Content.Source). */
    private Content.Chunk terminal;

    /**
     * @param declaredSha256 the declared {@code x-amz-content-sha256}, a SHA-256 hex digest (check
     *     it with {@link SigV4Verifier#checkPayloadHash} rules first: UNSIGNED-PAYLOAD has nothing
     *     to verify)
     */
    public PayloadHashVerifyingSource(Content.Source body, String declaredSha256) {
        this.body = Objects.requireNonNull(body, "body");
        if (!SigV4Verifier.isSha256Hex(declaredSha256)) {
            throw new IllegalArgumentException("not a SHA-256 hex digest: " + declaredSha256);
        }
        this.declaredSha256 = declaredSha256;
        this.digest = sha256();
    }

    @Override
    public Content.Chunk read() {
        if (terminal != null) {
            return terminal;
        }
        Content.Chunk chunk = body.read();
        if (chunk == null) {
            return null;
        }
        if (Content.Chunk.isFailure(chunk)) {
            if (chunk.isLast()) {
                terminal = chunk;
            }
            return chunk;
        }
        // Hash a view so the consumer still sees the buffer's position and limit untouched.
        digest.update(chunk.getByteBuffer().asReadOnlyBuffer());
        if (!chunk.isLast()) {
            return chunk;
        }
        String actual = HexFormat.of().formatHex(digest.digest());
        if (!actual.equalsIgnoreCase(declaredSha256)) {
            chunk.release();
            terminal = Content.Chunk.from(new S3Exception(S3Error.CONTENT_SHA256_MISMATCH), true);
            return terminal;
        }
        terminal = Content.Chunk.EOF;
        return chunk;
    }

    @Override
    public void demand(Runnable demandCallback) {
        if (terminal != null) {
            demandCallback.run();
        } else {
            body.demand(demandCallback);
        }
    }

    @Override
    public void fail(Throwable failure) {
        body.fail(failure);
    }

    @Override
    public void fail(Throwable failure, boolean last) {
        body.fail(failure, last);
    }

    @Override
    public long getLength() {
        return body.getLength();
    }

    @Override
    public boolean rewind() {
        if (!body.rewind()) {
            return false;
        }
        digest.reset();
        terminal = null;
        return true;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform must provide SHA-256", e);
        }
    }
}
