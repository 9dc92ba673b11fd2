package dev.sluice.cache;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.fail;

import dev.sluice.cache.RefreshAheadCache.Outcome;
import dev.sluice.cache.RefreshAheadCache.Policy;
import dev.sluice.federation.CredentialKey;
import dev.sluice.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every row and rule of the L1 policy (the class doc, docs/federation.md) at its boundary. Time is a
 * {@link MutableClock}; loads run either on a {@link StepExecutor} the test steps through, or
 * on virtual threads whose loader is held by a latch. Nothing here sleeps to synchronise: a
 * caller "is waiting" when its thread is parked in the timed wait for the shared load.
 */
class RefreshAheadCacheTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    /** Expiry of the first credential: an hour after T0, as STS issues them. */
    private static final Instant EXP = T0.plus(Duration.ofHours(1));
    private static final Instant LATER_EXP = EXP.plus(Duration.ofHours(1));
    private static final Duration REFRESH_LEAD = Duration.ofSeconds(60);
    private static final Duration MIN_SERVE = Duration.ofSeconds(5);
    private static final Duration CLAIM_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration BACKOFF = Duration.ofSeconds(1);
    private static final Duration NS = Duration.ofNanos(1);
    /** A caller's wait that no passing test reaches. */
    private static final Duration LONG_WAIT = Duration.ofSeconds(30);
    private static final Policy POLICY = new Policy(REFRESH_LEAD, MIN_SERVE, CLAIM_TIMEOUT, BACKOFF);

    private static final String ROLE = "arn:aws:iam::123456789012:role/reader";
    private static final CredentialKey KEY = new CredentialKey(ROLE, "sluice:product:demo/hello");

    private final MutableClock clock = new MutableClock(T0);
    private final StepExecutor steps = new StepExecutor();
    private final ScriptedLoader loader = new ScriptedLoader();
    private final CountingObserver observer = new CountingObserver();
    private final ExecutorService virtualLoads = Executors.newVirtualThreadPerTaskExecutor();
    private final ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor();

    @AfterEach
    void stopThreads() {
        // Interrupts any loader still held by a latch of a failed test.
        virtualLoads.shutdownNow();
        callers.shutdownNow();
    }

    // ---- the policy table, row by row, at each boundary ----

    @Test
    void servesFreshValueWithoutLoadingOneNanosecondBeforeRefreshLead() {
        RefreshAheadCache<CredentialKey, String> cache = primedWithV1();
        clock.set(EXP.minus(REFRESH_LEAD).minus(NS));

        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("v1");

        assertThat(steps.pending()).isZero();
        assertThat(cache.loadsInFlight()).isZero();
        assertThat(loader.calls()).isEqualTo(1);
        assertThat(observer.lookups(Outcome.HIT)).isEqualTo(1);
    }

    @Test
    void atRefreshLeadServesCachedValueAndStartsExactlyOneRenewal() {
        RefreshAheadCache<CredentialKey, String> cache = primedWithV1();
        clock.set(EXP.minus(REFRESH_LEAD));

        // Returns although the renewal has not run: the caller did not wait for it.
        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("v1");
        assertThat(steps.pending()).isEqualTo(1);
        assertThat(cache.loadsInFlight()).isEqualTo(1);
        assertThat(observer.renewalsStarted()).isEqualTo(1);

        // A second caller in the window finds the claim and starts nothing.
        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("v1");
        assertThat(steps.pending()).isEqualTo(1);
        assertThat(observer.lookups(Outcome.RENEWING)).isEqualTo(2);

        loader.thenReturn("v2", LATER_EXP);
        steps.runNext();

        assertThat(cache.loadsInFlight()).isZero();
        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("v2");
        assertThat(observer.lookups(Outcome.HIT)).isEqualTo(1);
        assertThat(loader.calls()).isEqualTo(2);
    }

    /**
     * Asked without waiting (a read sent from the selector), the cache answers exactly what
     * {@code get} would from memory, starting a renewal that is due without waiting for it, and
     * nothing where {@code get} would load: no key yet, or a value within min_serve of expiry.
     * Nothing is loaded or counted then; the caller asks {@code get} where it may wait.
     */
    @Test
    void withoutWaitingAnswersOnlyWhatMemoryHolds() {
        RefreshAheadCache<CredentialKey, String> cache = cache(steps);
        steps.hold();
        assertThat(cache.getIfUsable(KEY)).isEmpty();
        assertThat(steps.pending()).isZero();

        cache = primedWithV1();
        clock.set(EXP.minus(REFRESH_LEAD).minus(NS));
        assertThat(cache.getIfUsable(KEY)).hasValue("v1");
        assertThat(observer.lookups(Outcome.HIT)).isEqualTo(1);
        assertThat(steps.pending()).isZero();

        clock.set(EXP.minus(REFRESH_LEAD));
        assertThat(cache.getIfUsable(KEY)).hasValue("v1");
        assertThat(observer.lookups(Outcome.RENEWING)).isEqualTo(1);
        assertThat(steps.pending()).as("the renewal started, not waited for").isEqualTo(1);

        clock.set(EXP.minus(MIN_SERVE));
        assertThat(cache.getIfUsable(KEY)).isEmpty();
        assertThat(steps.pending()).isEqualTo(1);
        assertThat(loader.calls()).isEqualTo(1);
        assertThat(observer.lookups(Outcome.MISS) + observer.lookups(Outcome.ERROR)).isZero();
    }

    @Test
    void servesCachedValueOneNanosecondBeforeMinServe() {
        RefreshAheadCache<CredentialKey, String> cache = primedWithV1();
        clock.set(EXP.minus(MIN_SERVE).minus(NS));

        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("v1");

        assertThat(observer.lookups(Outcome.RENEWING)).isEqualTo(1);
        assertThat(steps.pending()).isEqualTo(1);
    }

    @Test
    void atMinServeCallerWaitsForLoadInsteadOfServingCachedValue() throws Exception {
        RefreshAheadCache<CredentialKey, String> cache = primedWithV1();
        clock.set(EXP.minus(MIN_SERVE));
        loader.thenReturn("v2", LATER_EXP);

        Caller caller = startCaller(cache, KEY, LONG_WAIT);
        Runnable load = steps.awaitTask();
        awaitWaiting(caller);
        // Only running the load can complete this call, and it has not run.
        assertThat(caller.result()).isNotDone();

        load.run();

        assertThat(caller.value()).isEqualTo("v2");
        assertThat(observer.lookups(Outcome.MISS)).isEqualTo(1);
        assertThat(observer.lookups(Outcome.RENEWING)).isZero();
        assertThat(observer.coldLoadsStarted()).isEqualTo(1);
    }

    // ---- renewing: nobody waits, exactly one renewal ----

    @Test
    void renewingCallersAreServedOldValueWithoutWaitingWhileOneRenewalRuns() throws Exception {
        RefreshAheadCache<CredentialKey, String> cache = cache(virtualLoads);
        loader.thenReturn("v1", EXP);
        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("v1");

        CountDownLatch renewalEntered = new CountDownLatch(1);
        CountDownLatch renewalMayFinish = new CountDownLatch(1);
        loader.then(k -> {
            renewalEntered.countDown();
            await(renewalMayFinish);
            return new Expiring<>("v2", LATER_EXP);
        });
        clock.set(EXP.minus(REFRESH_LEAD).plusSeconds(10));

        int n = 50;
        CyclicBarrier start = new CyclicBarrier(n);
        List<Future<String>> served = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            served.add(callers.submit(() -> {
                start.await();
                return cache.get(KEY, LONG_WAIT);
            }));
        }
        // Every caller returns while the renewal is still held at its latch.
        for (Future<String> f : served) {
            assertThat(f.get(5, SECONDS)).isEqualTo("v1");
        }
        assertThat(renewalEntered.await(5, SECONDS)).isTrue();
        assertThat(loader.calls()).isEqualTo(2); // the first load and exactly one renewal
        assertThat(cache.loadsInFlight()).isEqualTo(1);
        assertThat(observer.lookups(Outcome.RENEWING)).isEqualTo(n);
        assertThat(observer.renewalsStarted()).isEqualTo(1);

        renewalMayFinish.countDown();
        observer.awaitLoadsFinished(2);

        assertThat(cache.loadsInFlight()).isZero();
        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("v2");
        assertThat(loader.calls()).isEqualTo(2);
    }

    @Test
    void callerFindingTheValueUnusableWaitsForTheRenewalAlreadyInFlight() throws Exception {
        RefreshAheadCache<CredentialKey, String> cache = primedWithV1();
        // Late enough in the window that the claim is still young once the value is unusable.
        clock.set(EXP.minus(MIN_SERVE).minus(CLAIM_TIMEOUT).plus(NS));
        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("v1");
        Runnable renewal = steps.awaitTask();

        clock.set(EXP.minus(MIN_SERVE));
        Caller caller = startCaller(cache, KEY, LONG_WAIT);
        awaitWaiting(caller);
        assertThat(steps.pending()).as("no second load").isZero();

        loader.thenReturn("v2", LATER_EXP);
        renewal.run();

        assertThat(caller.value()).isEqualTo("v2");
        assertThat(loader.calls()).isEqualTo(2);
        assertThat(observer.lookups(Outcome.MISS)).isEqualTo(1);
    }

    // ---- the renewal claim ----

    @Test
    void renewalClaimIsHeldUntilClaimTimeoutThenRetaken() {
        RefreshAheadCache<CredentialKey, String> cache = primedWithV1();
        clock.set(EXP.minus(REFRESH_LEAD));
        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("v1");
        assertThat(steps.pending()).isEqualTo(1);

        clock.advance(CLAIM_TIMEOUT.minus(NS));
        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("v1");
        assertThat(steps.pending()).as("claim younger than claim_timeout is respected").isEqualTo(1);

        clock.advance(NS);
        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("v1");
        assertThat(steps.pending()).as("claim of claim_timeout's age is abandoned and retaken").isEqualTo(2);
        assertThat(cache.loadsInFlight()).isEqualTo(2);
        assertThat(observer.renewalsStarted()).isEqualTo(2);
    }

    @Test
    void abandonedLoadFinishingLaterWithEarlierExpiryDoesNotReplaceNewerValue() throws Exception {
        RefreshAheadCache<CredentialKey, String> cache = primedWithV1();
        clock.set(EXP.minus(REFRESH_LEAD));
        cache.get(KEY, LONG_WAIT);
        clock.advance(CLAIM_TIMEOUT);
        cache.get(KEY, LONG_WAIT);
        Runnable abandoned = steps.awaitTask();
        Runnable retaken = steps.awaitTask();

        loader.thenReturn("newer", LATER_EXP);
        retaken.run();
        loader.thenReturn("stale", LATER_EXP.minus(Duration.ofMinutes(30)));
        abandoned.run();

        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("newer");
        assertThat(cache.loadsInFlight()).isZero();
    }

    @Test
    void abandonedLoadsFailureDoesNotReplayToCallersOfItsSuccessor() throws Exception {
        RefreshAheadCache<CredentialKey, String> cache = cache(steps.hold());
        Caller first = startCaller(cache, KEY, LONG_WAIT);
        Runnable abandoned = steps.awaitTask();
        awaitWaiting(first);
        clock.advance(CLAIM_TIMEOUT);
        Caller second = startCaller(cache, KEY, LONG_WAIT);
        Runnable successor = steps.awaitTask();
        awaitWaiting(second);

        RuntimeException staleFailure = new RuntimeException("the abandoned exchange failed");
        loader.thenThrow(staleFailure);
        abandoned.run();
        assertThat(first.failure()).isSameAs(staleFailure);

        // A load is in flight: a newcomer shares it rather than replaying a failure of the load it superseded.
        Caller third = startCaller(cache, KEY, LONG_WAIT);
        awaitWaitingOrDone(third);
        assertThat(third.result()).as("third caller waits for the successor").isNotDone();

        loader.thenReturn("v1", EXP);
        successor.run();

        assertThat(second.value()).isEqualTo("v1");
        assertThat(third.value()).isEqualTo("v1");
        assertThat(loader.calls()).isEqualTo(2);
        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("v1");
    }

    // ---- unusable or absent: one shared load, each caller its own deadline ----

    @Test
    void coldBurstOf200CallersSharesOneLoad() throws Exception {
        RefreshAheadCache<CredentialKey, String> cache = cache(virtualLoads);
        CountDownLatch loadMayFinish = new CountDownLatch(1);
        loader.then(k -> {
            await(loadMayFinish);
            return new Expiring<>("v1", EXP);
        });

        int n = 200;
        List<Caller> burst = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            burst.add(startCaller(cache, KEY, LONG_WAIT));
        }
        // Hold the load until every caller is parked on it, so each one really shares it.
        for (Caller c : burst) {
            awaitWaiting(c);
        }
        assertThat(loader.calls()).isEqualTo(1);
        assertThat(cache.loadsInFlight()).isEqualTo(1);

        loadMayFinish.countDown();

        for (Caller c : burst) {
            assertThat(c.value()).isEqualTo("v1");
        }
        assertThat(loader.calls()).isEqualTo(1);
        assertThat(observer.lookups(Outcome.MISS)).isEqualTo(n);
        assertThat(observer.coldLoadsStarted()).isEqualTo(1);
    }

    @Test
    void callerGivesUpAtItsOwnDeadlineWhileTheLoadGoesOnForOthers() throws Exception {
        RefreshAheadCache<CredentialKey, String> cache = cache(virtualLoads);
        CountDownLatch loadMayFinish = new CountDownLatch(1);
        loader.then(k -> {
            await(loadMayFinish);
            return new Expiring<>("v1", EXP);
        });

        long started = System.nanoTime();
        Throwable gaveUp = catchThrowable(() -> cache.get(KEY, Duration.ofMillis(50)));
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertThat(gaveUp).isInstanceOf(WaitExpired.class);
        assertThat(((WaitExpired) gaveUp).waited).isEqualTo(Duration.ofMillis(50));
        assertThat(took).isLessThan(Duration.ofSeconds(2));
        assertThat(cache.loadsInFlight()).as("the load is not cancelled").isEqualTo(1);
        assertThat(observer.lookups(Outcome.ERROR)).isEqualTo(1);

        Caller later = startCaller(cache, KEY, LONG_WAIT);
        awaitWaiting(later);
        loadMayFinish.countDown();

        assertThat(later.value()).isEqualTo("v1");
        assertThat(loader.calls()).isEqualTo(1);
    }

    // ---- failures ----

    @Test
    void failedLoadIsThrownToTheCallerAndReleasesTheClaim() {
        RefreshAheadCache<CredentialKey, String> cache = cache(steps);
        RuntimeException boom = new RuntimeException("sts said no");
        loader.thenThrow(boom);

        assertThatThrownBy(() -> cache.get(KEY, LONG_WAIT)).isSameAs(boom);

        assertThat(cache.loadsInFlight()).isZero();
        assertThat(observer.lookups(Outcome.ERROR)).isEqualTo(1);
        assertThat(observer.loadsFailed()).isEqualTo(1);
    }

    @Test
    void duringBackoffCallersGetTheSameErrorAtOnceWithoutLoading() {
        RefreshAheadCache<CredentialKey, String> cache = cache(steps);
        RuntimeException boom = new RuntimeException("throttled");
        loader.thenThrow(boom);
        assertThatThrownBy(() -> cache.get(KEY, LONG_WAIT)).isSameAs(boom);
        steps.hold();

        clock.advance(BACKOFF.minus(NS));
        assertThatThrownBy(() -> cache.get(KEY, LONG_WAIT)).isSameAs(boom);
        assertThat(steps.pending()).as("no load was even submitted").isZero();
        assertThat(loader.calls()).isEqualTo(1);

        steps.runInline();
        clock.advance(NS);
        loader.thenReturn("v1", EXP);
        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("v1");
        assertThat(loader.calls()).isEqualTo(2);
    }

    @Test
    void backoffIsJitteredUpToTwiceTheFailureBackoff() {
        RefreshAheadCache<CredentialKey, String> cache = cache(steps, () -> 0.999);
        RuntimeException boom = new RuntimeException("throttled");
        loader.thenThrow(boom);
        assertThatThrownBy(() -> cache.get(KEY, LONG_WAIT)).isSameAs(boom);

        clock.advance(BACKOFF.multipliedBy(19).dividedBy(10));
        assertThatThrownBy(() -> cache.get(KEY, LONG_WAIT)).as("still backing off at 1.9×").isSameAs(boom);
        assertThat(loader.calls()).isEqualTo(1);

        clock.set(T0.plus(BACKOFF.multipliedBy(2)));
        loader.thenReturn("v1", EXP);
        assertThat(cache.get(KEY, LONG_WAIT)).as("backoff over by 2×").isEqualTo("v1");
        assertThat(loader.calls()).isEqualTo(2);
    }

    @Test
    void failedRenewalKeepsServingTheUsableValueAndDefersTheNextRenewalUntilBackoffEnds() {
        RefreshAheadCache<CredentialKey, String> cache = primedWithV1();
        steps.runInline();
        Instant renewalFailedAt = EXP.minus(REFRESH_LEAD);
        clock.set(renewalFailedAt);
        loader.thenThrow(new RuntimeException("throttled"));

        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("v1");
        assertThat(loader.calls()).isEqualTo(2);
        assertThat(cache.loadsInFlight()).isZero();

        clock.set(renewalFailedAt.plus(BACKOFF).minus(NS));
        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("v1");
        assertThat(loader.calls()).as("no renewal during backoff").isEqualTo(2);

        clock.set(renewalFailedAt.plus(BACKOFF));
        loader.thenReturn("v2", LATER_EXP);
        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("v1");
        assertThat(loader.calls()).as("renewal once backoff ends").isEqualTo(3);
        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("v2");
        assertThat(observer.renewalsStarted()).isEqualTo(2);
    }

    // ---- refresh: a caller that knows the source changed ----

    @Test
    void refreshLoadsAFreshValueAtOnce() {
        RefreshAheadCache<CredentialKey, String> cache = primedWithV1();
        steps.runInline();
        loader.thenReturn("v2", LATER_EXP);

        assertThat(cache.refresh(KEY, LONG_WAIT)).isEqualTo("v2");

        assertThat(loader.calls()).isEqualTo(2);
        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("v2");
    }

    @Test
    void aFailedRefreshKeepsServingTheValueAndBacksOffLikeAnyLoad() {
        RefreshAheadCache<CredentialKey, String> cache = primedWithV1();
        steps.runInline();
        RuntimeException boom = new RuntimeException("issuer down");
        loader.thenThrow(boom);

        assertThatThrownBy(() -> cache.refresh(KEY, LONG_WAIT)).isSameAs(boom);
        assertThat(cache.get(KEY, LONG_WAIT)).as("the fresh value is kept").isEqualTo("v1");

        clock.advance(BACKOFF.minus(NS));
        assertThatThrownBy(() -> cache.refresh(KEY, LONG_WAIT)).as("within the backoff, without a load").isSameAs(boom);
        assertThat(loader.calls()).isEqualTo(2);

        clock.advance(NS);
        loader.thenReturn("v2", LATER_EXP);
        assertThat(cache.refresh(KEY, LONG_WAIT)).isEqualTo("v2");
        assertThat(loader.calls()).isEqualTo(3);
    }

    @Test
    void failureIsNeverCachedAsAValue() {
        RefreshAheadCache<CredentialKey, String> cache = cache(steps);
        loader.thenThrow(new RuntimeException("sts down"));
        assertThatThrownBy(() -> cache.get(KEY, LONG_WAIT)).hasMessage("sts down");

        clock.advance(BACKOFF);
        loader.thenReturn("v1", EXP);
        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("v1");
        clock.advance(Duration.ofMinutes(10));
        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("v1");
        assertThat(loader.calls()).isEqualTo(2);
        assertThat(observer.lookups(Outcome.HIT)).isEqualTo(1);
    }

    @Test
    void loadedValueAlreadyInsideMinServeIsAFailure() {
        RefreshAheadCache<CredentialKey, String> cache = cache(steps);
        loader.thenReturn("nearly-expired", T0.plus(MIN_SERVE));

        assertThatThrownBy(() -> cache.get(KEY, LONG_WAIT))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("min_serve");
        assertThat(cache.loadsInFlight()).isZero();

        // Not stored: once the backoff is over the next caller loads again, and a value
        // 1 ns outside min_serve is usable.
        clock.advance(BACKOFF);
        loader.thenReturn("just-usable", clock.instant().plus(MIN_SERVE).plus(NS));
        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("just-usable");
        assertThat(loader.calls()).isEqualTo(2);
    }

    @Test
    void loaderThrowingAnErrorStillCompletesWaitersPromptly() throws Exception {
        RefreshAheadCache<CredentialKey, String> cache = cache(virtualLoads);
        CountDownLatch loadMayFail = new CountDownLatch(1);
        AssertionError error = new AssertionError("a bug in the loader");
        loader.then(k -> {
            await(loadMayFail);
            throw error;
        });
        Caller waiter = startCaller(cache, KEY, LONG_WAIT);
        awaitWaiting(waiter);

        long released = System.nanoTime();
        loadMayFail.countDown();
        Throwable failure = waiter.failure();

        // Well within the waiter's own 30 s deadline.
        assertThat(Duration.ofNanos(System.nanoTime() - released)).isLessThan(Duration.ofSeconds(2));
        assertThat(failure).isInstanceOf(IllegalStateException.class).hasCause(error);
        // Waiters are woken before the claim is released; loadFinished comes after it.
        observer.awaitLoadsFinished(1);
        assertThat(cache.loadsInFlight()).isZero();
        assertThatThrownBy(() -> cache.get(KEY, LONG_WAIT)).as("replayed during backoff").isSameAs(failure);
    }

    // ---- keys ----

    @Test
    void twoSubjectsOnOneRoleNeverShareAValue() {
        RefreshAheadCache<CredentialKey, String> cache = cache(steps);
        CredentialKey alice = new CredentialKey(ROLE, "sluice:product:alice");
        CredentialKey bob = new CredentialKey(ROLE, "sluice:product:bob");
        loader.then(k -> new Expiring<>("for " + k.subject(), EXP));
        loader.then(k -> new Expiring<>("for " + k.subject(), EXP));

        assertThat(cache.get(alice, LONG_WAIT)).isEqualTo("for sluice:product:alice");
        assertThat(cache.get(bob, LONG_WAIT)).isEqualTo("for sluice:product:bob");
        assertThat(cache.get(alice, LONG_WAIT)).isEqualTo("for sluice:product:alice");
        assertThat(loader.calls()).isEqualTo(2);
    }

    @Test
    void failureOfOneKeyDoesNotBackOffAnother() {
        RefreshAheadCache<CredentialKey, String> cache = cache(steps);
        CredentialKey denied = new CredentialKey(ROLE, "sluice:product:denied");
        loader.thenThrow(new RuntimeException("AccessDenied"));
        loader.thenReturn("v1", EXP);

        assertThatThrownBy(() -> cache.get(denied, LONG_WAIT)).hasMessage("AccessDenied");
        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("v1");
    }

    // ---- metrics ----

    @Test
    void observerCountsEachOutcome() {
        RefreshAheadCache<CredentialKey, String> cache = cache(steps);
        loader.thenReturn("v1", EXP);
        cache.get(KEY, LONG_WAIT);                       // MISS
        cache.get(KEY, LONG_WAIT);                       // HIT
        clock.set(EXP.minus(REFRESH_LEAD));
        loader.thenThrow(new RuntimeException("throttled"));
        cache.get(KEY, LONG_WAIT);                       // RENEWING (its renewal fails)
        clock.set(EXP.minus(MIN_SERVE));
        loader.thenThrow(new RuntimeException("throttled again"));
        catchThrowable(() -> cache.get(KEY, LONG_WAIT)); // ERROR from a failed load
        catchThrowable(() -> cache.get(KEY, LONG_WAIT)); // ERROR replayed in backoff

        assertThat(observer.lookupCounts()).isEqualTo(Map.of(
                Outcome.HIT, 1, Outcome.RENEWING, 1, Outcome.MISS, 1, Outcome.ERROR, 2));
        assertThat(observer.coldLoadsStarted()).isEqualTo(2);
        assertThat(observer.renewalsStarted()).isEqualTo(1);
        assertThat(observer.loadsSucceeded()).isEqualTo(1);
        assertThat(observer.loadsFailed()).isEqualTo(2);
    }

    @Test
    void policyRequiresRefreshLeadAboveMinServe() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new Policy(Duration.ofSeconds(5), Duration.ofSeconds(5), CLAIM_TIMEOUT, BACKOFF))
                .withMessageContaining("refresh_lead");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new Policy(REFRESH_LEAD, MIN_SERVE, Duration.ZERO, BACKOFF));
        assertThat(Policy.DEFAULT).isEqualTo(POLICY);
    }

    // ---- fixtures ----

    private RefreshAheadCache<CredentialKey, String> cache(Executor executor) {
        return cache(executor, () -> 0.0);
    }

    private RefreshAheadCache<CredentialKey, String> cache(Executor executor, java.util.function.DoubleSupplier jitter) {
        return new RefreshAheadCache<>(loader, POLICY, clock, executor, jitter, WaitExpired::new, observer, 1_000);
    }

    /** A cache holding "v1" (expiring at {@link #EXP}), whose further loads wait for {@link #steps}; counters reset. */
    private RefreshAheadCache<CredentialKey, String> primedWithV1() {
        RefreshAheadCache<CredentialKey, String> cache = cache(steps.runInline());
        loader.thenReturn("v1", EXP);
        assertThat(cache.get(KEY, LONG_WAIT)).isEqualTo("v1");
        steps.hold();
        observer.reset();
        return cache;
    }

    private Caller startCaller(RefreshAheadCache<CredentialKey, String> cache, CredentialKey key, Duration maxWait) {
        CompletableFuture<Thread> thread = new CompletableFuture<>();
        Future<String> result = callers.submit(() -> {
            thread.complete(Thread.currentThread());
            return cache.get(key, maxWait);
        });
        return new Caller(result, thread);
    }

    /** Returns once the caller is parked in its timed wait for a shared load; fails if it returned instead. */
    private static void awaitWaiting(Caller caller) throws Exception {
        awaitWaitingOrDone(caller);
        if (caller.result().isDone()) {
            fail("the caller returned instead of waiting for the load: " + caller.outcome());
        }
    }

    /** The only timed wait inside {@code get} is the one for the load, so TIMED_WAITING means "joined it". */
    private static void awaitWaitingOrDone(Caller caller) throws Exception {
        Thread thread = caller.thread().get(5, SECONDS);
        awaitCondition(() -> caller.result().isDone() || thread.getState() == Thread.State.TIMED_WAITING,
                "a caller to wait for the load");
    }

    private static void awaitCondition(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("gave up waiting for " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    /** For loaders held by the test: waits at most 10 s so a failed test cannot hang the build. */
    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(10, SECONDS)) {
                throw new IllegalStateException("the test never released the loader");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private record Caller(Future<String> result, CompletableFuture<Thread> thread) {
        String value() throws Exception {
            return result.get(5, SECONDS);
        }

        Throwable failure() throws Exception {
            try {
                String v = result.get(5, SECONDS);
                throw new AssertionError("expected a failure, got " + v);
            } catch (ExecutionException e) {
                return e.getCause();
            }
        }

        String outcome() {
            try {
                return "value " + result.get();
            } catch (Exception e) {
                return String.valueOf(e.getCause());
            }
        }
    }

    /** The caller-wait error the cache is given; carries the wait so the test can check it. */
    static final class WaitExpired extends RuntimeException {
        final Duration waited;

        WaitExpired(Duration waited) {
            super("no value within " + waited);
            this.waited = waited;
        }
    }

    /** Loads answer in the order the test scripts them; an unscripted load fails (and shows in the call count). */
    static final class ScriptedLoader implements RefreshAheadCache.Loader<CredentialKey, String> {
        private final Queue<Function<CredentialKey, Expiring<String>>> script = new ConcurrentLinkedQueue<>();
        private final AtomicInteger calls = new AtomicInteger();

        void then(Function<CredentialKey, Expiring<String>> step) {
            script.add(step);
        }

        void thenReturn(String value, Instant expiresAt) {
            then(k -> new Expiring<>(value, expiresAt));
        }

        void thenThrow(RuntimeException failure) {
            then(k -> {
                throw failure;
            });
        }

        int calls() {
            return calls.get();
        }

        @Override
        public Expiring<String> load(CredentialKey key) {
            int n = calls.incrementAndGet();
            Function<CredentialKey, Expiring<String>> step = script.poll();
            if (step == null) {
                throw new IllegalStateException("unscripted load #" + n + " for " + key);
            }
            return step.apply(key);
        }
    }

    /**
     * Runs loads inline, or holds them until the test runs them: with loads held, a caller
     * that returns demonstrably did not wait for one.
     */
    static final class StepExecutor implements Executor {
        private final BlockingQueue<Runnable> held = new LinkedBlockingQueue<>();
        private volatile boolean inline = true;

        StepExecutor hold() {
            inline = false;
            return this;
        }

        StepExecutor runInline() {
            inline = true;
            return this;
        }

        @Override
        public void execute(Runnable task) {
            if (inline) {
                task.run();
            } else {
                held.add(task);
            }
        }

        int pending() {
            return held.size();
        }

        Runnable awaitTask() throws InterruptedException {
            Runnable task = held.poll(5, SECONDS);
            assertThat(task).as("a load was submitted").isNotNull();
            return task;
        }

        void runNext() {
            Runnable task = held.poll();
            assertThat(task).as("a load is held").isNotNull();
            task.run();
        }
    }

    static final class CountingObserver implements RefreshAheadCache.Observer {
        private final Map<Outcome, AtomicInteger> lookups = new EnumMap<>(Outcome.class);
        private final AtomicInteger coldLoads = new AtomicInteger();
        private final AtomicInteger renewals = new AtomicInteger();
        private final AtomicInteger succeeded = new AtomicInteger();
        private final AtomicInteger failed = new AtomicInteger();
        private final Semaphore finished = new Semaphore(0);

        CountingObserver() {
            reset();
        }

        synchronized void reset() {
            for (Outcome o : Outcome.values()) {
                lookups.put(o, new AtomicInteger());
            }
            coldLoads.set(0);
            renewals.set(0);
            succeeded.set(0);
            failed.set(0);
        }

        @Override
        public synchronized void lookup(Outcome outcome) {
            lookups.get(outcome).incrementAndGet();
        }

        @Override
        public void loadStarted(boolean renewal) {
            (renewal ? renewals : coldLoads).incrementAndGet();
        }

        @Override
        public void loadFinished(boolean renewal, boolean ok) {
            (ok ? succeeded : failed).incrementAndGet();
            finished.release();
        }

        synchronized int lookups(Outcome outcome) {
            return lookups.get(outcome).get();
        }

        synchronized Map<Outcome, Integer> lookupCounts() {
            Map<Outcome, Integer> counts = new EnumMap<>(Outcome.class);
            lookups.forEach((o, n) -> counts.put(o, n.get()));
            return counts;
        }

        int coldLoadsStarted() {
            return coldLoads.get();
        }

        int renewalsStarted() {
            return renewals.get();
        }

        int loadsSucceeded() {
            return succeeded.get();
        }

        int loadsFailed() {
            return failed.get();
        }

        /** Waits for {@code n} loads (since construction) to have finished. */
        void awaitLoadsFinished(int n) throws InterruptedException {
            assertThat(finished.tryAcquire(n, 5, SECONDS)).as(n + " loads finished").isTrue();
            finished.release(n);
        }
    }
}
