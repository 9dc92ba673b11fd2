package dev.sluice.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.DoubleSupplier;
import java.util.function.Function;

/**
 * The in-process tier (L1) for values that expire: temporary credentials, control-plane
 * answers. It exists so that an expensive, sometimes slow exchange (AWS STS, an HTTP API)
 * stays off the request path: callers are served from memory, renewal happens ahead of
 * expiry, and nobody waits on somebody else's renewal.
 *
 * <p>For a cached value expiring at {@code exp}, at time {@code now}:
 *
 * <table>
 *   <caption>L1 policy (docs/federation.md, "The in-process tier")</caption>
 *   <tr><th>state</th><th>condition</th><th>behaviour</th></tr>
 *   <tr><td>fresh</td><td>{@code now < exp − refreshLead}</td><td>serve it</td></tr>
 *   <tr><td>renewing</td><td>{@code exp − refreshLead ≤ now < exp − minServe}</td>
 *       <td>serve it; the first caller in the window starts exactly one background load for
 *       the key; no caller waits for it</td></tr>
 *   <tr><td>unusable</td><td>{@code now ≥ exp − minServe}, or absent</td>
 *       <td>load it: concurrent callers share one in-flight load, each waiting at most its
 *       own {@code maxWait}</td></tr>
 * </table>
 *
 * <ul>
 *   <li>A load in flight is the key's renewal claim. One older than {@code claimTimeout} is
 *       abandoned: the next caller may start another. The abandoned one, should it finish,
 *       only replaces the value if it expires later, and neither records nor clears the key's
 *       failure: an earlier revision let an abandoned load's late failure start a backoff, and
 *       callers arriving while its successor was in flight got that stale error at once
 *       instead of sharing the successor's load.</li>
 *   <li>A failed load is never stored as a value. For {@code failureBackoff} (jittered
 *       between 1× and 2×) after a failure, callers that would have to load get the same error
 *       at once instead of starting another exchange, so a throttling dependency is not
 *       hammered; a value still usable keeps being served and no renewal starts until the
 *       backoff ends.</li>
 *   <li>A loaded value already inside {@code minServe} of its expiry is a failure: it
 *       could not be used.</li>
 *   <li>Loads run on {@code executor}, not on the caller's thread, so a caller's wait is
 *       bounded by its own deadline while the load keeps its own (the loader's) deadline; a
 *       caller that gives up does not cancel the load others are sharing.</li>
 * </ul>
 *
 * <p>Why a JVM single-flights cold loads when a Workers isolate does not: here waiting is
 * cheap (a parked virtual thread), and N callers starting N exchanges for the same key is the
 * stampede this project exists to prevent.
 *
 * <p>Hit path cost: one Caffeine lookup, two volatile reads and two instant comparisons; no
 * lock, no allocation beyond the lookup.
 *
 * <p>Time comes from the injected {@link InstantSource}, so every boundary above is tested
 * with a controlled clock. Caffeine only stores the per-key slots (bounded in number; a slot
 * evicted while idle costs one reload).
 */
public final class RefreshAheadCache<K, V> {

    /** Loads the current value for a key, within the loader's own deadline. Throws a {@link RuntimeException} on failure. */
    @FunctionalInterface
    public interface Loader<K, V> {
        Expiring<V> load(K key);
    }

    /** How a lookup was answered; for metrics. */
    public enum Outcome {
        /** fresh value served */
        HIT,
        /** value served from the renewing window */
        RENEWING,
        /** no usable value: the caller waited for a load */
        MISS,
        /** the caller got an error: a failed load, a replayed failure during backoff, or its wait expired */
        ERROR
    }

    /** Receives lookup outcomes and load events; implementations must be cheap and never throw. */
    public interface Observer {
        Observer NONE = new Observer() {
        };

        default void lookup(Outcome outcome) {
        }

        default void loadStarted(boolean renewal) {
        }

        default void loadFinished(boolean renewal, boolean succeeded) {
        }
    }

    /**
     * The policy's durations (defaults: 60 s, 5 s, 30 s, 1 s; docs/configuration.md). {@code singleFlight}
     * false exists only so benchmarks can show what single flight saves: every caller that
     * finds no usable value then runs its own load.
     */
    public record Policy(Duration refreshLead, Duration minServe, Duration claimTimeout, Duration failureBackoff,
                         boolean singleFlight) {
        public static final Policy DEFAULT = new Policy(Duration.ofSeconds(60), Duration.ofSeconds(5),
                Duration.ofSeconds(30), Duration.ofSeconds(1));

        /** The policy as specified: cold loads are single-flighted. */
        public Policy(Duration refreshLead, Duration minServe, Duration claimTimeout, Duration failureBackoff) {
            this(refreshLead, minServe, claimTimeout, failureBackoff, true);
        }

        public Policy {
            Objects.requireNonNull(refreshLead);
            Objects.requireNonNull(minServe);
            if (minServe.isNegative() || refreshLead.compareTo(minServe) <= 0) {
                throw new IllegalArgumentException("refresh_lead (" + refreshLead + ") must exceed min_serve (" + minServe + ") ≥ 0");
            }
            if (!claimTimeout.isPositive() || failureBackoff.isNegative()) {
                throw new IllegalArgumentException("claim_timeout must be positive and failure_backoff not negative");
            }
        }
    }

    /**
     * A load that succeeded with a value already inside {@code minServe} of its expiry: the
     * source's fault (a credential too short-lived, a clock skewed against the source's), not
     * the caller's and not a bug, so users of the cache can tell it from one.
     */
    public static final class UnusableValue extends IllegalStateException {
        UnusableValue(String message) {
            super(message);
        }
    }

    /** Longer waits are cut to this: no request should wait a day, and Duration.toNanos overflows past 292 years. */
    private static final Duration MAX_WAIT = Duration.ofHours(1);

    private final Loader<K, V> loader;
    private final Policy policy;
    private final InstantSource clock;
    private final Executor executor;
    private final DoubleSupplier jitter;
    private final Function<Duration, RuntimeException> waitExpired;
    private final Observer observer;
    private final Cache<K, Slot<V>> slots;
    private final AtomicInteger loadsInFlight = new AtomicInteger();

    /**
     * @param jitter      uniform in [0, 1); scales the failure backoff between 1× and 2×
     * @param waitExpired the error for a caller whose own wait ran out (the load goes on)
     */
    public RefreshAheadCache(Loader<K, V> loader, Policy policy, InstantSource clock, Executor executor,
                             DoubleSupplier jitter, Function<Duration, RuntimeException> waitExpired,
                             Observer observer, long maximumKeys) {
        this.loader = loader;
        this.policy = policy;
        this.clock = clock;
        this.executor = executor;
        this.jitter = jitter;
        this.waitExpired = waitExpired;
        this.observer = observer;
        this.slots = Caffeine.newBuilder().maximumSize(maximumKeys).build();
    }

    /**
     * The value for {@code key}: from memory when usable, else from a load this caller starts
     * or joins, waiting at most {@code maxWait}.
     */
    public V get(K key, Duration maxWait) {
        Instant now = clock.instant();
        Slot<V> slot = slots.get(key, k -> new Slot<>());
        V usable = usable(key, slot, now);
        if (usable != null) {
            return usable;
        }
        Failure failure = slot.failure;
        if (failure != null && now.isBefore(failure.until())) {
            observer.lookup(Outcome.ERROR);
            throw failure.error();
        }
        return await(inFlightOrStart(key, slot, now, false), maxWait);
    }

    /**
     * The value for {@code key} when one in memory is usable now, as {@link #get} answers it
     * (starting its renewal when due); empty when {@code get} would load, wait or throw. Never
     * waits: for a caller on a thread that may not (docs/operations.md, "Threads"), which then
     * calls {@code get} where it may wait.
     */
    public Optional<V> getIfUsable(K key) {
        Slot<V> slot = slots.getIfPresent(key);
        return slot == null ? Optional.empty() : Optional.ofNullable(usable(key, slot, clock.instant()));
    }

    /** The slot's value when it is usable at {@code now}, its renewal started when due; else null, nothing counted. */
    private V usable(K key, Slot<V> slot, Instant now) {
        Expiring<V> current = slot.value;
        if (current == null || !now.isBefore(current.expiresAt().minus(policy.minServe()))) {
            return null;
        }
        if (now.isBefore(current.expiresAt().minus(policy.refreshLead()))) {
            observer.lookup(Outcome.HIT);
        } else {
            observer.lookup(Outcome.RENEWING);
            if (!inBackoff(slot, now)) {
                inFlightOrStart(key, slot, now, true);
            }
        }
        return current.value();
    }

    /**
     * Loads {@code key} now even when its value is fresh (joining a load already in flight), and
     * waits at most {@code maxWait} for it: for a caller that knows the source has changed (an
     * issuer published a new key). A failed refresh keeps the value there was, which goes on
     * being served, and starts the failure backoff like any failed load; within a backoff the
     * failure is thrown at once, without a load.
     */
    public V refresh(K key, Duration maxWait) {
        Instant now = clock.instant();
        Slot<V> slot = slots.get(key, k -> new Slot<>());
        Failure failure = slot.failure;
        if (failure != null && now.isBefore(failure.until())) {
            observer.lookup(Outcome.ERROR);
            throw failure.error();
        }
        return await(inFlightOrStart(key, slot, now, true), maxWait);
    }

    private V await(InFlight<V> load, Duration maxWait) {
        try {
            long waitNanos = maxWait.compareTo(MAX_WAIT) > 0 ? MAX_WAIT.toNanos() : Math.max(0, maxWait.toNanos());
            V value = load.future().get(waitNanos, TimeUnit.NANOSECONDS).value();
            observer.lookup(Outcome.MISS);
            return value;
        } catch (TimeoutException e) {
            observer.lookup(Outcome.ERROR);
            throw waitExpired.apply(maxWait);
        } catch (ExecutionException e) {
            observer.lookup(Outcome.ERROR);
            throw asRuntime(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            observer.lookup(Outcome.ERROR);
            throw waitExpired.apply(maxWait);
        }
    }

    /** Loads currently running (renewals and cold loads). */
    public int loadsInFlight() {
        return loadsInFlight.get();
    }

    /** Forgets every value (not loads in flight). */
    public void invalidateAll() {
        slots.invalidateAll();
    }

    private boolean inBackoff(Slot<V> slot, Instant now) {
        Failure f = slot.failure;
        return f != null && now.isBefore(f.until());
    }

    /** The key's load in flight, or a new one this caller starts; an abandoned one (older than claim_timeout) is replaced. */
    private InFlight<V> inFlightOrStart(K key, Slot<V> slot, Instant now, boolean renewal) {
        if (!renewal && !policy.singleFlight()) {
            InFlight<V> own = new InFlight<>(new CompletableFuture<>(), now);
            loadsInFlight.incrementAndGet();
            observer.loadStarted(false);
            executor.execute(() -> runLoad(key, slot, own, false));
            return own;
        }
        while (true) {
            InFlight<V> existing = slot.loading.get();
            if (existing != null && now.isBefore(existing.startedAt().plus(policy.claimTimeout()))) {
                return existing;
            }
            InFlight<V> mine = new InFlight<>(new CompletableFuture<>(), now);
            if (slot.loading.compareAndSet(existing, mine)) {
                loadsInFlight.incrementAndGet();
                observer.loadStarted(renewal);
                try {
                    executor.execute(() -> runLoad(key, slot, mine, renewal));
                } catch (RuntimeException rejected) {
                    finishFailed(slot, mine, renewal, rejected);
                }
                return mine;
            }
        }
    }

    private void runLoad(K key, Slot<V> slot, InFlight<V> mine, boolean renewal) {
        Expiring<V> loaded;
        try {
            loaded = Objects.requireNonNull(loader.load(key), "loader returned null");
            if (!clock.instant().isBefore(loaded.expiresAt().minus(policy.minServe()))) {
                throw new UnusableValue("loaded value expires at " + loaded.expiresAt()
                        + ", within min_serve (" + policy.minServe() + ") of now: unusable");
            }
        } catch (Throwable t) {
            finishFailed(slot, mine, renewal, asRuntime(t));
            return;
        }
        // Two loads can only finish together after a claim was abandoned; the lock keeps the
        // later-expiring value. It is taken once per load, never on the hit path.
        synchronized (slot) {
            Expiring<V> current = slot.value;
            if (current == null || loaded.expiresAt().isAfter(current.expiresAt())) {
                slot.value = loaded;
            }
        }
        if (holdsClaim(slot, mine)) {
            slot.failure = null;
        }
        // Released before the waiters wake: a caller that has its answer and asks again must
        // not find this (finished) load still claimed and be handed its result once more.
        release(slot, mine);
        mine.future().complete(loaded);
        observer.loadFinished(renewal, true);
    }

    private void finishFailed(Slot<V> slot, InFlight<V> mine, boolean renewal, RuntimeException error) {
        if (holdsClaim(slot, mine)) {
            long backoffNanos = (long) (policy.failureBackoff().toNanos() * (1.0 + jitter.getAsDouble()));
            slot.failure = new Failure(error, clock.instant().plusNanos(backoffNanos));
        }
        // Released before the waiters wake (see runLoad): otherwise a caller asking again after
        // the backoff could still join this failed load and get its error past the backoff.
        release(slot, mine);
        mine.future().completeExceptionally(error);
        observer.loadFinished(renewal, false);
    }

    /** Whether {@code mine} is still the key's claim, i.e. was not abandoned and superseded. */
    private static <V> boolean holdsClaim(Slot<V> slot, InFlight<V> mine) {
        return slot.loading.get() == mine;
    }

    private void release(Slot<V> slot, InFlight<V> mine) {
        slot.loading.compareAndSet(mine, null);
        loadsInFlight.decrementAndGet();
    }

    /** Never throws: an Error from a loader must still complete the shared future, or its waiters would hang to their deadlines. */
    private static RuntimeException asRuntime(Throwable t) {
        return t instanceof RuntimeException r ? r : new IllegalStateException("load failed", t);
    }

    /** Per-key state. {@code value} is only ever replaced by a later-expiring one. */
    private static final class Slot<V> {
        volatile Expiring<V> value;
        volatile Failure failure;
        final AtomicReference<InFlight<V>> loading = new AtomicReference<>();
    }

    private record InFlight<V>(CompletableFuture<Expiring<V>> future, Instant startedAt) {
    }

    private record Failure(RuntimeException error, Instant until) {
    }
}
