package dev.sluice.upload;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.sigv4.ChunkSigning;
import dev.sluice.sigv4.SigV4;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

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
    private static final HexFormat HEX = HexFormat.of();

    /** One HMAC keyed once per body: a chunk costs one {@code doFinal}, not a provider look-up. */
    private final Mac mac;
    private final String payloadPrefix;
    private final String trailerPrefix;
    private String previous;

    ChunkSignatureChain(ChunkSigning signing) {
        try {
            this.mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(signing.signingKey(), "HmacSHA256"));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every Java platform must provide HmacSHA256", e);
        }
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
        String expected = HEX.formatHex(mac.doFinal(stringToSign.getBytes(StandardCharsets.UTF_8)));
        if (!SigV4.constantTimeEquals(expected, claimed)) {
            throw new S3Exception(S3Error.SIGNATURE_DOES_NOT_MATCH);
        }
        previous = expected;
    }
}
