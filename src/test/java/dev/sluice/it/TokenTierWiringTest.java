package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The composition root builds the token tier for Azure Blob and GCS backends (docs/federation.md,
 * "Azure Blob and GCS tokens"), beside the credential tier and with its own metrics, whether or
 * not sluice has an OIDC identity: a service-account key needs none.
 */
class TokenTierWiringTest {
    @TempDir
    Path root;

    @Test
    void sluiceServesTheTokenTiersMetricsBesideTheCredentialTiers() throws Exception {
        Files.createDirectories(root.resolve("hello"));
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
                """;
        try (SluiceUnderTest sluice = SluiceUnderTest.start(yaml, Map.of(), root)) {
            String metrics = sluice.admin("/metrics").text();

            assertThat(metrics).contains("sluice_token_loads_in_flight ")
                    .contains("sluice_token_lookups_total{outcome=\"hit\",tier=\"l1\"} 0.0");
        }
    }
}
