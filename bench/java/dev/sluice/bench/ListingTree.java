package dev.sluice.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** The trees the file-listing benchmarks list: one-byte files, nested 100 per directory two levels deep, or all in one directory. */
final class ListingTree {
    private ListingTree() {
    }

    /** Writes {@code files} files under {@code root}; returns their keys in the order written. */
    static List<String> write(Path root, int files, boolean flat) throws IOException {
        List<String> keys = new ArrayList<>(files);
        for (int i = 0; i < files; i++) {
            String key = flat
                    ? String.format("f%06d.bin", i)
                    : String.format("t%02d/m%02d/f%02d.bin", i / 10_000, (i / 100) % 100, i % 100);
            Path file = root.resolve(key);
            Files.createDirectories(file.getParent());
            Files.write(file, new byte[] {1});
            keys.add(key);
        }
        return keys;
    }

    static void delete(Path root) throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
