package dev.sluice.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Sluice starts while its control plane is down, and answers 503 (never hangs, never crashes) until it is up. */
class ControlPlaneUnreachableTest {

    @Test
    void sluiceStartsAndAnswersServiceUnavailable(@TempDir Path base) throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        String yaml = """
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
                registry:
                  type: control-plane
                  control_plane: { url: "http://127.0.0.1:%d", timeout: 1s }
                """.formatted(closedPort);
        try (SluiceUnderTest sluice = SluiceUnderTest.start(yaml, Map.of(), base)) {
            var r = sluice.send("GET", "/parks-dept/city-trees/trees.csv");
            S3ErrorAssert.assertS3Error(r, 503, "ServiceUnavailable", "/parks-dept/city-trees/trees.csv");
            assertThat(r.header("Retry-After")).isPresent();
            S3ErrorAssert.assertS3Error(sluice.send("GET", "/parks-dept?list-type=2"), 503, "ServiceUnavailable", "/parks-dept");
        }
    }
}
