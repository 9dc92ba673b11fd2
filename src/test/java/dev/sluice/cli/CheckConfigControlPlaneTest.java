package dev.sluice.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code check-config} with a control plane that is down: a warning, not a config error (the API may come up later). */
class CheckConfigControlPlaneTest {

    @Test
    void anUnreachableControlPlaneIsAWarning(@TempDir Path dir) throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, """
                registry:
                  type: control-plane
                  control_plane: { url: "http://127.0.0.1:%d", timeout: 1s }
                """.formatted(closedPort));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream oldErr = System.err;
        PrintStream oldOut = System.out;
        int status;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            status = new CommandLine(new SluiceCommand()).execute("check-config", "--config", config.toString());
        } finally {
            System.setErr(oldErr);
            System.setOut(oldOut);
        }
        String stderr = err.toString(StandardCharsets.UTF_8);
        assertThat(status).as(stderr).isZero();
        assertThat(stderr).contains("config OK: products from control plane http://127.0.0.1:" + closedPort)
                .contains("warning: control plane http://127.0.0.1:" + closedPort + " is not reachable");
    }
}
