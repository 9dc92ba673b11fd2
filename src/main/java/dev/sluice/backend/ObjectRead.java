package dev.sluice.backend;

import dev.sluice.s3.ByteRange;
import dev.sluice.s3.Preconditions;
import dev.sluice.s3.ReadDecision;
import dev.sluice.s3.ResponseOverrides;

import java.util.Optional;

/** A read of one object: key relative to the product root, and what the client asked of it. */
public record ObjectRead(String key, ReadDecision.Request request, String requestId) {

    /** A GET or HEAD without part number or overrides. */
    public ObjectRead(String key, Optional<ByteRange.Spec> range, Preconditions preconditions, boolean headOnly,
                      String requestId) {
        this(key, new ReadDecision.Request(range, Optional.empty(), preconditions, headOnly, ResponseOverrides.NONE),
                requestId);
    }
}
