package dev.sluice.testing;

import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The Azurite fixture: HTTPS on loopback, Shared Key checked, and nothing of it left running once closed. */
class AzuriteProcessTest {

    @Test
    void servesHttpsOnLoopbackChecksSignaturesAndLeavesNothingRunning() {
        List<ProcessHandle> started;
        long pid;
        try (AzuriteProcess azurite = AzuriteProcess.start()) {
            pid = azurite.pid();
            started = ProcessHandle.of(pid).map(p -> java.util.stream.Stream.concat(java.util.stream.Stream.of(p), p.descendants()).toList())
                    .orElseThrow();
            assertThat(azurite.endpoint().toString()).startsWith("https://127.0.0.1:").endsWith("/" + AzuriteProcess.ACCOUNT);

            azurite.createContainer("fixture-check", null);
            azurite.putBlob("fixture-check", "a b/c.txt", "hello".getBytes(StandardCharsets.UTF_8), "text/plain", Map.of());
            HttpResponse<String> signed = azurite.send("GET", "/fixture-check/a%20b/c.txt", "", Map.of(), new byte[0]);
            assertThat(signed.statusCode()).isEqualTo(200);
            assertThat(signed.body()).isEqualTo("hello");
        }
        assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).isEqualTo(Optional.empty());
        assertThat(started).noneMatch(ProcessHandle::isAlive);
    }
}
