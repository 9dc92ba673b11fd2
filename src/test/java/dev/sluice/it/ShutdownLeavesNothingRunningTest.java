package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.RedisProcess;
import dev.sluice.testing.S3ProxyProcess;
import dev.sluice.testing.TestControlPlane;
import dev.sluice.testing.TestIssuer;
import dev.sluice.testing.TestKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;

/**
 * Stopping sluice stops everything it started: with every component that owns a client or a
 * thread configured (the shared tier on a real Redis, the OIDC provider, the client STS
 * endpoint with its issuer-key fetches, a backend HTTP client, the listeners) and used once,
 * no non-daemon thread it started is left after {@code close()}, nor the access-log writer,
 * so an embedding process can exit, and a restart in the same JVM does not leak.
 */
class ShutdownLeavesNothingRunningTest {

    @TempDir
    Path dir;

    @Test
    void closingSluiceStopsEveryThreadItStarted() throws Exception {
        Files.createDirectories(dir.resolve("hello"));
        Files.writeString(dir.resolve("hello/greeting.txt"), "hello\n");
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        // The fixtures are stopped before the threads are counted: their own threads are not sluice's.
        try (RedisProcess redis = RedisProcess.start(); TestIssuer issuer = new TestIssuer(InstantSource.system())) {
            String yaml = """
                    server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0", shutdown_timeout: 2s }
                    oidc:
                      signing_key: { pem_env: OIDC_KEY, kid: "key-a" }
                    cache:
                      shared: { type: redis, uri: "%s", seal_key_env: SEAL_KEY }
                    registry:
                      products:
                        - { account: demo, product: hello, visibility: public, backend: { type: file, path: ./hello } }
                    inbound:
                      sts:
                        session_key_env: SESSION_KEY
                        roles:
                          - { id: reader, trusted_issuers: ["%s"], audiences: [sluice], subjects: ["*"] }
                    """.formatted(redis.uri(), issuer.issuer());
            byte[] key = new byte[32];
            String aes = Base64.getEncoder().encodeToString(key);
            SluiceUnderTest sluice = SluiceUnderTest.start(yaml,
                    Map.of("OIDC_KEY", TestKeys.pem("test-rsa-a"), "SEAL_KEY", aes, "SESSION_KEY", aes), dir);
            try {
                // Use what starts threads lazily: a read, the admin listener, an STS call that fetches issuer keys.
                assertThat(sluice.anonymousClient().getObject(b -> b.bucket("demo").key("hello/greeting.txt"),
                        ResponseTransformer.toBytes()).asUtf8String()).isEqualTo("hello\n");
                assertThat(sluice.admin("/readyz").status()).isEqualTo(200);
                SluiceUnderTest.RawResponse granted = sluice.send("GET", "/.sts?Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
                        + "&RoleArn=reader&RoleSessionName=shutdown-test&WebIdentityToken=" + issuer.mint());
                assertThat(granted.status()).as(granted.text()).isEqualTo(200);
            } finally {
                sluice.close();
            }
        }

        assertNoThreadLeftBeyond(before);
    }

    /**
     * The control-plane registry instead of static products: its API client, its document
     * caches with the shared tier, the backends it builds for the locations it resolves, and
     * the startup probe of the API, each used once.
     */
    @Test
    void closingAControlPlaneSluiceStopsEveryThreadItStarted() throws Exception {
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        try (RedisProcess redis = RedisProcess.start(); TestIssuer issuer = new TestIssuer(InstantSource.system());
             S3ProxyProcess open = S3ProxyProcess.startWithoutAuthorization(); TestControlPlane cp = new TestControlPlane()) {
            open.client().createBucket(b -> b.bucket("open-data-west"));
            open.client().putObject(b -> b.bucket("open-data-west").key("parks-dept/city-trees/trees.csv"),
                    RequestBody.fromString("id,species\n1,oak\n"));
            String yaml = """
                    server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0", shutdown_timeout: 2s }
                    oidc:
                      signing_key: { pem_env: OIDC_KEY, kid: "key-a" }
                    cache:
                      shared: { type: redis, uri: "%s", seal_key_env: SEAL_KEY }
                    registry:
                      type: control-plane
                      control_plane: { url: "%s", s3_endpoint: "%s", timeout: 2s }
                    inbound:
                      sts:
                        session_key_env: SESSION_KEY
                        roles:
                          - { id: reader, trusted_issuers: ["%s"], audiences: [sluice], subjects: ["*"] }
                    """.formatted(redis.uri(), cp.url(), open.endpoint(), issuer.issuer());
            String aes = Base64.getEncoder().encodeToString(new byte[32]);
            SluiceUnderTest sluice = SluiceUnderTest.start(yaml,
                    Map.of("OIDC_KEY", TestKeys.pem("test-rsa-a"), "SEAL_KEY", aes, "SESSION_KEY", aes), dir);
            try {
                assertThat(sluice.anonymousClient().getObject(b -> b.bucket(TestControlPlane.ACCOUNT).key("city-trees/trees.csv"),
                        ResponseTransformer.toBytes()).asUtf8String()).isEqualTo("id,species\n1,oak\n");
                SluiceUnderTest.RawResponse granted = sluice.send("GET", "/.sts?Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
                        + "&RoleArn=reader&RoleSessionName=shutdown-test&WebIdentityToken=" + issuer.mint());
                assertThat(granted.status()).as(granted.text()).isEqualTo(200);
            } finally {
                sluice.close();
            }
        }

        assertNoThreadLeftBeyond(before);
    }

    private static void assertNoThreadLeftBeyond(Set<Thread> before) throws InterruptedException {
        List<Thread> left = Thread.getAllStackTraces().keySet().stream()
                // The access-log writer is a daemon (a stuck stdout must not hold the JVM), but close() stops it too.
                .filter(t -> !before.contains(t) && (!t.isDaemon() || t.getName().equals("sluice-access-log")))
                .toList();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        for (Thread t : left) {
            t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
        }
        assertThat(left.stream().filter(Thread::isAlive).map(Thread::getName))
                .as("threads sluice started and did not stop (non-daemon, or the access-log writer)").isEmpty();
    }
}
