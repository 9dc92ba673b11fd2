package dev.sluice.cache;

import dev.sluice.time.Ticker;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.cache.CircuitBreaker.State;
import dev.sluice.cache.SharedStore.Lease;
import dev.sluice.cache.SharedStore.Read;
import dev.sluice.testing.MutableClock;
import dev.sluice.testing.RedisProcess;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link RedisSharedStore} against a real {@code redis-server}: the commands, and what each call
 * does when Redis is paused (SIGSTOP), killed, restarted or never there. Every test uses its own
 * keys and leaves Redis running, so the order of tests does not matter.
 */
class RedisSharedStoreTest {
    private static final Duration TIMEOUT = Duration.ofMillis(100);
    /**
     * For tests about what Redis answers rather than about timing out: a loaded machine can stall
     * a JVM past 100 ms and turn a healthy reply into a timeout.
     */
    private static final Duration HEALTHY_TIMEOUT = Duration.ofSeconds(1);
    private static final Duration OPEN_FOR = Duration.ofSeconds(5);
    /** A call bounded by a 100 ms timeout must be back well within this, even on a loaded machine. */
    private static final Duration DEADLINE = Duration.ofSeconds(1);
    /** A call skipped by the open breaker touches no socket: it is back before any timeout could have run out. */
    private static final Duration AT_ONCE = TIMEOUT;

    private static RedisProcess redis;

    private final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
    private final List<String> calls = new CopyOnWriteArrayList<>();
    private final List<RedisSharedStore> stores = new ArrayList<>();
    private final String prefix = "test:" + UUID.randomUUID() + ":";

    @BeforeAll
    static void startRedis() throws IOException {
        redis = RedisProcess.start();
        warmUp(redis.uri());
    }

    /**
     * Lettuce's first connection in a JVM loads and initialises much of Netty and Lettuce, which
     * can take longer than a 100 ms call: done once here, so each test measures Redis, not class
     * loading.
     */
    static void warmUp(String uri) {
        try (RedisSharedStore s = new RedisSharedStore(uri, Duration.ofSeconds(5),
                new CircuitBreaker(Integer.MAX_VALUE, Duration.ZERO, java.time.InstantSource.system()), Ticker.SYSTEM,
                RedisSharedStore.Observer.NONE)) {
            eventually(Duration.ofSeconds(20), () -> !(s.get("warm-up") instanceof Read.Unavailable));
        }
    }

    @AfterAll
    static void stopRedis() {
        if (redis != null) {
            redis.close();
        }
    }

    @AfterEach
    void closeStores() {
        stores.forEach(RedisSharedStore::close);
    }

    private RedisSharedStore store(String uri, Duration timeout, int threshold) {
        RedisSharedStore s = new RedisSharedStore(uri, timeout, new CircuitBreaker(threshold, OPEN_FOR, clock), Ticker.SYSTEM,
                (op, outcome) -> calls.add(op + " " + outcome));
        stores.add(s);
        return s;
    }

    /** For tests of what Redis answers: see {@link #HEALTHY_TIMEOUT}. */
    private RedisSharedStore store() {
        return healthy(3);
    }

    private RedisSharedStore healthy(int threshold) {
        return store(redis.uri(), HEALTHY_TIMEOUT, threshold);
    }

    /** For tests of Redis being unwell: the production default timeout, which is what is under test. */
    private RedisSharedStore unwell(int threshold) {
        return store(redis.uri(), TIMEOUT, threshold);
    }

    private String key(String name) {
        return prefix + name;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static <T> T within(Duration bound, Supplier<T> call) {
        long start = System.nanoTime();
        T result = call.get();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("elapsed").isLessThan(bound);
        return result;
    }

    private static void within(Duration bound, Runnable call) {
        within(bound, () -> {
            call.run();
            return null;
        });
    }

    /** Polls {@code condition} every 20 ms for at most {@code bound}: for Lettuce's own reconnect, which has no hook to wait on. */
    private static void eventually(Duration bound, BooleanSupplier condition) {
        long deadline = System.nanoTime() + bound.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition still false after %s", bound).isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    /**
     * Waits (bounded) until {@code store} answers, then forgets the calls it took: the
     * precondition of the unwell-Redis tests, polled because on a loaded machine a healthy call
     * can miss a 100 ms timeout. Ends on a success, so the breaker is closed with no failure counted.
     */
    private void connected(RedisSharedStore store) {
        eventually(Duration.ofSeconds(5), () -> {
            clock.advance(OPEN_FOR);
            return !(store.get(key("connect")) instanceof Read.Unavailable);
        });
        assertThat(store.breaker().state()).isEqualTo(State.CLOSED);
        calls.clear();
    }

    private static String clientList() {
        try {
            return redis.cli("CLIENT", "LIST");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static long pttl(String key) throws Exception {
        return Long.parseLong(redis.cli("PTTL", key).trim());
    }

    // --- commands ----------------------------------------------------------------------------

    @Test
    void getOfAnAbsentKeyIsAMiss() {
        assertThat(store().get(key("absent"))).isInstanceOf(Read.Miss.class);
        assertThat(calls).containsExactly("get miss");
    }

    @Test
    void getReturnsTheBytesPut() {
        RedisSharedStore store = store();
        byte[] value = {0, 1, 2, (byte) 0xff, (byte) 0x80, '\r', '\n'};

        store.put(key("k"), value, Duration.ofSeconds(60));

        assertThat(store.get(key("k"))).isInstanceOfSatisfying(Read.Hit.class, h -> assertThat(h.value()).isEqualTo(value));
        assertThat(calls).containsExactly("put ok", "get hit");
    }

    @Test
    void putSetsTheTtlInMilliseconds() throws Exception {
        store().put(key("ttl"), bytes("v"), Duration.ofMillis(120_500));

        assertThat(pttl(key("ttl"))).isBetween(110_000L, 120_500L);
    }

    /** Redis refuses {@code PX 0}; a positive TTL under a millisecond must not become a Redis error that counts toward the breaker. */
    @Test
    void aPutWithASubMillisecondTtlIsNotCountedAsARedisFailure() {
        RedisSharedStore store = healthy(1);

        store.put(key("brief"), bytes("v"), Duration.ofNanos(500_000));

        assertThat(calls).containsExactly("put ok");
        assertThat(store.breaker().state()).isEqualTo(State.CLOSED);
    }

    @Test
    void aLeaseWithASubMillisecondTtlIsNotCountedAsARedisFailure() {
        RedisSharedStore store = healthy(1);

        assertThat(store.acquireLease(key("brief-lease"), "t", Duration.ofNanos(1))).isEqualTo(Lease.WON);

        assertThat(store.breaker().state()).isEqualTo(State.CLOSED);
    }

    @Test
    void putReplacesTheValueAndItsTtl() throws Exception {
        RedisSharedStore store = store();
        store.put(key("k"), bytes("old"), Duration.ofSeconds(600));

        store.put(key("k"), bytes("new"), Duration.ofSeconds(30));

        assertThat(redis.cli("GET", key("k")).trim()).isEqualTo("new");
        assertThat(pttl(key("k"))).isBetween(20_000L, 30_000L);
    }

    @Test
    void deleteRemovesTheKeyWhileItHoldsTheExpectedValue() throws Exception {
        RedisSharedStore store = store();
        store.put(key("k"), bytes("v"), Duration.ofSeconds(60));

        store.delete(key("k"), bytes("v"));

        assertThat(store.get(key("k"))).isInstanceOf(Read.Miss.class);
        assertThat(redis.cli("EXISTS", key("k")).trim()).isEqualTo("0");
    }

    @Test
    void deleteLeavesAValueWrittenSinceTheReaderSawTheOldOne() throws Exception {
        RedisSharedStore store = store();
        store.put(key("k"), bytes("stale"), Duration.ofSeconds(60));
        store.put(key("k"), bytes("fresh"), Duration.ofSeconds(60)); // another instance, meanwhile

        store.delete(key("k"), bytes("stale"));

        assertThat(redis.cli("GET", key("k")).trim()).isEqualTo("fresh");
    }

    @Test
    void aLeaseIsWonByTheFirstTokenAndHeldForAnother() throws Exception {
        RedisSharedStore store = store();

        assertThat(store.acquireLease(key("lease"), "token-a", Duration.ofSeconds(10))).isEqualTo(Lease.WON);
        assertThat(store.acquireLease(key("lease"), "token-b", Duration.ofSeconds(10))).isEqualTo(Lease.HELD);
        assertThat(store.acquireLease(key("lease"), "token-a", Duration.ofSeconds(10))).as("not re-entrant").isEqualTo(Lease.HELD);

        assertThat(redis.cli("GET", key("lease")).trim()).isEqualTo("token-a");
        assertThat(pttl(key("lease"))).isBetween(9_000L, 10_000L);
        assertThat(calls).containsExactly("lease won", "lease held", "lease held");
    }

    @Test
    void aLeaseIsSharedByEveryStoreOnTheSameRedis() {
        assertThat(store().acquireLease(key("lease"), "instance-1", Duration.ofSeconds(10))).isEqualTo(Lease.WON);
        assertThat(store().acquireLease(key("lease"), "instance-2", Duration.ofSeconds(10))).isEqualTo(Lease.HELD);
    }

    @Test
    void releaseByANonHolderLeavesTheLease() throws Exception {
        RedisSharedStore store = store();
        store.acquireLease(key("lease"), "holder", Duration.ofSeconds(10));

        store.releaseLease(key("lease"), "someone-else");

        assertThat(redis.cli("GET", key("lease")).trim()).isEqualTo("holder");
        assertThat(store.acquireLease(key("lease"), "someone-else", Duration.ofSeconds(10))).isEqualTo(Lease.HELD);
    }

    @Test
    void releaseByTheHolderFreesTheLease() throws Exception {
        RedisSharedStore store = store();
        store.acquireLease(key("lease"), "holder", Duration.ofSeconds(10));

        store.releaseLease(key("lease"), "holder");

        assertThat(redis.cli("EXISTS", key("lease")).trim()).isEqualTo("0");
        assertThat(store.acquireLease(key("lease"), "next", Duration.ofSeconds(10))).isEqualTo(Lease.WON);
    }

    @Test
    void releaseOfAnAbsentLeaseDoesNothing() throws Exception {
        RedisSharedStore store = store();

        store.releaseLease(key("never-taken"), "holder");

        assertThat(redis.cli("EXISTS", key("never-taken")).trim()).isEqualTo("0");
        assertThat(store.breaker().state()).isEqualTo(State.CLOSED);
    }

    @Test
    void evalRunsAScriptAndAnswersItsIntegers() {
        SharedStore.Script script = new SharedStore.Script(
                "return {redis.call('INCRBY', KEYS[1], ARGV[1]), redis.call('INCRBY', KEYS[1], ARGV[2])}");

        assertThat(store().eval(script, List.of(key("n")), List.of("2", "5")))
                .isEqualTo(new SharedStore.Eval.Done(List.of(2L, 7L)));
        assertThat(calls).containsExactly("eval ok");
    }

    /** The script is sent by digest; a restarted or flushed Redis has forgotten it, and must be sent it again in the same call. */
    @Test
    void evalSendsTheScriptAgainWhenRedisHasForgottenIt() throws Exception {
        RedisSharedStore store = store();
        SharedStore.Script script = new SharedStore.Script("return redis.call('INCR', KEYS[1])");
        assertThat(store.eval(script, List.of(key("c")), List.of())).isEqualTo(new SharedStore.Eval.Done(List.of(1L)));

        assertThat(redis.cli("SCRIPT", "FLUSH").trim()).isEqualTo("OK");

        assertThat(store.eval(script, List.of(key("c")), List.of())).isEqualTo(new SharedStore.Eval.Done(List.of(2L)));
        assertThat(store.breaker().state()).isEqualTo(State.CLOSED);
        assertThat(calls).containsExactly("eval ok", "eval ok");
    }

    @Test
    void aScriptErrorIsUnavailableNotAnException() {
        SharedStore.Script broken = new SharedStore.Script("return redis.call('NOSUCHCOMMAND')");

        assertThat(store().eval(broken, List.of(key("x")), List.of())).isInstanceOf(SharedStore.Eval.Unavailable.class);
        assertThat(calls).containsExactly("eval error");
    }

    @Test
    void evalOnAPausedRedisIsUnavailableWithinTheTimeout() {
        RedisSharedStore store = unwell(3);
        connected(store);
        SharedStore.Script script = new SharedStore.Script("return redis.call('INCR', KEYS[1])");
        redis.pause();
        try {
            assertThat(within(DEADLINE, () -> store.eval(script, List.of(key("p")), List.of())))
                    .isInstanceOf(SharedStore.Eval.Unavailable.class);
        } finally {
            redis.resume();
        }
        assertThat(calls).containsExactly("eval timeout");
    }

    @Test
    void noStoreAnswersEveryScriptUnavailable() {
        assertThat(SharedStore.NONE.eval(new SharedStore.Script("return 1"), List.of("k"), List.of()))
                .isInstanceOf(SharedStore.Eval.Unavailable.class);
    }

    @Test
    void healthSaysOkWhileTheBreakerIsClosed() {
        RedisSharedStore store = store();
        store.get(key("k"));

        assertThat(store.health()).isEqualTo("shared tier: redis 127.0.0.1:" + redis.port() + " ok");
    }

    // --- connecting ------------------------------------------------------------------------------

    @Test
    void opensItsConnectionWhenCreatedSoTheFirstRequestDoesNotPayForIt() throws Exception {
        String name = "sluice-test-" + UUID.randomUUID().toString().substring(0, 8);

        store(redis.uri() + "?clientName=" + name, HEALTHY_TIMEOUT, 3);

        eventually(Duration.ofSeconds(5), () -> clientList().contains("name=" + name));
        assertThat(calls).as("no call was made").isEmpty();
    }

    /**
     * An earlier revision connected on the first call, on the caller's thread, under a try-lock:
     * every caller arriving meanwhile failed at once, counted toward the breaker, and skipped L2,
     * so a restarting fleet under load exchanged once per caller instead of once.
     */
    @Test
    void callersArrivingTogetherOnAFreshStoreAllReachRedis() throws Exception {
        RedisSharedStore store = store();
        int callers = 16;
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Read>> reads = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(callers)) {
            for (int i = 0; i < callers; i++) {
                reads.add(pool.submit(() -> {
                    go.await();
                    return store.get(key("k"));
                }));
            }
            go.countDown();
            for (Future<Read> r : reads) {
                assertThat(r.get(10, TimeUnit.SECONDS)).isInstanceOf(Read.Miss.class);
            }
        }
        assertThat(store.breaker().state()).isEqualTo(State.CLOSED);
    }

    // --- Redis paused (SIGSTOP): connected, silent -------------------------------------------

    @Test
    void everyCallAnswersWithinItsTimeoutWhileRedisIsPausedAndThenTheBreakerSkipsRedis() throws Exception {
        RedisSharedStore store = unwell(5);
        redis.cli("SET", key("present"), "v", "PX", "60000");
        connected(store);

        redis.pause();
        try {
            assertThat(within(DEADLINE, () -> store.get(key("present")))).isInstanceOf(Read.Unavailable.class);
            within(DEADLINE, () -> store.put(key("other"), bytes("v"), Duration.ofSeconds(60)));
            within(DEADLINE, () -> store.delete(key("third"), bytes("v")));
            assertThat(within(DEADLINE, () -> store.acquireLease(key("lease"), "t", Duration.ofSeconds(10))))
                    .isEqualTo(Lease.UNAVAILABLE);
            within(DEADLINE, () -> store.releaseLease(key("lease"), "t"));
            assertThat(calls).containsExactly("get timeout", "put timeout", "delete timeout", "lease timeout", "release timeout");
            assertThat(store.breaker().state()).isEqualTo(State.OPEN);
            assertThat(store.health()).contains("unavailable (breaker open)");
            calls.clear();

            assertThat(within(AT_ONCE, () -> store.get(key("present")))).isInstanceOf(Read.Unavailable.class);
            assertThat(within(AT_ONCE, () -> store.acquireLease(key("lease"), "t", Duration.ofSeconds(10))))
                    .isEqualTo(Lease.UNAVAILABLE);
            within(AT_ONCE, () -> store.put(key("other"), bytes("v"), Duration.ofSeconds(60)));
            assertThat(calls).containsExactly("get skipped", "lease skipped", "put skipped");
        } finally {
            redis.resume();
        }

        clock.advance(OPEN_FOR.minusNanos(1));
        assertThat(store.get(key("present"))).as("still open").isInstanceOf(Read.Unavailable.class);
        assertThat(calls).last().isEqualTo("get skipped");
        eventually(Duration.ofSeconds(5), () -> {
            clock.advance(OPEN_FOR); // the probe; polled, as a loaded machine may stall it past 100 ms
            return store.get(key("present")) instanceof Read.Hit;
        });
        assertThat(store.breaker().state()).isEqualTo(State.CLOSED);
        assertThat(store.health()).endsWith(" ok");
    }

    @Test
    void aFailedProbeWhileRedisIsStillPausedKeepsSkippingForAnotherOpenPeriod() {
        RedisSharedStore store = unwell(1);
        connected(store);

        redis.pause();
        try {
            within(DEADLINE, () -> store.get(key("k")));
            assertThat(store.breaker().state()).isEqualTo(State.OPEN);
            clock.advance(OPEN_FOR);

            assertThat(within(DEADLINE, () -> store.get(key("k")))).as("the probe times out").isInstanceOf(Read.Unavailable.class);
            assertThat(store.breaker().state()).isEqualTo(State.OPEN);
            calls.clear();
            clock.advance(OPEN_FOR.minusNanos(1));
            within(AT_ONCE, () -> store.get(key("k")));
            assertThat(calls).containsExactly("get skipped");
        } finally {
            redis.resume();
        }
    }

    @Test
    void aStoreCreatedWhileRedisIsPausedAnswersWithinItsTimeoutAndConnectsOnResume() {
        RedisSharedStore store;
        redis.pause();
        try {
            store = within(DEADLINE, () -> unwell(3));
            assertThat(within(DEADLINE, () -> store.get(key("k")))).isInstanceOf(Read.Unavailable.class);
        } finally {
            redis.resume();
        }
        eventually(Duration.ofSeconds(5), () -> {
            clock.advance(OPEN_FOR); // each poll may be a probe
            return store.get(key("k")) instanceof Read.Miss;
        });
    }

    // --- Redis killed, restarted ---------------------------------------------------------------

    @Test
    void callsFailPromptlyWhileRedisIsDownAndTheStoreRecoversAfterARestart() throws Exception {
        RedisSharedStore store = unwell(3);
        connected(store);

        redis.kill();
        try {
            assertThat(within(DEADLINE, () -> store.get(key("k")))).isInstanceOf(Read.Unavailable.class);
            assertThat(within(DEADLINE, () -> store.acquireLease(key("lease"), "t", Duration.ofSeconds(10))))
                    .isEqualTo(Lease.UNAVAILABLE);
            within(DEADLINE, () -> store.put(key("k"), bytes("v"), Duration.ofSeconds(60)));
            assertThat(store.breaker().state()).isEqualTo(State.OPEN);
            assertThat(calls).hasSize(3).allMatch(c -> c.endsWith(" error") || c.endsWith(" timeout") || c.endsWith(" skipped"));
            assertThat(within(AT_ONCE, () -> store.get(key("k")))).isInstanceOf(Read.Unavailable.class);
            assertThat(calls).last().isEqualTo("get skipped");
        } finally {
            redis.restart();
        }

        eventually(Duration.ofSeconds(5), () -> {
            clock.advance(OPEN_FOR); // each poll may be a probe
            return store.get(key("k")) instanceof Read.Miss;
        });
        assertThat(store.breaker().state()).isEqualTo(State.CLOSED);
    }

    @Test
    void aStoreCreatedWhileRedisIsDownConnectsOnceRedisIsUp() throws Exception {
        redis.kill();
        RedisSharedStore store;
        try {
            store = within(DEADLINE, () -> unwell(3));
            assertThat(within(DEADLINE, () -> store.get(key("k")))).isInstanceOf(Read.Unavailable.class);
        } finally {
            redis.restart();
        }

        eventually(Duration.ofSeconds(5), () -> {
            clock.advance(OPEN_FOR);
            return store.get(key("k")) instanceof Read.Miss;
        });
        assertThat(store.acquireLease(key("lease"), "t", Duration.ofSeconds(10))).isEqualTo(Lease.WON);
    }

    // --- Redis never there ---------------------------------------------------------------------

    @Test
    void startsWithNothingListeningAndAnswersUnavailable() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        RedisSharedStore store = within(DEADLINE, () -> store("redis://127.0.0.1:" + closedPort, TIMEOUT, 3));

        assertThat(within(DEADLINE, () -> store.get("k"))).isInstanceOf(Read.Unavailable.class);
        assertThat(within(DEADLINE, () -> store.acquireLease("k:lease", "t", Duration.ofSeconds(10)))).isEqualTo(Lease.UNAVAILABLE);
        within(DEADLINE, () -> store.put("k", bytes("v"), Duration.ofSeconds(10)));
        within(DEADLINE, () -> store.delete("k", bytes("v")));
        within(DEADLINE, () -> store.releaseLease("k:lease", "t"));

        assertThat(store.breaker().state()).isEqualTo(State.OPEN);
        assertThat(calls).startsWith("get error", "lease error", "put error").contains("delete skipped", "release skipped");
        assertThat(store.health()).startsWith("shared tier: redis 127.0.0.1:" + closedPort + " unavailable (breaker open)");
    }
}
