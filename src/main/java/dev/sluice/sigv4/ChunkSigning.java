package dev.sluice.sigv4;

/**
 * What verifying the chunk signatures of an aws-chunked body
 * ({@code STREAMING-AWS4-HMAC-SHA256-PAYLOAD}, and its {@code -TRAILER} form) takes from the
 * request's own, already verified, signature: the signing key it was made with, the signature
 * itself (which seeds the chain: the first chunk's signature covers it, each next chunk's the
 * previous one's), the request time and the credential scope.
 */
public record ChunkSigning(byte[] signingKey, String seedSignature, String amzDate, String credentialScope) {
    public ChunkSigning {
        signingKey = signingKey.clone();
    }

    @Override
    public byte[] signingKey() {
        return signingKey.clone();
    }

    @Override
    public String toString() {
        return "ChunkSigning[" + credentialScope + "]";
    }
}
