package dev.sluice.backend;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The writes of a {@link FileBackend}: PutObject, CopyObject and DeleteObject on a directory,
 * and the commit step multipart uploads share ({@code docs/writes.md}, "File backend").
 *
 * <p><b>Nothing half-written is visible.</b> A body is streamed into a temporary file in the
 * target's directory (a reserved name, {@link ReservedNames}), through one buffer, and forced
 * to disk; only once the body's stream has ended (every integrity check passed,
 * {@link Upload}) is it renamed over the key, and the directory forced. A failure before
 * that (a failed check, a client gone, a full disk) deletes the temporary file and leaves the
 * earlier object as it was. A sidecar with the object's attributes goes in place before the
 * rename ({@link FileSidecars} says why that order is safe).
 *
 * <p><b>Conditions.</b> {@code If-None-Match: *} links the finished file to the key
 * ({@code link(2)} fails if the key exists), so of two creators racing, on this instance or
 * on another sharing the directory, exactly one wins and the other is {@code 412}. {@code If-Match}
 * compares the current ETag and renames under a per-key lock: atomic against writes of this
 * instance, not against another instance writing the same key in between (a file system has
 * no compare-and-rename).
 */
final class FileWrites {
    /** Temporary files and sidecars older than this are a crash's leftovers; younger ones may be a write in progress. */
    static final Duration TEMP_AGE = Duration.ofHours(1);
    private static final int STRIPES = 256;

    private final Path root;
    private final ContentHashes hashes;
    private final FileSidecars sidecars;
    private final Names names;
    private final InstantSource clock;
    private final ReentrantLock[] keyLocks = stripes();
    private volatile boolean areaMade;

    FileWrites(Path root, ContentHashes hashes, FileSidecars sidecars, Names names, InstantSource clock) {
        this.root = root;
        this.hashes = hashes;
        this.sidecars = sidecars;
        this.names = names;
        this.clock = clock;
    }

    /** Random names: temporary files and upload ids, from a strong source so that neither can be guessed. */
    static final class Names {
        private final SecureRandom random = new SecureRandom();

        String temp() {
            return ReservedNames.TEMP_PREFIX + hex(8);
        }

        String uploadId() {
            return hex(16);
        }

        private String hex(int bytes) {
            byte[] b = new byte[bytes];
            random.nextBytes(b);
            return HexFormat.of().formatHex(b);
        }
    }

    Written put(String key, Upload body, ObjectAttributes attributes, WriteCondition condition) {
        Path target = target(key);
        Path temp = createTemp(key, target);
        boolean committed = false;
        try {
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                DurableFiles.receive(body.stream(), out, Optional.empty());
                DurableFiles.force(out, temp);
            }
            String md5 = body.md5Hex();
            FileSidecars.Stored stored = new FileSidecars.Stored(Optional.empty(), attributes.headers(), body.checksums());
            Written written = commit(key, target, temp, stored, "\"" + md5 + "\"", Optional.of(md5), condition, body.checksums());
            committed = true;
            return written;
        } catch (IOException e) {
            throw S3Exception.unavailable("writing " + temp, e);
        } finally {
            DurableFiles.deleteQuietly(temp);
            if (!committed) {
                pruneEmpty(target.getParent());
            }
        }
    }

    Written copy(Path sourceFile, Optional<FileSidecars.Stored> source, String targetKey, Optional<ObjectAttributes> replaced,
                 WriteCondition condition) {
        // A copy its condition refuses is answered before the bytes are copied, as a completion is.
        checkCondition(targetKey, condition);
        Path target = target(targetKey);
        Path temp = createTemp(targetKey, target);
        boolean committed = false;
        try {
            MessageDigest md5 = DurableFiles.digest("MD5");
            try (FileChannel in = FileChannel.open(sourceFile, StandardOpenOption.READ);
                 FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.allocate(DurableFiles.BUFFER);
                while (in.read(buffer.clear()) >= 0) {
                    buffer.flip();
                    md5.update(buffer.duplicate());
                    while (buffer.hasRemaining()) {
                        out.write(buffer);
                    }
                }
                DurableFiles.force(out, temp);
            } catch (NoSuchFileException e) {
                throw new S3Exception(S3Error.NO_SUCH_KEY);
            }
            String hex = HexFormat.of().formatHex(md5.digest());
            List<Map.Entry<String, String>> headers = replaced.map(ObjectAttributes::headers)
                    .orElseGet(() -> source.map(FileSidecars.Stored::headers).orElse(List.of()));
            // The bytes are the source's, so the checksums it was stored with still hold.
            List<Map.Entry<String, String>> checksums = source.map(FileSidecars.Stored::checksums).orElse(List.of());
            FileSidecars.Stored stored = new FileSidecars.Stored(Optional.empty(), headers, checksums);
            Written written = commit(targetKey, target, temp, stored, "\"" + hex + "\"", Optional.of(hex), condition, checksums);
            committed = true;
            return written;
        } catch (IOException e) {
            throw S3Exception.unavailable("copying to " + temp, e);
        } finally {
            DurableFiles.deleteQuietly(temp);
            if (!committed) {
                pruneEmpty(target.getParent());
            }
        }
    }

    /**
     * Removes the object at {@code key} and its sidecar, then its parent directories as far up
     * as they are empty (a listing shows no empty prefixes, and none should be left to show). A
     * key that names nothing, or a directory, is nothing to delete, as in S3.
     */
    void delete(String key) {
        refuseReserved(key);
        if (key.isEmpty() || key.endsWith("/") || key.startsWith("/")) {
            return;
        }
        Path file = root.resolve(key).normalize();
        Path parent = file.getParent();
        if (!file.startsWith(root) || parent == null || !withoutLinks(parent)) {
            return;
        }
        ReentrantLock lock = keyLock(key);
        lock.lock();
        try {
            Optional<BasicFileAttributes> current = DurableFiles.attributes(file);
            if (current.isEmpty() || current.get().isDirectory()) {
                return;
            }
            Files.deleteIfExists(file);
            sidecars.remove(key, current.get());
            sidecars.removeStale(key, Optional.empty(), clock.instant().minus(TEMP_AGE));
            DurableFiles.syncDirectory(parent);
        } catch (IOException e) {
            throw S3Exception.unavailable("deleting " + file, e);
        } finally {
            lock.unlock();
        }
        pruneEmpty(parent);
    }

    /**
     * Removes {@code dir} and its parents up to the root as long as they are empty: S3 has no
     * empty prefixes, and a write that failed or an object deleted should leave none behind.
     * A concurrent write that needs one of them makes it again ({@link #target}).
     */
    void pruneEmpty(Path dir) {
        for (Path d = dir; d != null && d.startsWith(root) && !d.equals(root); d = d.getParent()) {
            try {
                Files.delete(d);
            } catch (IOException notEmptyOrGone) {
                break;
            }
        }
    }

    /**
     * Makes the finished, forced file {@code temp} the object at {@code key}: checks
     * {@code condition}, puts the sidecar in place, renames (or, create-only, links), forces the
     * directory, and removes the previous object's sidecar. The caller deletes {@code temp} if
     * it is still there.
     */
    Written commit(String key, Path target, Path temp, FileSidecars.Stored stored, String etag, Optional<String> md5,
                   WriteCondition condition, List<Map.Entry<String, String>> checksums) throws IOException {
        BasicFileAttributes fresh = Files.readAttributes(temp, BasicFileAttributes.class);
        ReentrantLock lock = keyLock(key);
        lock.lock();
        try {
            Optional<BasicFileAttributes> current = DurableFiles.attributes(target);
            if (current.isPresent() && current.get().isDirectory()) {
                throw conflict(key + " is a prefix of other objects here, so it cannot also be an object.");
            }
            judge(key, target, current, condition);
            Path sidecar = null;
            if (!stored.isEmpty()) {
                // The ETag goes in too: the content hash of a file is kept durably only where the
                // file system takes user attributes (ContentHashes), a sidecar's everywhere.
                sidecar = sidecars.write(key, fresh, new FileSidecars.Stored(Optional.of(etag), stored.headers(), stored.checksums()));
            }
            boolean committed = false;
            try {
                if (condition.createOnly()) {
                    try {
                        Files.createLink(target, temp);
                    } catch (FileAlreadyExistsException e) {
                        throw new S3Exception(S3Error.PRECONDITION_FAILED);
                    }
                    committed = true;
                    Files.delete(temp);
                } else {
                    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
                    committed = true;
                }
            } finally {
                if (!committed && sidecar != null) {
                    DurableFiles.deleteQuietly(sidecar);
                }
            }
            DurableFiles.syncDirectory(target.getParent());
            current.filter(c -> !c.isDirectory()).ifPresent(c -> sidecars.remove(key, c));
            sidecars.removeStale(key, Optional.of(fresh), clock.instant().minus(TEMP_AGE));
            if (md5.isPresent()) {
                Optional<BasicFileAttributes> now = DurableFiles.attributes(target);
                if (now.isPresent() && now.get().isRegularFile() && sameVersion(now.get(), fresh)) {
                    hashes.record(target, now.get(), md5.get());
                }
            }
            return new Written(etag, checksums);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Judges {@code condition} against the object at {@code key} now, before a write that would
     * be refused does its work (a multipart completion or a copy moves every byte first). Only an early
     * answer: {@link #commit} judges it again, atomically, when the object is put in place.
     */
    void checkCondition(String key, WriteCondition condition) {
        if (!condition.createOnly() && condition.ifMatch().isEmpty()) {
            return;
        }
        // Looked up, not made: the directories of a refused write's prefix must not appear
        // ({@link #target} makes them). A prefix through a link is judged as no object; the
        // write itself refuses it.
        refuseKey(key);
        Path target = root.resolve(key);
        Path parent = target.getParent();
        judge(key, target, parent != null && withoutLinks(parent) ? DurableFiles.attributes(target) : Optional.empty(), condition);
    }

    /** {@code condition} against the object now at {@code target} ({@code current}: its attributes, if it exists). */
    private void judge(String key, Path target, Optional<BasicFileAttributes> current, WriteCondition condition) {
        if (condition.createOnly() && current.isPresent()) {
            throw new S3Exception(S3Error.PRECONDITION_FAILED);
        }
        if (condition.ifMatch().isPresent()) {
            requireMatch(key, target, current, condition.ifMatch().get());
        }
    }

    /** An {@code If-Match} holds if the object exists and one of its ETags (or {@code *}) is listed. */
    private void requireMatch(String key, Path target, Optional<BasicFileAttributes> current, String ifMatch) {
        if (current.isEmpty()) {
            throw new S3Exception(S3Error.PRECONDITION_FAILED);
        }
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(target, BasicFileAttributes.class);
        } catch (IOException e) {
            throw new S3Exception(S3Error.PRECONDITION_FAILED);
        }
        List<String> etags = new ArrayList<>();
        Optional<String> stored = sidecars.read(key, attrs).flatMap(FileSidecars.Stored::etag);
        if (stored.isPresent()) {
            etags.add(stored.get());
        } else {
            hashes.md5Now(target, attrs).ifPresent(m -> etags.add("\"" + m + "\""));
            etags.add(ContentHashes.provisional(attrs));
        }
        for (String wanted : ifMatch.split(",")) {
            String w = unquote(wanted.trim());
            if (w.equals("*") || etags.stream().anyMatch(t -> unquote(t).equalsIgnoreCase(w))) {
                return;
            }
        }
        throw new S3Exception(S3Error.PRECONDITION_FAILED);
    }

    /**
     * The path of {@code key}, a new object, with its parent directories created: refused
     * ({@code 400 InvalidArgument}) for a reserved key, a key ending in {@code /} (a folder
     * marker: directories here are prefixes, not objects), a key under an existing object
     * ({@code a} is a file, {@code a/b} is asked for), a key naming a directory that holds
     * objects, and a path through a symbolic link (which could lead outside the directory).
     */
    Path target(String key) {
        refuseKey(key);
        ensureArea();
        // A delete of the last object under a directory removes it; if that happens between
        // two of the directories made here, the walk starts again.
        for (int attempt = 0; ; attempt++) {
            try {
                return walkTo(key);
            } catch (NoSuchFileException e) {
                if (attempt >= 2) {
                    throw S3Exception.unavailable("creating the directories of " + key, e);
                }
            } catch (IOException e) {
                throw S3Exception.unavailable("creating the directories of " + key, e);
            }
        }
    }

    /**
     * Makes the reserved area before the first temporary file: its presence tells a start that
     * this directory was written through sluice and may hold leftovers ({@link FileLeftovers}).
     */
    private void ensureArea() {
        if (!areaMade) {
            try {
                Files.createDirectories(root.resolve(ReservedNames.AREA));
                areaMade = true;
            } catch (IOException e) {
                throw S3Exception.unavailable("creating " + ReservedNames.AREA + " in " + root, e);
            }
        }
    }

    private Path walkTo(String key) throws IOException {
        String[] segments = key.split("/", -1);
        Path dir = root;
        StringBuilder walked = new StringBuilder();
        for (int i = 0; i < segments.length; i++) {
            String s = segments[i];
            if (s.isEmpty() || s.equals(".") || s.equals("..")) {
                throw new S3Exception(S3Error.INVALID_ARGUMENT, "Object keys may not contain '.', '..' or empty segments.");
            }
            walked.append(s);
            Path next = dir.resolve(s);
            Optional<BasicFileAttributes> a = DurableFiles.attributes(next);
            if (i == segments.length - 1) {
                if (a.isPresent() && a.get().isDirectory()) {
                    throw conflict(key + " is a prefix of other objects here, so it cannot also be an object.");
                }
                return next;
            }
            if (a.isEmpty()) {
                try {
                    Files.createDirectory(next);
                    DurableFiles.syncDirectory(dir);
                } catch (FileAlreadyExistsException raced) {
                    // made by a concurrent write; checked below
                }
                a = DurableFiles.attributes(next);
            }
            if (a.isEmpty()) {
                throw new NoSuchFileException(next.toString());
            }
            if (a.get().isSymbolicLink()) {
                throw conflict(walked + "/ is not a directory this store writes into.");
            }
            if (!a.get().isDirectory()) {
                throw conflict(walked + " is an object here, so no key can start with " + walked + "/.");
            }
            dir = next;
            walked.append('/');
        }
        throw new IllegalStateException("unreachable");
    }

    /** A new, empty temporary file next to {@code target}; its directory is made again if a delete removed it meanwhile. */
    Path createTemp(String key, Path target) {
        for (int attempt = 0; ; attempt++) {
            try {
                return Files.createFile(target.resolveSibling(names.temp()));
            } catch (NoSuchFileException e) {
                if (attempt >= 2) {
                    throw S3Exception.unavailable("creating a temporary file for " + key, e);
                }
                target(key);
            } catch (IOException e) {
                throw S3Exception.unavailable("creating a temporary file for " + key, e);
            }
        }
    }

    /** Refuses, before anything is stored, a key this store can never hold whatever is in it. */
    static void refuseKey(String key) {
        refuseReserved(key);
        if (key.isEmpty() || key.startsWith("/")) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "An object key may not be empty or start with '/'.");
        }
        if (key.endsWith("/")) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT,
                    "This store keeps files: a key ending in '/' (a folder marker) cannot be stored; its prefix exists while it holds objects.");
        }
    }

    static void refuseReserved(String key) {
        if (ReservedNames.reserved(key)) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "Keys starting with '" + ReservedNames.AREA
                    + "/' and names starting with '" + ReservedNames.TEMP_PREFIX + "' are reserved by this store.");
        }
    }

    static S3Exception conflict(String message) {
        return new S3Exception(S3Error.INVALID_ARGUMENT, message);
    }

    ReentrantLock keyLock(String key) {
        return keyLocks[Math.floorMod(key.hashCode(), STRIPES)];
    }

    static ReentrantLock[] stripes() {
        ReentrantLock[] locks = new ReentrantLock[STRIPES];
        for (int i = 0; i < STRIPES; i++) {
            locks[i] = new ReentrantLock();
        }
        return locks;
    }

    /** Whether {@code dir} exists and no directory on the way to it from the root is a symbolic link. */
    private boolean withoutLinks(Path dir) {
        try {
            return dir.toRealPath().equals(dir);
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean sameVersion(BasicFileAttributes a, BasicFileAttributes b) {
        return a.size() == b.size() && a.lastModifiedTime().equals(b.lastModifiedTime())
                && java.util.Objects.equals(a.fileKey(), b.fileKey());
    }

    static String unquote(String etag) {
        String t = etag.startsWith("W/") ? etag.substring(2) : etag;
        return t.length() >= 2 && t.startsWith("\"") && t.endsWith("\"") ? t.substring(1, t.length() - 1) : t;
    }
}
