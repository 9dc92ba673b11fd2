package dev.sluice.it;

import dev.sluice.testing.S3ProxyExtension;
import dev.sluice.testing.S3ProxyProcess;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static dev.sluice.it.Fixture.ACCOUNT;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The read path contract with products in S3Proxy, which checks every SigV4 signature: a read
 * that succeeds here was signed correctly by sluice, for every awkward key. {@code hello} lives
 * under a key prefix of a shared bucket, next to decoy objects that share the prefix's first
 * characters, so prefix composition (on the way out) and stripping (on the way back) are
 * exercised; {@code world} is a whole bucket with no prefix.
 */
class S3BackendReadPathTest extends ReadPathContract {
    @RegisterExtension
    static final S3ProxyExtension S3PROXY = new S3ProxyExtension();

    static final String SHARED_BUCKET = "sluice-it";
    static final String WORLD_BUCKET = "sluice-it-world";
    static final List<String> DECOYS = List.of("datasets/hello-decoy.txt", "datasets/hellox/leak.txt",
            "datasets/hello.txt", "outside.txt", "datasets/secretive.txt");

    @TempDir
    static Path base;

    @Override
    protected SluiceUnderTest startSluice() {
        S3ProxyProcess s3proxy = S3PROXY.get();
        S3Client admin = s3proxy.client();
        admin.createBucket(b -> b.bucket(SHARED_BUCKET));
        admin.createBucket(b -> b.bucket(WORLD_BUCKET));
        Fixture.putTo(admin, Fixture.HELLO, SHARED_BUCKET, "datasets/hello/");
        Fixture.putTo(admin, Fixture.SECRET, SHARED_BUCKET, "datasets/secret/");
        Fixture.putTo(admin, Fixture.WORLD, WORLD_BUCKET, "");
        admin.putObject(b -> b.bucket(SHARED_BUCKET).key("datasets/hello/dir/"), RequestBody.empty());
        for (String decoy : DECOYS) {
            admin.putObject(b -> b.bucket(SHARED_BUCKET).key(decoy), RequestBody.fromString("decoy"));
        }
        String yaml = """
                server:
                  listen: "127.0.0.1:0"
                  admin_listen: "127.0.0.1:0"
                registry:
                  type: static
                  products:
                    - account: acme
                      product: hello
                      backend:
                        type: s3
                        endpoint: "%1$s"
                        region: us-east-1
                        bucket: %2$s
                        prefix: datasets/hello/
                        timeout: 10s
                        auth: { type: static, access_key_id: "%3$s", secret_access_key_env: S3PROXY_SECRET }
                    - account: acme
                      product: world
                      backend:
                        type: s3
                        endpoint: "%1$s"
                        bucket: %4$s
                        auth: { type: static, access_key_id: "%3$s", secret_access_key_env: S3PROXY_SECRET }
                    - account: acme
                      product: secret
                      visibility: restricted
                      backend:
                        type: s3
                        endpoint: "%1$s"
                        bucket: %2$s
                        prefix: datasets/secret/
                        auth: { type: static, access_key_id: "%3$s", secret_access_key_env: S3PROXY_SECRET }
                """.formatted(s3proxy.endpoint(), SHARED_BUCKET, S3ProxyProcess.IDENTITY, WORLD_BUCKET);
        return SluiceUnderTest.start(yaml, Map.of("S3PROXY_SECRET", S3ProxyProcess.CREDENTIAL), base);
    }

    @Override
    protected List<String> directoryMarkers() {
        return List.of("hello/dir/");
    }

    @Override
    @Test
    @Disabled("S3Proxy's filesystem store reports every directory as a common prefix whatever the delimiter, "
            + "and leaves the keys under it out; S3 does not, and sluice cannot recover those keys")
    void listsWithADelimiterOtherThanSlash() {
    }

    @Test
    void directoryMarkerIsOnlyEverACommonPrefix() {
        ListObjectsV2Response top = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("hello/").delimiter("/"));
        assertThat(prefixesOf(top)).contains("hello/dir/");
        assertThat(keysOf(top)).doesNotContain("hello/dir/");

        ListObjectsV2Response inside = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("hello/dir/").delimiter("/"));
        assertThat(inside.contents()).isEmpty();
        assertThat(inside.commonPrefixes()).isEmpty();

        assertThat(allKeys(software.amazon.awssdk.services.s3.model.ListObjectsV2Request.builder()
                .bucket(ACCOUNT).prefix("hello/").build())).noneMatch(k -> k.endsWith("/"));
        assertThat(allKeys(software.amazon.awssdk.services.s3.model.ListObjectsV2Request.builder()
                .bucket(ACCOUNT).prefix("hello/").maxKeys(1).build())).noneMatch(k -> k.endsWith("/"));
    }

    @Test
    void objectsBesideTheProductsPrefixNeverAppear() {
        List<String> all = allKeys(software.amazon.awssdk.services.s3.model.ListObjectsV2Request.builder().bucket(ACCOUNT).build());

        assertThat(all).containsExactlyElementsOf(expected("", Optional.empty()).contents());
        assertThat(all).noneMatch(k -> k.contains("decoy") || k.contains("leak") || k.contains("outside"));
    }

    @Test
    void keysBesideTheProductsPrefixCannotBeRead() {
        assertThat(sluice.send("GET", "/acme/hello/..%2Fhello-decoy.txt").status()).isEqualTo(400);
        assertThat(sluice.send("GET", "/acme/hello/%2E%2E/secretive.txt").status()).isEqualTo(400);
        assertThat(sluice.send("GET", "/acme/hello/leak.txt").status()).isEqualTo(404);
    }
}
