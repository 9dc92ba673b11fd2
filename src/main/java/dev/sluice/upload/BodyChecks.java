package dev.sluice.upload;

import dev.sluice.backend.Upload;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;

import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The digests a body is checked against, computed as its bytes pass: its MD5 when asked for (the ETag a
 * directory store gives it), and whichever the client declared: the signed {@code x-amz-content-sha256},
 * {@code Content-MD5}, one {@code x-amz-checksum-*} (as a header, as a trailer, or only named by
 * {@code x-amz-sdk-checksum-algorithm}, which S3 then computes and keeps). Each digest is fed
 * whole reads, never a byte at a time.
 *
 * <p>Checked in this order once the last byte is in, each with S3's answer:
 * {@code XAmzContentSHA256Mismatch}, then {@code BadDigest} "The Content-MD5 you specified did not
 * match what we received.", then {@code BadDigest} "The CRC32 you specified did not match the
 * calculated checksum." (with the algorithm's name).
 */
final class BodyChecks {
    private static final HexFormat HEX = HexFormat.of();

    private final MessageDigest md5;
    private final Optional<byte[]> sha256;
    private final MessageDigest sha256Digest;
    private final Optional<byte[]> contentMd5;
    private final Optional<ChecksumAlgorithm> algorithm;
    private final ChecksumAlgorithm.Running checksum;
    private final Optional<byte[]> headerChecksum;
    private final boolean trailerChecksum;

    private String md5Hex;
    private List<Map.Entry<String, String>> verified;

    /**
     * @param sha256 the hex SHA-256 the request signed, if any
     * @param contentMd5 the decoded {@code Content-MD5}, if any
     * @param algorithm the checksum to compute, if any
     * @param headerChecksum its value from a header, if it came as one
     * @param trailerChecksum whether its value comes as a trailer
     * @param md5 whether to compute the body's MD5 (needed when {@code contentMd5} is present)
     */
    BodyChecks(Optional<String> sha256, Optional<byte[]> contentMd5, Optional<ChecksumAlgorithm> algorithm,
            Optional<byte[]> headerChecksum, boolean trailerChecksum, boolean md5) {
        this.md5 = md5 || contentMd5.isPresent() ? ChecksumAlgorithm.messageDigest("MD5") : null;
        this.sha256 = sha256.map(HEX::parseHex);
        this.sha256Digest = sha256.isPresent() ? ChecksumAlgorithm.messageDigest("SHA-256") : null;
        this.contentMd5 = contentMd5;
        this.algorithm = algorithm;
        this.checksum = algorithm.map(ChecksumAlgorithm::start).orElse(null);
        this.headerChecksum = headerChecksum;
        this.trailerChecksum = trailerChecksum;
    }

    /** Nothing declared: the MD5 only (bytes sluice copies from a store). */
    static BodyChecks none() {
        return new BodyChecks(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), false, true);
    }

    void update(byte[] b, int off, int len) {
        if (md5 != null) {
            md5.update(b, off, len);
        }
        if (sha256Digest != null) {
            sha256Digest.update(b, off, len);
        }
        if (checksum != null) {
            checksum.update(b, off, len);
        }
    }

    /** Compares every digest once all bytes have passed; the first that differs is thrown. */
    void verify(Optional<BodySource.Trailer> trailer) {
        byte[] md5Value = md5 == null ? null : md5.digest();
        if (sha256.isPresent() && !MessageDigest.isEqual(sha256.get(), sha256Digest.digest())) {
            throw new S3Exception(S3Error.CONTENT_SHA256_MISMATCH);
        }
        if (contentMd5.isPresent() && !MessageDigest.isEqual(contentMd5.get(), md5Value)) {
            throw new S3Exception(S3Error.BAD_DIGEST, "The Content-MD5 you specified did not match what we received.");
        }
        List<Map.Entry<String, String>> checksums = List.of();
        if (algorithm.isPresent()) {
            ChecksumAlgorithm a = algorithm.get();
            byte[] computed = checksum.value();
            Optional<byte[]> expected = headerChecksum;
            if (trailerChecksum) {
                BodySource.Trailer sent = trailer.filter(t -> t.algorithm() == a)
                        .orElseThrow(() -> new S3Exception(S3Error.MALFORMED_TRAILER));
                expected = Optional.of(a.decode(sent.value()).orElseThrow(() -> new S3Exception(S3Error.INVALID_REQUEST,
                        "Value for " + a.headerName() + " trailing header is invalid.")));
            }
            if (expected.isPresent() && !MessageDigest.isEqual(expected.get(), computed)) {
                throw new S3Exception(S3Error.BAD_DIGEST,
                        "The " + a.name() + " you specified did not match the calculated checksum.");
            }
            checksums = List.of(Map.entry(a.headerName(), Base64.getEncoder().encodeToString(computed)));
        }
        md5Hex = md5Value == null ? null : HEX.formatHex(md5Value);
        verified = checksums;
    }

    /** The hex MD5; only after {@link #verify} passed, and null when it was not computed. */
    String md5Hex() {
        return md5Hex;
    }

    /** The checksums verified (or computed on request), as header name and base64 value; after {@link #verify}. */
    List<Map.Entry<String, String>> verified() {
        return verified;
    }

    /** The checksum whose value only the end brings (a trailer's, or one computed on request). */
    Optional<Upload.PendingChecksum> pending() {
        return algorithm.filter(a -> headerChecksum.isEmpty()).map(ChecksumAlgorithm::pending);
    }

    /** Before the end: the checksum a header declared, which the end will hold the bytes to. */
    List<Map.Entry<String, String>> declared() {
        if (algorithm.isPresent() && headerChecksum.isPresent()) {
            return List.of(Map.entry(algorithm.get().headerName(), Base64.getEncoder().encodeToString(headerChecksum.get())));
        }
        return List.of();
    }
}
