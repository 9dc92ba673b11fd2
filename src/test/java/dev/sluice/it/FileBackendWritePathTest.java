package dev.sluice.it;

import dev.sluice.testing.FileTree;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.ChecksumType;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadResponse;
import software.amazon.awssdk.services.s3.model.CompletedPart;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

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
        return FileTree.regularFiles(root).stream()
                .filter(p -> p.startsWith(product + "/") || !p.contains("/") || p.startsWith("."))
                .toList();
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

    /**
     * A completion's {@code x-amz-checksum-*} header is the object's checksum, checked against
     * the one the parts make; a value, algorithm, type or size that the upload does not bear out
     * is refused, nothing is stored, and the upload can still be completed.
     */
    @Test
    void aCompletionsObjectChecksumTypeAndSizeAreCheckedBeforeTheObjectExists(TestInfo info) {
        String key = unique(info) + "/claimed.bin";
        byte[] p1 = randomBytes(5 * MIB);
        byte[] p2 = randomBytes(77);
        byte[] whole = concat(p1, p2);
        String uploadId = writer.createMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key)
                .checksumAlgorithm(ChecksumAlgorithm.CRC32_C).checksumType(ChecksumType.FULL_OBJECT)).uploadId();
        List<CompletedPart> parts = uploadParts(key, uploadId, Checksums.CRC32C, p1, p2);
        java.util.function.Consumer<CompleteMultipartUploadRequest.Builder> base = b -> b.bucket(ACCOUNT).key("drop/" + key)
                .uploadId(uploadId).multipartUpload(m -> m.parts(parts));

        assertSdkError(() -> writer.completeMultipartUpload(b -> base.accept(b.checksumCRC32C(Checksums.CRC32C.of(p1)))),
                400, "BadDigest");
        assertSdkError(() -> writer.completeMultipartUpload(b -> base.accept(b.checksumCRC32(Checksums.CRC32.of(whole)))),
                400, "InvalidRequest");
        assertSdkError(() -> writer.completeMultipartUpload(b -> base.accept(b.checksumType(ChecksumType.COMPOSITE))),
                400, "InvalidRequest");
        assertSdkError(() -> writer.completeMultipartUpload(b -> base.accept(b.mpuObjectSize((long) whole.length + 1))),
                400, "InvalidRequest");
        assertHolds("drop", key, Optional.empty());

        CompleteMultipartUploadResponse done = writer.completeMultipartUpload(b -> base.accept(b.checksumCRC32C(Checksums.CRC32C.of(whole))
                .checksumType(ChecksumType.FULL_OBJECT).mpuObjectSize((long) whole.length)));
        assertThat(done.checksumCRC32C()).isEqualTo(Checksums.CRC32C.of(whole));
        assertHolds("drop", key, Optional.of(whole));
    }

    /** A composite upload's object checksum may be claimed with its part count, as S3 shows it, or without. */
    @Test
    void aCompositeObjectChecksumIsAcceptedWithOrWithoutItsPartCount(TestInfo info) {
        for (boolean withCount : List.of(true, false)) {
            String key = unique(info) + "/composite-" + withCount + ".bin";
            byte[] p1 = randomBytes(5 * MIB);
            byte[] p2 = randomBytes(5);
            String uploadId = writer.createMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key)
                    .checksumAlgorithm(ChecksumAlgorithm.SHA256)).uploadId();
            List<CompletedPart> parts = uploadParts(key, uploadId, Checksums.SHA256, p1, p2);
            String composite = Checksums.SHA256.composite(p1, p2);
            String claimed = withCount ? composite : composite.substring(0, composite.indexOf('-'));
            String wrongCount = composite.substring(0, composite.indexOf('-')) + "-3";

            assertSdkError(() -> writer.completeMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId)
                    .multipartUpload(m -> m.parts(parts)).checksumSHA256(wrongCount)), 400, "BadDigest");
            CompleteMultipartUploadResponse done = writer.completeMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key)
                    .uploadId(uploadId).multipartUpload(m -> m.parts(parts)).checksumSHA256(claimed).checksumType(ChecksumType.COMPOSITE));
            assertThat(done.checksumSHA256()).isEqualTo(composite);
            assertHolds("drop", key, Optional.of(concat(p1, p2)));
        }
    }

    /** An upload started without a checksum has nothing to check a claimed one against: refused, not waved through. */
    @Test
    void anObjectChecksumOnAnUploadStartedWithoutOneIsRefused(TestInfo info) {
        String key = unique(info) + "/plain.bin";
        byte[] part = randomBytes(100);
        String uploadId = writerWithoutChecksums.createMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key)).uploadId();
        String etag = writerWithoutChecksums.uploadPart(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId).partNumber(1),
                RequestBody.fromBytes(part)).eTag();
        List<CompletedPart> parts = List.of(CompletedPart.builder().partNumber(1).eTag(etag).build());

        assertSdkError(() -> writerWithoutChecksums.completeMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId)
                .multipartUpload(m -> m.parts(parts)).checksumCRC32(Checksums.CRC32.of(part))), 400, "InvalidRequest");
        assertHolds("drop", key, Optional.empty());
        writerWithoutChecksums.completeMultipartUpload(b -> b.bucket(ACCOUNT).key("drop/" + key).uploadId(uploadId)
                .multipartUpload(m -> m.parts(parts)).mpuObjectSize((long) part.length));
        assertHolds("drop", key, Optional.of(part));
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
