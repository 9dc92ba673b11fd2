package dev.sluice.backend;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The background forces of a large write: one per {@link DurableFiles.Writeback#STEP} bytes,
 * never two at once, waited for at the end, and a failed one fails the write (the kernel
 * reports a write-back error to one force only). The disk is a real file; only {@code force}
 * is observed, held and failed, which a real disk cannot be made to do on demand.
 */
class WritebackTest {
    @TempDir
    Path dir;

    @Test
    void aForceStartsPerStepNeverTwoAtOnceAndTheEndWaitsForIt() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (Observed channel = new Observed(FileChannel.open(dir.resolve("f"), StandardOpenOption.CREATE, StandardOpenOption.WRITE),
                entered, release, false)) {
            DurableFiles.Writeback writeback = new DurableFiles.Writeback(channel);
            writeback.wrote(DurableFiles.Writeback.STEP - 1);
            assertThat(channel.forces.get()).as("not a step yet").isZero();
            writeback.wrote(1);
            assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
            writeback.wrote(3 * DurableFiles.Writeback.STEP); // one is still running: no second
            assertThat(channel.forces.get()).isEqualTo(1);

            Thread finishing = Thread.ofVirtual().start(writeback::finish);
            assertThat(finishing.join(java.time.Duration.ofMillis(200))).as("finish waits for the running force").isFalse();
            release.countDown();
            assertThat(finishing.join(java.time.Duration.ofSeconds(10))).isTrue();
            assertThat(channel.forces.get()).isEqualTo(1);
            writeback.close();
        }
    }

    @Test
    void aFailedBackgroundForceFailsTheWriteWith503() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(0);
        try (Observed channel = new Observed(FileChannel.open(dir.resolve("f"), StandardOpenOption.CREATE, StandardOpenOption.WRITE),
                entered, release, true)) {
            DurableFiles.Writeback writeback = new DurableFiles.Writeback(channel);
            writeback.wrote(DurableFiles.Writeback.STEP);
            assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
            assertThatThrownBy(writeback::finish).isInstanceOfSatisfying(S3Exception.class,
                    e -> assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE));
            writeback.close();
        }
    }

    /** A real file's channel whose {@code force} is counted, can be held until released, and can fail. */
    private static final class Observed extends FileChannel {
        final AtomicInteger forces = new AtomicInteger();
        private final FileChannel file;
        private final CountDownLatch entered;
        private final CountDownLatch release;
        private final boolean fail;

        Observed(FileChannel file, CountDownLatch entered, CountDownLatch release, boolean fail) {
            this.file = file;
            this.entered = entered;
            this.release = release;
            this.fail = fail;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            forces.incrementAndGet();
            entered.countDown();
            try {
                if (!release.await(10, TimeUnit.SECONDS)) {
                    throw new IOException("not released");
                }
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            if (fail) {
                throw new IOException("write-back failed");
            }
            file.force(metaData);
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return file.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return file.read(dsts, offset, length);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return file.write(src);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            return file.write(srcs, offset, length);
        }

        @Override
        public long position() throws IOException {
            return file.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            file.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return file.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            file.truncate(size);
            return this;
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return file.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            return file.transferFrom(src, position, count);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return file.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            return file.write(src, position);
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            return file.map(mode, position, size);
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return file.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return file.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            file.close();
        }
    }
}
