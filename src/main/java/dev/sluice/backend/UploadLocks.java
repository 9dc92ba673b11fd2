package dev.sluice.backend;

import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.LoadingCache;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One lock per multipart upload, for the operations that end one (complete, abort), each
 * waited for with a deadline ({@code docs/writes.md}, "Completing a large upload, or copying
 * one"). A completion holds its upload's lock while it copies every part, which can take
 * minutes; a retried completion waits for it and then gets its answer, an abort waits a
 * little, and neither waits past its deadline: then {@code 409 OperationAborted}, S3's answer
 * when a conflicting operation on the same resource is in progress. Uploads never share a lock
 * (a lock lives while someone holds or waits for it), so one upload's long completion does
 * not hold up another's.
 */
final class UploadLocks {
    /** Held until closed. */
    interface Held extends AutoCloseable {
        @Override
        void close();
    }

    private final LoadingCache<String, ReentrantLock> locks = Caffeine.newBuilder().weakValues().build(id -> new ReentrantLock());

    /**
     * Holds {@code uploadId}'s lock, waiting at most {@code wait} for whoever holds it;
     * {@code what} ends the message of the {@code OperationAborted} that follows a wait in vain.
     */
    Held hold(String uploadId, Duration wait, String what) {
        ReentrantLock lock = locks.get(uploadId);
        boolean held;
        try {
            held = lock.tryLock(wait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new S3Exception(S3Error.OPERATION_ABORTED, "Interrupted while waiting to " + what + ".");
        }
        if (!held) {
            throw new S3Exception(S3Error.OPERATION_ABORTED,
                    "Another operation on this upload is still in progress after " + wait.toSeconds() + " s; try again to " + what + ".");
        }
        return lock::unlock;
    }

    /** How many threads wait for {@code uploadId}'s lock (tests). */
    int waiting(String uploadId) {
        ReentrantLock lock = locks.getIfPresent(uploadId);
        return lock == null ? 0 : lock.getQueueLength();
    }
}
