package dev.sluice.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.ChecksumType;
import software.amazon.awssdk.services.s3.model.CompletedPart;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

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
    /** The file store keeps a multipart upload's checksum in the object's sidecar. */
    @Override
    protected boolean keepsMultipartChecksums() {
        return true;
    }

    @Test
    void aCompletionThatMisstatesOrLeavesOutAPartsChecksumIsRefusedAndThenCompletesWhenRight(TestInfo info) {
        String key = unique(info) + "/checked.bin";
        byte[] p1 = randomBytes(5 * MIB);
        byte[] p2 = randomBytes(10);
        String uploadId = writer.createMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key)
                .checksumAlgorithm(ChecksumAlgorithm.CRC32)).uploadId();
        List<CompletedPart> right = uploadParts(key, uploadId, Checksums.CRC32, p1, p2);
        List<CompletedPart> misstated = List.of(right.get(0),
                listedPart(2, right.get(1).eTag(), Checksums.CRC32, Checksums.CRC32.of(p1)));
        List<CompletedPart> leftOut = List.of(right.get(0), CompletedPart.builder().partNumber(2).eTag(right.get(1).eTag()).build());

        assertSdkError(() -> writer.completeMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId)
                .multipartUpload(m -> m.parts(misstated))), 400, "InvalidPart");
        assertSdkError(() -> writer.completeMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId)
                .multipartUpload(m -> m.parts(leftOut))), 400, "InvalidRequest");
        assertHolds("drop", key, Optional.empty());

        writer.completeMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId).multipartUpload(m -> m.parts(right)));
        assertHolds("drop", key, Optional.of(concat(p1, p2)));
    }

    @Test
    void aPartWithoutTheUploadsChecksumOrWithAnotherIsRefusedAndNotKept(TestInfo info) {
        String key = unique(info) + "/parts.bin";
        byte[] part = randomBytes(1000);
        String uploadId = writer.createMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key)
                .checksumAlgorithm(ChecksumAlgorithm.SHA256)).uploadId();

        assertSdkError(() -> writerWithoutChecksums.uploadPart(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId)
                .partNumber(1), RequestBody.fromBytes(part)), 400, "InvalidRequest");
        assertSdkError(() -> writer.uploadPart(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId).partNumber(1)
                .checksumAlgorithm(ChecksumAlgorithm.CRC32), RequestBody.fromBytes(part)), 400, "InvalidRequest");
        assertThat(writer.listParts(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId)).parts()).isEmpty();

        List<CompletedPart> parts = uploadParts(key, uploadId, Checksums.SHA256, part);
        writer.completeMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId).multipartUpload(m -> m.parts(parts)));
        assertHolds("drop", key, Optional.of(part));
    }

    @Test
    void aChecksumTypeTheAlgorithmCannotHaveIsRefusedAndStartsNothing(TestInfo info) {
        String key = unique(info) + "/refused.bin";
        List<String> before = backendEntries("drop");

        assertSdkError(() -> writer.createMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key)
                .checksumAlgorithm(ChecksumAlgorithm.SHA256).checksumType(ChecksumType.FULL_OBJECT)), 400, "InvalidRequest");
        assertSdkError(() -> writer.createMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key)
                .checksumAlgorithm(ChecksumAlgorithm.CRC64_NVME).checksumType(ChecksumType.COMPOSITE)), 400, "InvalidRequest");

        assertThat(backendEntries("drop")).isEqualTo(before);
    }
}
