package dev.sluice.it;

import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The write contract with every product in a local directory ({@code type: file}). The
 * directory is looked at directly: a refused or abandoned write must leave no file in it, not
 * even one that listings and GETs would hide.
 */
class FileBackendWritePathTest extends WritePathContract {
    @TempDir
    static Path root;

    @Override
    protected String backend(String product) {
        try {
            Files.createDirectories(root.resolve(product));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return "{ type: file, path: ./" + product + " }";
    }

    @Override
    protected Map<String, String> backendEnvironment() {
        return Map.of();
    }

    @Override
    protected Path baseDirectory() {
        return root;
    }

    @Override
    protected void seed(String product, String key, byte[] bytes) {
        try {
            Path p = root.resolve(product).resolve(key);
            Files.createDirectories(p.getParent());
            Files.write(p, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    protected Optional<byte[]> stored(String product, String key) {
        Path p = root.resolve(product).resolve(key);
        try {
            return Files.isRegularFile(p) ? Optional.of(Files.readAllBytes(p)) : Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every regular file under the product's directory, hidden ones included, and every file beside it under the root. */
    @Override
    protected List<String> backendEntries(String product) {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(Files::isRegularFile)
                    .map(p -> root.relativize(p).toString())
                    .filter(p -> p.startsWith(product + "/") || !p.contains("/") || p.startsWith("."))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
