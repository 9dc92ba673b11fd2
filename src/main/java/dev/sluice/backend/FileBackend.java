package dev.sluice.backend;

import dev.sluice.s3.ByteRange;
import dev.sluice.s3.MultipartChecksum;
import dev.sluice.s3.ObjectClaims;
import dev.sluice.s3.ObjectMeta;
import dev.sluice.s3.ObjectSummary;
import dev.sluice.s3.Preconditions;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import org.eclipse.jetty.io.ArrayByteBufferPool;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.Content;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;

/**
 * A product served from a local directory.
 *
 * <p>The directory is a hard boundary: a key is resolved under the root's real path and the
 * file's real path (after symlinks) must still be under it, so neither {@code ../} (already
 * refused by {@link dev.sluice.s3.ObjectKeys}) nor a symlink pointing outside can read other
 * files. Symlinked directories are not descended into when listing.
 *
 * <p>A file's ETag is the MD5 of its content, as S3 gives a single-part object, once
 * {@link ContentHashes} knows it; a read never waits for a large file to be hashed, and until
 * then the file has a provisional ETag from its size and modification time (see
 * {@code docs/behaviour.md}). Opening a file reads its attributes only; what a read answers is
 * {@link dev.sluice.s3.ReadDecision}'s, and the channel is opened for the bytes it decided on,
 * positioned at the first of them: nothing is read from the start of the file. Listings walk the directories in key order from the
 * position and stop after the page ({@link FileListing}), so a page costs what is on it.
 *
 * <p>Writes ({@code docs/writes.md}, "File backend") are {@link FileWrites}' (PUT, copy,
 * delete) and {@link FileUploads}' (multipart); what a write stores besides the bytes is in a
 * sidecar ({@link FileSidecars}) that a read of the object uses when it still describes the
 * file. The names writes keep for themselves ({@link ReservedNames}) are never listed or read.
 * A file without a sidecar is served as it always was. Starting the store removes what a
 * crash left behind ({@link FileLeftovers}).
 */
public final class FileBackend implements Backend {
    /** Content types by file name; the table is part of sluice, not of the host. */
    private static final ContentTypes CONTENT_TYPES = ContentTypes.standard();
    /** Ranges from this size on are sent from memory-mapped regions, smaller ones through read buffers. */
    private static final long MAP_FROM = 1024 * 1024;
    /** Read buffers, pooled and direct so file bytes reach the socket without a heap copy. */
    private final ByteBufferPool.Sized buffers = new ByteBufferPool.Sized(new ArrayByteBufferPool(), true, 64 * 1024);

    private final Path root;
    private final ContentHashes hashes;
    private final FileSidecars sidecars;
    private final FileWrites writes;
    private final FileUploads uploads;
    /** Listings of a directory that sluice has written to, whose ETags may be in sidecars. */
    private final FileListing listing = listing(true);
    /** Listings of a directory without sidecars (never written through sluice): no lookup per object. */
    private final FileListing plainListing = listing(false);

    /**
     * A backend serving {@code directory}; files too large to hash inline are hashed on
     * {@code hashing}, which is {@link #hashWorker()} outside tests. Multipart uploads abandoned
     * for 7 days are removed when it starts.
     */
    public FileBackend(Path directory, Executor hashing) {
        this(directory, hashing, FileUploads.DEFAULT_EXPIRY);
    }

    /** A backend that removes, when it starts, multipart uploads abandoned for longer than {@code uploadExpiry}. */
    public FileBackend(Path directory, Executor hashing, Duration uploadExpiry) {
        this(directory, hashing, uploadExpiry, InstantSource.system());
    }

    /** As above, with the clock that dates uploads and tells leftovers' age. */
    public FileBackend(Path directory, Executor hashing, Duration uploadExpiry, InstantSource clock) {
        this(directory, hashing, uploadExpiry, clock, new UploadLocks(), FileUploads.Waits.DEFAULT);
    }

    /** As above, with the locks that end uploads and how long their operations wait for them (tests). */
    FileBackend(Path directory, Executor hashing, Duration uploadExpiry, InstantSource clock, UploadLocks locks,
                FileUploads.Waits waits) {
        this.hashes = new ContentHashes(hashing);
        try {
            this.root = directory.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException("product directory " + directory + " is not readable", e);
        }
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException(directory + " is not a directory");
        }
        Path area = root.resolve(ReservedNames.AREA);
        FileWrites.Names names = new FileWrites.Names();
        this.sidecars = new FileSidecars(area.resolve("meta"), names);
        this.writes = new FileWrites(root, hashes, sidecars, names, clock);
        this.uploads = new FileUploads(area.resolve("uploads"), writes, names, clock, locks, waits);
        FileLeftovers.sweep(root, clock, uploadExpiry);
    }

    /**
     * The executor file backends hash on: one virtual thread and a bounded queue for the whole
     * process, so hashing cannot starve serving. Shut it down when the backends are closed.
     */
    public static ExecutorService hashWorker() {
        return ContentHashes.worker();
    }

    @Override
    public String describe() {
        return "file:" + root;
    }

    @Override
    public boolean readsLocally() {
        return true;
    }

    @Override
    public StoredObject open(String key, Fetch fetch) {
        Resolved resolved = resolve(key).orElseThrow(() -> new S3Exception(S3Error.NO_SUCH_KEY));
        Path file = resolved.path();
        BasicFileAttributes attrs;
        try {
            attrs = resolved.read();
        } catch (NoSuchFileException e) {
            throw new S3Exception(S3Error.NO_SUCH_KEY);
        } catch (IOException e) {
            throw S3Exception.unavailable("reading attributes of " + file, e);
        }
        if (!attrs.isRegularFile()) {
            throw new S3Exception(S3Error.NO_SUCH_KEY);
        }
        Optional<FileSidecars.Stored> stored = sidecars.read(key, attrs);
        Optional<String> storedTag = stored.flatMap(FileSidecars.Stored::etag);
        String etag = storedTag.orElseGet(() -> hashes.etag(file, attrs));
        // A client may hold the provisional tag served before the hash was known; both name
        // this unchanged file (docs/behaviour.md, "File backend ETags"). Only a condition on
        // ETags needs the provisional one: a plain GET does not compute it.
        List<String> alsoAnswersTo = List.of();
        Preconditions conditions = fetch.conditions();
        if (storedTag.isEmpty() && (conditions.ifMatch().isPresent() || conditions.ifNoneMatch().isPresent())) {
            String provisional = ContentHashes.provisional(attrs);
            alsoAnswersTo = etag.equals(provisional) ? List.of() : List.of(provisional);
        }
        ObjectMeta meta = new ObjectMeta(Optional.of(etag), alsoAnswersTo, Optional.of(attrs.lastModifiedTime().toInstant()),
                OptionalLong.of(attrs.size()), storedHeaders(file, stored));
        return new FileObject(file, meta);
    }

    /**
     * The headers a read sends: those a write stored, the checksums it verified (as
     * {@code x-amz-checksum-*}), and a {@code Content-Type} from the file name when none was
     * stored (a file put in the directory by other means has only that).
     */
    private static List<Map.Entry<String, String>> storedHeaders(Path file, Optional<FileSidecars.Stored> stored) {
        if (stored.isEmpty()) {
            return List.of(Map.entry("Content-Type", contentType(file)));
        }
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        if (stored.get().headers().stream().noneMatch(h -> h.getKey().equalsIgnoreCase("Content-Type"))) {
            headers.add(Map.entry("Content-Type", contentType(file)));
        }
        headers.addAll(stored.get().headers());
        headers.addAll(stored.get().checksums());
        return headers;
    }

    /** A file whose attributes are read; its channel is opened only for the bytes a GET sends. */
    private final class FileObject implements StoredObject {
        private final Path file;
        private final ObjectMeta meta;

        FileObject(Path file, ObjectMeta meta) {
            this.file = file;
            this.meta = meta;
        }

        @Override
        public ObjectMeta meta() {
            return meta;
        }

        @Override
        public ObjectBody body(ByteRange range) {
            FileChannel channel;
            try {
                channel = FileChannel.open(file, StandardOpenOption.READ);
            } catch (NoSuchFileException e) {
                throw new S3Exception(S3Error.NO_SUCH_KEY);
            } catch (IOException e) {
                throw S3Exception.unavailable("opening " + file, e);
            }
            try {
                // Positioned here, not by Jetty: given a channel it did not open itself, Jetty's
                // channel source reads and discards the bytes before its offset instead of seeking,
                // and a read of a large file's last bytes (a Parquet footer) read the whole file.
                channel.position(range.first());
            } catch (IOException e) {
                try {
                    channel.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw S3Exception.unavailable("positioning " + file, e);
            }
            return new FileBody(buffers, channel, range.first(), range.length());
        }

        @Override
        public void close() {
            // nothing is held open until body() is asked for, and the body is its caller's
        }
    }

    @Override
    public ListPage list(ListQuery query) {
        String prefix = query.prefix();
        int lastSlash = prefix.lastIndexOf('/');
        String dirPart = lastSlash < 0 ? "" : prefix.substring(0, lastSlash);
        Optional<Path> start = dirPart.isEmpty() ? Optional.of(root)
                : ReservedNames.reserved(dirPart) ? Optional.empty() : resolveDirectory(dirPart);
        FileListing pages = sidecars.present() ? listing : plainListing;
        return start.map(dir -> pages.page(dir, dirPart.isEmpty() ? "" : dirPart + "/", query))
                .orElseGet(() -> new ListPage(List.of(), List.of(), Optional.empty()));
    }

    private FileListing listing(boolean withSidecars) {
        return new FileListing(new FileListing.ObjectFiles() {
            @Override
            public Optional<BasicFileAttributes> served(Path entry, BasicFileAttributes own) {
                return FileBackend.this.served(entry, own);
            }

            @Override
            public ObjectSummary summary(String key, Path file, BasicFileAttributes attributes) {
                return FileBackend.this.summary(key, file, attributes, withSidecars);
            }
        });
    }

    /** What a listing says about one object: the same size, time and ETag a read of it answers. */
    private ObjectSummary summary(String key, Path file, BasicFileAttributes attrs, boolean withSidecars) {
        Instant modified = attrs.lastModifiedTime().toInstant();
        Optional<String> stored = withSidecars ? sidecars.read(key, attrs).flatMap(FileSidecars.Stored::etag) : Optional.empty();
        return new ObjectSummary(key, attrs.size(), modified, stored.orElseGet(() -> hashes.etag(file, attrs)));
    }

    /** A regular file is an object; a symlink is one when its target is a regular file inside the root. */
    private Optional<BasicFileAttributes> served(Path entry, BasicFileAttributes own) {
        if (own.isSymbolicLink()) {
            return insideTargetAttributes(entry);
        }
        return own.isRegularFile() ? Optional.of(own) : Optional.empty();
    }

    /** A symlink is listed only when its target is a regular file inside the root. */
    private Optional<BasicFileAttributes> insideTargetAttributes(Path link) {
        try {
            Path real = link.toRealPath();
            if (!real.startsWith(root)) {
                return Optional.empty();
            }
            BasicFileAttributes a = Files.readAttributes(real, BasicFileAttributes.class);
            return a.isRegularFile() ? Optional.of(a) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Whether no segment of {@code key} (which neither starts nor ends with "/") is empty, "." or "..". */
    private static boolean plainSegments(String key) {
        int start = 0;
        while (true) {
            int end = key.indexOf('/', start);
            int stop = end < 0 ? key.length() : end;
            int length = stop - start;
            if (length == 0 || (key.charAt(start) == '.' && (length == 1 || (length == 2 && key.charAt(start + 1) == '.')))) {
                return false;
            }
            if (end < 0) {
                return true;
            }
            start = end + 1;
        }
    }

    /**
     * The real path of an existing file for {@code key}, with its attributes when they were
     * read on the way.
     */
    private record Resolved(Path path, Optional<BasicFileAttributes> attributes) {
        /** The file's attributes: those read on the way, else read now. */
        BasicFileAttributes read() throws IOException {
            return attributes.isPresent() ? attributes.get() : Files.readAttributes(path, BasicFileAttributes.class);
        }
    }

    /**
     * The real path of an existing file for {@code key}, if it is inside the root. The path's
     * names below the root are looked at one by one without following links ({@code lstat}):
     * when none is a symbolic link the path is already real, and the last look gave the file's
     * attributes. A path through a link is resolved whole ({@code realpath}) and served only if
     * it ends inside the root. Asking the kernel for the real path of every read walked every
     * name from {@code /} again, the costliest system call of a small GET (BENCHMARKS.md,
     * "Resolving a key").
     */
    private Optional<Resolved> resolve(String key) {
        if (key.isEmpty() || key.endsWith("/") || key.startsWith("/") || ReservedNames.reserved(key)) {
            return Optional.empty();
        }
        Path candidate;
        if (plainSegments(key)) {
            // Already normal and under the root: no segment is empty, "." or "..".
            candidate = root.resolve(key);
        } else {
            candidate = root.resolve(key).normalize();
            if (!candidate.startsWith(root) || candidate.equals(root)) {
                return Optional.empty();
            }
        }
        try {
            Path walked = root;
            BasicFileAttributes last = null;
            for (Path name : root.relativize(candidate)) {
                walked = walked.resolve(name);
                last = Files.readAttributes(walked, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (last.isSymbolicLink()) {
                    Path real = candidate.toRealPath();
                    return real.startsWith(root) ? Optional.of(new Resolved(real, Optional.empty())) : Optional.empty();
                }
            }
            return Optional.of(new Resolved(candidate, Optional.ofNullable(last)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    @Override
    public Written put(String key, Upload body, ObjectAttributes attributes, WriteCondition condition) {
        return writes.put(key, body, attributes, condition);
    }

    @Override
    public void delete(String key) {
        writes.delete(key);
    }

    @Override
    public Written copy(String sourceKey, String targetKey, Optional<ObjectAttributes> replaced, WriteCondition condition) {
        Resolved resolved = resolve(sourceKey).orElseThrow(() -> new S3Exception(S3Error.NO_SUCH_KEY));
        Path source = resolved.path();
        BasicFileAttributes attrs;
        try {
            attrs = resolved.read();
        } catch (IOException e) {
            throw new S3Exception(S3Error.NO_SUCH_KEY);
        }
        if (!attrs.isRegularFile()) {
            throw new S3Exception(S3Error.NO_SUCH_KEY);
        }
        return writes.copy(source, sidecars.read(sourceKey, attrs), targetKey, replaced, condition);
    }

    @Override
    public String startUpload(String key, ObjectAttributes attributes) {
        return uploads.start(key, attributes, Optional.empty());
    }

    @Override
    public String startUpload(String key, ObjectAttributes attributes, Optional<MultipartChecksum> checksum) {
        return uploads.start(key, attributes, checksum);
    }

    @Override
    public Written uploadPart(String key, String uploadId, int partNumber, Upload body) {
        return uploads.uploadPart(key, uploadId, partNumber, body);
    }

    @Override
    public Written completeUpload(String key, String uploadId, List<Multipart.PartRef> parts, WriteCondition condition) {
        return uploads.complete(key, uploadId, parts, ObjectClaims.NONE, condition);
    }

    @Override
    public Written completeUpload(String key, String uploadId, List<Multipart.PartRef> parts, ObjectClaims claims,
                                  WriteCondition condition) {
        return uploads.complete(key, uploadId, parts, claims, condition);
    }

    @Override
    public void abortUpload(String key, String uploadId) {
        uploads.abort(key, uploadId);
    }

    @Override
    public Multipart.PartsPage listParts(String key, String uploadId, int marker, int max) {
        return uploads.listParts(key, uploadId, marker, max);
    }

    @Override
    public Multipart.UploadsPage listUploads(String prefix, Optional<Multipart.InProgress> after, int max) {
        return uploads.list(prefix, after, max);
    }

    private Optional<Path> resolveDirectory(String relative) {
        if (relative.startsWith("/")) {
            return Optional.empty();
        }
        for (String segment : relative.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                return Optional.empty();
            }
        }
        Path candidate = root.resolve(relative).normalize();
        if (!candidate.startsWith(root) || !Files.isDirectory(candidate, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        // NOFOLLOW_LINKS checks only the last segment; the OS follows any symlink before it. A
        // listing of "link/sub/" through a link to a directory outside the root listed the names
        // and sizes of the files out there. The root is a real path, so a candidate without
        // symlinks is its own real path; one that is not goes through a symlinked directory,
        // which listings never descend into.
        try {
            if (!candidate.toRealPath().equals(candidate)) {
                return Optional.empty();
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.of(candidate);
    }

    private static String contentType(Path file) {
        return CONTENT_TYPES.of(file.getFileName().toString());
    }

    /**
     * {@code length} bytes of an open file from {@code first}, where the channel is positioned.
     * A range of {@link #MAP_FROM} bytes or more is sent from memory-mapped regions, which the
     * kernel copies to the socket once ({@link MappedFileSource}, Java 22 and later); a smaller
     * one is read into pooled buffers, cheaper than setting up a mapping for a few pages.
     */
    private static final class FileBody implements ObjectBody {
        private final ByteBufferPool.Sized buffers;
        private final FileChannel channel;
        private final long first;
        private final long length;
        private volatile MappedFileSource mapped;

        FileBody(ByteBufferPool.Sized buffers, FileChannel channel, long first, long length) {
            this.buffers = buffers;
            this.channel = channel;
            this.first = first;
            this.length = length;
        }

        @Override
        public Content.Source source() {
            if (length >= MAP_FROM && MappedFileSource.available()) {
                mapped = new MappedFileSource(channel, first, length);
                return mapped;
            }
            return Content.Source.from(buffers, channel, 0, length);
        }

        @Override
        public boolean shrank() {
            try {
                return channel.size() < first + length;
            } catch (IOException e) {
                return false;
            }
        }

        @Override
        public void close() {
            MappedFileSource source = mapped;
            if (source != null) {
                source.close();
            }
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing a read-only channel cannot lose data
            }
        }
    }
}
