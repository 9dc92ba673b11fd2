package dev.sluice.backend;

import dev.sluice.s3.MultipartChecksum;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;

import java.util.Map;
import java.util.Optional;

/**
 * What the s3 store calls an upload: the backend's upload id, and the checksum the backend
 * said it started the upload with, if any ({@code docs/writes.md}, "Multipart checksums").
 * Sluice seals this id before a client sees it ({@code UploadIds}), so every instance of a
 * fleet knows from the id alone whether a part must carry the upload's checksum: S3 refuses
 * a part's checksum on an upload started without one and a part without it on an upload
 * started with one.
 *
 * <p>An upload without a checksum is the backend's id as it is, which is also what ids of
 * uploads started before this form existed are. One with a checksum is
 * {@code <algorithm> <TYPE>\n<backend id>}: no S3 upload id holds a line feed.
 */
record S3UploadId(String backendId, Optional<MultipartChecksum> checksum) {

    /** The store's id: what {@link #parse} reads back. */
    String storeId() {
        return checksum.map(c -> c.algorithm() + " " + c.type() + "\n" + backendId).orElse(backendId);
    }

    /** The id a store id names; {@code 404 NoSuchUpload} for one this class did not make. */
    static S3UploadId parse(String storeId) {
        int newline = storeId.indexOf('\n');
        if (newline < 0) {
            return new S3UploadId(storeId, Optional.empty());
        }
        String[] named = storeId.substring(0, newline).split(" ", -1);
        if (named.length != 2 || newline + 1 == storeId.length()) {
            throw new S3Exception(S3Error.NO_SUCH_UPLOAD);
        }
        Map<String, String> asked = Map.of("x-amz-checksum-algorithm", named[0], "x-amz-checksum-type", named[1]);
        Optional<MultipartChecksum> checksum;
        try {
            checksum = MultipartChecksum.of(name -> Optional.ofNullable(asked.get(name)));
        } catch (S3Exception notOne) {
            throw new S3Exception(S3Error.NO_SUCH_UPLOAD);
        }
        return new S3UploadId(storeId.substring(newline + 1), checksum);
    }
}
