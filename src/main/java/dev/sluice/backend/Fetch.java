package dev.sluice.backend;

import dev.sluice.s3.ByteRange;
import dev.sluice.s3.Preconditions;
import dev.sluice.s3.ReadDecision;

import java.util.Optional;

/**
 * What a backend may use, when it opens an object, to avoid fetching bytes the answer will not
 * carry. Hints only: whatever the store does with them, {@link ReadDecision} decides the answer
 * from the object's metadata.
 *
 * @param range      the bytes a GET will most likely send; empty for the whole object
 * @param conditions the request's conditions, which a remote store may apply itself
 * @param headOnly   no bytes are wanted (a HEAD, or a part that does not exist)
 */
public record Fetch(Optional<ByteRange.Spec> range, Preconditions conditions, boolean headOnly) {

    /**
     * The hints for a read: a HEAD fetches no range (the decision answers its Range from the
     * size), and {@code ?partNumber=1} fetches the whole object, which is that part.
     */
    public static Fetch of(ReadDecision.Request request) {
        boolean headOnly = request.wantsNoBytes();
        Optional<ByteRange.Spec> range = headOnly || request.partNumber().isPresent() ? Optional.empty() : request.range();
        return new Fetch(range, request.preconditions(), headOnly);
    }
}
