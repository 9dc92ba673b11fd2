package dev.sluice.federation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.backend.BearerToken;
import dev.sluice.backend.TokenGrant;
import dev.sluice.cache.CircuitBreaker;
import dev.sluice.cache.RedisSharedStore;
import dev.sluice.cache.RefreshAheadCache;
import dev.sluice.cache.Sealer;
import dev.sluice.cache.SharedStore;
import dev.sluice.cache.SharedTier;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.testing.IdentityFaults.Fault;
import dev.sluice.testing.LoopbackServer;
import dev.sluice.testing.MutableClock;
import dev.sluice.testing.RedisProcess;
import dev.sluice.testing.TestEntra;
import dev.sluice.testing.TestGoogle;
import dev.sluice.testing.TestKeys;
import dev.sluice.time.Ticker;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.io.Content;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The token tier: L1 hits without an exchange, renewal ahead of expiry, a hung identity
 * provider never holding up a request that has a token, one exchange for two instances
 * sharing a real Redis, and tokens still served with Redis gone (docs/federation.md, "Azure
 * Blob and GCS tokens").
 */
class TokenTierTest {
    private static final String SUBJECT = "sluice:product:demo/azure";
    private static final String TENANT = "tenant-1";
    private static final String CLIENT = "client-1";
    private static final RefreshAheadCache.Policy POLICY = RefreshAheadCache.Policy.DEFAULT;

    private static HttpClient http;

    private final MutableClock clock = new MutableClock(Instant.now());
    private final ExecutorService virtualLoads = Executors.newVirtualThreadPerTaskExecutor();
    private final List<AutoCloseable> closing = new ArrayList<>();
    private volatile OidcProvider oidc;
    private LoopbackServer issuer;
    private TestEntra entra;
    private TokenGrant.Entra grant;

    @BeforeAll
    static void startClient() throws Exception {
        http = new HttpClient();
        http.start();
    }

    @AfterAll
    static void stopClient() throws Exception {
        http.stop();
    }

    @BeforeEach
    void start() throws Exception {
        issuer = new LoopbackServer((request, response, callback) -> {
            String path = request.getHttpURI().getPath();
            String body = path.equals(OidcProvider.DISCOVERY_PATH) ? oidc.discoveryDocument() : oidc.jwksDocument();
            response.getHeaders().put("Content-Type", "application/json");
            Content.Sink.write(response, true, body, callback);
        }, Duration.ZERO);
        oidc = new OidcProvider(issuer.url(), TestKeys.load("test-rsa-a", "key-a"), Optional.empty(), Instant::now);
        entra = new TestEntra(issuer.url(), TENANT).application(CLIENT, SUBJECT::equals);
        grant = new TokenGrant.Entra(entra.tokenEndpoint(), TENANT, CLIENT, SUBJECT);
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing.reversed()) {
            c.close();
        }
        entra.close();
        issuer.close();
        virtualLoads.shutdownNow();
    }

    @Test
    void servesTheCachedTokenWithoutAnotherExchange() {
        MeterRegistry meters = new SimpleMeterRegistry();
        TokenTier tier = tier(exchanges(meters), virtualLoads, meters);

        BearerToken first = tier.token(grant);
        BearerToken second = tier.token(grant);

        assertThat(second).isEqualTo(first);
        assertThat(entra.totalExchanges()).isEqualTo(1);
        assertThat(meters.get("sluice.token.lookups").tag("outcome", "hit").counter().count()).isEqualTo(1);
        assertThat(meters.get("sluice.token.lookups").tag("outcome", "miss").counter().count()).isEqualTo(1);
        assertThat(meters.get("sluice.token.exchanges").tags("provider", "entra", "outcome", "success").counter().count()).isEqualTo(1);
    }

    @Test
    void renewsAheadOfExpiryWhileServingTheTokenItHas() throws Exception {
        HeldExecutor loads = new HeldExecutor();
        TokenTier tier = tier(exchanges(), loads, new SimpleMeterRegistry());
        BearerToken first = tier.token(grant);
        loads.hold();

        clock.advance(Duration.ofHours(1).minus(POLICY.refreshLead()).plusSeconds(1));
        BearerToken during = tier.token(grant);

        assertThat(during).as("served at once, the renewal not yet run").isEqualTo(first);
        assertThat(entra.totalExchanges()).isEqualTo(1);
        loads.runNext();
        assertThat(entra.totalExchanges()).isEqualTo(2);
        BearerToken renewed = tier.token(grant);
        assertThat(renewed).isNotEqualTo(first).isEqualTo(new BearerToken(entra.issued().get(1)));
    }

    @Test
    void hangingTokenEndpointNeverHangsARequestThatHasACachedToken() throws Exception {
        TokenTier tier = tier(exchanges(), virtualLoads, new SimpleMeterRegistry());
        BearerToken cached = tier.token(grant);
        entra.faults().set(Fault.HANG);
        clock.advance(Duration.ofHours(1).minus(POLICY.refreshLead()).plusSeconds(1));

        BearerToken served = tier.token(grant);

        assertThat(entra.faults().awaitHanging(10)).as("the renewal reached the endpoint and hangs there").isTrue();
        assertThat(served).isEqualTo(cached);
        // While the endpoint holds the renewal, every request still gets the token at once.
        assertThat(tier.token(grant)).isEqualTo(cached);
        assertThat(tier.token(grant)).isEqualTo(cached);
        assertThat(entra.totalExchanges()).isEqualTo(1);
    }

    @Test
    void twoInstancesSharingRedisMakeOneExchangeAndStoreTheTokenSealed() throws Exception {
        RedisProcess redis = RedisProcess.start();
        closing.add(redis);
        byte[] sealKey = new byte[32];
        new SecureRandom().nextBytes(sealKey);
        TokenTier a = tier(shared(redisStore(redis), sealKey), virtualLoads, new SimpleMeterRegistry());
        TokenTier b = tier(shared(redisStore(redis), sealKey), virtualLoads, new SimpleMeterRegistry());

        BearerToken fromA = a.token(grant);
        BearerToken fromB = b.token(grant);

        assertThat(fromB).isEqualTo(fromA);
        assertThat(entra.totalExchanges()).isEqualTo(1);
        String keys = redis.cli("--scan", "--pattern", "sluice:v1:tok:*");
        assertThat(keys.strip().lines().toList()).hasSize(1);
        byte[] stored = redis.cliBytes("GET", keys.strip());
        assertThat(new String(stored, StandardCharsets.ISO_8859_1)).doesNotContain(fromA.value().substring(0, 20));
    }

    @Test
    void aColdBurstOnTwoInstancesSharingRedisMakesOneExchange() throws Exception {
        RedisProcess redis = RedisProcess.start();
        closing.add(redis);
        byte[] sealKey = new byte[32];
        new SecureRandom().nextBytes(sealKey);
        List<TokenTier> instances = List.of(tier(shared(redisStore(redis), sealKey), virtualLoads, new SimpleMeterRegistry()),
                tier(shared(redisStore(redis), sealKey), virtualLoads, new SimpleMeterRegistry()));
        int callersPerInstance = 8;
        CountDownLatch go = new CountDownLatch(1);
        List<Future<BearerToken>> answers = new ArrayList<>();
        try (ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor()) {
            for (TokenTier instance : instances) {
                for (int i = 0; i < callersPerInstance; i++) {
                    answers.add(callers.submit(() -> {
                        go.await();
                        return instance.token(grant);
                    }));
                }
            }
            go.countDown();
            for (Future<BearerToken> answer : answers) {
                assertThat(answer.get(30, TimeUnit.SECONDS)).isEqualTo(new BearerToken(entra.issued().get(0)));
            }
        }

        assertThat(entra.totalExchanges()).isEqualTo(1);
    }

    @Test
    void redisGoneStillServesTokens() throws Exception {
        RedisProcess redis = RedisProcess.start();
        closing.add(redis);
        byte[] sealKey = new byte[32];
        new SecureRandom().nextBytes(sealKey);
        TokenTier tier = tier(shared(redisStore(redis), sealKey), virtualLoads, new SimpleMeterRegistry());
        redis.kill();

        BearerToken token = tier.token(grant);

        assertThat(token).isEqualTo(new BearerToken(entra.issued().get(0)));
        assertThat(entra.totalExchanges()).isEqualTo(1);
    }

    @Test
    void serviceAccountKeyGrantWorksWithoutAnOidcIdentityAndAFederatedOneIsRefused() throws Exception {
        try (TestGoogle google = new TestGoogle(issuer.url())) {
            String email = "reader@sluice-test.iam.gserviceaccount.com";
            com.fasterxml.jackson.databind.JsonNode key = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(google.serviceAccountKey(email));
            TokenGrant.GoogleServiceAccount keyGrant = new TokenGrant.GoogleServiceAccount(URI.create(key.get("token_uri").asText()),
                    email, key.get("private_key_id").asText(), key.get("private_key").asText());
            TokenTier tier = tier(TokenTier.exchanging(Optional.empty(), Optional.empty(),
                    new GoogleServiceAccountExchange(http, Duration.ofSeconds(5), () -> 0.5, Ticker.SYSTEM, clock,
                            TokenExchange.Observer.NONE)), virtualLoads, new SimpleMeterRegistry());

            BearerToken token = tier.token(keyGrant);
            S3Exception federated = null;
            try {
                tier.token(grant);
            } catch (S3Exception e) {
                federated = e;
            }

            assertThat(google.accepts(token.value())).isTrue();
            assertThat(federated).isNotNull();
            assertThat(federated.error()).isEqualTo(S3Error.BACKEND_AUTHENTICATION_FAILED);
            assertThat(entra.requests()).isZero();
        }
    }

    @Test
    void tokenAndCredentialTiersShareOneRegistryWithoutClashingNames() {
        MeterRegistry meters = new SimpleMeterRegistry();
        new CredentialTier(key -> {
            throw new AssertionError("not called");
        }, POLICY, clock, virtualLoads, () -> 0.5, Duration.ofSeconds(5), meters);
        CredentialTier.exchangeMetrics(meters);

        TokenTier tier = tier(exchanges(meters), virtualLoads, meters);
        tier.token(grant);

        assertThat(meters.get("sluice.token.loads.in.flight").gauge()).isNotNull();
        assertThat(meters.get("sluice.credential.lookups").counters()).allMatch(c -> c.count() == 0);
        assertThat(meters.get("sluice.token.exchange").tag("provider", "entra").timer().count()).isEqualTo(1);
    }

    // ---- helpers ----

    private TokenTier tier(RefreshAheadCache.Loader<TokenGrant, BearerToken> next, Executor loads, MeterRegistry meters) {
        return new TokenTier(next, POLICY, clock, loads, () -> 0.5, Duration.ofSeconds(10), meters);
    }

    private RefreshAheadCache.Loader<TokenGrant, BearerToken> exchanges() {
        return exchanges(null);
    }

    private RefreshAheadCache.Loader<TokenGrant, BearerToken> exchanges(MeterRegistry meters) {
        return TokenTier.exchanging(
                Optional.of(new EntraExchange(http, oidc, Duration.ofSeconds(5), () -> 0.5, clock, clock, metricsOf(meters))),
                Optional.empty(),
                new GoogleServiceAccountExchange(http, Duration.ofSeconds(5), () -> 0.5, clock, clock, TokenExchange.Observer.NONE));
    }

    /** The exchange metrics in {@code meters}, or none. */
    private TokenExchange.Observer metricsOf(MeterRegistry meters) {
        return meters == null ? TokenExchange.Observer.NONE : TokenTier.exchangeMetrics(meters);
    }

    private RefreshAheadCache.Loader<TokenGrant, BearerToken> shared(SharedStore store, byte[] sealKey) {
        // Writes back inline, so the second instance finds what the first wrote.
        return new SharedTier<>("tok", TokenGrant::sharedIdentity, store, new Sealer(sealKey, new SecureRandom()), new TokenCodec(),
                exchanges(), new SharedTier.Settings(Duration.ofSeconds(300), POLICY.refreshLead(), Duration.ofSeconds(10),
                        Duration.ofSeconds(10), Duration.ofMillis(25)),
                clock, Ticker.SYSTEM, Runnable::run, () -> UUID.randomUUID().toString(), SharedTier.Observer.NONE);
    }

    private RedisSharedStore redisStore(RedisProcess redis) {
        RedisSharedStore store = new RedisSharedStore(redis.uri(), Duration.ofSeconds(1),
                new CircuitBreaker(3, Duration.ofSeconds(5), clock), Ticker.SYSTEM, (op, outcome) -> { });
        closing.add(store);
        return store;
    }

    /** Runs loads inline until held; then keeps them until the test runs them. */
    private static final class HeldExecutor implements Executor {
        private final BlockingQueue<Runnable> held = new LinkedBlockingQueue<>();
        private volatile boolean inline = true;

        void hold() {
            inline = false;
        }

        void runNext() throws InterruptedException {
            Runnable task = held.poll(5, TimeUnit.SECONDS);
            assertThat(task).as("a load was submitted").isNotNull();
            task.run();
        }

        @Override
        public void execute(Runnable task) {
            if (inline) {
                task.run();
            } else {
                held.add(task);
            }
        }
    }
}
