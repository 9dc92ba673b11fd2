package dev.sluice.it;

import dev.sluice.testing.SluiceProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.MultipartUpload;

import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two instances of a fleet sharing one directory and one upload-id key
 * ({@code server.upload_id_key_env}, {@code docs/writes.md}, "Upload ids"): a multipart upload
 * started on one is continued, listed and completed on the other, part by part, and the object
 * is read whole from the first.
 */
class WriteFleetTest {
    static final int MIB = 1024 * 1024;

    @TempDir
    Path dir;

    @Test
    void aMultipartUploadStartedOnOneInstanceCompletesOnAnother() throws Exception {
        WriteProcesses processes = new WriteProcesses(dir);
        Random random = new Random(3);
        byte[] part1 = new byte[5 * MIB];
        byte[] part2 = new byte[2 * MIB];
        random.nextBytes(part1);
        random.nextBytes(part2);
        String key = "data/fleet/object.bin";

        try (SluiceProcess a = processes.start(1); SluiceProcess b = processes.start(2);
             S3Client onA = WriteProcesses.writer(a); S3Client onB = WriteProcesses.writer(b)) {
            String uploadId = onA.createMultipartUpload(x -> x.bucket("acme").key(key)).uploadId();
            String e1 = onA.uploadPart(x -> x.bucket("acme").key(key).uploadId(uploadId).partNumber(1), RequestBody.fromBytes(part1)).eTag();
            String e2 = onB.uploadPart(x -> x.bucket("acme").key(key).uploadId(uploadId).partNumber(2), RequestBody.fromBytes(part2)).eTag();

            assertThat(onB.listParts(x -> x.bucket("acme").key(key).uploadId(uploadId)).parts())
                    .extracting(p -> p.partNumber()).containsExactly(1, 2);
            assertThat(onB.listMultipartUploads(x -> x.bucket("acme").prefix("data/fleet/")).uploads())
                    .extracting(MultipartUpload::key).containsExactly(key);
            onB.completeMultipartUpload(x -> x.bucket("acme").key(key).uploadId(uploadId).multipartUpload(m -> m.parts(
                    CompletedPart.builder().partNumber(1).eTag(e1).build(), CompletedPart.builder().partNumber(2).eTag(e2).build())));

            assertThat(onA.getObject(x -> x.bucket("acme").key(key), ResponseTransformer.toBytes()).asByteArray())
                    .isEqualTo(WritePathContract.concat(part1, part2));
            assertThat(onA.headObject(x -> x.bucket("acme").key(key)).eTag()).isEqualTo(Checksums.multipartEtag(part1, part2));
        }
    }
}
