package dev.sluice.backend;

import dev.sluice.s3.ByteRange;
import dev.sluice.s3.Preconditions;

import java.util.Optional;

/** A read of one object: key relative to the product root, the range and conditions the client sent. */
public record ObjectRead(String key, Optional<ByteRange.Spec> range, Preconditions preconditions,
                         boolean headOnly, String requestId) {
}
