package dev.sluice.upload;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.sigv4.ChunkSigning;
import dev.sluice.sigv4.SigV4;

/**
 * The chain of signatures over an aws-chunked body signed chunk by chunk: each chunk's signature
 * covers its data and the signature before it, the first one the request's own (the seed), and
 * the trailer's the last chunk's. So a chunk cannot be changed, dropped, reordered or moved to
 * another request without breaking every signature after it. The strings to sign are AWS's
 * ({@code docs/writes.md}, "Integrity"):
 *
 * <pre>
 * AWS4-HMAC-SHA256-PAYLOAD\n{amz date}\n{scope}\n{previous signature}\n{SHA-256 of ""}\n{SHA-256 of the chunk data}
 * AWS4-HMAC-SHA256-TRAILER\n{amz date}\n{scope}\n{previous signature}\n{SHA-256 of the trailer lines}
 * </pre>
 */
final class ChunkSignatureChain {
    private final byte[] signingKey;
    private final String payloadPrefix;
    private final String trailerPrefix;
    private String previous;

    ChunkSignatureChain(ChunkSigning signing) {
        this.signingKey = signing.signingKey();
        String dateAndScope = signing.amzDate() + "\n" + signing.credentialScope() + "\n";
        this.payloadPrefix = "AWS4-HMAC-SHA256-PAYLOAD\n" + dateAndScope;
        this.trailerPrefix = "AWS4-HMAC-SHA256-TRAILER\n" + dateAndScope;
        this.previous = signing.seedSignature();
    }

    /** Checks the next chunk's signature against the SHA-256 (hex) of its data; 403 {@code SignatureDoesNotMatch} if wrong. */
    void verifyChunk(String claimed, String dataSha256Hex) {
        verify(claimed, payloadPrefix + previous + "\n" + SigV4.EMPTY_SHA256 + "\n" + dataSha256Hex);
    }

    /** Checks the trailer's signature against the SHA-256 (hex) of its canonical lines. */
    void verifyTrailer(String claimed, String trailerSha256Hex) {
        verify(claimed, trailerPrefix + previous + "\n" + trailerSha256Hex);
    }

    private void verify(String claimed, String stringToSign) {
        String expected = SigV4.signature(signingKey, stringToSign);
        if (!SigV4.constantTimeEquals(expected, claimed)) {
            throw new S3Exception(S3Error.SIGNATURE_DOES_NOT_MATCH);
        }
        previous = expected;
    }
}
