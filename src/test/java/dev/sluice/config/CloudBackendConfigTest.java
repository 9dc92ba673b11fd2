package dev.sluice.config;

import dev.sluice.backend.AzureAuth;
import dev.sluice.backend.BackendSpec;
import dev.sluice.backend.GcsAuth;
import dev.sluice.backend.TokenGrant;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code azure} and {@code gcs} backends and their auth kinds as docs/configuration.md describes them. */
class CloudBackendConfigTest {
    private static final String AUDIENCE =
            "//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/sluice/providers/sluice-oidc";
    private static final String OIDC = """
            oidc:
              signing_key: { pem_file: key.pem }
            """;

    @TempDir
    Path dir;

    private final Map<String, String> env = new HashMap<>();
    private final ConfigLoader loader = new ConfigLoader(name -> Optional.ofNullable(env.get(name)));

    private BackendSpec parse(String backendLines) {
        return loader.parse(withBackend(backendLines), dir).registry().products().get(0).backend();
    }

    private AbstractThrowableAssert<?, ? extends Throwable> refused(String yaml, String keyPath) {
        return assertThatThrownBy(() -> loader.parse(yaml, dir)).isInstanceOf(ConfigException.class).hasMessageContaining(keyPath);
    }

    private static String withBackend(String backendLines) {
        return """
                registry:
                  products:
                    - account: demo
                      product: hello
                      backend:
                """ + backendLines.indent(8);
    }

    @Test
    void anAzureContainerDefaultsToTheAccountsPublicEndpointAndAnonymousReads() {
        BackendSpec spec = parse("""
                type: azure
                account: parksdata
                container: lidar-2024
                prefix: tiles/
                """);

        assertThat(spec).isEqualTo(new BackendSpec.Azure(URI.create("https://parksdata.blob.core.windows.net"), "parksdata", "lidar-2024",
                "tiles/", new AzureAuth.Anonymous(), Duration.ofSeconds(30)));
    }

    @Test
    void anAzureSharedKeyAndASasComeFromTheEnvironmentOrAFileAndNeverPrint() throws IOException {
        env.put("KEY", "c2VjcmV0LWtleQ==");
        Files.writeString(dir.resolve("sas.txt"), "?sv=2021-12-02&sig=abc%2B\n");

        BackendSpec key = parse("""
                type: azure
                account: parksdata
                container: lidar
                endpoint: https://127.0.0.1:10000/parksdata/
                auth: { type: shared_key, account_key_env: KEY }
                """);
        BackendSpec sas = parse("""
                type: azure
                account: parksdata
                container: lidar
                auth: { type: sas, sas_token_file: sas.txt }
                """);

        assertThat(((BackendSpec.Azure) key).endpoint()).isEqualTo(URI.create("https://127.0.0.1:10000/parksdata"));
        assertThat(((BackendSpec.Azure) key).auth()).isEqualTo(new AzureAuth.SharedKey("c2VjcmV0LWtleQ=="));
        assertThat(((BackendSpec.Azure) sas).auth()).isEqualTo(new AzureAuth.Sas("sv=2021-12-02&sig=abc%2B"));
        assertThat(key + " " + sas).doesNotContain("c2VjcmV0LWtleQ==").doesNotContain("sig=abc");
    }

    @Test
    void anAzureWorkloadIdentityFederatesAsTheProductUnlessASubjectIsGiven() throws IOException {
        Files.writeString(dir.resolve("key.pem"), "not read until sluice starts");
        SluiceConfig config = loader.parse(OIDC + withBackend("""
                type: azure
                account: parksdata
                container: lidar
                auth: { type: azure_workload_identity, tenant_id: 72f988bf-86f1-41af-91ab-2d7cd011db47, client_id: app-1 }
                """), dir);

        assertThat(((BackendSpec.Azure) config.registry().products().get(0).backend()).auth()).isEqualTo(new AzureAuth.Federated(
                new TokenGrant.Entra(URI.create("https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token"),
                        "72f988bf-86f1-41af-91ab-2d7cd011db47", "app-1", "sluice:product:demo/hello")));
    }

    @Test
    void aGcsWorkloadIdentityNamesItsPoolProviderAndMayImpersonate() throws IOException {
        Files.writeString(dir.resolve("key.pem"), "not read until sluice starts");
        SluiceConfig config = loader.parse(OIDC + withBackend("""
                type: gcs
                bucket: city-trees
                auth:
                  type: gcp_workload_identity
                  audience: %s
                  service_account: reader@parks.iam.gserviceaccount.com
                  subject: trees-reader
                """.formatted(AUDIENCE)), dir);

        assertThat(config.registry().products().get(0).backend()).isEqualTo(new BackendSpec.Gcs(URI.create("https://storage.googleapis.com"),
                "city-trees", "", new GcsAuth.Token(new TokenGrant.GoogleFederation(URI.create("https://sts.googleapis.com/v1/token"),
                AUDIENCE, Optional.of("reader@parks.iam.gserviceaccount.com"), URI.create("https://iamcredentials.googleapis.com"),
                "trees-reader")), Duration.ofSeconds(30)));
    }

    @Test
    void aGcsServiceAccountKeyIsReadFromItsJsonFileAndItsPrivateKeyNeverPrints() throws IOException {
        Files.writeString(dir.resolve("sa.json"), """
                {"type": "service_account", "client_email": "reader@parks.iam.gserviceaccount.com",
                 "private_key_id": "k1", "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIsecret\\n-----END PRIVATE KEY-----\\n",
                 "token_uri": "http://127.0.0.1:9/token"}
                """);

        GcsAuth auth = ((BackendSpec.Gcs) parse("""
                type: gcs
                bucket: city-trees
                auth: { type: service_account_key, key_file: sa.json }
                """)).auth();

        TokenGrant.GoogleServiceAccount grant = (TokenGrant.GoogleServiceAccount) ((GcsAuth.Token) auth).grant();
        assertThat(grant.clientEmail()).isEqualTo("reader@parks.iam.gserviceaccount.com");
        assertThat(grant.tokenUri()).isEqualTo(URI.create("http://127.0.0.1:9/token"));
        assertThat(grant.privateKeyPem()).contains("MIIsecret");
        assertThat(grant.federated()).as("a key needs no OIDC provider").isFalse();
        assertThat(auth.toString()).doesNotContain("MIIsecret");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "type: azure\\naccount: Parks_Data\\ncontainer: lidar | backend.account",
            "type: azure\\naccount: parksdata\\ncontainer: a--b | backend.container",
            "type: azure\\naccount: parksdata\\ncontainer: lidar\\nprefix: /x | backend.prefix",
            "type: azure\\naccount: parksdata\\ncontainer: lidar\\nendpoint: ftp://x | backend.endpoint",
            "type: azure\\naccount: parksdata\\ncontainer: lidar\\nauth: { type: shared_key } | backend.auth",
            "type: azure\\naccount: parksdata\\ncontainer: lidar\\nauth: { type: web_identity_role, role_arn: x } | backend.auth.type",
            "type: azure\\naccount: parksdata\\ncontainer: lidar\\nauth: { type: azure_workload_identity, client_id: c } | backend.auth.tenant_id",
            "type: gcs\\nbucket: UPPER | backend.bucket",
            "type: gcs\\nbucket: trees\\nauth: { type: gcp_workload_identity, audience: projects/1/pools/p } | backend.auth.audience",
            "type: gcs\\nbucket: trees\\nauth: { type: service_account_key, key_env: NOPE } | backend.auth.key_env",
            "type: gcs\\nbucket: trees\\nauth: { type: shared_key } | backend.auth.type",
    })
    void nonsenseIsRefusedNamingTheKey(String backendLines, String keyPath) {
        refused(withBackend(backendLines.replace("\\n", "\n")), "registry.products[0]." + keyPath);
    }

    @Test
    void aServiceAccountKeyThatIsNotOneIsRefusedWithoutPrintingIt() throws IOException {
        Files.writeString(dir.resolve("sa.json"), "{\"type\": \"authorized_user\", \"refresh_token\": \"rt-secret\"}");

        refused(withBackend("""
                type: gcs
                bucket: trees
                auth: { type: service_account_key, key_file: sa.json }
                """), "registry.products[0].backend.auth").hasMessageContaining("not a JSON key of type service_account")
                .hasMessageNotContaining("rt-secret");
    }

    @Test
    void federatedKindsNeedSluicesOidcProviderAKeyDoesNot() throws IOException {
        refused(withBackend("""
                type: azure
                account: parksdata
                container: lidar
                auth: { type: azure_workload_identity, tenant_id: t1, client_id: c1 }
                """), "azure_workload_identity needs sluice's OIDC provider");
        refused(withBackend("""
                type: gcs
                bucket: trees
                auth: { type: gcp_workload_identity, audience: %s }
                """.formatted(AUDIENCE)), "gcp_workload_identity needs sluice's OIDC provider");
    }
}
