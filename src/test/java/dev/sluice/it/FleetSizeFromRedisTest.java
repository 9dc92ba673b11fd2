package dev.sluice.it;

import dev.sluice.testing.RedisProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two sluices on one real {@code redis-server} count each other as the fleet size their
 * fallback share is divided by (docs/protection.md, "Fleet size"), seen in
 * {@code sluice_limit_fleet_size}; a configured {@code limits.fleet_size} wins.
 */
class FleetSizeFromRedisTest {
    private static final Pattern GAUGE = Pattern.compile("sluice_limit_fleet_size ([0-9.]+)");

    @TempDir
    Path dir;

    private final List<AutoCloseable> started = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : started.reversed()) {
            c.close();
        }
    }

    private SluiceUnderTest sluice(RedisProcess redis, String limits, String sealKey) throws Exception {
        Files.createDirectories(dir.resolve("files"));
        SluiceUnderTest sluice = SluiceUnderTest.start("""
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
                cache:
                  shared: { type: redis, uri: "%s", timeout: 100ms, seal_key_env: SLUICE_CACHE_KEY }
                registry:
                  products:
                    - { account: acme, product: files, backend: { type: file, path: ./files } }
                limits:
                %s
                """.formatted(redis.uri(), limits.indent(2)), Map.of("SLUICE_CACHE_KEY", sealKey), dir);
        started.add(sluice);
        return sluice;
    }

    private static double fleetSize(SluiceUnderTest sluice) {
        Matcher m = GAUGE.matcher(sluice.admin("/metrics").text());
        assertThat(m.find()).as("the fleet-size gauge").isTrue();
        return Double.parseDouble(m.group(1));
    }

    /** Polls (at most 20 s, every 20 ms) until {@code sluice} counts {@code size}: the first heartbeat runs as it starts. */
    private static void awaitFleetSize(SluiceUnderTest sluice, double size) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (fleetSize(sluice) != size) {
            assertThat(System.nanoTime()).as("fleet size %s never seen (last %s)", size, fleetSize(sluice)).isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    @Test
    void twoInstancesOnOneRedisCountEachOtherAndAConfiguredSizeWins() throws Exception {
        RedisProcess redis = RedisProcess.start();
        started.add(redis);
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        String sealKey = Base64.getEncoder().encodeToString(key);
        SluiceUnderTest one = sluice(redis, "anonymous: { requests_per_second: 10 }\n", sealKey);
        awaitFleetSize(one, 1);
        SluiceUnderTest two = sluice(redis, "anonymous: { requests_per_second: 10 }\n", sealKey);
        awaitFleetSize(two, 2);
        SluiceUnderTest configured = sluice(redis, "anonymous: { requests_per_second: 10 }\nfleet_size: 5\n", sealKey);

        assertThat(fleetSize(configured)).isEqualTo(5);
        // The configured one does not register: the others count two, not three.
        assertThat(redis.cli("ZCARD", "sluice:v1:fleet:instances").trim()).isEqualTo("2");
    }
}
