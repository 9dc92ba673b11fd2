package dev.sluice.it;

import dev.sluice.testing.AccessLogCapture;
import dev.sluice.testing.RedisProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static dev.sluice.it.S3ErrorAssert.assertS3Error;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A byte quota held in Redis (docs/protection.md, "Fleet-wide buckets and the fallback"): the
 * instance that served the download crossing the quota refuses the next read at once, from its
 * own view, before any flush; and the bytes it charged are in Redis's counter once it has shut
 * down (the flusher writes them at close, and its thread is gone).
 */
class SharedQuotaTest {
    @TempDir
    Path dir;

    @RegisterExtension
    final AccessLogCapture accessLog = new AccessLogCapture();

    @Test
    void theNextReadIsRefusedAtOnceAndTheBytesReachRedisAtShutdown() throws Exception {
        Files.createDirectories(dir.resolve("files"));
        Files.write(dir.resolve("files/600.bin"), new byte[600]);
        Files.writeString(dir.resolve("files/small.txt"), "small\n");
        try (RedisProcess redis = RedisProcess.start()) {
            String yaml = """
                    server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
                    cache:
                      shared: { type: redis, uri: "%s", seal_key_env: SEAL_KEY }
                    registry:
                      products:
                        - { account: acme, product: files, backend: { type: file, path: ./files } }
                    limits:
                      anonymous: { requests_per_second: 1000, burst: 1000 }
                      product: { bytes_per_day: 1000 }
                    """.formatted(redis.uri());
            SluiceUnderTest sluice = SluiceUnderTest.start(yaml, Map.of("SEAL_KEY", Base64.getEncoder().encodeToString(new byte[32])), dir);
            try {
                assertThat(sluice.send("GET", "/acme/files/600.bin").body()).hasSize(600);
                SluiceUnderTest.RawResponse crossing = sluice.send("GET", "/acme/files/600.bin");
                assertThat(crossing.status()).isEqualTo(200);
                assertThat(crossing.body()).hasSize(600);
                // Its bytes are charged once it has been sent, before it is logged.
                String id = crossing.header("x-amz-request-id").orElseThrow();
                accessLog.await(line -> line.path("request_id").asText().equals(id), "the crossing download");

                SluiceUnderTest.RawResponse refused = sluice.send("GET", "/acme/files/small.txt");

                S3ErrorAssert.ErrorDocument doc = assertS3Error(refused, 403, "AccessDenied", "/acme/files/small.txt");
                assertThat(doc.message()).isEqualTo("This product's daily download quota is used up.");
            } finally {
                sluice.close();
            }

            List<String> counters = redis.cli("--scan", "--pattern", "sluice:v1:quota:*").lines().filter(l -> !l.isBlank()).toList();
            assertThat(counters).hasSize(1);
            assertThat(redis.cli("GET", counters.get(0)).trim()).isEqualTo("1200");
            assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().equals("limit-flush") && t.isAlive());
        }
    }
}
