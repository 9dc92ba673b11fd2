package dev.sluice.it;

import dev.sluice.testing.RedisProcess;
import dev.sluice.testing.S3ProxyProcess;
import dev.sluice.testing.TestControlPlane;
import io.micrometer.core.instrument.Counter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static dev.sluice.testing.TestControlPlane.ACCOUNT;
import static dev.sluice.testing.TestControlPlane.CITY_TREES;
import static dev.sluice.testing.TestControlPlane.OPEN_WEST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Two sluice instances configured as a fleet ({@code cache.shared.type: redis}, one seal key)
 * in front of one test control plane: the composition root wires the control-plane caches to
 * the shared tier, so a product one instance resolved is served by the other without an API
 * call.
 */
class ControlPlaneFleetTest {
    @TempDir
    static Path base;

    private static RedisProcess redis;
    private static S3ProxyProcess open;
    private static TestControlPlane cp;
    private static SluiceUnderTest a;
    private static SluiceUnderTest b;
    private static final AtomicInteger probes = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        redis = RedisProcess.start();
        open = S3ProxyProcess.startWithoutAuthorization();
        S3Client admin = open.client();
        admin.createBucket(r -> r.bucket("open-data-west"));
        admin.putObject(r -> r.bucket("open-data-west").key("parks-dept/city-trees/trees.csv"),
                RequestBody.fromString("id,species\n1,oak\n"));
        cp = new TestControlPlane();
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        String yaml = """
                server:
                  listen: "127.0.0.1:0"
                  admin_listen: "127.0.0.1:0"
                cache:
                  shared:
                    type: redis
                    uri: "%s"
                    timeout: 1s
                    seal_key_env: SEAL_KEY
                registry:
                  type: control-plane
                  control_plane:
                    url: "%s"
                    s3_endpoint: "%s"
                    timeout: 1s
                """.formatted(redis.uri(), cp.url(), open.endpoint());
        Map<String, String> env = Map.of("SEAL_KEY", Base64.getEncoder().encodeToString(key));
        a = SluiceUnderTest.start(yaml, env, base);
        b = SluiceUnderTest.start(yaml, env, base);
        connected(a);
        connected(b);
    }

    @AfterAll
    static void stop() throws Exception {
        try (AutoCloseable r = redis; AutoCloseable o = open; AutoCloseable c = cp; AutoCloseable x = a; AutoCloseable y = b) {
            // closed in reverse order, each whatever the others do
        }
    }

    /**
     * Until {@code s}'s Redis connection (made in the background) has answered a read: asks for
     * unknown products, each a new name (an API 404 is never written, so this leaves nothing in
     * Redis), until a control-plane L2 read misses rather than finds Redis unavailable.
     */
    private static void connected(SluiceUnderTest s) {
        S3Client client = s.anonymousClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (events(s, "miss") == 0) {
            assertThat(System.nanoTime()).as("sluice's Redis connection did not answer within 20 s").isLessThan(deadline);
            String name = "probe-" + probes.incrementAndGet();
            assertThatThrownBy(() -> client.getObject(r -> r.bucket(ACCOUNT).key(name + "/x")).close())
                    .isInstanceOf(NoSuchBucketException.class);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // bounded poll for the connection
        }
    }

    private static double events(SluiceUnderTest s, String event) {
        Counter c = s.sluice().metrics().registry().find("sluice.shared.events").tag("namespace", "cp").tag("event", event).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void aProductOneInstanceResolvedIsServedByTheOtherWithoutAnApiCall() {
        assertThat(a.anonymousClient().getObjectAsBytes(r -> r.bucket(ACCOUNT).key("city-trees/trees.csv")).asUtf8String())
                .isEqualTo("id,species\n1,oak\n");
        assertThat(cp.count(CITY_TREES)).isEqualTo(1);
        assertThat(cp.count(OPEN_WEST)).isEqualTo(1);

        assertThat(b.anonymousClient().getObjectAsBytes(r -> r.bucket(ACCOUNT).key("city-trees/trees.csv")).asUtf8String())
                .isEqualTo("id,species\n1,oak\n");

        assertThat(cp.count(CITY_TREES)).as("B served the product from Redis").isEqualTo(1);
        assertThat(cp.count(OPEN_WEST)).as("B served the data connection from Redis").isEqualTo(1);
        assertThat(events(b, "hit")).isGreaterThanOrEqualTo(2);
    }
}
