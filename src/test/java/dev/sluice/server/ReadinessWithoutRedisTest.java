package dev.sluice.server;

import dev.sluice.Sluice;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Sluice serves without its shared tier, so a Redis that is down must not make it unready — but /readyz says so. */
class ReadinessWithoutRedisTest {

    @Test
    void readyzStaysReadyAndReportsTheSharedTierWhenRedisIsDown(@TempDir Path dir) throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("data/hello.txt"), "hello");
        String yaml = """
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
                cache:
                  shared: { type: redis, uri: "redis://127.0.0.1:%d", seal_key_env: KEY }
                registry:
                  type: static
                  products:
                    - { account: demo, product: hello, backend: { type: file, path: data } }
                """.formatted(closedPort);
        Map<String, String> env = Map.of("KEY", Base64.getEncoder().encodeToString(new byte[32]));
        SluiceConfig config = new ConfigLoader(k -> Optional.ofNullable(env.get(k))).parse(yaml, dir);
        try (Sluice sluice = new Sluice(config, InstantSource.system())) {
            sluice.start();
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            HttpResponse<String> ready = http.send(HttpRequest.newBuilder(sluice.server().adminEndpoint().resolve("/readyz"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ready.statusCode()).isEqualTo(200);
            assertThat(ready.body()).startsWith("ready").contains("shared tier: redis 127.0.0.1:" + closedPort + " unavailable");
            HttpResponse<String> read = http.send(HttpRequest.newBuilder(sluice.server().s3Endpoint().resolve("/demo/hello/hello.txt"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(read.statusCode()).isEqualTo(200);
            assertThat(read.body()).isEqualTo("hello");
        }
    }
}
