package dev.sluice.backend;

import org.eclipse.jetty.io.Content;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A byte range of an open file as a {@link Content.Source} of memory-mapped regions, so that
 * the connection's {@code write(2)} copies the bytes from the page cache straight into the
 * socket. Jetty 12 has no {@code sendfile}: its {@code EndPoint} writes buffers only. Reading
 * into a buffer and writing it out copied every byte twice through user space, and a 256 MiB
 * GET ran at three quarters of nginx's speed (docs/behaviour.md, "Large file reads").
 *
 * <p>One region of at most {@link #REGION} bytes is mapped at a time, when the server asks for
 * the next chunk, at the range's own offset: nothing before the range is touched and no object
 * is ever mapped whole. Each region is unmapped as soon as the server has written it (the
 * chunk's release), or when the body is closed. A {@code MappedByteBuffer} from
 * {@code FileChannel.map} is unmapped only when the garbage collector finds it, which a proxy
 * that allocates little may not do for a long time: a first version kept every region of 100
 * concurrent 64 MiB GETs mapped, 6.4 GiB of resident size, and a busy process would run into
 * the kernel's limit on mappings. Unmapping on demand needs {@code java.lang.foreign}'s
 * {@code Arena}, final from Java 22 and looked up at run time because sluice is built for 21;
 * on Java 21 {@link #available()} is false and files are read through buffers as before.
 *
 * <p>A file that shrinks while it is sent: before each region the file's size is read, and a
 * file now shorter than the range ends the source early, so the writer sees a body shorter
 * than its length. A file truncated under a region already handed to the server makes the
 * kernel's copy fail with {@code EFAULT} ("Bad address"), a failed write and no signal, because
 * nothing in the plain-HTTP/1.1 write path reads the mapped bytes in user space (a Java read of
 * a truncated mapping is an {@code InternalError}, of an unmapped one an
 * {@code IllegalStateException}, never a crash). {@link ObjectBody#shrank()} then tells that
 * failure apart from a client that went away.
 */
final class MappedFileSource implements Content.Source, AutoCloseable {
    /** The largest region mapped at once: few map calls per GET, little mapped per connection. */
    static final int REGION = 8 * 1024 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(MappedFileSource.class);
    private static final Optional<Mapping> MAPPING = Mapping.lookUp();

    private final FileChannel channel;
    private final long end;
    private long position;
    private volatile Throwable failure;
    /** The mapped regions the server holds (one, unless it reads ahead): each unmapped by its chunk's release or by {@link #close()}. */
    private final Set<AutoCloseable> held = ConcurrentHashMap.newKeySet();

    /** The {@code length} bytes of {@code channel} from {@code first}; the channel stays its caller's to close. */
    MappedFileSource(FileChannel channel, long first, long length) {
        this.channel = channel;
        this.position = first;
        this.end = first + length;
    }

    /** Whether regions can be unmapped when written (Java 22 and later); when not, use a read path. */
    static boolean available() {
        return MAPPING.isPresent();
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
            Mapping.Region region = MAPPING.orElseThrow().map(channel, position, length);
            held.add(region.arena());
            position += length;
            return Content.Chunk.from(region.bytes(), position >= end, () -> unmap(region.arena()));
        } catch (IOException e) {
            // Mapping past the end fails: a file cut between the size check and the map ends here too.
            if (shrankBelow(end)) {
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

    /** Unmaps the regions the server did not release (a transfer that ended early); call it once the transfer is over. */
    @Override
    public void close() {
        for (AutoCloseable arena : held) {
            unmap(arena);
        }
    }

    private void unmap(AutoCloseable arena) {
        if (!held.remove(arena)) {
            return; // released by its chunk and by close(): the first one unmapped it
        }
        try {
            arena.close();
        } catch (Exception e) {
            // Only a region still being written cannot be closed, and none is once the transfer is over.
            LOG.warn("a file region could not be unmapped and stays mapped: {}", e.toString());
        }
    }

    private boolean shrankBelow(long length) {
        try {
            return channel.size() < length;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * {@code FileChannel.map(mode, offset, size, Arena)}, {@code Arena.ofShared()} and
     * {@code MemorySegment.asByteBuffer()}, looked up once. A shared arena because the region
     * is released on whichever thread completes its write.
     */
    private record Mapping(MethodHandle ofShared, MethodHandle map, MethodHandle asByteBuffer) {
        record Region(AutoCloseable arena, ByteBuffer bytes) {
        }

        static Optional<Mapping> lookUp() {
            if (Runtime.version().feature() < 22) {
                return Optional.empty(); // java.lang.foreign is a preview API in 21
            }
            try {
                Class<?> arena = Class.forName("java.lang.foreign.Arena");
                Class<?> segment = Class.forName("java.lang.foreign.MemorySegment");
                MethodHandles.Lookup lookup = MethodHandles.publicLookup();
                return Optional.of(new Mapping(
                        lookup.findStatic(arena, "ofShared", MethodType.methodType(arena)),
                        lookup.findVirtual(FileChannel.class, "map",
                                MethodType.methodType(segment, FileChannel.MapMode.class, long.class, long.class, arena)),
                        lookup.findVirtual(segment, "asByteBuffer", MethodType.methodType(ByteBuffer.class))));
            } catch (ReflectiveOperationException e) {
                return Optional.empty();
            }
        }

        Region map(FileChannel channel, long offset, long length) throws IOException {
            AutoCloseable arena;
            try {
                arena = (AutoCloseable) ofShared.invoke();
            } catch (Throwable t) {
                throw new IllegalStateException("creating an arena for a file region", t);
            }
            try {
                Object segment = map.invoke(channel, FileChannel.MapMode.READ_ONLY, offset, length, arena);
                return new Region(arena, (ByteBuffer) asByteBuffer.invoke(segment));
            } catch (IOException | RuntimeException | Error e) {
                closeAfter(arena, e);
                throw e;
            } catch (Throwable t) {
                closeAfter(arena, t);
                throw new IllegalStateException("mapping a file region", t);
            }
        }

        private static void closeAfter(AutoCloseable arena, Throwable failure) {
            try {
                arena.close();
            } catch (Exception suppressed) {
                failure.addSuppressed(suppressed);
            }
        }
    }
}
