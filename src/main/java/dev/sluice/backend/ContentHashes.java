package dev.sluice.backend;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The content MD5 of the files a {@link FileBackend} serves, which it answers as their ETag
 * the way S3 does for a single-part object ({@code "<32 hex digits>"}): rclone then checks
 * hashes instead of sizes only, and s3cmd stops warning about MD5 mismatches and
 * re-downloading on every {@code sync}. The behaviour clients see is in
 * {@code docs/behaviour.md} ("File backend ETags").
 *
 * <p><b>A read never waits on hashing a large file.</b> A file of at most
 * {@link #INLINE_LIMIT} bytes is hashed inline on its first request: that adds under a
 * millisecond once per file version, where 1 MiB would add about 5 ms to a read and seconds
 * to a first listing of a thousand such files (measured in BENCHMARKS.md, "File backend"). A
 * larger file is queued for the background worker and served with its provisional ETag
 * (below) until the hash is known. The worker is one thread for the whole process, so
 * hashing takes at most one core and one sequential read stream away from serving, and its
 * queue is bounded ({@link #QUEUE_LIMIT}): a file that does not fit is dropped and queued again
 * by the next request that sees it unhashed.
 *
 * <p><b>Versions.</b> A hash belongs to a version of a file: its path, size, modification time
 * to the nanosecond and file key (device and inode). A file rewritten in place gets a new
 * modification time, a replaced file a new inode, and either is hashed again. A hash is
 * recorded only if the file's version after reading equals the version before, so a file
 * written while it was hashed keeps its provisional ETag until the next request queues it.
 * A rewrite that keeps the size and restores the modification time (possible with
 * {@code touch -d}) is not noticed; rsync and make rely on the same two attributes.
 *
 * <p><b>Where hashes are kept.</b> In memory (a bounded cache) and, durably, in an extended
 * attribute {@code user.sluice.md5} on the file itself, holding the size and modification time
 * it was computed for. The attribute was chosen over a sidecar directory in the data directory
 * (listings and reads would have to hide it, and a copy of the directory would carry it along
 * as stale files) and over a store outside the data directory (one more path to configure and
 * keep, and entries for deleted files to collect): an attribute lives and dies with its
 * file, moves with it on a rename, and needs no configuration. Writing it changes the file's
 * status-change time (ctime), never its modification time or content. Where it cannot be
 * written (a read-only mount or file, a filesystem without user attributes) hashes are kept
 * in memory only and computed again after a restart; a warning says so once.
 *
 * <p><b>Provisional ETag.</b> Until its hash is known, a file's ETag is the size and
 * modification time form earlier versions served: 40 hex digits, deliberately not 32, since
 * clients take a 32-digit ETag for the body's MD5 and check it. Both tags name the same unchanged
 * file, so the backend accepts either in {@code If-Match} and {@code If-None-Match}.
 */
final class ContentHashes {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ContentHashes.class);

    /** Files up to this size are hashed inline on their first request. */
    static final long INLINE_LIMIT = 64 * 1024;
    /** Files waiting for the background worker, at most. */
    static final int QUEUE_LIMIT = 1024;
    /** Hashes kept in memory, at most (about 200 bytes each). */
    private static final long MEMORY_ENTRIES = 100_000;
    /** The attribute's name in the {@code user.} namespace, where Java's attribute view puts it. */
    static final String ATTRIBUTE = "sluice.md5";
    /** Longer values are not ours. */
    private static final int MAX_ATTRIBUTE_LENGTH = 128;
    private static final int READ_BUFFER = 64 * 1024;

    private final Executor worker;
    private final Cache<Version, String> known = Caffeine.newBuilder().maximumSize(MEMORY_ENTRIES).build();
    private final Set<Version> queued = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean warnedNotDurable = new AtomicBoolean();

    /** @param worker runs the background hash jobs; see {@link #worker()} */
    ContentHashes(Executor worker) {
        this.worker = worker;
    }

    /**
     * The background worker shared by every file backend of a process: one virtual thread,
     * {@link #QUEUE_LIMIT} jobs queued at most, and a job that does not fit refused (the
     * caller drops it). The thread ends when idle.
     */
    static ExecutorService worker() {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE_LIMIT),
                Thread.ofVirtual().name("sluice-hash-", 0).factory(), new ThreadPoolExecutor.AbortPolicy());
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    /** The ETag to serve now for the file at this version: its quoted MD5 if known, else the provisional tag. */
    String etag(Path file, BasicFileAttributes attrs) {
        return md5(file, attrs).map(md5 -> "\"" + md5 + "\"").orElseGet(() -> provisional(attrs));
    }

    /**
     * The hex MD5 of the file's content at this version, if known or small enough to hash now;
     * otherwise empty, with a background job queued.
     */
    Optional<String> md5(Path file, BasicFileAttributes attrs) {
        Version version = Version.of(file, attrs);
        Optional<String> already = known(file, version);
        if (already.isPresent()) {
            return already;
        }
        if (attrs.size() <= INLINE_LIMIT) {
            return hash(file, version);
        }
        queue(file, version);
        return Optional.empty();
    }

    /**
     * The hex MD5 of the file at this version, hashed now if it is not known whatever its size:
     * for a conditional write, which must compare the real ETag and may wait for it.
     */
    Optional<String> md5Now(Path file, BasicFileAttributes attrs) {
        Version version = Version.of(file, attrs);
        return known(file, version).or(() -> hash(file, version));
    }

    /** The MD5 of this version already known: in memory, or in the file's attribute (then kept in memory too). */
    private Optional<String> known(Path file, Version version) {
        String hit = known.getIfPresent(version);
        if (hit != null) {
            return Optional.of(hit);
        }
        Optional<String> stored = stored(file, version);
        stored.ifPresent(md5 -> known.put(version, md5));
        return stored;
    }

    /**
     * Records {@code md5} (32 hex digits) as the content hash of the file at the version
     * {@code attrs} describe, in memory and in the file's attribute where that can be written.
     * The hash jobs record here, and so does a write through sluice, which knows the MD5 of the
     * bytes it wrote, so a file written that way never shows a provisional ETag.
     */
    void record(Path file, BasicFileAttributes attrs, String md5) {
        Version version = Version.of(file, attrs);
        known.put(version, md5);
        UserDefinedFileAttributeView view = Files.getFileAttributeView(file, UserDefinedFileAttributeView.class);
        try {
            if (view == null) {
                throw new IOException("the filesystem has no user-defined attributes");
            }
            view.write(ATTRIBUTE, StandardCharsets.US_ASCII.encode(version.stamp() + " " + md5));
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            if (warnedNotDurable.compareAndSet(false, true)) {
                LOG.warn("cannot keep content hashes in the user.{} attribute of {} ({}); they are kept in memory and "
                        + "computed again after a restart", ATTRIBUTE, file, e.toString());
            }
        }
    }

    /** The ETag of a file whose hash is not known yet: 40 hex digits of SHA-256 over its size and modification time. */
    static String provisional(BasicFileAttributes attrs) {
        Instant modified = attrs.lastModifiedTime().toInstant();
        byte[] digest = digest("SHA-256").digest((attrs.size() + ":" + modified.getEpochSecond() + "." + modified.getNano())
                .getBytes(StandardCharsets.US_ASCII));
        return "\"" + HexFormat.of().formatHex(digest, 0, 20) + "\"";
    }

    private void queue(Path file, Version version) {
        // The size check spares a listing of many unhashed files an exception per file once the queue is full.
        if (queued.size() >= QUEUE_LIMIT || !queued.add(version)) {
            return;
        }
        try {
            worker.execute(() -> {
                try {
                    if (known.getIfPresent(version) == null) {
                        hash(file, version);
                    }
                } finally {
                    queued.remove(version);
                }
            });
        } catch (RejectedExecutionException full) {
            queued.remove(version);
        }
    }

    /** Reads and hashes the file; records the hash if the file still is at {@code version} afterwards. */
    private Optional<String> hash(Path file, Version version) {
        MessageDigest md5 = digest("MD5");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(READ_BUFFER);
            long total = 0;
            for (int n; (n = channel.read(buffer.clear())) >= 0; ) {
                total += n;
                if (total > version.size()) {
                    return Optional.empty();
                }
                md5.update(buffer.flip());
            }
            BasicFileAttributes after = Files.readAttributes(file, BasicFileAttributes.class);
            if (total != version.size() || !Version.of(file, after).equals(version)) {
                return Optional.empty();
            }
            String hex = HexFormat.of().formatHex(md5.digest());
            record(file, after, hex);
            return Optional.of(hex);
        } catch (IOException e) {
            LOG.debug("hashing {} failed: {}", file, e.toString());
            return Optional.empty();
        }
    }

    /** The hash kept in the file's attribute, if it was computed for this version. */
    private static Optional<String> stored(Path file, Version version) {
        UserDefinedFileAttributeView view = Files.getFileAttributeView(file, UserDefinedFileAttributeView.class);
        if (view == null) {
            return Optional.empty();
        }
        try {
            if (!view.list().contains(ATTRIBUTE)) {
                return Optional.empty();
            }
            int size = view.size(ATTRIBUTE);
            if (size > MAX_ATTRIBUTE_LENGTH) {
                return Optional.empty();
            }
            ByteBuffer value = ByteBuffer.allocate(size);
            view.read(ATTRIBUTE, value);
            String text = StandardCharsets.US_ASCII.decode(value.flip()).toString();
            String prefix = version.stamp() + " ";
            if (!text.startsWith(prefix)) {
                return Optional.empty();
            }
            String md5 = text.substring(prefix.length());
            return md5.matches("[0-9a-f]{32}") ? Optional.of(md5) : Optional.empty();
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return Optional.empty();
        }
    }

    private static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is required of every JVM", e);
        }
    }

    /**
     * One version of a file: a hash computed for it holds while all four are unchanged. The
     * file key is the device and inode where the platform has one (null elsewhere).
     */
    private record Version(Path path, Object fileKey, long size, Instant modified) {
        static Version of(Path file, BasicFileAttributes attrs) {
            return new Version(file, attrs.fileKey(), attrs.size(), attrs.lastModifiedTime().toInstant());
        }

        /** What the attribute records next to the hash; the path and inode are the attribute's own file. */
        String stamp() {
            return "v1 " + size + " " + modified.getEpochSecond() + "." + modified.getNano();
        }
    }
}
