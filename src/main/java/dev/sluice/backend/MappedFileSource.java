package dev.sluice.backend;

import org.eclipse.jetty.io.Content;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.Objects;

/**
 * A byte range of an open file as a {@link Content.Source} of memory-mapped regions, so that
 * the connection's {@code write(2)} copies the bytes from the page cache straight into the
 * socket. Jetty 12 has no {@code sendfile}: its {@code EndPoint} writes buffers only. Reading
 * into a buffer and writing it out copied every byte twice through user space, and a 256 MiB
 * GET ran at three quarters of nginx's speed (docs/behaviour.md, "Large file reads").
 *
 * <p>One region of at most {@link #REGION} bytes is mapped at a time, when the server asks for
 * the next chunk, at the range's own offset: nothing before the range is touched and no object
 * is ever mapped whole. A region is unmapped when its buffer is garbage collected (the JDK has
 * no other unmapping for a {@code MappedByteBuffer}); it is file-backed memory that the kernel
 * can drop at any time, never heap, and the JDK collects and retries when a mapping fails.
 *
 * <p>A file that shrinks while it is sent: before each region the file's size is read, and a
 * file now shorter than the range ends the source early, so the writer sees a body shorter
 * than its length. A file truncated under a region already handed to the server makes the
 * kernel's copy fail with {@code EFAULT} ("Bad address"), a failed write and no signal, because
 * nothing in the plain-HTTP/1.1 write path reads the mapped bytes in user space (a Java read of
 * a truncated mapping is an {@code InternalError}, not a crash). {@link #shrank()} then tells
 * that failure apart from a client that went away.
 */
final class MappedFileSource implements Content.Source {
    /** The largest region mapped at once: few map calls per GET, little mapped per connection. */
    static final int REGION = 8 * 1024 * 1024;

    private final FileChannel channel;
    private final long end;
    private long position;
    private volatile Throwable failure;

    /** The {@code length} bytes of {@code channel} from {@code first}; the channel stays its caller's to close. */
    MappedFileSource(FileChannel channel, long first, long length) {
        this.channel = channel;
        this.position = first;
        this.end = first + length;
    }

    @Override
    public Content.Chunk read() {
        Throwable failed = failure;
        if (failed != null) {
            return Content.Chunk.from(failed, true);
        }
        if (position >= end) {
            return Content.Chunk.EOF;
        }
        try {
            long size = channel.size();
            if (size <= position) {
                return Content.Chunk.EOF;
            }
            long length = Math.min(Math.min(end, size) - position, REGION);
            var region = channel.map(FileChannel.MapMode.READ_ONLY, position, length);
            position += length;
            return Content.Chunk.from(region, position >= end);
        } catch (IOException e) {
            // Mapping past the end fails: a file cut between the size check and the map ends here too.
            if (shrank()) {
                return Content.Chunk.EOF;
            }
            failure = e;
            return Content.Chunk.from(e, true);
        }
    }

    @Override
    public void demand(Runnable demandCallback) {
        // A region is mapped on the reading thread, so there is always a chunk to read.
        Objects.requireNonNull(demandCallback).run();
    }

    @Override
    public void fail(Throwable cause) {
        if (failure == null) {
            failure = cause;
        }
    }

    /** Whether the file is now shorter than the range's end; false when that cannot be known. */
    boolean shrank() {
        try {
            return channel.size() < end;
        } catch (IOException e) {
            return false;
        }
    }
}
