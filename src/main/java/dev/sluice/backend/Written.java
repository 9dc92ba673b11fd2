package dev.sluice.backend;

import java.util.List;
import java.util.Map;

/**
 * What a store answers a completed write (an object, a part, a completed multipart upload, a
 * copy): the ETag clients are shown (quoted, as S3 sends it: the MD5 of a single-part object,
 * {@code "<md5 of the parts' md5s>-N"} for a multipart one) and the checksums it stored
 * ({@code x-amz-checksum-*} name and base64 value), which the response repeats.
 */
public record Written(String etag, List<Map.Entry<String, String>> checksums) {
    public Written {
        checksums = List.copyOf(checksums);
    }

    public Written(String etag) {
        this(etag, List.of());
    }
}
