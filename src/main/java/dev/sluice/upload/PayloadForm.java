package dev.sluice.upload;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.sigv4.SigV4;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How a request body is sent, as its {@code x-amz-content-sha256} declares it: as it is (its
 * SHA-256 signed, or unsigned), or aws-chunked, with or without a signature per chunk, with or
 * without trailing headers.
 */
enum PayloadForm {
    /** A hex SHA-256 of the body: the bytes must hash to it. */
    SIGNED_SHA256(false, false, false),
    /** {@code UNSIGNED-PAYLOAD}, or no header at all (SigV2, anonymous, presigned URLs). */
    UNSIGNED(false, false, false),
    /** {@code STREAMING-AWS4-HMAC-SHA256-PAYLOAD}. */
    CHUNK_SIGNED(true, true, false),
    /** {@code STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER}. */
    CHUNK_SIGNED_TRAILER(true, true, true),
    /** {@code STREAMING-UNSIGNED-PAYLOAD-TRAILER}. */
    UNSIGNED_TRAILER(true, false, true);

    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-fA-F]{64}");

    final boolean chunked;
    final boolean signedChunks;
    final boolean trailer;

    PayloadForm(boolean chunked, boolean signedChunks, boolean trailer) {
        this.chunked = chunked;
        this.signedChunks = signedChunks;
        this.trailer = trailer;
    }

    /** The form a declared {@code x-amz-content-sha256} names; {@code 400 InvalidArgument} for anything else. */
    static PayloadForm of(Optional<String> declared) {
        if (declared.isEmpty()) {
            return UNSIGNED;
        }
        String value = declared.get();
        return switch (value) {
            case SigV4.UNSIGNED_PAYLOAD -> UNSIGNED;
            case SigV4.STREAMING_PAYLOAD -> CHUNK_SIGNED;
            case SigV4.STREAMING_PAYLOAD_TRAILER -> CHUNK_SIGNED_TRAILER;
            case SigV4.STREAMING_UNSIGNED_PAYLOAD_TRAILER -> UNSIGNED_TRAILER;
            default -> {
                if (SHA256_HEX.matcher(value).matches()) {
                    yield SIGNED_SHA256;
                }
                throw new S3Exception(S3Error.INVALID_ARGUMENT, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                        + SigV4.STREAMING_PAYLOAD + ", " + SigV4.STREAMING_PAYLOAD_TRAILER + ", "
                        + SigV4.STREAMING_UNSIGNED_PAYLOAD_TRAILER + " or a SHA-256 hex digest.");
            }
        };
    }
}
