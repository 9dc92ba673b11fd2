package dev.sluice.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.federation.CredentialCodec;
import dev.sluice.federation.CredentialKey;
import dev.sluice.sigv4.AwsCredentials;
import dev.sluice.testing.MutableClock;
import dev.sluice.testing.RedisProcess;
import dev.sluice.time.Ticker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shared tier as a fleet uses it: several "instances", each an L1 ({@link RefreshAheadCache})
 * whose load is its own {@link SharedTier}, all on one real Redis, each with its own origin that
 * counts exchanges. Keys are unique per test (the role ARN carries a random id), so tests do not
 * depend on one another or on their order.
 */
class SharedTierTest {
    private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
    private static final Duration LEAD = Duration.ofSeconds(300);
    private static final RefreshAheadCache.Policy POLICY = new RefreshAheadCache.Policy(
            Duration.ofSeconds(60), Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofSeconds(1));
    private static final Duration CALLER_WAIT = Duration.ofSeconds(20);
    private static final Duration POLL_INTERVAL = Duration.ofMillis(10);
    private static final Duration CREDENTIAL_LIFETIME = Duration.ofHours(1);

    private static RedisProcess redis;

    private final MutableClock clock = new MutableClock(T0);
    private final byte[] sealKey = randomKey();
    private final Sealer sealer = new Sealer(sealKey, new SecureRandom());
    private final CredentialCodec codec = new CredentialCodec();
    private final List<String> storeCalls = new CopyOnWriteArrayList<>();
    private final ExecutorService loads = Executors.newVirtualThreadPerTaskExecutor();
    private final String run = UUID.randomUUID().toString().substring(0, 8);
    /** Exchanges by every instance of the test, in order. */
    private final List<CredentialKey> exchanges = new CopyOnWriteArrayList<>();
    private final AtomicInteger issued = new AtomicInteger();
    private RedisSharedStore store;

    @BeforeAll
    static void startRedis() throws IOException {
        redis = RedisProcess.start();
        RedisSharedStoreTest.warmUp(redis.uri());
    }

    @AfterAll
    static void stopRedis() {
        if (redis != null) {
            redis.close();
        }
    }

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
        loads.shutdownNow();
    }

    private static byte[] randomKey() {
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        return k;
    }

    /**
     * The store, with a 1 s call timeout: these tests are about the tier, and a loaded machine can
     * stall a JVM past 100 ms and turn a healthy read into "unavailable". The one test about a
     * paused Redis uses {@link #storeWithTimeout} with the production default.
     */
    private RedisSharedStore store() {
        return storeWithTimeout(Duration.ofSeconds(1));
    }

    private RedisSharedStore storeWithTimeout(Duration timeout) {
        if (store == null) {
            store = new RedisSharedStore(redis.uri(), timeout,
                    new CircuitBreaker(3, Duration.ofSeconds(5), clock), Ticker.SYSTEM,
                    (op, outcome) -> storeCalls.add(op + " " + outcome));
        }
        return store;
    }

    private CredentialKey key(String role, String subject) {
        return new CredentialKey("arn:aws:iam::123456789012:role/" + role + "-" + run, subject);
    }

    private CredentialKey key() {
        return key("reader", "sluice:product:demo/hello");
    }

    /** A fresh temporary credential from "STS", distinct for each exchange. */
    private Expiring<AwsCredentials> issue(CredentialKey key, Instant expiresAt) {
        int n = issued.incrementAndGet();
        exchanges.add(key);
        return new Expiring<>(AwsCredentials.of("ASIATEST" + run.toUpperCase() + "N" + n,
                "secret/" + run + "/" + n + "/wJalrXUtnFEMI", "session-token-" + run + "-" + n + "-FwoGZXIvYXdzE"), expiresAt);
    }

    private String storeKey(CredentialKey key) {
        return new SharedTier<CredentialKey, AwsCredentials>("cred", CredentialKey::sharedIdentity, SharedStore.NONE, sealer, codec,
                k -> {
                    throw new AssertionError("only for its keys");
                }, new SharedTier.Settings(LEAD, POLICY.refreshLead(), Duration.ofSeconds(10), Duration.ZERO, Duration.ZERO),
                clock, clock, Runnable::run, () -> "", SharedTier.Observer.NONE).storeKey(key);
    }

    // --- an instance of sluice: L1 over L2 over its own origin ---------------------------------------

    private final class Instance {
        final List<String> events = new CopyOnWriteArrayList<>();
        final SharedTier<CredentialKey, AwsCredentials> tier;
        final RefreshAheadCache<CredentialKey, AwsCredentials> l1;

        Instance(SharedStore store, RefreshAheadCache.Loader<CredentialKey, AwsCredentials> origin, Executor writeBack,
                 Duration leaseWait) {
            // Instances of a fleet that run concurrently wait for each other in real time.
            this(store, origin, writeBack, leaseWait, Ticker.SYSTEM);
        }

        Instance(SharedStore store, RefreshAheadCache.Loader<CredentialKey, AwsCredentials> origin, Executor writeBack,
                 Duration leaseWait, Ticker ticker) {
            this.tier = new SharedTier<>("cred", CredentialKey::sharedIdentity, store, sealer, codec, origin,
                    new SharedTier.Settings(LEAD, POLICY.refreshLead(), Duration.ofSeconds(10), leaseWait, POLL_INTERVAL),
                    clock, ticker, writeBack, () -> UUID.randomUUID().toString(), events::add);
            this.l1 = new RefreshAheadCache<>(tier, POLICY, clock, loads, () -> 0.0,
                    waited -> new IllegalStateException("no credential within " + waited), RefreshAheadCache.Observer.NONE, 1000);
        }

        AwsCredentials get(CredentialKey key) {
            return l1.get(key, CALLER_WAIT);
        }
    }

    private Instance instance() {
        return instance(k -> issue(k, clock.instant().plus(CREDENTIAL_LIFETIME)));
    }

    private Instance instance(RefreshAheadCache.Loader<CredentialKey, AwsCredentials> origin) {
        return new Instance(store(), origin, Runnable::run, Duration.ofSeconds(5));
    }

    // --- L2 contents, read the way an operator with redis-cli would ---------------------------------

    private Expiring<AwsCredentials> inRedis(CredentialKey key) {
        SharedStore.Read read = store().get(storeKey(key));
        assertThat(read).as("L2 entry for %s", key).isInstanceOf(SharedStore.Read.Hit.class);
        byte[] opened = sealer.open(storeKey(key), ((SharedStore.Read.Hit) read).value()).orElseThrow();
        return codec.decode(opened).orElseThrow();
    }

    private boolean exists(String redisKey) throws Exception {
        return redis.cli("EXISTS", redisKey).trim().equals("1");
    }

    private long pttl(String redisKey) throws Exception {
        return Long.parseLong(redis.cli("PTTL", redisKey).trim());
    }

    /** Puts {@code value} sealed as the shared tier would, for {@code ttl}. */
    private void putSealed(CredentialKey key, Expiring<AwsCredentials> value, Sealer with) {
        store().put(storeKey(key), with.seal(storeKey(key), codec.encode(value)), Duration.ofMinutes(10));
    }

    // --- fleet single flight ------------------------------------------------------------------------

    @Test
    void aColdFleetUnderConcurrentLoadExchangesExactlyOnce() throws Exception {
        int instances = 4;
        int callersPerInstance = 32;
        CredentialKey key = key();
        // The winner's exchange finishes only once every other instance has found the lease held,
        // so every other instance is polling L2 when the value lands, whatever the scheduling.
        CountDownLatch othersHeld = new CountDownLatch(instances - 1);
        store = new RedisSharedStore(redis.uri(), Duration.ofSeconds(1), new CircuitBreaker(3, Duration.ofSeconds(5), clock),
                Ticker.SYSTEM, (op, outcome) -> {
                    if ((op + " " + outcome).equals("lease held")) {
                        othersHeld.countDown();
                    }
                });
        RefreshAheadCache.Loader<CredentialKey, AwsCredentials> origin = k -> {
            try {
                othersHeld.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return issue(k, clock.instant().plus(CREDENTIAL_LIFETIME));
        };
        List<Instance> fleet = new ArrayList<>();
        for (int i = 0; i < instances; i++) {
            fleet.add(instance(origin));
        }

        CountDownLatch go = new CountDownLatch(1);
        List<Future<AwsCredentials>> results = new ArrayList<>();
        try (ExecutorService callers = Executors.newFixedThreadPool(instances * callersPerInstance)) {
            for (Instance instance : fleet) {
                for (int c = 0; c < callersPerInstance; c++) {
                    results.add(callers.submit(() -> {
                        go.await();
                        return instance.get(key);
                    }));
                }
            }
            go.countDown();
            List<AwsCredentials> got = new ArrayList<>();
            for (Future<AwsCredentials> f : results) {
                got.add(f.get(30, TimeUnit.SECONDS));
            }

            assertThat(exchanges).as("exchanges across the fleet").hasSize(1);
            assertThat(got).hasSize(instances * callersPerInstance).containsOnly(got.get(0));
        }
        List<String> all = fleet.stream().flatMap(i -> i.events.stream()).toList();
        assertThat(all).filteredOn("exchange"::equals).hasSize(1);
        assertThat(all).filteredOn("lease_won"::equals).hasSize(1);
        assertThat(all).filteredOn("lease_waited"::equals).hasSize(instances - 1);
        assertThat(all).doesNotContain("lease_fallback", "unavailable");
        assertThat(fleet).filteredOn(i -> i.events.contains("lease_waited")).hasSize(instances - 1);
    }

    /**
     * The lease only orders instances that missed L2 before the holder wrote: an instance whose
     * miss came before the write but whose lease attempt came after the release wins a free lease
     * and must find the value in L2 before exchanging again.
     */
    @Test
    void aLeaseWonAfterAnotherInstanceFinishedDoesNotExchangeAgain() {
        CredentialKey key = key();
        Instance first = instance();
        SharedStore interleaved = new ForwardingStore(store()) {
            @Override
            public Lease acquireLease(String leaseKey, String token, Duration ttl) {
                first.get(key); // the whole of another instance's load: miss, lease, exchange, write, release
                return super.acquireLease(leaseKey, token, ttl);
            }
        };
        Instance second = new Instance(interleaved, k -> issue(k, clock.instant().plus(CREDENTIAL_LIFETIME)), Runnable::run,
                Duration.ofSeconds(5));

        AwsCredentials got = second.get(key);

        assertThat(exchanges).hasSize(1);
        assertThat(got).isEqualTo(first.get(key));
        assertThat(second.events).doesNotContain("exchange");
    }

    @Test
    void aWarmL2ServesANewInstanceWithoutAnExchange() {
        CredentialKey key = key();
        AwsCredentials loaded = instance().get(key);
        assertThat(exchanges).hasSize(1);

        Instance restarted = instance();
        AwsCredentials got = restarted.get(key);

        assertThat(got).isEqualTo(loaded);
        assertThat(exchanges).hasSize(1);
        assertThat(restarted.events).containsExactly("hit");
    }

    @Test
    void aDeadLeaseHolderCostsTheBoundedWaitThenTheInstanceExchangesItself() throws Exception {
        CredentialKey key = key();
        String leaseKey = storeKey(key) + ":lease";
        assertThat(redis.cli("SET", leaseKey, "crashed-instance", "NX", "PX", "10000").trim()).isEqualTo("OK");
        Duration leaseWait = Duration.ofMillis(300);
        Instance instance = new Instance(store(), k -> issue(k, clock.instant().plus(CREDENTIAL_LIFETIME)), Runnable::run, leaseWait,
                clock);

        AwsCredentials got = instance.get(key);

        assertThat(got.accessKeyId()).startsWith("ASIATEST");
        assertThat(exchanges).hasSize(1);
        assertThat(clock.sleeps()).as("polled every interval for exactly the lease wait, then gave up")
                .hasSize((int) (leaseWait.toMillis() / POLL_INTERVAL.toMillis()))
                .allMatch(POLL_INTERVAL::equals);
        assertThat(instance.events).contains("lease_fallback", "exchange").doesNotContain("lease_won", "lease_waited");
        assertThat(redis.cli("GET", leaseKey).trim()).as("another's lease is never released").isEqualTo("crashed-instance");
        assertThat(inRedis(key).value()).as("written back all the same").isEqualTo(got);
    }

    @Test
    void aFailedExchangeReleasesTheLeaseAndWritesNothing() throws Exception {
        CredentialKey key = key();
        Instance instance = instance(k -> {
            exchanges.add(k);
            throw new IllegalStateException("AccessDenied");
        });

        assertThatThrownBy(() -> instance.get(key)).hasMessageContaining("AccessDenied");

        assertThat(exchanges).hasSize(1);
        assertThat(exists(storeKey(key))).as("an error is never written").isFalse();
        assertThat(exists(storeKey(key) + ":lease")).as("nobody else waits on a failed holder").isFalse();
        assertThat(instance.events).doesNotContain("write");
    }

    // --- what is written -------------------------------------------------------------------------

    @Test
    void theTtlIsTheCredentialsRemainingLifeLessTheLead() throws Exception {
        CredentialKey key = key();
        instance().get(key);

        long expected = CREDENTIAL_LIFETIME.minus(LEAD).toMillis();
        assertThat(pttl(storeKey(key))).isBetween(expected - 5_000, expected);
        assertThat(inRedis(key).expiresAt()).isEqualTo(T0.plus(CREDENTIAL_LIFETIME));
    }

    @Test
    void theTtlCountsFromWhenTheValueIsWrittenNotWhenItWasIssued() throws Exception {
        CredentialKey key = key();
        Instance instance = instance(k -> {
            Expiring<AwsCredentials> value = issue(k, clock.instant().plus(CREDENTIAL_LIFETIME));
            clock.advance(Duration.ofMinutes(10)); // a slow exchange, on the controllable clock
            return value;
        });

        instance.get(key);

        long expected = CREDENTIAL_LIFETIME.minus(Duration.ofMinutes(10)).minus(LEAD).toMillis();
        assertThat(pttl(storeKey(key))).isBetween(expected - 5_000, expected);
    }

    @Test
    void nothingIsWrittenWhenTheCredentialExpiresWithinTheLead() throws Exception {
        CredentialKey key = key();
        Instance instance = instance(k -> issue(k, clock.instant().plus(LEAD)));

        instance.get(key);

        assertThat(exchanges).hasSize(1);
        assertThat(instance.events).contains("write_skipped").doesNotContain("write");
        assertThat(exists(storeKey(key))).isFalse();
        assertThat(exists(storeKey(key) + ":lease")).as("a skipped write still releases the lease").isFalse();
    }

    @Test
    void aCredentialOutlivingTheLeadByOneSecondIsWrittenForOneSecond() throws Exception {
        CredentialKey key = key();
        Instance instance = instance(k -> issue(k, clock.instant().plus(LEAD).plusSeconds(1)));

        instance.get(key);

        assertThat(instance.events).contains("write");
        assertThat(pttl(storeKey(key))).isBetween(-2L, 1_000L); // -2: already gone
    }

    @Test
    void aWaiterTakesTheHoldersValueAtTheFirstPollAfterItArrives() throws Exception {
        CredentialKey key = key();
        String leaseKey = storeKey(key) + ":lease";
        assertThat(redis.cli("SET", leaseKey, "another-instance", "NX", "PX", "10000").trim()).isEqualTo("OK");
        Instance holder = instance();
        Instance waiter = new Instance(store(), k -> issue(k, clock.instant().plus(CREDENTIAL_LIFETIME)), Runnable::run,
                Duration.ofSeconds(5), clock);
        AtomicReference<AwsCredentials> written = new AtomicReference<>();
        clock.onSleep(slept -> {
            if (clock.sleeps().size() == 3) { // while the waiter sleeps for the third time, a holder loads and writes back
                try {
                    redis.cli("DEL", leaseKey);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                written.set(holder.get(key));
            }
        });

        AwsCredentials got = waiter.get(key);

        assertThat(got).isEqualTo(written.get());
        assertThat(clock.sleeps()).hasSize(3);
        assertThat(exchanges).as("the holder's exchange only").hasSize(1);
        assertThat(waiter.events).contains("lease_waited").doesNotContain("exchange", "lease_fallback");
    }

    @Test
    void writeBackDoesNotDelayTheResponse() throws Exception {
        CredentialKey key = key();
        Queue<Runnable> pending = new ArrayDeque<>();
        Instance instance = new Instance(store(), k -> issue(k, clock.instant().plus(CREDENTIAL_LIFETIME)), pending::add,
                Duration.ofSeconds(5));

        AwsCredentials got = instance.get(key);

        assertThat(exists(storeKey(key))).as("the caller has its credential before Redis is written").isFalse();
        assertThat(pending).isNotEmpty();
        while (!pending.isEmpty()) {
            pending.poll().run();
        }
        assertThat(inRedis(key).value()).isEqualTo(got);
        assertThat(exists(storeKey(key) + ":lease")).isFalse();
    }

    // --- what is read ----------------------------------------------------------------------------

    @Test
    void anEntryAlreadyInsideTheRefreshLeadIsAMissAndIsDeleted() throws Exception {
        CredentialKey key = key();
        Expiring<AwsCredentials> stale = issue(key, T0.plus(POLICY.refreshLead()));
        putSealed(key, stale, sealer);
        exchanges.clear();
        Queue<Runnable> pending = new ArrayDeque<>();
        Instance instance = new Instance(store(), k -> issue(k, clock.instant().plus(CREDENTIAL_LIFETIME)), pending::add,
                Duration.ofSeconds(5));

        AwsCredentials got = instance.get(key);

        assertThat(got).isNotEqualTo(stale.value());
        assertThat(exchanges).hasSize(1);
        assertThat(instance.events).startsWith("discarded");
        pending.poll().run(); // the delete, queued first
        assertThat(exists(storeKey(key))).isFalse();
    }

    @Test
    void discardingAStaleEntryDoesNotDeleteAFreshOneWrittenMeanwhile() throws Exception {
        CredentialKey key = key();
        putSealed(key, issue(key, T0.plus(POLICY.refreshLead())), sealer);
        Queue<Runnable> pending = new ArrayDeque<>();
        Instance instance = new Instance(store(), k -> issue(k, clock.instant().plus(CREDENTIAL_LIFETIME)), pending::add,
                Duration.ofSeconds(5));

        instance.get(key); // reads the stale entry and queues its delete
        Expiring<AwsCredentials> fresh = issue(key, T0.plus(CREDENTIAL_LIFETIME));
        putSealed(key, fresh, sealer); // another instance writes a fresh one before the delete runs
        pending.poll().run(); // the delete, queued first

        assertThat(inRedis(key).value()).isEqualTo(fresh.value());
    }

    @Test
    void anEntryOneNanosecondOutsideTheRefreshLeadIsServed() {
        CredentialKey key = key();
        Expiring<AwsCredentials> fresh = issue(key, T0.plus(POLICY.refreshLead()).plusNanos(1));
        putSealed(key, fresh, sealer);
        exchanges.clear();
        Instance instance = instance();

        assertThat(instance.get(key)).isEqualTo(fresh.value());
        assertThat(exchanges).isEmpty();
        assertThat(instance.events).containsExactly("hit");
    }

    @Test
    void anEntrySealedWithAnotherKeyIsAMissNotAnError() {
        CredentialKey key = key();
        putSealed(key, issue(key, T0.plus(CREDENTIAL_LIFETIME)), new Sealer(randomKey(), new SecureRandom()));
        exchanges.clear();
        Instance instance = instance();

        AwsCredentials got = instance.get(key);

        assertThat(exchanges).hasSize(1);
        assertThat(instance.events).startsWith("discarded");
        assertThat(inRedis(key).value()).as("replaced by one this instance can open").isEqualTo(got);
    }

    @Test
    void garbageUnderTheKeyIsAMiss() throws Exception {
        CredentialKey key = key();
        redis.cli("SET", storeKey(key), "not a sealed value at all", "PX", "60000");
        Instance instance = instance();

        AwsCredentials got = instance.get(key);

        assertThat(exchanges).hasSize(1);
        assertThat(instance.events).startsWith("discarded");
        assertThat(inRedis(key).value()).isEqualTo(got);
    }

    @Test
    void aSealedValueThatIsNotACredentialIsAMiss() {
        CredentialKey key = key();
        store().put(storeKey(key), sealer.seal(storeKey(key), "{\"v\":2}".getBytes(StandardCharsets.UTF_8)), Duration.ofMinutes(1));
        Instance instance = instance();

        instance.get(key);

        assertThat(exchanges).hasSize(1);
        assertThat(instance.events).startsWith("discarded");
    }

    @Test
    void anEntryCopiedFromAnotherKeyDoesNotOpen() {
        CredentialKey alice = key("reader", "alice");
        CredentialKey bob = key("reader", "bob");
        AwsCredentials alices = instance().get(alice);
        SharedStore.Read copied = store().get(storeKey(alice));
        store().put(storeKey(bob), ((SharedStore.Read.Hit) copied).value(), Duration.ofMinutes(10));
        Instance instance = instance();

        AwsCredentials bobs = instance.get(bob);

        assertThat(bobs).isNotEqualTo(alices);
        assertThat(exchanges).containsExactly(alice, bob);
        assertThat(instance.events).startsWith("discarded");
    }

    // --- Redis unwell ------------------------------------------------------------------------------

    @Test
    void redisKilledDuringALoadMeansMoreExchangesAndNoFailures() throws Exception {
        CredentialKey key = key();
        CountDownLatch exchanging = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        Instance first = instance(k -> {
            exchanging.countDown();
            try {
                proceed.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return issue(k, clock.instant().plus(CREDENTIAL_LIFETIME));
        });
        List<Instance> others = List.of(instance(), instance(), instance());
        try {
            Future<AwsCredentials> load = loads.submit(() -> first.get(key));
            assertThat(exchanging.await(10, TimeUnit.SECONDS)).isTrue();
            redis.kill();
            proceed.countDown();

            assertThat(load.get(10, TimeUnit.SECONDS).accessKeyId()).startsWith("ASIATEST");
            for (Instance other : others) {
                long start = System.nanoTime();
                assertThat(other.get(key).accessKeyId()).startsWith("ASIATEST");
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
                assertThat(other.events).contains("exchange").doesNotContain("hit");
            }
            assertThat(exchanges).as("one per instance: more exchanges, no failure").hasSize(4);
        } finally {
            redis.restart();
        }
    }

    @Test
    void redisPausedMeansEachInstanceExchangesWithinTheTimeout() throws Exception {
        CredentialKey key = key();
        storeWithTimeout(Duration.ofMillis(100)).get("connect");
        List<Instance> fleet = List.of(instance(), instance(), instance());
        redis.pause();
        try {
            for (Instance instance : fleet) {
                long start = System.nanoTime();
                instance.get(key);
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
            }
        } finally {
            redis.resume();
        }
        assertThat(exchanges).hasSize(3);
        assertThat(fleet.get(0).events).contains("unavailable", "exchange");
    }

    // --- secrecy and separation --------------------------------------------------------------------

    @Test
    void aDumpOfRedisRevealsNoSecretInClear() throws Exception {
        // Subjects long enough that random ciphertext or base64url key text cannot contain them by
        // chance: a three-letter subject once matched sealed bytes and failed this test.
        List<CredentialKey> keys = List.of(key("reader", "sluice:subject:alice"), key("reader", "sluice:subject:bob"),
                key("writer", "sluice:subject:alice"));
        Instance instance = instance();
        List<AwsCredentials> loaded = keys.stream().map(instance::get).toList();

        List<String> redisKeys = Arrays.stream(redis.cli("--scan", "--pattern", "sluice:*").split("\n"))
                .map(String::trim).filter(s -> !s.isEmpty()).toList();
        assertThat(redisKeys).containsAll(keys.stream().map(this::storeKey).toList());
        StringBuilder dump = new StringBuilder();
        for (String k : redisKeys) {
            dump.append(k).append('\n');
            if (store().get(k) instanceof SharedStore.Read.Hit hit) {
                dump.append(new String(hit.value(), StandardCharsets.ISO_8859_1)).append('\n');
            }
            dump.append(redis.cli("GET", k)).append('\n');
        }
        String everything = dump.toString();
        for (AwsCredentials c : loaded) {
            assertThat(everything).doesNotContain(c.accessKeyId()).doesNotContain(c.secretAccessKey())
                    .doesNotContain(c.sessionToken().orElseThrow())
                    .doesNotContain(Base64.getEncoder().encodeToString(c.secretAccessKey().getBytes(StandardCharsets.UTF_8)));
        }
        for (CredentialKey k : keys) {
            assertThat(everything).doesNotContain(k.roleArn()).doesNotContain(k.subject());
        }
        assertThat(everything).doesNotContain("ASIATEST").doesNotContain("123456789012");
    }

    @Test
    void twoSubjectsOnOneRoleAndTwoRolesNeverShareACredential() {
        CredentialKey readerAlice = key("reader", "alice");
        CredentialKey readerBob = key("reader", "bob");
        CredentialKey writerAlice = key("writer", "alice");
        List<CredentialKey> keys = List.of(readerAlice, readerBob, writerAlice);
        Instance first = instance();
        List<AwsCredentials> issuedToFirst = keys.stream().map(first::get).toList();

        Instance second = instance();
        List<AwsCredentials> servedToSecond = keys.stream().map(second::get).toList();

        assertThat(issuedToFirst).doesNotHaveDuplicates();
        assertThat(servedToSecond).as("each key's own credential, from L2").isEqualTo(issuedToFirst);
        assertThat(exchanges).containsExactly(readerAlice, readerBob, writerAlice);
        assertThat(keys.stream().map(this::storeKey).distinct()).hasSize(3);
    }

    @Test
    void keysAreSyntheticSha256OfRoleAndSubject() throws Exception {
        CredentialKey key = key("data-reader", "sluice:product:acme/census");

        String storeKey = storeKey(key);

        assertThat(storeKey).matches("sluice:v1:cred:[A-Za-z0-9_-]{43}");
        byte[] digest = MessageDigest.getInstance("SHA-256")
                .digest((key.roleArn() + "\u001F" + key.subject()).getBytes(StandardCharsets.UTF_8));
        assertThat(storeKey).isEqualTo("sluice:v1:cred:" + Base64.getUrlEncoder().withoutPadding().encodeToString(digest));
        assertThat(storeKey).doesNotContain("data-reader").doesNotContain("census").doesNotContain("acme")
                .doesNotContain("123456789012").doesNotContain(run);
        assertThat(storeKey(key)).as("stable").isEqualTo(storeKey);
    }

    @Test
    void theKeyInRedisIsTheSyntheticOne() throws Exception {
        CredentialKey key = key();
        instance().get(key);

        assertThat(exists(storeKey(key))).isTrue();
        assertThat(redis.cli("--scan", "--pattern", "*" + run + "*").trim()).isEmpty();
    }

    /** Forwards every call to a real store; tests override one method to interleave instances deterministically. */
    private static class ForwardingStore implements SharedStore {
        private final SharedStore delegate;

        ForwardingStore(SharedStore delegate) {
            this.delegate = delegate;
        }

        @Override
        public Read get(String key) {
            return delegate.get(key);
        }

        @Override
        public void put(String key, byte[] value, Duration ttl) {
            delegate.put(key, value, ttl);
        }

        @Override
        public void delete(String key, byte[] expected) {
            delegate.delete(key, expected);
        }

        @Override
        public Lease acquireLease(String key, String token, Duration ttl) {
            return delegate.acquireLease(key, token, ttl);
        }

        @Override
        public void releaseLease(String key, String token) {
            delegate.releaseLease(key, token);
        }

        @Override
        public Eval eval(Script script, List<String> keys, List<String> args) {
            return delegate.eval(script, keys, args);
        }

        @Override
        public String health() {
            return delegate.health();
        }
    }
}
