package dev.sluice.fleet;

import dev.sluice.testing.RecordingProxy;
import dev.sluice.testing.S3ProxyProcess;
import dev.sluice.testing.TestSts;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

import static dev.sluice.fleet.Fleet.LIFETIME;
import static dev.sluice.fleet.Fleet.MAIN;
import static dev.sluice.fleet.Fleet.MIN_SERVE;
import static dev.sluice.fleet.Fleet.RENEWAL_PERIOD;
import static dev.sluice.fleet.Fleet.SIZE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shared credential tier across a fleet (docs/shared-tier.md): four sluice JVMs sharing one
 * real Redis make exactly one STS exchange per credential lifetime, from a cold start under
 * concurrent load and at every renewal after it, and Redis dying or freezing costs extra
 * exchanges (at most one per instance) but never a failed or stalled client request.
 *
 * <p>The scenarios share one fleet and run in order, because each starts where the previous
 * one left the credential's lifetime. Waits are on observable state (a renewal completed on
 * every instance, a breaker state), polled with a bound; the only timed loop is the paced load.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FleetTest {
    /** A renewal comes at most one renewal period after the previous one; allow for a slow machine on top. */
    private static final Duration RENEWAL_LIMIT = RENEWAL_PERIOD.plusSeconds(15);
    private static final int WORKERS_PER_INSTANCE = 2;
    private static final Duration PACE = Duration.ofMillis(100);

    private Fleet fleet;
    private final Map<String, Double> figures = new LinkedHashMap<>();
    private volatile boolean failed;

    /** Notes a failed scenario, so that the instances' logs are printed before they are deleted. */
    @RegisterExtension
    final TestWatcher watcher = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            failed = true;
        }
    };

    @BeforeAll
    void startFleet() throws Exception {
        fleet = Fleet.start();
    }

    @AfterAll
    void stopFleet() {
        if (fleet != null) {
            System.err.println("fleet counters at the end:\n" + fleet.sharedTierReport());
            System.err.println("token exchanges:\n" + fleet.exchangeLog());
            if (failed) {
                System.err.println("instance logs, as a scenario failed:\n" + fleet.logs(40_000));
            }
            fleet.close();
        }
        System.err.println("fleet figures: " + figures);
    }

    @Test
    @Order(1)
    void coldStartOfFourInstancesUnderConcurrentLoadMakesOneExchange() throws Exception {
        List<Load.Sample> samples = Load.burst(fleet, List.of(MAIN), 64);

        assertThat(samples).hasSize(SIZE * 64);
        assertThat(samples).filteredOn(Load.Sample::failed).as(fleet::logTails).isEmpty();
        assertThat(fleet.exchanges(MAIN)).as(withCounters("exchanges after a cold start of the whole fleet")).isEqualTo(1);
        figures.put("cold_start_exchanges", (double) fleet.exchanges(MAIN));
        figures.put("cold_start_p99_ms", Load.quantileMillis(samples, 0.99));
    }

    @Test
    @Order(2)
    void steadyLoadMakesOneExchangePerLifetimeAndNeverUsesACredentialInsideMinServe() throws Exception {
        int renewals = 4; // 4 × 22 s: about three 30 s lifetimes
        int before = fleet.exchanges(MAIN);
        Instant windowStart = Instant.now();
        List<Load.Sample> samples;
        try (Load load = Load.steady(fleet, List.of(MAIN), WORKERS_PER_INSTANCE, PACE)) {
            for (int r = 1; r <= renewals; r++) {
                int atStart = fleet.exchanges(MAIN);
                fleet.awaitLoadOnEveryInstance(fleet.loads(), RENEWAL_LIMIT);
                assertThat(fleet.exchanges(MAIN) - atStart).as(withCounters("exchanges at renewal " + r + " of " + renewals))
                        .isEqualTo(1);
            }
            samples = load.stop();
        }

        assertThat(samples).filteredOn(Load.Sample::failed).as(fleet::logTails).isEmpty();
        assertThat(fleet.exchanges(MAIN) - before).as("exchanges over %d renewal periods", renewals).isEqualTo(renewals);
        assertOneExchangePerLifetime(MAIN);
        assertNoBackendRequestInsideMinServe(windowStart);
        double windowSeconds = Duration.between(windowStart, Instant.now()).toMillis() / 1000.0;
        figures.put("steady_exchanges", (double) (fleet.exchanges(MAIN) - before));
        figures.put("steady_window_s", windowSeconds);
        figures.put("steady_requests", (double) samples.size());
        figures.put("steady_p99_ms", Load.quantileMillis(samples, 0.99));
    }

    @Test
    @Order(3)
    void redisKilledMidLoadCostsAtMostOneExchangePerInstanceAndFailsNoRequest() throws Exception {
        Instant windowStart = Instant.now();
        List<Load.Sample> samples;
        int[] whileDown;
        int afterRestart;
        try (Load load = Load.steady(fleet, List.of(MAIN), WORKERS_PER_INSTANCE, PACE)) {
            double[] loadsBefore = fleet.loads();
            double[] exchangesBefore = fleet.instanceExchanges();
            fleet.redis.kill();
            try {
                whileDown = fleet.exchangesUpToFirstLoad(loadsBefore, exchangesBefore, RENEWAL_LIMIT);
            } finally {
                fleet.redis.restart();
            }
            int restarted = fleet.exchanges(MAIN);
            fleet.awaitLoadOnEveryInstance(fleet.loads(), RENEWAL_LIMIT);
            afterRestart = fleet.exchanges(MAIN) - restarted;
            samples = load.stop();
        }

        assertExchangesWhileRedisWasOut("down", whileDown);
        assertThat(afterRestart).as(withCounters("exchanges at the first renewal after Redis came back")).isEqualTo(1);
        assertThat(samples).filteredOn(Load.Sample::failed).as(fleet::logTails).isEmpty();
        assertNoBackendRequestInsideMinServe(windowStart);
        figures.put("kill_exchanges_while_down", (double) Arrays.stream(whileDown).sum());
        figures.put("kill_exchanges_first_renewal_after", (double) afterRestart);
        figures.put("kill_requests", (double) samples.size());
    }

    /**
     * Redis freezes (SIGSTOP) under load: every call now costs the shared timeout until the
     * breaker opens. What is measured while it is frozen is asserted only after Redis is back and
     * every breaker has closed again, so a failure here leaves the fleet as the next scenario
     * expects it (an open breaker would make each instance exchange on its own there).
     */
    @Test
    @Order(4)
    void redisPausedMidLoadOpensAndClosesTheBreakerWithoutFailingOrStallingRequests() throws Exception {
        Instant windowStart = Instant.now();
        List<Load.Sample> samples;
        long pausedAt;
        long resumedAt;
        int[] whilePaused = null;
        AssertionError pausedPhase = null;
        int afterResume;
        double[] transitionsBefore = fleet.metric("sluice_shared_breaker_transitions_total");
        try (Load load = Load.steady(fleet, List.of(MAIN), WORKERS_PER_INSTANCE, PACE)) {
            load.awaitCompleted(SIZE * WORKERS_PER_INSTANCE * 20, Duration.ofSeconds(30)); // a baseline of normal latency
            double[] loadsBefore = fleet.loads();
            double[] exchangesBefore = fleet.instanceExchanges();
            pausedAt = System.nanoTime();
            fleet.redis.pause();
            try {
                whilePaused = fleet.exchangesUpToFirstLoad(loadsBefore, exchangesBefore, RENEWAL_LIMIT);
                Fleet.awaitCondition("the breaker open on every instance", Duration.ofSeconds(5), () ->
                        Arrays.stream(fleet.metric("sluice_shared_breaker_state")).allMatch(s -> s == 1));
            } catch (AssertionError e) {
                pausedPhase = e;
            } finally {
                resumedAt = System.nanoTime();
                fleet.redis.resume();
            }

            int resumed = fleet.exchanges(MAIN);
            fleet.awaitLoadOnEveryInstance(fleet.loads(), RENEWAL_LIMIT);
            Fleet.awaitCondition("the breaker closed on every instance", Duration.ofSeconds(10), () ->
                    Arrays.stream(fleet.metric("sluice_shared_breaker_state")).allMatch(s -> s == 0));
            afterResume = fleet.exchanges(MAIN) - resumed;
            samples = load.stop();
        }

        if (pausedPhase != null) {
            throw pausedPhase;
        }
        assertExchangesWhileRedisWasOut("paused", whilePaused);
        assertThat(afterResume).as(withCounters("exchanges at the first renewal after Redis resumed")).isEqualTo(1);
        assertThat(samples).filteredOn(Load.Sample::failed).as(fleet::logTails).isEmpty();
        double[] transitions = fleet.metric("sluice_shared_breaker_transitions_total");
        for (int i = 0; i < SIZE; i++) {
            // closed → open, open → half-open, half-open → closed
            assertThat(transitions[i] - transitionsBefore[i]).as("breaker transitions on instance %d", i).isGreaterThanOrEqualTo(3);
        }
        List<Load.Sample> normal = samples.stream().filter(s -> s.startedNanos() < pausedAt).toList();
        List<Load.Sample> paused = samples.stream().filter(s -> s.startedNanos() >= pausedAt && s.startedNanos() < resumedAt).toList();
        double normalP99 = Load.quantileMillis(normal, 0.99);
        double pausedP99 = Load.quantileMillis(paused, 0.99);
        assertThat(pausedP99).as("p99 while Redis was paused vs normal p99 %.1f ms", normalP99)
                .isLessThan(normalP99 + Fleet.SHARED_TIMEOUT.toMillis() + 250);
        assertNoBackendRequestInsideMinServe(windowStart);
        figures.put("pause_exchanges_while_paused", (double) Arrays.stream(whilePaused).sum());
        figures.put("pause_normal_p99_ms", normalP99);
        figures.put("pause_paused_p99_ms", pausedP99);
        double fewest = Double.MAX_VALUE;
        for (int i = 0; i < SIZE; i++) {
            fewest = Math.min(fewest, transitions[i] - transitionsBefore[i]);
        }
        figures.put("pause_breaker_transitions_fewest_per_instance", fewest);
    }

    /** Redis out costs each instance at most one exchange for its renewal, and the fleet at least one. */
    private void assertExchangesWhileRedisWasOut(String how, int[] byInstance) {
        for (int i = 0; i < SIZE; i++) {
            int instance = i;
            assertThat(byInstance[i]).as(() -> "exchanges by instance " + instance + " up to its first credential load while Redis was "
                    + how + "\n" + fleet.exchangeLog()).isLessThanOrEqualTo(1);
        }
        assertThat(Arrays.stream(byInstance).sum()).as(() -> "exchanges while Redis was " + how + "\n" + fleet.exchangeLog())
                .isBetween(1, SIZE);
    }

    @Test
    @Order(5)
    void subjectsAndRolesHaveTheirOwnEntriesAndNeverCross() throws Exception {
        List<Fleet.Product> separate = List.of(Fleet.SHARED_ONE, Fleet.SHARED_TWO, Fleet.AUDIT_ONE);
        List<Load.Sample> samples = Load.burst(fleet, separate, 48);

        assertThat(samples).filteredOn(Load.Sample::failed).as(fleet::logTails).isEmpty();
        for (Fleet.Product p : separate) {
            assertThat(fleet.exchanges(p)).as(withCounters("exchanges for " + p.name() + " (" + p.roleArn() + ", " + p.subject() + ")"))
                    .isEqualTo(1);
        }
        Set<String> keys = redisKeys();
        Set<String> expected = new HashSet<>();
        for (Fleet.Product p : separate) {
            expected.add(Fleet.storeKey(p));
        }
        assertThat(expected).hasSize(separate.size());
        assertThat(keys).containsAll(expected);
        assertBackendRequestsUsedTheirOwnCredentials(separate);
    }

    @Test
    @Order(6)
    void aRedisDumpHoldsNoAccessKeySecretOrSessionTokenInClearText() throws Exception {
        Set<String> keys = redisKeys();
        assertThat(keys).as("entries to inspect (this scenario follows the one that fills Redis)")
                .anyMatch(k -> k.startsWith("sluice:v1:cred:") && !k.endsWith(":lease"));
        List<String> secrets = new ArrayList<>(List.of(S3ProxyProcess.IDENTITY, S3ProxyProcess.CREDENTIAL));
        for (TestSts.Issued issued : fleet.sts.issued()) {
            secrets.add(issued.sessionToken());
        }
        for (String key : keys) {
            byte[] value = fleet.redis.cliBytes("GET", key);
            String asLatin1 = new String(value, StandardCharsets.ISO_8859_1);
            for (String secret : secrets) {
                assertThat(key).doesNotContain(secret);
                assertThat(asLatin1).as("the value of %s", key).doesNotContain(secret);
            }
        }
    }

    @Test
    @Order(7)
    void coldBurstOnAFederatedAzureProductMakesOneEntraExchangeForTheFleet() throws Exception {
        assertThat(fleet.entra.totalExchanges()).as("no Azure read before this scenario").isZero();

        List<Load.Sample> samples = Load.burst(fleet, List.of(Fleet.AZURE), 64);

        assertThat(samples).hasSize(SIZE * 64);
        assertThat(samples).filteredOn(Load.Sample::failed).as(fleet::logTails).isEmpty();
        assertThat(fleet.entra.exchanges(Fleet.AZURE_CLIENT, Fleet.AZURE.subject()))
                .as(withCounters("Entra ID exchanges after a cold burst on the whole fleet")).isEqualTo(1);
        assertThat(fleet.entra.totalExchanges()).isEqualTo(1);
        figures.put("azure_cold_burst_entra_exchanges", (double) fleet.entra.totalExchanges());
        figures.put("azure_cold_burst_p99_ms", Load.quantileMillis(samples, 0.99));
        Set<String> tokenKeys = new HashSet<>();
        for (String key : redisKeys()) {
            if (key.startsWith("sluice:v1:tok:") && !key.endsWith(":lease")) {
                tokenKeys.add(key);
            }
        }
        assertThat(tokenKeys).as("the fleet's one token in Redis").hasSize(1);
        String sealed = new String(fleet.redis.cliBytes("GET", tokenKeys.iterator().next()), StandardCharsets.ISO_8859_1);
        for (String token : fleet.entra.issued()) {
            assertThat(sealed).as("the token's Redis value").doesNotContain(token);
        }
    }

    /** A lazy assertion description: {@code what}, then every instance's shared-tier counters. */
    private Supplier<String> withCounters(String what) {
        return () -> what + "\n" + fleet.sharedTierReport();
    }

    private Set<String> redisKeys() throws Exception {
        Set<String> keys = new HashSet<>();
        for (String line : fleet.redis.cli("--scan").split("\n")) {
            if (!line.isBlank()) {
                keys.add(line.trim());
            }
        }
        return keys;
    }

    /** Consecutive credentials of one (role, subject) were minted a renewal period apart, never two in one window. */
    private void assertOneExchangePerLifetime(Fleet.Product p) {
        List<Instant> expirations = fleet.sts.issued().stream()
                .filter(i -> i.roleArn().equals(p.roleArn()) && i.subject().equals(p.subject()))
                .map(TestSts.Issued::expiration).sorted().toList();
        for (int i = 1; i < expirations.size(); i++) {
            // expirations are whole seconds, so allow one second of truncation
            assertThat(Duration.between(expirations.get(i - 1), expirations.get(i)))
                    .as("time between credentials %d and %d of %s", i, i + 1, p.name())
                    .isGreaterThanOrEqualTo(RENEWAL_PERIOD.minusSeconds(1));
        }
    }

    /** Every backend request since {@code since} carried a credential TestSts issued, with at least min_serve left. */
    private void assertNoBackendRequestInsideMinServe(Instant since) {
        Map<String, Instant> expiryByToken = new HashMap<>();
        for (TestSts.Issued i : fleet.sts.issued()) {
            expiryByToken.put(i.sessionToken(), i.expiration());
        }
        List<RecordingProxy.Forwarded> seen = fleet.backend.forwarded().stream().filter(f -> !f.arrivedAt().isBefore(since)).toList();
        assertThat(seen).isNotEmpty();
        Duration closest = LIFETIME;
        for (RecordingProxy.Forwarded f : seen) {
            assertThat(f.securityToken()).as("%s %s", f.method(), f.pathAndQuery()).isPresent();
            Instant expiry = expiryByToken.get(f.securityToken().get());
            assertThat(expiry).as("the session token of %s %s was issued by the STS", f.method(), f.pathAndQuery()).isNotNull();
            Duration left = Duration.between(f.arrivedAt(), expiry);
            assertThat(left).as("credential time left when %s %s arrived at %s", f.method(), f.pathAndQuery(), f.arrivedAt())
                    .isGreaterThan(MIN_SERVE);
            closest = left.compareTo(closest) < 0 ? left : closest;
        }
        figures.merge("least_credential_time_left_s", closest.toMillis() / 1000.0, Math::min);
    }

    /** Each product's backend requests were signed with a credential issued for that product's own (role, subject). */
    private void assertBackendRequestsUsedTheirOwnCredentials(List<Fleet.Product> mustHaveBeenRead) {
        Map<String, TestSts.Issued> byToken = new HashMap<>();
        for (TestSts.Issued i : fleet.sts.issued()) {
            byToken.put(i.sessionToken(), i);
        }
        Map<String, Fleet.Product> byBucket = new HashMap<>();
        for (Fleet.Product p : Fleet.PRODUCTS) {
            byBucket.put(p.bucket(), p);
        }
        Set<String> bucketsSeen = new HashSet<>();
        for (RecordingProxy.Forwarded f : fleet.backend.forwarded()) {
            String bucket = f.pathAndQuery().split("[/?]")[1];
            Fleet.Product p = byBucket.get(bucket);
            assertThat(p).as("a backend request to an unknown bucket: %s", f.pathAndQuery()).isNotNull();
            TestSts.Issued issued = byToken.get(f.securityToken().orElse(""));
            assertThat(issued).as("the credential of %s", f.pathAndQuery()).isNotNull();
            assertThat(List.of(issued.roleArn(), issued.subject())).as("the (role, subject) that signed %s", f.pathAndQuery())
                    .isEqualTo(List.of(p.roleArn(), p.subject()));
            bucketsSeen.add(bucket);
        }
        assertThat(bucketsSeen).containsAll(mustHaveBeenRead.stream().map(Fleet.Product::bucket).toList());
    }
}
