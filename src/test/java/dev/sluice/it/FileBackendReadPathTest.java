package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;

/** The read path contract with every product served from a local directory ({@code type: file}). */
class FileBackendReadPathTest extends ReadPathContract {
    @TempDir
    static Path root;

    @Override
    protected SluiceUnderTest startSluice() {
        Fixture.writeTo(root);
        String yaml = """
                server:
                  listen: "127.0.0.1:0"
                  admin_listen: "127.0.0.1:0"
                registry:
                  type: static
                  products:
                    - account: acme
                      product: hello
                      backend: { type: file, path: hello }
                    - account: acme
                      product: world
                      visibility: public
                      backend: { type: file, path: world }
                    - account: acme
                      product: secret
                      visibility: restricted
                      backend: { type: file, path: secret }
                """;
        return SluiceUnderTest.start(yaml, Map.of(), root);
    }

    /** Small files are hashed on their first request, so the very first answer has the MD5 (docs/behaviour.md). */
    @Test
    void aSmallFilesETagIsItsContentMd5AsS3GivesASinglePartObject() throws Exception {
        byte[] bytes = Fixture.object(Fixture.HELLO, "greeting.txt").bytes();
        String md5 = "\"" + HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes)) + "\"";

        String headed = s3.headObject(b -> b.bucket(Fixture.ACCOUNT).key("hello/greeting.txt")).eTag();
        String listed = s3.listObjectsV2(b -> b.bucket(Fixture.ACCOUNT).prefix("hello/greeting")).contents().stream()
                .filter(o -> o.key().equals("hello/greeting.txt")).map(S3Object::eTag).findFirst().orElseThrow();

        assertThat(headed).isEqualTo(md5);
        assertThat(listed).isEqualTo(md5);
    }
}
