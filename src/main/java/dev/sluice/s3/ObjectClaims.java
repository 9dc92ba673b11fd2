package dev.sluice.s3;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Function;

/**
 * What a CompleteMultipartUpload's headers say the finished object will be, as S3 reads them:
 * {@code x-amz-checksum-<algorithm>} is the object's checksum (not the request XML's),
 * {@code x-amz-checksum-type} the type the upload was started with, and
 * {@code x-amz-mp-object-size} the object's size. A store that keeps the upload's checksum
 * judges them before the object exists ({@link #check}); the s3 store sends them on to a backend
 * that started the upload with a checksum, and judges none itself (docs/writes.md,
 * "Multipart checksums").
 */
public record ObjectClaims(Optional<Claimed> checksum, Optional<String> type, OptionalLong size) {
    /** No claims: a completion that names none of the three headers. */
    public static final ObjectClaims NONE = new ObjectClaims(Optional.empty(), Optional.empty(), OptionalLong.empty());

    /** A claimed checksum: {@code crc32} and its base64 value as sent. */
    public record Claimed(String algorithm, String value) {
        public String headerName() {
            return "x-amz-checksum-" + algorithm;
        }
    }

    /**
     * The claims a completion's headers make. More than one checksum header, a type other than
     * {@code COMPOSITE} or {@code FULL_OBJECT}, or a size that is not a whole number of bytes is
     * {@code 400 InvalidRequest}.
     */
    public static ObjectClaims of(Function<String, Optional<String>> header) {
        List<Claimed> claimed = new ArrayList<>(1);
        for (String algorithm : MultipartChecksum.ALGORITHMS) {
            header.apply("x-amz-checksum-" + algorithm).ifPresent(v -> claimed.add(new Claimed(algorithm, v.strip())));
        }
        if (claimed.size() > 1) {
            throw new S3Exception(S3Error.INVALID_REQUEST, "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.");
        }
        Optional<String> type = header.apply("x-amz-checksum-type").map(v -> v.strip().toUpperCase(Locale.ROOT));
        if (type.isPresent() && !type.get().equals("COMPOSITE") && !type.get().equals("FULL_OBJECT")) {
            throw new S3Exception(S3Error.INVALID_REQUEST, "Value for x-amz-checksum-type header is invalid.");
        }
        OptionalLong size = OptionalLong.empty();
        Optional<String> sizeHeader = header.apply("x-amz-mp-object-size").map(String::strip);
        if (sizeHeader.isPresent()) {
            if (!sizeHeader.get().matches("[0-9]{1,18}")) {
                throw new S3Exception(S3Error.INVALID_REQUEST, "Value for x-amz-mp-object-size header is invalid.");
            }
            size = OptionalLong.of(Long.parseLong(sizeHeader.get()));
        }
        return claimed.isEmpty() && type.isEmpty() && size.isEmpty() ? NONE : new ObjectClaims(claimed.stream().findFirst(), type, size);
    }

    /**
     * Judges the claims against the object the parts make: the upload's checksum (if it was
     * started with one), the value computed for the object, and its size. A checksum or type
     * the upload was not started with is {@code 400 InvalidRequest} (there is nothing to check
     * it against), as is a size that differs; a checksum that differs is {@code 400 BadDigest}.
     * A composite value may be claimed with or without its {@code -<parts>} suffix.
     */
    public void check(Optional<MultipartChecksum> upload, Optional<String> computed, long objectSize) {
        checkAgainst(upload);
        if (checksum.isPresent() && computed.isEmpty()) {
            throw new S3Exception(S3Error.INVALID_REQUEST,
                    "The upload was created without a checksum; " + checksum.get().headerName() + " cannot be checked.");
        }
        if (size.isPresent() && size.getAsLong() != objectSize) {
            throw new S3Exception(S3Error.INVALID_REQUEST, "The provided 'x-amz-mp-object-size' header value " + size.getAsLong()
                    + " does not match what was computed: " + objectSize);
        }
        if (checksum.isPresent() && !matches(checksum.get().value(), computed.get())) {
            throw new S3Exception(S3Error.BAD_DIGEST,
                    "The " + checksum.get().headerName() + " you specified did not match the calculated checksum.");
        }
    }

    /**
     * What of {@link #check} needs only the upload's checksum: a type or an algorithm other than
     * the upload's, or either claimed of an upload started without one, is {@code 400
     * InvalidRequest}. A store that leaves the rest to its backend judges this much first.
     */
    public void checkAgainst(Optional<MultipartChecksum> upload) {
        if (type.isPresent() && !type.equals(upload.map(MultipartChecksum::type))) {
            throw new S3Exception(S3Error.INVALID_REQUEST, upload.map(u -> "The upload was created using the " + u.type()
                            + " checksum mode. The complete request must use the same checksum mode.")
                    .orElse("The upload was created without a checksum; x-amz-checksum-type cannot be checked."));
        }
        if (checksum.isPresent()) {
            Claimed c = checksum.get();
            if (upload.isEmpty()) {
                throw new S3Exception(S3Error.INVALID_REQUEST,
                        "The upload was created without a checksum; " + c.headerName() + " cannot be checked.");
            }
            if (!upload.get().algorithm().equals(c.algorithm())) {
                throw new S3Exception(S3Error.INVALID_REQUEST, "The upload was created using the " + upload.get().algorithm()
                        + " checksum algorithm. The complete request must use the same checksum algorithm.");
            }
        }
    }

    /** Whether {@code claimed} is {@code computed}'s value: the same bytes, and the same part count if it names one. */
    private static boolean matches(String claimed, String computed) {
        int dash = computed.indexOf('-');
        String computedValue = dash < 0 ? computed : computed.substring(0, dash);
        int claimedDash = claimed.indexOf('-');
        if (claimedDash >= 0 && (dash < 0 || !claimed.substring(claimedDash).equals(computed.substring(dash)))) {
            return false;
        }
        String claimedValue = claimedDash < 0 ? claimed : claimed.substring(0, claimedDash);
        try {
            return MessageDigest.isEqual(Base64.getDecoder().decode(claimedValue), Base64.getDecoder().decode(computedValue));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
