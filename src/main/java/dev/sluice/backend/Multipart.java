package dev.sluice.backend;

import dev.sluice.s3.MultipartChecksum;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The values multipart uploads pass between the server and a {@link Backend}. */
public final class Multipart {
    private Multipart() {
    }

    /**
     * A part the client lists in CompleteMultipartUpload: its number, the ETag it was answered,
     * and the checksums it lists for it ({@code x-amz-checksum-crc32} → base64 value).
     */
    public record PartRef(int partNumber, String etag, Map<String, String> checksums) {
        public PartRef {
            checksums = Map.copyOf(checksums);
        }

        public PartRef(int partNumber, String etag) {
            this(partNumber, etag, Map.of());
        }
    }

    /** A part a store holds for an upload in progress (ListParts), with the checksum kept for it, if any. */
    public record Part(int partNumber, String etag, long size, Instant lastModified, List<Map.Entry<String, String>> checksums) {
        public Part {
            checksums = List.copyOf(checksums);
        }

        public Part(int partNumber, String etag, long size, Instant lastModified) {
            this(partNumber, etag, size, lastModified, List.of());
        }
    }

    /**
     * One page of ListParts: parts after the marker in number order; {@code next} is the marker
     * for the next page; {@code checksum}, the one the upload was started with, where the store
     * keeps it.
     */
    public record PartsPage(List<Part> parts, Optional<Integer> next, Optional<MultipartChecksum> checksum) {
        public PartsPage {
            parts = List.copyOf(parts);
        }

        public PartsPage(List<Part> parts, Optional<Integer> next) {
            this(parts, next, Optional.empty());
        }
    }

    /**
     * An upload in progress (ListMultipartUploads), with the backend's own upload id and the
     * checksum it was started with, where the store says.
     */
    public record InProgress(String key, String uploadId, Instant initiated, Optional<MultipartChecksum> checksum) {
        public InProgress(String key, String uploadId, Instant initiated) {
            this(key, uploadId, initiated, Optional.empty());
        }
    }

    /**
     * One page of ListMultipartUploads in key, then initiation, order; {@code next} names the
     * last upload listed when more follow.
     */
    public record UploadsPage(List<InProgress> uploads, Optional<InProgress> next) {
        public UploadsPage {
            uploads = List.copyOf(uploads);
        }
    }
}
