package dev.sluice.backend;

import java.util.Optional;

/**
 * A conditional write, as S3 takes it: {@code If-None-Match: *} creates the object only if no
 * object has the key ({@code createOnly}); {@code If-Match: "etag"} replaces only the object
 * that has that ETag. Either failing is {@code 412 PreconditionFailed}, and nothing is written.
 * A backend applies the condition atomically with the write: two creators racing on one key
 * never both succeed.
 */
public record WriteCondition(boolean createOnly, Optional<String> ifMatch) {
    public static final WriteCondition NONE = new WriteCondition(false, Optional.empty());
}
