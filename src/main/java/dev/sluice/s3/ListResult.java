package dev.sluice.s3;

import java.util.List;
import java.util.Optional;

/**
 * A page of a listing as the client will see it: keys and common prefixes are full keys
 * within the account ({@code {product}/{key}}). {@code nextToken} is the opaque V2
 * continuation token; {@code nextMarker} is the V1 marker (the last key or prefix returned).
 */
public record ListResult(List<ObjectSummary> contents, List<String> commonPrefixes, boolean truncated,
                         Optional<String> nextToken, Optional<String> nextMarker) {
}
