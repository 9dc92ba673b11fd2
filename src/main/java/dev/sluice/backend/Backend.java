package dev.sluice.backend;

import dev.sluice.s3.MultipartChecksum;
import dev.sluice.s3.ObjectClaims;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;

import java.util.List;
import java.util.Optional;

/**
 * An object store holding one product's bytes. Keys are relative to the product's root (a
 * directory, or a bucket plus prefix). A backend fetches an object's metadata and bytes and a
 * page of keys; what a GET or HEAD answers (conditions, ranges, part numbers, which headers) is
 * {@link dev.sluice.s3.ReadDecision}'s, the same for every backend ({@link ObjectResponse#read}).
 * Implementations answer every failure with an {@link dev.sluice.s3.S3Exception} and bound
 * every wait.
 *
 * <p>Writes ({@code docs/writes.md}) are the store's too: an object becomes visible whole or not
 * at all, only after its {@link Upload} was read to the end (which is when every integrity
 * check has passed), and a {@link WriteCondition} holds atomically with the write. Who may
 * write, sealing upload ids and S3's limits are the server's; a backend sees only keys, its
 * own upload ids and checked bodies. A backend that does not store answers every write
 * {@code 501 NotImplemented}.
 */
public interface Backend extends AutoCloseable {

    /**
     * Opens the object at {@code key}: its metadata now, its bytes when asked. {@code fetch}
     * says what the read will most likely need, so a remote store can be asked once for just
     * that. A missing object is {@code NoSuchKey}.
     */
    StoredObject open(String key, Fetch fetch);

    /** One page of keys under {@code query.prefix()}. */
    ListPage list(ListQuery query);

    /** Where the bytes live, for logs (no credentials). */
    String describe();

    /**
     * Whether a read of this store waits on nothing but the local disk, so that the server may
     * answer it on the thread that parsed the request, as nginx serves a file (docs/operations.md,
     * "Threads"). A store reached over the network never does.
     */
    default boolean readsLocally() {
        return false;
    }

    /**
     * Whether {@link #openWithoutWaiting} may be called: the store is remote, and the thread that
     * parsed the request can send the read and go on, the answer sent from the thread that reads
     * the store's response (docs/operations.md, "Threads").
     */
    default boolean opensWithoutWaiting() {
        return false;
    }

    /**
     * {@link #open} without blocking the caller: the future completes, within the store's
     * deadline, with the object or its {@link dev.sluice.s3.S3Exception}. An object whose body
     * is at most {@code bodyMax} bytes comes with it in memory. Only where
     * {@link #opensWithoutWaiting}.
     */
    default java.util.concurrent.CompletableFuture<StoredObject> openWithoutWaiting(String key, Fetch fetch, int bodyMax) {
        throw new UnsupportedOperationException(describe() + " does not open without waiting");
    }

    /**
     * Stores {@code body} at {@code key} with {@code attributes}, replacing any object there
     * unless {@code condition} says otherwise ({@code 412 PreconditionFailed}, nothing
     * written). A body that fails a check leaves the previous object, if any, as it was.
     */
    default Written put(String key, Upload body, ObjectAttributes attributes, WriteCondition condition) {
        throw notStored();
    }

    /**
     * Whether this store needs the body's MD5 ({@link Upload#md5Hex()}) to store an object: a
     * store that gives an object its MD5 as ETag itself (a directory) does; one whose server
     * computes the ETag (S3) does not, and the body is then not hashed with MD5 a second time
     * unless the client sent {@code Content-MD5} (docs/writes.md, "Integrity").
     */
    default boolean needsBodyMd5() {
        return true;
    }

    /** Removes the object at {@code key}; a missing object is not an error (S3 answers 204 either way). */
    default void delete(String key) {
        throw notStored();
    }

    /**
     * Copies the object at {@code sourceKey} to {@code targetKey} inside this store, keeping its
     * attributes, or replacing them with {@code replaced} ({@code x-amz-metadata-directive:
     * REPLACE}). A missing source is {@code NoSuchKey}.
     */
    default Written copy(String sourceKey, String targetKey, Optional<ObjectAttributes> replaced, WriteCondition condition) {
        throw notStored();
    }

    /** Starts a multipart upload for {@code key}; answers the store's own upload id. */
    default String startUpload(String key, ObjectAttributes attributes) {
        throw notStored();
    }

    /**
     * Starts a multipart upload whose parts and object carry {@code checksum}, if one is named.
     * A store that keeps no checksum for a multipart object starts it as without one (the s3
     * store on a backend that does not keep it: docs/writes.md, "Multipart checksums").
     */
    default String startUpload(String key, ObjectAttributes attributes, Optional<MultipartChecksum> checksum) {
        return startUpload(key, attributes);
    }

    /**
     * Stores one part (1 to 10,000) of an upload, replacing a part with the same number. An
     * upload this store does not hold for {@code key} is {@code NoSuchUpload}.
     */
    default Written uploadPart(String key, String uploadId, int partNumber, Upload body) {
        throw notStored();
    }

    /**
     * Makes the object from the listed parts, in the order given (already checked ascending by
     * the server), and ends the upload. A part missing or with another ETag is
     * {@code InvalidPart}; a part other than the last smaller than 5 MiB is
     * {@code EntityTooSmall}. Nothing is visible until the object is whole.
     */
    default Written completeUpload(String key, String uploadId, List<Multipart.PartRef> parts, WriteCondition condition) {
        throw notStored();
    }

    /**
     * Completes as above, after judging what the request {@code claims} the object will be
     * against the upload's kept checksum and the parts' sizes ({@link ObjectClaims#check}). A
     * store that keeps no checksum for a multipart object completes it as without claims (the
     * s3 store sends them to a backend that keeps the upload's checksum, to judge: docs/writes.md,
     * "Multipart checksums").
     */
    default Written completeUpload(String key, String uploadId, List<Multipart.PartRef> parts, ObjectClaims claims,
                                   WriteCondition condition) {
        return completeUpload(key, uploadId, parts, condition);
    }

    /** Ends an upload and discards its parts; an upload the store does not hold is {@code NoSuchUpload}. */
    default void abortUpload(String key, String uploadId) {
        throw notStored();
    }

    /** The parts of an upload in progress after part {@code marker} (0 for the start), at most {@code max}. */
    default Multipart.PartsPage listParts(String key, String uploadId, int marker, int max) {
        throw notStored();
    }

    /**
     * Uploads in progress whose key starts with {@code prefix}, after {@code after} (key and
     * upload id of the last one a previous page listed), at most {@code max}.
     */
    default Multipart.UploadsPage listUploads(String prefix, Optional<Multipart.InProgress> after, int max) {
        throw notStored();
    }

    @Override
    default void close() {
    }

    private S3Exception notStored() {
        return new S3Exception(S3Error.NOT_IMPLEMENTED, "This product's store does not accept writes.");
    }
}
