package dev.sluice.backend;

import dev.sluice.s3.ByteRange;
import dev.sluice.s3.ObjectMeta;

/**
 * One object as a backend opened it: its metadata, and its bytes on demand. The reader asks
 * for {@link #body} at most once, after {@link dev.sluice.s3.ReadDecision} has decided which
 * bytes the answer sends, and closes the object in any case.
 */
public interface StoredObject extends AutoCloseable {

    ObjectMeta meta();

    /**
     * The bytes {@code range} names ({@code 0..size-1} for all of them), positioned at its first
     * byte; the body then belongs to the caller, who closes it.
     */
    ObjectBody body(ByteRange range);

    /** Releases what {@link #body} was not asked to take (an unread response is aborted). */
    @Override
    void close();
}
