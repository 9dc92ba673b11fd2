package dev.sluice.s3;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What a store says about one object, which is all {@link ReadDecision} needs to answer a GET
 * or HEAD of it: its validators, its size and the headers stored with it.
 *
 * @param etag            the ETag clients are shown, quoted; absent when the store did not say
 * @param alsoAnswersTo   further strong ETags naming the same unchanged object, matched by
 *                        {@code If-Match}/{@code If-None-Match} but never shown (a file's
 *                        provisional tag once its content hash is known, see
 *                        {@code docs/behaviour.md}, "File backend ETags")
 * @param lastModified    when the object last changed; absent when the store did not say
 * @param size            the object's length in bytes; unknown only when the store itself already
 *                        answered "not modified" to the conditions it was given (a 304)
 * @param stored          headers kept with the object and sent with it: {@code Content-Type},
 *                        {@code Content-Encoding}, {@code Content-Disposition},
 *                        {@code Content-Language}, {@code Cache-Control}, {@code Expires},
 *                        {@code x-amz-meta-*}; never validators, lengths or ranges
 */
public record ObjectMeta(Optional<String> etag, List<String> alsoAnswersTo, Optional<Instant> lastModified,
                         OptionalLong size, List<Map.Entry<String, String>> stored) {

    public ObjectMeta {
        alsoAnswersTo = List.copyOf(alsoAnswersTo);
        stored = List.copyOf(stored);
    }

    /** Every ETag the object answers to, the shown one first. */
    public List<String> etags() {
        List<String> all = new ArrayList<>(1 + alsoAnswersTo.size());
        etag.ifPresent(all::add);
        all.addAll(alsoAnswersTo);
        return all;
    }
}
