package dev.sluice.bench;

import dev.sluice.backend.FileBackend;
import dev.sluice.backend.KeyOrder;
import dev.sluice.backend.ListPage;
import dev.sluice.backend.ListPosition;
import dev.sluice.backend.ListQuery;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One 1,000-key page of a file-backed product (no delimiter), from the start, from the middle
 * and near the end of trees of 1,000, 10,000 and 100,000 files. The point is the shape of the
 * curve: a page should cost the same whatever the size of the tree around it.
 *
 * <p>{@code nested} is a partitioned dataset, 100 files per directory two levels deep
 * ({@code t00/m00/f00.bin}); {@code flat} is every file in one directory, the worst case for a
 * walk that reads a directory's names to order them. Each tree is written once per trial in a
 * temporary directory and deleted afterwards.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class FileListingBenchmark {
    private static final int PAGE = 1000;

    @Param({"1000", "10000", "100000"})
    public int files;

    @Param({"nested", "flat"})
    public String shape;

    private Path root;
    private FileBackend backend;
    private ListPosition middle;
    private ListPosition nearEnd;

    @Setup(Level.Trial)
    public void writeTree() throws IOException {
        root = Files.createTempDirectory("sluice-listing-bench");
        List<String> keys = ListingTree.write(root, files, shape.equals("flat"));
        keys.sort(KeyOrder.COMPARATOR);
        backend = new FileBackend(root, Runnable::run);
        middle = new ListPosition.After(keys.get(files / 2));
        nearEnd = new ListPosition.After(keys.get(Math.max(0, files - PAGE - 1)));
    }

    @TearDown(Level.Trial)
    public void deleteTree() throws IOException {
        ListingTree.delete(root);
    }

    private ListPage page(ListPosition position) {
        return backend.list(new ListQuery("", Optional.empty(), PAGE, position));
    }

    @Benchmark
    public ListPage pageFromStart() {
        return page(new ListPosition.Start());
    }

    @Benchmark
    public ListPage pageFromMiddle() {
        return page(middle);
    }

    @Benchmark
    public ListPage pageNearEnd() {
        return page(nearEnd);
    }
}
