package dev.sluice.config;

import dev.sluice.testing.AzuriteProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code backend_tls.ca_file}: read and parsed at load, relative to the config file, refused when it holds no certificate. */
class BackendTlsConfigTest {
    private static final String REGISTRY = """
            registry:
              products:
                - account: demo
                  product: hello
                  backend: { type: file, path: data }
            """;

    @TempDir
    Path dir;

    private SluiceConfig parse(String yaml) throws Exception {
        Files.createDirectories(dir.resolve("data"));
        return new ConfigLoader(name -> Optional.<String>empty()).parse(yaml, dir);
    }

    @Test
    void withoutBackendTlsOnlyTheJvmsCertificatesAreTrusted() throws Exception {
        SluiceConfig config = parse(REGISTRY);

        assertThat(config.backendTls().caFile()).isEmpty();
        assertThat(config.backendTls().certificates()).isEmpty();
    }

    @Test
    void readsTheCaFileRelativeToTheConfigFile() throws Exception {
        Files.createDirectories(dir.resolve("tls"));
        AzuriteProcess.makeCertificate(dir.resolve("tls/ca.pem"), dir.resolve("tls/key.pem"), dir);

        SluiceConfig config = parse(REGISTRY + "backend_tls: { ca_file: tls/ca.pem }\n");

        assertThat(config.backendTls().caFile()).hasValue(dir.resolve("tls/ca.pem"));
        assertThat(config.backendTls().certificates()).singleElement()
                .satisfies(c -> assertThat(c.getSubjectX500Principal().getName()).isEqualTo("CN=127.0.0.1"));
    }

    @Test
    void aMissingCaFileIsAConfigError() {
        assertThatThrownBy(() -> parse(REGISTRY + "backend_tls: { ca_file: nowhere.pem }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("backend_tls.ca_file")
                .hasMessageContaining("cannot be read");
    }

    @Test
    void aCaFileWithoutACertificateIsAConfigError() throws Exception {
        Files.writeString(dir.resolve("not.pem"), "hello\n");

        assertThatThrownBy(() -> parse(REGISTRY + "backend_tls: { ca_file: not.pem }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("backend_tls.ca_file")
                .hasMessageContaining("no");
    }

    @Test
    void anUnknownKeyUnderBackendTlsIsAConfigError() {
        assertThatThrownBy(() -> parse(REGISTRY + "backend_tls: { ca_dir: certs }\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("backend_tls.ca_dir");
    }
}
