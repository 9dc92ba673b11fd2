package dev.sluice.s3;

import java.time.Instant;

/** One object in a listing: key relative to what is being listed, size, modification time and quoted ETag. */
public record ObjectSummary(String key, long size, Instant lastModified, String etag) {
}
