package dev.sluice.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

/**
 * The cloud stores and identity providers of {@code e2e/clouds.sh}, in one process: Azurite
 * (HTTPS, OAuth checked) with a test Entra ID, and the GCS test server with a test Google
 * STS/IAM, seeded with {@code examples/data}. It writes the sluice configuration that reads
 * them ({@code clouds.yaml} in the work directory) and lives until it is killed.
 *
 * <pre>java -cp … dev.sluice.testing.CloudFixtures WORK_DIR DATA_DIR SLUICE_ISSUER_URL</pre>
 *
 * <p>Every server listens on a free loopback port; a shutdown hook stops them all, Azurite's
 * process included.
 */
public final class CloudFixtures {
    static final String TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    static final String CLIENT = "5a1b2c3d-0000-4000-8000-00000000e2e0";
    static final String AUDIENCE = "//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/sluice-e2e/providers/sluice";
    static final String READER = "reader@sluice-e2e.iam.gserviceaccount.com";

    private CloudFixtures() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: CloudFixtures WORK_DIR DATA_DIR SLUICE_ISSUER_URL");
            System.exit(2);
        }
        Path work = Path.of(args[0]);
        Path data = Path.of(args[1]);
        String issuer = args[2];
        AzuriteProcess azurite = AzuriteProcess.start();
        TestEntra entra = new TestEntra(issuer, TENANT).application(CLIENT, s -> s.startsWith("sluice:product:clouds/"));
        TestGoogle google = new TestGoogle(issuer).pool(AUDIENCE, s -> s.startsWith("sluice:product:clouds/"))
                .serviceAccount(READER, principal -> true);
        TestGcs gcs = new TestGcs();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (AutoCloseable c : List.<AutoCloseable>of(gcs, google, entra, azurite)) {
                try {
                    c.close();
                } catch (Exception e) {
                    System.err.println("stopping " + c + ": " + e);
                }
            }
        }, "cloud-fixtures-stop"));

        azurite.createContainer("hello", null);
        azurite.createContainer("census", null);
        gcs.bucket("hello").bucket("census").makePublic("census").requireTokens(google::accepts);
        seed(data.resolve("hello"), (name, bytes) -> {
            azurite.putBlob("hello", "data/" + name, bytes, "application/octet-stream", Map.of());
            gcs.put("hello", "data/" + name, bytes, TestGcs.Attributes.of("application/octet-stream"));
        });
        seed(data.resolve("census"), (name, bytes) -> {
            azurite.putBlob("census", name, bytes, "application/octet-stream", Map.of());
            gcs.put("census", name, bytes, TestGcs.Attributes.of("application/octet-stream"));
        });

        Path yaml = work.resolve("clouds.yaml");
        Files.writeString(yaml, """
                # Written by CloudFixtures for e2e/clouds.sh: four products on Azurite and the GCS test server.
                server:
                  listen: "${SLUICE_LISTEN}"
                  admin_listen: "${SLUICE_ADMIN_LISTEN}"
                  shutdown_grace: 0
                oidc:
                  signing_key: { pem_file: "%1$s" }
                backend_tls:
                  ca_file: "%2$s"
                registry:
                  products:
                    - account: clouds
                      product: azure-hello
                      backend:
                        type: azure
                        account: %3$s
                        container: hello
                        prefix: data/
                        endpoint: "%4$s"
                        auth: { type: azure_workload_identity, tenant_id: "%5$s", client_id: "%6$s", token_endpoint: "%7$s" }
                    - account: clouds
                      product: azure-census
                      backend:
                        type: azure
                        account: %3$s
                        container: census
                        endpoint: "%4$s"
                        auth: { type: shared_key, account_key_env: AZURITE_ACCOUNT_KEY }
                    - account: clouds
                      product: gcs-hello
                      backend:
                        type: gcs
                        bucket: hello
                        prefix: data/
                        endpoint: "%8$s"
                        auth: { type: gcp_workload_identity, audience: "%9$s", service_account: "%10$s", sts_endpoint: "%11$s", iam_endpoint: "%12$s" }
                    - account: clouds
                      product: gcs-census
                      backend:
                        type: gcs
                        bucket: census
                        endpoint: "%8$s"
                """.formatted(work.resolve("oidc.pem"), azurite.certificate(), AzuriteProcess.ACCOUNT, azurite.endpoint(), TENANT, CLIENT,
                entra.tokenEndpoint(), gcs.endpoint(), AUDIENCE, READER, google.stsEndpoint(), google.iamEndpoint()),
                StandardCharsets.UTF_8);
        Files.writeString(work.resolve("azurite-account-key"), AzuriteProcess.ACCOUNT_KEY, StandardCharsets.UTF_8);
        Files.writeString(work.resolve("fixtures.ready"), "ready\n", StandardCharsets.UTF_8);
        System.out.println("cloud fixtures ready: " + yaml);
        System.out.flush();
        new CountDownLatch(1).await();
    }

    interface Sink {
        void put(String name, byte[] bytes) throws IOException;
    }

    private static void seed(Path root, Sink sink) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                sink.put(root.relativize(f).toString().replace('\\', '/'), Files.readAllBytes(f));
            }
        }
    }
}
