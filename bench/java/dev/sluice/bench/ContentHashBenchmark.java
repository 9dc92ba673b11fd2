package dev.sluice.bench;

import dev.sluice.backend.FileBackend;
import dev.sluice.backend.ObjectRead;
import dev.sluice.backend.ObjectResponse;
import dev.sluice.s3.Preconditions;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What hashing a file inline adds to its first request, to choose the file backend's inline
 * limit (docs/behaviour.md, "File backend ETags"): reading a page-cached file of each size
 * and computing its MD5 the way the backend does (64 KiB reads), next to a HEAD of a file whose
 * hash is already known (a stat, a cache lookup and the headers) as the floor.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ContentHashBenchmark {
    @Param({"4096", "65536", "1048576"})
    public int size;

    private Path dir;
    private Path file;
    private FileBackend backend;
    private final ObjectRead head = new ObjectRead("hashed.bin", Optional.empty(), Preconditions.NONE, true, "bench");

    @Setup
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("sluice-hash-bench");
        byte[] bytes = new byte[size];
        new Random(1).nextBytes(bytes);
        file = Files.write(dir.resolve("data.bin"), bytes);
        Files.write(dir.resolve("hashed.bin"), new byte[4096]);
        backend = new FileBackend(dir, Runnable::run);
        ObjectResponse.read(backend, head);
    }

    @TearDown
    public void tearDown() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Benchmark
    public byte[] md5OfFile() throws IOException, NoSuchAlgorithmException {
        MessageDigest md5 = MessageDigest.getInstance("MD5");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            while (channel.read(buffer.clear()) >= 0) {
                md5.update(buffer.flip());
            }
        }
        return md5.digest();
    }

    @Benchmark
    public ObjectResponse headOfAHashedFile() {
        return ObjectResponse.read(backend, head);
    }
}
