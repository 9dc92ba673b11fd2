package dev.sluice.bench;

import dev.sluice.backend.FileBackend;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * 16 callers listing one file-backed product of 50,000 files (100 per directory, as in
 * {@link FileListingBenchmark}) at the same time: each lists the first 1,000-key page
 * ({@code firstPage}), or every page from the first to the last ({@code fullListing}). The time
 * is per operation of one caller while all 16 run.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 5)
@Measurement(iterations = 3, time = 5)
@Fork(1)
@Threads(16)
public class FileListingParallelBenchmark {
    private static final int FILES = 50_000;
    private static final int PAGE = 1000;

    private Path root;
    private FileBackend backend;

    @Setup(Level.Trial)
    public void writeTree() throws IOException {
        root = Files.createTempDirectory("sluice-listing-bench");
        ListingTree.write(root, FILES, false);
        backend = new FileBackend(root, Runnable::run);
    }

    @TearDown(Level.Trial)
    public void deleteTree() throws IOException {
        ListingTree.delete(root);
    }

    private ListPage page(ListPosition position) {
        return backend.list(new ListQuery("", Optional.empty(), PAGE, position));
    }

    @Benchmark
    public ListPage firstPage() {
        return page(new ListPosition.Start());
    }

    @Benchmark
    public int fullListing() {
        int keys = 0;
        ListPosition position = new ListPosition.Start();
        for (int pages = 0; pages <= FILES / PAGE + 1; pages++) {
            ListPage page = page(position);
            keys += page.objects().size();
            if (page.next().isEmpty()) {
                return keys;
            }
            position = page.next().get();
        }
        throw new IllegalStateException("more pages than " + FILES + " keys can fill");
    }
}
