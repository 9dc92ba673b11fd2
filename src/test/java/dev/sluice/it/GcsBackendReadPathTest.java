package dev.sluice.it;

import dev.sluice.testing.TestGcs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static dev.sluice.it.Fixture.ACCOUNT;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The read path contract with products in GCS buckets, served by the test GCS JSON API server
 * (public buckets, anonymous reads). {@code hello} lives under a name prefix of a shared bucket,
 * next to decoys that share the prefix's first characters and a zero-byte directory marker, so
 * prefix composition and stripping are exercised; {@code world} is a whole bucket.
 */
class GcsBackendReadPathTest extends ReadPathContract {
    static final String SHARED_BUCKET = "sluice-it";
    static final String WORLD_BUCKET = "sluice-it-world";
    static final List<String> DECOYS = List.of("datasets/hello-decoy.txt", "datasets/hellox/leak.txt",
            "datasets/hello.txt", "outside.txt", "datasets/secretive.txt");

    @TempDir
    static Path base;

    private TestGcs gcs;

    @Override
    protected SluiceUnderTest startSluice() {
        try {
            gcs = new TestGcs();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        gcs.bucket(SHARED_BUCKET).bucket(WORLD_BUCKET).makePublic(SHARED_BUCKET).makePublic(WORLD_BUCKET);
        put(Fixture.HELLO, SHARED_BUCKET, "datasets/hello/");
        put(Fixture.SECRET, SHARED_BUCKET, "datasets/secret/");
        put(Fixture.WORLD, WORLD_BUCKET, "");
        gcs.put(SHARED_BUCKET, "datasets/hello/dir/", new byte[0], TestGcs.Attributes.of(null));
        for (String decoy : DECOYS) {
            gcs.put(SHARED_BUCKET, decoy, "decoy".getBytes(StandardCharsets.UTF_8), TestGcs.Attributes.of("text/plain"));
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
                        type: gcs
                        endpoint: "%1$s"
                        bucket: %2$s
                        prefix: datasets/hello/
                        timeout: 10s
                        auth: { type: anonymous }
                    - account: acme
                      product: world
                      backend:
                        type: gcs
                        endpoint: "%1$s"
                        bucket: %3$s
                    - account: acme
                      product: secret
                      visibility: restricted
                      backend:
                        type: gcs
                        endpoint: "%1$s"
                        bucket: %2$s
                        prefix: datasets/secret/
                """.formatted(gcs.endpoint(), SHARED_BUCKET, WORLD_BUCKET);
        return SluiceUnderTest.start(yaml, Map.of(), base);
    }

    private void put(String product, String bucket, String prefix) {
        for (Fixture.Object o : Fixture.objects(product)) {
            gcs.put(bucket, prefix + o.key(), o.bytes(), TestGcs.Attributes.of(o.contentType()));
        }
    }

    @AfterAll
    void stopGcs() throws Exception {
        if (gcs != null) {
            gcs.close();
        }
    }

    @Override
    protected List<String> directoryMarkers() {
        return List.of("hello/dir/");
    }

    @Test
    void directoryMarkerIsOnlyEverACommonPrefix() {
        ListObjectsV2Response top = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("hello/").delimiter("/"));
        assertThat(prefixesOf(top)).contains("hello/dir/");
        assertThat(keysOf(top)).doesNotContain("hello/dir/");

        assertThat(allKeys(ListObjectsV2Request.builder().bucket(ACCOUNT).prefix("hello/").maxKeys(1).build()))
                .noneMatch(k -> k.endsWith("/"));
    }

    @Test
    void objectsBesideTheProductsPrefixNeverAppear() {
        List<String> all = allKeys(ListObjectsV2Request.builder().bucket(ACCOUNT).build());

        assertThat(all).containsExactlyElementsOf(expected("", Optional.empty()).contents());
        assertThat(all).noneMatch(k -> k.contains("decoy") || k.contains("leak") || k.contains("outside"));
    }
}
