package dev.sluice.it;

import dev.sluice.it.RawWrite.Form;
import dev.sluice.testing.FileTree;
import dev.sluice.testing.SluiceProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * {@code kill -9} of sluice mid-upload on the file backend, then a restart
 * ({@code docs/writes.md}, "File backend"): the earlier version of an object being replaced is
 * intact, nothing partial is visible, the temporary files (once old enough not to be another
 * instance's write in progress) are gone, an upload interrupted
 * mid-part continues on the new process with the parts it had, and a retried upload succeeds.
 */
class WriteCrashRecoveryTest {
    static final int MIB = 1024 * 1024;

    @TempDir
    Path dir;
    final Random random = new Random(9);

    byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    List<String> files(Path data) {
        return FileTree.regularFiles(data);
    }

    /** Opens a connection and sends a signed PUT's head and {@code sent} of {@code body}'s bytes; the caller keeps it open. */
    static Socket startUpload(SluiceProcess sluice, String path, String[] query, byte[] body, int sent) throws IOException {
        RawWrite.Wire wire = RawWrite.put(sluice.endpoint(), path).query(query)
                .signedBy(WriteProcesses.WRITER_ID, WriteProcesses.WRITER_SECRET).form(Form.UNSIGNED).body(body).wire();
        Socket socket = new Socket(sluice.endpoint().getHost(), sluice.endpoint().getPort());
        OutputStream out = socket.getOutputStream();
        out.write(wire.head());
        out.write(wire.body(), 0, sent);
        out.flush();
        return socket;
    }

    @Test
    void afterKillNineMidUploadNothingPartialIsVisibleAndUploadsContinueOnTheNextProcess() throws Exception {
        WriteProcesses processes = new WriteProcesses(dir);
        Path data = processes.data();
        byte[] earlier = randomBytes(100_000);
        byte[] replacement = randomBytes(12 * MIB);
        byte[] part1 = randomBytes(5 * MIB);
        byte[] part2 = randomBytes(9 * MIB);
        String uploadId;
        String e1;
        List<String> settled;

        try (SluiceProcess first = processes.start(1); S3Client s3 = WriteProcesses.writer(first)) {
            s3.putObject(b -> b.bucket("acme").key("data/object.bin"), RequestBody.fromBytes(earlier));
            uploadId = s3.createMultipartUpload(b -> b.bucket("acme").key("data/multipart.bin")).uploadId();
            e1 = s3.uploadPart(b -> b.bucket("acme").key("data/multipart.bin").uploadId(uploadId).partNumber(1),
                    RequestBody.fromBytes(part1)).eTag();
            settled = files(data);

            try (Socket put = startUpload(first, "/acme/data/object.bin", new String[0], replacement, 6 * MIB);
                 Socket part = startUpload(first, "/acme/data/multipart.bin", new String[] {"partNumber", "2", "uploadId", uploadId},
                         part2, 4 * MIB)) {
                // Kill once both bodies are evidently being written (new files beside the settled
                // ones), or after a bounded wait: the checks below hold either way.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (files(data).size() < settled.size() + 2 && System.nanoTime() < deadline) {
                    TimeUnit.MILLISECONDS.sleep(20); // bounded wait for evidence of streaming
                }
                WriteProcesses.killHard(first, processes.config());
            }
        }
        // What the interrupted writes left may be another instance's write in progress while it
        // is young (a fleet may share the directory), so a restart removes it only once it is
        // old: make it look as if the crash was two hours ago.
        FileTime longAgo = FileTime.from(Instant.now().minus(Duration.ofHours(2)));
        for (String left : files(data)) {
            if (!settled.contains(left)) {
                Files.setLastModifiedTime(data.resolve(left), longAgo);
            }
        }

        try (SluiceProcess second = processes.start(2); S3Client s3 = WriteProcesses.writer(second)) {
            // Nothing partial: the earlier version whole, no multipart object, no stray key.
            assertThat(s3.getObject(b -> b.bucket("acme").key("data/object.bin"), ResponseTransformer.toBytes()).asByteArray())
                    .isEqualTo(earlier);
            assertThat(s3.listObjectsV2(b -> b.bucket("acme").prefix("data/")).contents())
                    .extracting(S3Object::key).containsExactly("data/object.bin");
            // The temporary files of both interrupted bodies are cleaned up; the finished part stays.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!files(data).equals(settled)) {
                if (System.nanoTime() > deadline) {
                    fail("after a restart the directory still holds " + files(data) + " instead of " + settled);
                }
                TimeUnit.MILLISECONDS.sleep(100); // cleanup after a restart may run in the background; bounded
            }

            // The upload continues where it was: part 1 kept, part 2 sent again.
            assertThat(s3.listParts(b -> b.bucket("acme").key("data/multipart.bin").uploadId(uploadId)).parts())
                    .extracting(p -> p.partNumber()).containsExactly(1);
            String e2 = s3.uploadPart(b -> b.bucket("acme").key("data/multipart.bin").uploadId(uploadId).partNumber(2),
                    RequestBody.fromBytes(part2)).eTag();
            s3.completeMultipartUpload(b -> b.bucket("acme").key("data/multipart.bin").uploadId(uploadId).multipartUpload(m -> m.parts(
                    CompletedPart.builder().partNumber(1).eTag(e1).build(), CompletedPart.builder().partNumber(2).eTag(e2).build())));
            // The retried PUT succeeds.
            s3.putObject(b -> b.bucket("acme").key("data/object.bin"), RequestBody.fromBytes(replacement));

            assertThat(s3.getObject(b -> b.bucket("acme").key("data/multipart.bin"), ResponseTransformer.toBytes()).asByteArray())
                    .isEqualTo(WritePathContract.concat(part1, part2));
            assertThat(s3.getObject(b -> b.bucket("acme").key("data/object.bin"), ResponseTransformer.toBytes()).asByteArray())
                    .isEqualTo(replacement);
            assertThat(s3.listMultipartUploads(b -> b.bucket("acme").prefix("data/")).uploads()).isEmpty();
        }
    }
}
