package dev.sluice.backend;

import java.util.List;
import java.util.Map;

/**
 * What a write stores with an object besides its bytes, and what a GET or HEAD of it sends back
 * ({@link dev.sluice.s3.ObjectMeta#stored()}): {@code Content-Type}, {@code Content-Encoding},
 * {@code Content-Disposition}, {@code Content-Language}, {@code Cache-Control},
 * {@code Expires} and {@code x-amz-meta-*} (names lower-case), as the client sent them.
 * Checksums are not attributes: a store keeps those the {@link Upload} verified.
 */
public record ObjectAttributes(List<Map.Entry<String, String>> headers) {
    public static final ObjectAttributes NONE = new ObjectAttributes(List.of());

    public ObjectAttributes {
        headers = List.copyOf(headers);
    }
}
