package dev.sluice.registry;

import dev.sluice.backend.BackendSpec;

import dev.sluice.time.Ticker;
import dev.sluice.cache.CircuitBreaker;
import dev.sluice.cache.RedisSharedStore;
import dev.sluice.cache.Sealer;
import dev.sluice.cache.SharedStore;
import dev.sluice.federation.OidcProvider;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.testing.StubBackend;
import dev.sluice.testing.MutableClock;
import dev.sluice.testing.RedisProcess;
import dev.sluice.testing.TestControlPlane;
import dev.sluice.testing.TestKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.eclipse.jetty.client.HttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static dev.sluice.testing.TestControlPlane.ACCOUNT;
import static dev.sluice.testing.TestControlPlane.BROKEN;
import static dev.sluice.testing.TestControlPlane.CITY_TREES;
import static dev.sluice.testing.TestControlPlane.GARBLED;
import static dev.sluice.testing.TestControlPlane.OPEN_WEST;
import static dev.sluice.testing.TestControlPlane.PRODUCTS;
import static dev.sluice.testing.TestControlPlane.SURVEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Control-plane answers through the shared tier (docs/shared-tier.md, docs/control-plane.md): two registries — two
 * "instances" of sluice, each with its own Redis connection — over one real Redis and one test
 * control plane. Write-back runs on the loading thread here ({@code Runnable::run}), so an
 * answer is in Redis when the first instance's lookup returns and no test waits for it.
 * Every test has its own control plane on its own port, hence its own API URL and Redis keys.
 */
class ControlPlaneSharedTierTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(1);
    private static final Duration PRODUCT_TTL = Duration.ofSeconds(300);
    private static RedisProcess redis;

    private final MutableClock clock = new MutableClock(Instant.now().truncatedTo(ChronoUnit.SECONDS));
    private final byte[] sealKey = randomKey();
    private final List<AutoCloseable> closing = new ArrayList<>();
    private final List<String> events = new CopyOnWriteArrayList<>();
    private ExecutorService loads;
    private TestControlPlane cp;
    private HttpClient http;
    private OidcProvider oidc;

    @BeforeAll
    static void startRedis() throws IOException {
        redis = RedisProcess.start();
    }

    @AfterAll
    static void stopRedis() {
        if (redis != null) {
            redis.close();
        }
    }

    @BeforeEach
    void start() throws Exception {
        loads = Executors.newVirtualThreadPerTaskExecutor();
        cp = new TestControlPlane();
        http = new HttpClient();
        http.start();
        oidc = new OidcProvider("http://sluice.test", TestKeys.load("test-rsa-a", "kid-a"), Optional.empty(), clock);
        cp.trustJwks(oidc.jwksDocument());
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing.reversed()) {
            c.close();
        }
        http.stop();
        cp.close();
        loads.shutdownNow();
    }

    private static byte[] randomKey() {
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        return k;
    }

    /** A Redis connection that has answered once (the connection is made in the background). */
    private RedisSharedStore store(String uri) {
        RedisSharedStore store = new RedisSharedStore(uri, Duration.ofSeconds(1),
                new CircuitBreaker(3, Duration.ofSeconds(5), clock), Ticker.SYSTEM, RedisSharedStore.Observer.NONE);
        closing.add(store);
        return store;
    }

    private RedisSharedStore connectedStore() {
        RedisSharedStore store = store(redis.uri());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (store.get("warm-up") instanceof SharedStore.Read.Unavailable) {
            assertThat(System.nanoTime()).as("redis did not answer within 20 s").isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // bounded poll for the connection
        }
        return store;
    }

    /** An instance of sluice: its own registry, its own Redis connection, the fleet's seal key. */
    private ControlPlaneRegistry instance(SharedStore store, byte[] key) {
        ControlPlaneRegistry registry = new ControlPlaneRegistry(new ControlPlaneApi(http, cp.url(), Optional.of(oidc), TIMEOUT),
                new ControlPlaneRegistry.Settings(Optional.of("http://s3.test:9000"), PRODUCT_TTL, PRODUCT_TTL,
                        Duration.ofSeconds(60), Duration.ofSeconds(60), TIMEOUT, Duration.ofMinutes(10)),
                StubBackend<BackendSpec>::new, clock, loads, () -> 0.0, new SimpleMeterRegistry(),
                Optional.of(new ControlPlaneRegistry.Shared(store, new Sealer(key, new SecureRandom()), Duration.ofSeconds(10),
                        Duration.ofSeconds(2), Runnable::run, () -> UUID.randomUUID().toString(), events::add)));
        closing.add(registry);
        return registry;
    }

    private ControlPlaneRegistry instance() {
        return instance(connectedStore(), sealKey);
    }

    private static ProductRef ref(String product) {
        return new ProductRef(ACCOUNT, product);
    }

    private static Caller anonymous() {
        return Caller.anonymous("req-1");
    }

    /** The Redis key of {@code path} as asked by {@code subject} ("" for anonymous): docs/shared-tier.md keying, namespace cp. */
    private String redisKey(String path, String subject) throws Exception {
        byte[] digest = MessageDigest.getInstance("SHA-256")
                .digest((cp.url() + path + "\u001F" + subject).getBytes(StandardCharsets.UTF_8));
        return "sluice:v1:cp:" + Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    }

    private boolean exists(String redisKey) throws Exception {
        return redis.cli("EXISTS", redisKey).trim().equals("1");
    }

    private byte[] rawValue(String redisKey) {
        RedisSharedStore reader = connectedStore();
        SharedStore.Read read = reader.get(redisKey);
        assertThat(read).as("L2 entry %s", redisKey).isInstanceOf(SharedStore.Read.Hit.class);
        return ((SharedStore.Read.Hit) read).value();
    }

    @Test
    void aProductResolvedByOneInstanceIsServedToAnotherWithoutAnApiCall() {
        ControlPlaneRegistry a = instance();
        ControlPlaneRegistry b = instance();

        assertThat(a.locate(ref("city-trees"), anonymous())).isPresent();
        assertThat(cp.count(CITY_TREES)).isEqualTo(1);
        assertThat(cp.count(OPEN_WEST)).isEqualTo(1);

        BackendSpec fromB = b.locate(ref("city-trees"), anonymous()).orElseThrow();

        assertThat(cp.count(CITY_TREES)).as("product served to B from L2").isEqualTo(1);
        assertThat(cp.count(OPEN_WEST)).as("data connection served to B from L2").isEqualTo(1);
        assertThat(fromB).isEqualTo(a.locate(ref("city-trees"), anonymous()).orElseThrow());
        assertThat(events).contains("write", "hit");
    }

    @Test
    void anAccountsProductListIsShared() {
        ControlPlaneRegistry a = instance();
        ControlPlaneRegistry b = instance();

        List<Product> listedByA = a.list(ACCOUNT, anonymous());
        List<Product> listedByB = b.list(ACCOUNT, anonymous());

        assertThat(cp.count(PRODUCTS)).isEqualTo(1);
        assertThat(listedByB).extracting(Product::ref).containsExactlyElementsOf(listedByA.stream().map(Product::ref).toList());
    }

    @Test
    void theRedisValueIsSealedUnderTheDesignsKeyWithTheDocumentsOwnLead() throws Exception {
        instance().locate(ref("city-trees"), anonymous());

        String key = redisKey(CITY_TREES, "");
        assertThat(exists(key)).isTrue();
        byte[] value = rawValue(key);
        String asText = new String(value, StandardCharsets.ISO_8859_1);
        assertThat(asText).doesNotContain("city-trees", "product_id", "visibility", "mirrors", "{\"");
        assertThat(value[0]).as("Sealer layout version").isEqualTo((byte) 1);
        byte[] opened = new Sealer(sealKey, new SecureRandom()).open(key, value).orElseThrow();
        assertThat(new String(opened, StandardCharsets.UTF_8)).contains("\"product_id\":\"city-trees\"");
        // written for exp − now − TTL/5 = 240 s of a 300 s product: the credentials' 300 s lead would write nothing
        long pttl = Long.parseLong(redis.cli("PTTL", key).trim());
        assertThat(pttl).isBetween(230_000L, 240_000L);
        // the dump of every control-plane key of this test shows no JSON either
        for (String k : redis.cli("--scan", "--pattern", "sluice:v1:cp:*").lines().filter(l -> !l.isBlank()).toList()) {
            if (!k.endsWith(":lease")) {
                assertThat(redis.cli("DUMP", k)).doesNotContain("open-west", "product_id", "data_connection_id");
            }
        }
    }

    @Test
    void aValueSealedUnderAnotherKeyIsAMissAndTheApiIsAsked() {
        instance(connectedStore(), randomKey()).locate(ref("city-trees"), anonymous());
        ControlPlaneRegistry b = instance();

        b.locate(ref("city-trees"), anonymous());

        assertThat(cp.count(CITY_TREES)).isEqualTo(2);
        assertThat(events).contains("discarded");
    }

    @Test
    void failuresAreNeverWritten() throws Exception {
        ControlPlaneRegistry a = instance();
        ControlPlaneRegistry b = instance();

        assertThatThrownBy(() -> a.find(ref("broken"), anonymous()))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE));
        assertThatThrownBy(() -> a.find(ref("garbled"), anonymous()))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE));
        assertThat(a.find(ref("nowhere"), anonymous())).isEmpty();

        for (String path : List.of(BROKEN, GARBLED, PRODUCTS + "/nowhere")) {
            assertThat(exists(redisKey(path, ""))).as("%s in Redis", path).isFalse();
            assertThat(exists(redisKey(path, "") + ":lease")).as("%s's lease released", path).isFalse();
        }
        assertThat(events).doesNotContain("write");

        assertThatThrownBy(() -> b.find(ref("broken"), anonymous())).isInstanceOf(S3Exception.class);
        assertThat(b.find(ref("nowhere"), anonymous())).isEmpty();
        assertThat(cp.count(BROKEN)).as("B asks the API itself").isEqualTo(2);
        assertThat(cp.count(PRODUCTS + "/nowhere")).isEqualTo(2);
    }

    @Test
    void answersAreSharedPerSubjectOnly() {
        cp.restrict(SURVEY, TestControlPlane.fixture("product-restricted.json"));
        ControlPlaneRegistry a = instance();
        ControlPlaneRegistry b = instance();
        Caller alice = Caller.authenticated("alice", "req-2");

        assertThat(a.find(ref("survey-raw"), alice)).isPresent();
        assertThat(b.find(ref("survey-raw"), alice)).isPresent();
        assertThat(cp.count(SURVEY)).as("alice's answer shared across instances").isEqualTo(1);

        assertThat(b.find(ref("survey-raw"), anonymous())).as("never alice's answer to an anonymous caller").isEmpty();
        assertThat(cp.count(SURVEY)).isEqualTo(2);
    }

    @Test
    void withRedisDownAnswersStillComeFromTheApi() throws Exception {
        try (RedisProcess down = RedisProcess.start()) {
            down.kill();
            ControlPlaneRegistry a = instance(store(down.uri()), sealKey);

            assertThat(a.locate(ref("city-trees"), anonymous())).isPresent();
            assertThat(a.locate(ref("city-trees"), anonymous())).isPresent();

            assertThat(cp.count(CITY_TREES)).as("one API call, then L1").isEqualTo(1);
            assertThat(events).contains("unavailable");
        }
    }

    @Test
    void theDocumentsLeadExceedsTheRefreshLeadForEveryTtl() {
        for (Duration ttl : List.of(Duration.ofSeconds(300), Duration.ofSeconds(60), Duration.ofSeconds(1), Duration.ofNanos(3))) {
            assertThat(DocumentCache.sharedLead(ttl)).isGreaterThan(DocumentCache.refreshLead(ttl));
        }
        assertThat(DocumentCache.sharedLead(Duration.ofSeconds(300))).isEqualTo(Duration.ofSeconds(60));
        assertThat(DocumentCache.refreshLead(Duration.ofSeconds(300))).isEqualTo(Duration.ofSeconds(30));
    }
}
