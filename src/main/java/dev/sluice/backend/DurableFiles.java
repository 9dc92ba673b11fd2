package dev.sluice.backend;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;

/**
 * The file-system steps the file backend's writes are made of: a body streamed to a file
 * through one buffer, a file or directory forced to disk, a small file replaced whole. Each
 * failure becomes the S3 error a client is answered: a body that breaks off is the client's
 * ({@code IncompleteBody}, {@code RequestTimeout}), a disk that fails is sluice's ({@code 503}).
 */
final class DurableFiles {
    /** The one buffer an upload streams through. */
    static final int BUFFER = 64 * 1024;

    private DurableFiles() {
    }

    /**
     * Copies a body into {@code out} through one buffer. A body that fails its check throws its
     * {@link S3Exception} here; one that breaks off (the client went away, or stopped sending)
     * is {@code IncompleteBody}, or {@code RequestTimeout} when it timed out.
     */
    static long receive(InputStream in, FileChannel out, Optional<MessageDigest> digest) {
        byte[] buffer = new byte[BUFFER];
        long total = 0;
        try (Writeback writeback = new Writeback(out)) {
            while (true) {
                int n;
                try {
                    n = in.read(buffer);
                } catch (IOException e) {
                    throw Upload.clientFailure(e);
                }
                if (n < 0) {
                    writeback.finish();
                    return total;
                }
                digest.ifPresent(d -> d.update(buffer, 0, n));
                ByteBuffer bytes = ByteBuffer.wrap(buffer, 0, n);
                try {
                    while (bytes.hasRemaining()) {
                        out.write(bytes);
                    }
                } catch (IOException e) {
                    throw S3Exception.unavailable("writing an upload to disk", e);
                }
                total += n;
                writeback.wrote(n);
            }
        }
    }

    /**
     * Sends a file's bytes to disk while more are still being written to it: each time
     * {@link #STEP} more bytes were written, one background {@code fdatasync} starts (never two
     * at once). A machine with much memory otherwise keeps a whole upload in the page cache
     * and writes all of it in the final force, after the body's checks, so checking and the
     * disk took turns instead of overlapping; the final force now has only the last stretch
     * left. A failed background force fails the write ({@link #finish}): the kernel reports a
     * write-back error once, so the final force could no longer see it.
     */
    static final class Writeback implements AutoCloseable {
        static final long STEP = 32L * 1024 * 1024;
        private final FileChannel channel;
        private long unforced;
        private Thread forcing;
        private volatile IOException failure;

        Writeback(FileChannel channel) {
            this.channel = channel;
        }

        /** Notes {@code n} more bytes written; may start a background force. */
        void wrote(long n) {
            unforced += n;
            if (unforced < STEP || (forcing != null && forcing.isAlive())) {
                return;
            }
            failIfForceFailed();
            unforced = 0;
            forcing = Thread.ofVirtual().name("sluice-writeback").start(() -> {
                try {
                    channel.force(false);
                } catch (ClosedChannelException closed) {
                    // the write ended (failed) while this ran: nothing is kept, nothing to report
                } catch (IOException e) {
                    failure = e;
                }
            });
        }

        /** Waits for the background force, if one runs, and fails if any failed. */
        void finish() {
            await();
            failIfForceFailed();
        }

        private void failIfForceFailed() {
            IOException e = failure;
            if (e != null) {
                throw S3Exception.unavailable("writing an upload to disk", e);
            }
        }

        private void await() {
            Thread t = forcing;
            if (t == null) {
                return;
            }
            boolean interrupted = false;
            while (true) {
                try {
                    t.join(); // a force is bounded by the disk, as the final one is
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        /** Waits for the background force, so none runs on a channel its owner closes next. */
        @Override
        public void close() {
            await();
        }
    }

    static void force(FileChannel channel, Path file) {
        try {
            channel.force(true);
        } catch (IOException e) {
            throw S3Exception.unavailable("forcing " + file + " to disk", e);
        }
    }

    /** Writes {@code bytes} to {@code target} whole or not at all: a temporary file, forced, renamed, the directory forced. */
    static void writeDurably(Path target, byte[] bytes, FileWrites.Names names) throws IOException {
        Path temp = target.resolveSibling(names.temp());
        try {
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    out.write(b);
                }
                out.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            syncDirectory(target.getParent());
        } finally {
            deleteQuietly(temp);
        }
    }

    /** Forces a directory's entries (a rename, a new name) to disk; a file system that cannot is left as it is. */
    static void syncDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // some file systems refuse to open or force a directory; their renames are as durable as they get
        }
    }

    static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a temporary file left behind is hidden, and removed by the next start's sweep
        }
    }

    static Optional<BasicFileAttributes> attributes(Path path) {
        try {
            return Optional.of(Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is required of every JVM", e);
        }
    }
}
