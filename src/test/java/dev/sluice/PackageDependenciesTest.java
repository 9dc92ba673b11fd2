package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The package map of docs/architecture.md, held against the code: {@code s3} (the wire
 * protocol) depends on no other package of sluice, {@code sigv4} only on it, and {@code sigv2}
 * on it and on the request shape {@code sigv4} defines, so there is no cycle. They once imported each other ({@code s3} took its percent-encoding from
 * {@code sigv4}, {@code sigv4} its errors from {@code s3}).
 */
class PackageDependenciesTest {

    private static List<String> importsOf(String pkg) throws IOException {
        Path dir = Path.of("src/main/java/dev/sluice", pkg);
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith(".java")).flatMap(f -> {
                try {
                    return Files.readAllLines(f).stream().filter(l -> l.startsWith("import dev.sluice."))
                            .map(l -> f.getFileName() + ": " + l);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).toList();
        }
    }

    @Test
    void theS3WireProtocolDependsOnNoOtherPackageOfSluice() throws IOException {
        assertThat(importsOf("s3")).filteredOn(l -> !l.contains("import dev.sluice.s3.")).isEmpty();
    }

    @Test
    void sigV4DependsOnlyOnTheWireProtocol() throws IOException {
        assertThat(importsOf("sigv4")).filteredOn(l -> !l.contains("import dev.sluice.s3.") && !l.contains("import dev.sluice.sigv4."))
                .isEmpty();
    }

    @Test
    void requestBodiesDependOnlyOnTheWireProtocolSigningAndTheUploadTheyMake() throws IOException {
        assertThat(importsOf("upload")).filteredOn(l -> !l.contains("import dev.sluice.s3.")
                && !l.contains("import dev.sluice.sigv4.") && !l.contains("import dev.sluice.backend.Upload;")).isEmpty();
    }

    @Test
    void sigV2DependsOnlyOnTheWireProtocolAndTheSignedRequestItShares() throws IOException {
        assertThat(importsOf("sigv2")).filteredOn(l -> !l.contains("import dev.sluice.s3.") && !l.contains("import dev.sluice.sigv2.")
                && !l.contains("import dev.sluice.sigv4.SignableRequest;")).isEmpty();
    }
}
