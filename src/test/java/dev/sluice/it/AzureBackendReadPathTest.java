package dev.sluice.it;

import dev.sluice.testing.AzuriteExtension;
import dev.sluice.testing.AzuriteProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static dev.sluice.it.Fixture.ACCOUNT;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The read path contract with products in Azurite, which checks every Shared Key signature: a
 * read that succeeds here was signed correctly by sluice, for every awkward blob name, over
 * HTTPS with a certificate sluice trusts through {@code backend_tls.ca_file}. As for S3,
 * {@code hello} lives under a blob name prefix of a shared container, next to decoys that share
 * the prefix's first characters, and {@code world} is a whole container.
 */
class AzureBackendReadPathTest extends ReadPathContract {
    @RegisterExtension
    static final AzuriteExtension AZURITE = new AzuriteExtension();

    static final String SHARED_CONTAINER = "sluice-it";
    static final String WORLD_CONTAINER = "sluice-it-world";
    static final List<String> DECOYS = List.of("datasets/hello-decoy.txt", "datasets/hellox/leak.txt",
            "datasets/hello.txt", "outside.txt", "datasets/secretive.txt");

    @TempDir
    static Path base;

    @Override
    protected SluiceUnderTest startSluice() {
        AzuriteProcess azurite = AZURITE.get();
        azurite.createContainer(SHARED_CONTAINER, null);
        azurite.createContainer(WORLD_CONTAINER, null);
        seed(azurite, Fixture.HELLO, SHARED_CONTAINER, "datasets/hello/");
        seed(azurite, Fixture.SECRET, SHARED_CONTAINER, "datasets/secret/");
        seed(azurite, Fixture.WORLD, WORLD_CONTAINER, "");
        for (String decoy : DECOYS) {
            azurite.putBlob(SHARED_CONTAINER, decoy, "decoy".getBytes(StandardCharsets.UTF_8), "text/plain", Map.of());
        }
        String yaml = """
                server:
                  listen: "127.0.0.1:0"
                  admin_listen: "127.0.0.1:0"
                backend_tls:
                  ca_file: "%5$s"
                registry:
                  type: static
                  products:
                    - account: acme
                      product: hello
                      backend:
                        type: azure
                        endpoint: "%1$s"
                        account: %2$s
                        container: %3$s
                        prefix: datasets/hello/
                        timeout: 10s
                        auth: { type: shared_key, account_key_env: AZURITE_KEY }
                    - account: acme
                      product: world
                      backend:
                        type: azure
                        endpoint: "%1$s"
                        account: %2$s
                        container: %4$s
                        auth: { type: shared_key, account_key_env: AZURITE_KEY }
                    - account: acme
                      product: secret
                      visibility: restricted
                      backend:
                        type: azure
                        endpoint: "%1$s"
                        account: %2$s
                        container: %3$s
                        prefix: datasets/secret/
                        auth: { type: shared_key, account_key_env: AZURITE_KEY }
                """.formatted(azurite.endpoint(), AzuriteProcess.ACCOUNT, SHARED_CONTAINER, WORLD_CONTAINER, azurite.certificate());
        return SluiceUnderTest.start(yaml, Map.of("AZURITE_KEY", AzuriteProcess.ACCOUNT_KEY), base);
    }

    private static void seed(AzuriteProcess azurite, String product, String container, String prefix) {
        for (Fixture.Object o : Fixture.objects(product)) {
            azurite.putBlob(container, prefix + o.key(), o.bytes(), o.contentType(), Map.of());
        }
    }

    @Test
    void objectsBesideTheProductsPrefixNeverAppear() {
        List<String> all = allKeys(ListObjectsV2Request.builder().bucket(ACCOUNT).build());

        assertThat(all).containsExactlyElementsOf(expected("", Optional.empty()).contents());
        assertThat(all).noneMatch(k -> k.contains("decoy") || k.contains("leak") || k.contains("outside"));
    }

    @Test
    void keysBesideTheProductsPrefixCannotBeRead() {
        assertThat(sluice.send("GET", "/acme/hello/..%2Fhello-decoy.txt").status()).isEqualTo(400);
        assertThat(sluice.send("GET", "/acme/hello/leak.txt").status()).isEqualTo(404);
    }
}
