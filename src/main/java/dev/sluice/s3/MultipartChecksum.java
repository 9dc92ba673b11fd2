package dev.sluice.s3;

import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The checksum a multipart upload was started with ({@code x-amz-checksum-algorithm} and
 * {@code x-amz-checksum-type} on CreateMultipartUpload), which every part then carries and the
 * completed object keeps: {@code COMPOSITE} (the checksum of the parts' checksums, shown as
 * {@code <base64>-<number of parts>}) or {@code FULL_OBJECT} (the CRC of the whole object,
 * combined from the parts' CRCs). As S3: the type defaults to {@code FULL_OBJECT} for CRC64NVME
 * and to {@code COMPOSITE} for the others; CRC64NVME is never composite and SHA-1 and SHA-256
 * are never full-object (docs/writes.md, "Multipart checksums").
 *
 * @param algorithm {@code crc32}, {@code crc32c}, {@code crc64nvme}, {@code sha1} or {@code sha256}
 */
public record MultipartChecksum(String algorithm, boolean fullObject) {
    /** The algorithms S3 knows, by the names their headers end in. */
    public static final List<String> ALGORITHMS = List.of("crc32", "crc32c", "crc64nvme", "sha1", "sha256");

    /** {@code x-amz-checksum-crc32}: the name the parts' and the object's checksum go by. */
    public String headerName() {
        return "x-amz-checksum-" + algorithm;
    }

    /**
     * {@code crc64nvme} → {@code ChecksumCRC64NVME}: the element S3's XML documents name the
     * checksum of {@code algorithm} (one of {@link #ALGORITHMS}) with.
     */
    public static String element(String algorithm) {
        return "Checksum" + algorithm.toUpperCase(Locale.ROOT);
    }

    /** {@code COMPOSITE} or {@code FULL_OBJECT}, as {@code x-amz-checksum-type} says it. */
    public String type() {
        return fullObject ? "FULL_OBJECT" : "COMPOSITE";
    }

    /**
     * Refuses a part of an upload with this checksum that does not carry it, as S3 refuses it
     * ({@code 400 InvalidRequest}): {@code carried} are the names of the checksums the part
     * declares ({@code x-amz-checksum-crc32}), in a header or a trailer, lower case.
     */
    public void checkCarried(Collection<String> carried) {
        if (carried.contains(headerName())) {
            return;
        }
        if (!carried.isEmpty()) {
            String other = carried.iterator().next().substring("x-amz-checksum-".length());
            throw new S3Exception(S3Error.INVALID_REQUEST, "Checksum Type mismatch occurred, expected checksum Type: "
                    + algorithm + ", actual checksum Type: " + other);
        }
        throw new S3Exception(S3Error.INVALID_REQUEST, "The upload was created using a " + algorithm
                + " checksum. The part must carry its " + headerName() + ".");
    }

    /**
     * Refuses a CompleteMultipartUpload that lists part {@code partNumber} of a composite upload
     * without its checksum ({@code listed}: the part's {@code Checksum<ALGORITHM>} elements by
     * header name), as S3 does ({@code 400 InvalidRequest}); a full-object upload may leave them out.
     */
    public void checkListed(int partNumber, Map<String, String> listed) {
        if (!fullObject && !listed.containsKey(headerName())) {
            throw new S3Exception(S3Error.INVALID_REQUEST, "The upload was created using a " + algorithm
                    + " checksum. The complete request must include the checksum for each part. It was missing for part "
                    + partNumber + " in the request.");
        }
    }

    /**
     * The checksum a CreateMultipartUpload's headers ask for, if any: none without
     * {@code x-amz-checksum-algorithm}; {@code 400 InvalidRequest} for an algorithm or type S3
     * does not know, a type without an algorithm, or a type the algorithm cannot have.
     */
    public static Optional<MultipartChecksum> of(Function<String, Optional<String>> header) {
        Optional<String> algorithm = header.apply("x-amz-checksum-algorithm").map(v -> v.strip().toLowerCase(Locale.ROOT));
        Optional<String> type = header.apply("x-amz-checksum-type").map(v -> v.strip().toUpperCase(Locale.ROOT));
        if (algorithm.isEmpty()) {
            if (type.isPresent()) {
                throw new S3Exception(S3Error.INVALID_REQUEST,
                        "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.");
            }
            return Optional.empty();
        }
        String a = algorithm.get();
        if (!ALGORITHMS.contains(a)) {
            throw new S3Exception(S3Error.INVALID_REQUEST, "Checksum algorithm provided is unsupported. "
                    + "Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]");
        }
        boolean crc = a.startsWith("crc");
        boolean fullObject = switch (type.orElse(a.equals("crc64nvme") ? "FULL_OBJECT" : "COMPOSITE")) {
            case "FULL_OBJECT" -> true;
            case "COMPOSITE" -> false;
            default -> throw new S3Exception(S3Error.INVALID_REQUEST, "Value for x-amz-checksum-type header is invalid.");
        };
        if (fullObject && !crc) {
            throw new S3Exception(S3Error.INVALID_REQUEST,
                    "The FULL_OBJECT checksum type cannot be used with the " + a + " checksum algorithm.");
        }
        if (!fullObject && a.equals("crc64nvme")) {
            throw new S3Exception(S3Error.INVALID_REQUEST,
                    "The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.");
        }
        return Optional.of(new MultipartChecksum(a, fullObject));
    }
}
