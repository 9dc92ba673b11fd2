package dev.sluice.backend;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Optional;

/**
 * What a crash leaves in a product directory, removed when a {@link FileBackend} starts
 * ({@code docs/writes.md}, "File backend"): temporary files of writes that never reached their
 * rename (anywhere in the tree, and in the sidecar and staging areas), and multipart uploads
 * abandoned for longer than the store's expiry.
 *
 * <p>Only what is older than {@link FileWrites#TEMP_AGE} is a leftover: instances of a fleet
 * may share the directory, and a younger temporary file may be another instance's write in
 * progress. Nothing here is ever visible to clients, so a leftover costs disk space, not
 * correctness; the sweep never fails a start. A directory never written through sluice (no
 * {@code .sluice} area) is not walked at all.
 */
final class FileLeftovers {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FileLeftovers.class);

    private FileLeftovers() {
    }

    /** What one sweep removed. */
    record Swept(int tempFiles, int uploads) {
    }

    static Swept sweep(Path root, InstantSource clock, Duration uploadExpiry) {
        Instant now = clock.instant();
        Instant tempBefore = now.minus(FileWrites.TEMP_AGE);
        int[] temps = {0};
        Path area = root.resolve(ReservedNames.AREA);
        if (!Files.isDirectory(area, LinkOption.NOFOLLOW_LINKS)) {
            // Never written through sluice (every write makes the area first): nothing to sweep,
            // and a large read-only tree is not walked at every start.
            return new Swept(0, 0);
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    return dir.equals(area.resolve("uploads")) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    if (file.getFileName().toString().startsWith(ReservedNames.TEMP_PREFIX) && attrs.isRegularFile()
                            && attrs.lastModifiedTime().toInstant().isBefore(tempBefore) && delete(file)) {
                        temps[0]++;
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            LOG.warn("sweeping {} for leftovers of interrupted writes failed: {}", root, e.toString());
        }
        int uploads = sweepUploads(area.resolve("uploads"), now.minus(uploadExpiry), tempBefore, temps);
        Swept swept = new Swept(temps[0], uploads);
        if (swept.tempFiles() > 0 || swept.uploads() > 0) {
            LOG.info("removed {} temporary files of interrupted writes and {} abandoned multipart uploads from {}",
                    swept.tempFiles(), swept.uploads(), root);
        }
        return swept;
    }

    private static int sweepUploads(Path uploads, Instant expired, Instant tempBefore, int[] temps) {
        int removed = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(uploads)) {
            for (Path p : entries) {
                String name = p.getFileName().toString();
                Optional<Instant> modified = modified(p);
                if (modified.isEmpty()) {
                    continue;
                }
                if (name.startsWith(ReservedNames.TEMP_PREFIX)) {
                    // an upload whose removal was interrupted
                    if (modified.get().isBefore(tempBefore)) {
                        deleteTree(p);
                    }
                } else if (FileUploads.DONE.matcher(name).matches()) {
                    // a completion remembered for a retry: kept as long as an upload may be abandoned
                    if (modified.get().isBefore(expired)) {
                        delete(p);
                    }
                } else if (FileUploads.ID.matcher(name).matches()) {
                    Optional<FileUploads.Record> record = FileUploads.record(p);
                    boolean abandoned = record.isPresent() ? record.get().started().isBefore(expired)
                            : modified.get().isBefore(tempBefore);
                    if (abandoned) {
                        deleteTree(p);
                        removed++;
                    } else {
                        temps[0] += sweepTemps(p, tempBefore);
                    }
                }
            }
        } catch (IOException e) {
            // no uploads area: nothing was ever staged
        }
        return removed;
    }

    private static int sweepTemps(Path dir, Instant before) {
        int n = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, ReservedNames.TEMP_PREFIX + "*")) {
            for (Path p : entries) {
                if (modified(p).filter(m -> m.isBefore(before)).isPresent() && delete(p)) {
                    n++;
                }
            }
        } catch (IOException e) {
            // gone meanwhile
        }
        return n;
    }

    /** Deletes a directory tree without following links; what cannot be deleted stays for the next sweep. */
    static void deleteTree(Path dir) {
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) {
                    delete(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            LOG.debug("removing {} failed: {}", dir, e.toString());
        }
    }

    private static Optional<Instant> modified(Path p) {
        try {
            return Optional.of(Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                    .lastModifiedTime().toInstant());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static boolean delete(Path p) {
        try {
            return Files.deleteIfExists(p);
        } catch (IOException e) {
            return false;
        }
    }
}
