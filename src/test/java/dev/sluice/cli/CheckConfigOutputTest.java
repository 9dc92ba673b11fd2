package dev.sluice.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** What {@code check-config} and a failed {@code serve} tell an operator on their first run. */
class CheckConfigOutputTest {

    private record Run(int status, String out, String err) {
    }

    /** The commands print with System.out/err; both are captured for the call. */
    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        int status;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            status = new CommandLine(new SluiceCommand()).execute(args);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void printsRelativePathsResolvedToAbsoluteOnes(@TempDir Path dir) throws IOException {
        Files.createDirectories(dir.resolve("data/hello"));
        Files.writeString(dir.resolve("reader.secret"), "s3cr3t-value\n");
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, """
                registry:
                  products:
                    - { account: demo, product: hello, backend: { type: file, path: data/hello } }
                inbound:
                  access_keys:
                    - { access_key_id: AKIASLUICE0001, secret_access_key_file: ./reader.secret }
                """);

        Run r = run("check-config", "--config", config.toString());

        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("path: \"" + dir.resolve("data/hello").toRealPath() + "\"")
                .contains("secret_access_key_file: \"" + dir.resolve("reader.secret").toRealPath() + "\"")
                .doesNotContain("path: \"data/hello\"", "./reader.secret", "s3cr3t-value");
    }

    @Test
    void showsWhichProductsAreWritable(@TempDir Path dir) throws IOException {
        Files.createDirectories(dir.resolve("data/hello"));
        Files.createDirectories(dir.resolve("data/drop"));
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, """
                registry:
                  products:
                    - { account: demo, product: hello, backend: { type: file, path: data/hello } }
                    - { account: demo, product: drop, writable: true, backend: { type: file, path: data/drop } }
                """);

        Run r = run("check-config", "--config", config.toString());

        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.err()).contains("config OK: 2 product(s) (1 writable)");
        assertThat(r.out().replaceAll("\\s+", " "))
                .containsPattern("product: \"hello\".*writable: false.*product: \"drop\".*writable: true");
    }

    @Test
    void warnsOnStderrWhenNoProductIsConfiguredButSucceeds(@TempDir Path dir) throws IOException {
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, "registry: { type: static }\n");

        Run r = run("check-config", "--config", config.toString());

        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.err()).contains("config OK: 0 product(s)")
                .contains("warning: no product is configured (registry.products is empty): every request will be answered "
                        + "404 NoSuchBucket");
        assertThat(r.out()).doesNotContain("warning");
    }

    @Test
    void reportsEveryProblemOfTheFileInOneRun(@TempDir Path dir) throws IOException {
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, """
                server: { listn: "127.0.0.1:8080" }
                registry:
                  products:
                    - { account: demo, product: hello, visibilty: public, backend: { type: file, path: missing } }
                """);

        Run r = run("check-config", "--config", config.toString());

        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).startsWith("sluice: config error in " + config + ": 3 problems:\n")
                .contains("\n  server.listn: unknown key", "\n  registry.products[0].visibilty: unknown key",
                        "\n  registry.products[0].backend.path: directory " + dir.resolve("missing") + " does not exist");
    }

    @Test
    void serveOnAPortInUseSaysSoNamingTheListenerAndAddress(@TempDir Path dir) throws IOException {
        Files.createDirectories(dir.resolve("data"));
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Path config = dir.resolve("sluice.yaml");
            Files.writeString(config, """
                    server: { listen: "127.0.0.1:%d", admin_listen: "127.0.0.1:0" }
                    registry:
                      products:
                        - { account: demo, product: hello, backend: { type: file, path: data } }
                    """.formatted(taken.getLocalPort()));

            Run r = run("serve", "--config", config.toString());

            assertThat(r.status()).isNotZero();
            assertThat(r.err()).contains("server.listen 127.0.0.1:" + taken.getLocalPort() + ": address already in use");
            assertThat(r.out()).isEmpty();
        }
    }
}
