package dev.sluice.backend;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.s3.ObjectMeta;
import dev.sluice.s3.ObjectSummary;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A GCS object resource (the JSON API's {@code storage#object}) read as S3 presents an object
 * ({@code docs/gcs.md}, "What S3 behaviour is matched"):
 *
 * <ul>
 *   <li>ETag: the hex MD5 from {@code md5Hash}, quoted, as S3 gives a single-part object.
 *       A composite object has no MD5; its ETag is {@code "gcs-<generation>"}: stable while
 *       the object is unchanged, new whenever it is rewritten (every write makes a new
 *       generation), and never mistaken for an MD5 by a client that checks downloads.</li>
 *   <li>Last-Modified: {@code updated}.</li>
 *   <li>{@code contentType}, {@code contentEncoding}, {@code cacheControl},
 *       {@code contentDisposition}, {@code contentLanguage} as those headers, and each
 *       {@code metadata} entry as {@code x-amz-meta-<key>} (key in lower case, as S3 keeps
 *       metadata names).</li>
 * </ul>
 */
record GcsObjectResource(String name, long generation, long size, String etag, Instant updated,
                         List<Map.Entry<String, String>> stored) {

    /** Reads {@code resource}; throws {@link IllegalArgumentException} when a field GCS always sends is missing or malformed. */
    static GcsObjectResource of(JsonNode resource) {
        String name = required(resource, "name");
        long generation;
        long size;
        Instant updated;
        try {
            generation = Long.parseLong(required(resource, "generation"));
            size = Long.parseLong(required(resource, "size"));
            updated = Instant.parse(required(resource, "updated"));
        } catch (NumberFormatException | DateTimeParseException e) {
            throw new IllegalArgumentException("object " + name + " has a generation, size or updated time that does not parse", e);
        }
        if (size < 0) {
            throw new IllegalArgumentException("object " + name + " has a negative size");
        }
        String etag = text(resource, "md5Hash").map(GcsObjectResource::hexMd5)
                .map(hex -> "\"" + hex + "\"")
                .orElse("\"gcs-" + generation + "\"");
        List<Map.Entry<String, String>> stored = new ArrayList<>();
        text(resource, "contentType").ifPresent(v -> stored.add(Map.entry("Content-Type", v)));
        text(resource, "contentEncoding").ifPresent(v -> stored.add(Map.entry("Content-Encoding", v)));
        text(resource, "contentDisposition").ifPresent(v -> stored.add(Map.entry("Content-Disposition", v)));
        text(resource, "contentLanguage").ifPresent(v -> stored.add(Map.entry("Content-Language", v)));
        text(resource, "cacheControl").ifPresent(v -> stored.add(Map.entry("Cache-Control", v)));
        JsonNode metadata = resource.path("metadata");
        for (Iterator<Map.Entry<String, JsonNode>> it = metadata.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            stored.add(Map.entry("x-amz-meta-" + e.getKey().toLowerCase(Locale.ROOT), e.getValue().asText()));
        }
        return new GcsObjectResource(name, generation, size, etag, updated, List.copyOf(stored));
    }

    ObjectMeta meta() {
        return new ObjectMeta(Optional.of(etag), List.of(), Optional.of(updated), OptionalLong.of(size), stored);
    }

    ObjectSummary summary(String key) {
        return new ObjectSummary(key, size, updated, etag);
    }

    private static String hexMd5(String base64) {
        byte[] md5;
        try {
            md5 = Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("md5Hash is not base64", e);
        }
        if (md5.length != 16) {
            throw new IllegalArgumentException("md5Hash is not 16 bytes");
        }
        return HexFormat.of().formatHex(md5);
    }

    private static String required(JsonNode node, String field) {
        return text(node, field).orElseThrow(() -> new IllegalArgumentException("object resource without " + field));
    }

    private static Optional<String> text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() || !v.isValueNode() ? Optional.empty() : Optional.of(v.asText());
    }
}
