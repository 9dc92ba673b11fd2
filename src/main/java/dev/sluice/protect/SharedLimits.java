package dev.sluice.protect;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.sluice.cache.SharedStore;
import dev.sluice.time.Ticker;

import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntSupplier;

/**
 * Rate limits and byte quotas held for the whole fleet in the shared store (Redis), kept off the
 * request path (docs/protection.md): a request decides against what this instance already holds,
 * and the store is asked in the background, as the credential tier's refresh-ahead L1 does.
 *
 * <ul>
 *   <li><b>Leased tokens.</b> This instance takes tokens from a fleet-wide bucket in batches (a
 *   lease of {@link #leaseSize} tokens, one atomic script in Redis) and a request takes one from
 *   the lease, no I/O. When a lease is down to half, one background refill for that key is
 *   started (never two at once); the request does not wait for it. When the lease is empty and
 *   the store's last answer was that the bucket is empty, the request is refused at once with the
 *   wait the store answered, until that wait has passed. Leased tokens expire after
 *   {@link #LEASE_TTL} and are not given back: the fleet may admit less than the limit by at most
 *   one lease per instance per key, and never more than the bucket granted.</li>
 *   <li><b>Quotas from a local view.</b> A quota is checked against the last fleet total read
 *   plus this instance's bytes charged since (not yet written). A charge adds to that view only;
 *   {@link #flush}, run every second in the background and at {@link #close}, writes every
 *   pending charge and reads back the totals of the views in use, in one script call. Bytes
 *   charged while the store cannot answer are kept and written when it answers again, exactly
 *   once: each batch carries this instance's sequence number, and Redis applies a batch only
 *   when its number is above the last one it applied for this instance (a batch whose reply was
 *   lost is sent again as it was).</li>
 *   <li><b>One round trip at most.</b> {@link #decide} asks the store only for the checks with
 *   no usable lease or view (first sight of a key, an expired lease), all of them in one script
 *   call, within the store's timeout and breaker.</li>
 * </ul>
 *
 * <p>When the store cannot answer, the decision is made at once by {@code fallbackBuckets} and
 * {@code fallbackCounters}, this instance's share of each limit ({@link LocalTokenBuckets},
 * {@link LocalByteCounters}, which are told every charge); a quota then counts as the larger of
 * that share and this instance's view of the fleet's total, so an outage does not reopen it. An earlier revision asked
 * Redis up to four times per limited GET (two buckets, the quota, the charge), which cost more
 * than the rest of the request; hence no store call is ever made on a request's thread when
 * this instance already holds the answer.
 */
public final class SharedLimits implements LimitStore, AutoCloseable {
    /** How long leased tokens stay usable: short, so that an idle instance's lease is soon back in the bucket's refill. */
    static final Duration LEASE_TTL = Duration.ofSeconds(1);
    /** How often the flusher is to run ({@link #flush}); a view in use is at most this old while the store answers. */
    public static final Duration FLUSH_INTERVAL = Duration.ofSeconds(1);
    /** A view not refreshed for this long (its key idle, or the store not answering) is read again before it is used. */
    static final Duration STALE = FLUSH_INTERVAL.multipliedBy(3);
    /** A byte counter lives until an hour past its period, so a late charge or a clock a little behind still finds it. */
    static final Duration SLACK = Duration.ofHours(1);
    /** How long Redis remembers the last batch it applied for an instance; longer than any counter it protects. */
    static final Duration SEQUENCE_TTL = Duration.ofDays(2);
    static final int MAX_KEYS_PER_FLUSH = 500;
    private static final int MAX_BATCHES_PER_FLUSH = 16;
    public static final long DEFAULT_MAX_KEYS = 100_000;

    /**
     * KEYS: {@code n} buckets, then byte counters. ARGV[1] = n, then per bucket rate per second,
     * burst, tokens wanted, expiry in ms. Answers per bucket {granted, wait in microseconds until
     * one token when none was granted}, then per counter its total (0 when absent). A bucket is a
     * hash of tokens and the time they were counted, refilled from Redis's own clock ({@code TIME},
     * kept in whole milliseconds: Lua's {@code tostring} keeps 14 digits), written back with an
     * expiry (a bucket gone is a full bucket). A clock that moved back refills nothing.
     */
    static final SharedStore.Script TAKE = new SharedStore.Script("""
            local n = tonumber(ARGV[1])
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local out = {}
            for i = 1, n do
              local a = 2 + (i - 1) * 4
              local rate = tonumber(ARGV[a])
              local burst = tonumber(ARGV[a + 1])
              local want = tonumber(ARGV[a + 2])
              local state = redis.call('HMGET', KEYS[i], 'tokens', 'at')
              local tokens = tonumber(state[1])
              local at = tonumber(state[2])
              if tokens == nil or at == nil then
                tokens = burst
                at = now
              end
              if now > at then
                tokens = math.min(burst, tokens + (now - at) * rate / 1000)
                at = now
              end
              local granted = math.max(0, math.min(want, math.floor(tokens)))
              local wait = 0
              if granted >= 1 then
                tokens = tokens - granted
              else
                wait = math.ceil((1 - tokens) * 1000000 / rate)
              end
              redis.call('HSET', KEYS[i], 'tokens', tostring(tokens), 'at', tostring(at))
              redis.call('PEXPIRE', KEYS[i], ARGV[a + 3])
              out[#out + 1] = granted
              out[#out + 1] = wait
            end
            for i = n + 1, #KEYS do
              out[#out + 1] = tonumber(redis.call('GET', KEYS[i]) or '0') or 0
            end
            return out
            """);

    /**
     * KEYS[1] this instance's last applied batch number, then byte counters; ARGV[1] the batch's
     * number, ARGV[2] how long to remember it (ms), then per counter the bytes to add and its
     * expiry (epoch ms). Adds only when the batch is newer than the last applied one, and answers
     * every counter's total.
     */
    static final SharedStore.Script FLUSH = new SharedStore.Script("""
            local done = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
            local apply = tonumber(ARGV[1]) > done
            if apply then
              redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
            end
            local out = {}
            for i = 2, #KEYS do
              local a = 3 + (i - 2) * 2
              local total
              if apply and tonumber(ARGV[a]) > 0 then
                total = redis.call('INCRBY', KEYS[i], ARGV[a])
                redis.call('PEXPIREAT', KEYS[i], ARGV[a + 1])
              else
                total = tonumber(redis.call('GET', KEYS[i]) or '0') or 0
              end
              out[#out + 1] = total
            end
            return out
            """);

    private final SharedStore store;
    private final TokenBuckets fallbackBuckets;
    private final ByteCounters fallbackCounters;
    private final LimitStoreObserver observer;
    private final Ticker ticker;
    private final InstantSource clock;
    private final Executor background;
    private final IntSupplier fleetSize;
    private final String sequenceKey;
    private final Cache<String, Lease> leases;
    private final Cache<Tally, View> views;
    /** Views charged or checked since the last flush: what the next flush writes and reads back. */
    private final Set<View> active = ConcurrentHashMap.newKeySet();
    private final ReentrantLock flushing = new ReentrantLock();
    private long sequence; // guarded by flushing
    private Batch unacknowledged; // guarded by flushing

    /**
     * @param fallbackBuckets this instance's share of each bucket, when the store cannot answer
     * @param fallbackCounters this instance's bytes as its share of the fleet's, told every charge
     * @param ticker when leases expire and views go stale
     * @param clock which quota period a check or charge falls in
     * @param background where lease refills run; at most one per key at a time
     * @param fleetSize how many instances share each limit, for the lease size
     * @param instance a name for this instance, unique in the fleet (a random id): the key of its batch numbers
     */
    public SharedLimits(SharedStore store, TokenBuckets fallbackBuckets, ByteCounters fallbackCounters, LimitStoreObserver observer,
                        Ticker ticker, InstantSource clock, Executor background, IntSupplier fleetSize, String instance) {
        this.store = store;
        this.fallbackBuckets = fallbackBuckets;
        this.fallbackCounters = fallbackCounters;
        this.observer = observer;
        this.ticker = ticker;
        this.clock = clock;
        this.background = background;
        this.fleetSize = fleetSize;
        this.sequenceKey = StoreKeys.of("flushed", instance);
        this.leases = Caffeine.newBuilder().maximumSize(DEFAULT_MAX_KEYS).expireAfterAccess(Duration.ofMinutes(1))
                .ticker(ticker::nanoTime).executor(Runnable::run).build();
        this.views = Caffeine.newBuilder().maximumSize(DEFAULT_MAX_KEYS).expireAfterAccess(Duration.ofHours(25))
                .ticker(ticker::nanoTime).executor(Runnable::run).build();
    }

    /** Where the bucket for {@code key} lives in the store. */
    public static String bucketKey(String key) {
        return StoreKeys.of("rl", key);
    }

    /** Where the counter of {@code key} for the period that {@code window} names lives in the store. */
    static String counterKey(String key, QuotaWindow window) {
        return StoreKeys.of("quota", key) + window.suffix();
    }

    /**
     * How many tokens one lease takes: half this instance's share of the burst, so that the
     * fleet's leases together hold at most half a bucket, and at most a tenth of a second of the
     * rate, so that a lease is soon used; at least one.
     */
    static long leaseSize(Rate rate, int fleetSize) {
        long share = Math.max(1, rate.burst() / Math.max(1, fleetSize) / 2);
        return Math.max(1, Math.min(share, (long) Math.ceil(rate.perSecond() * 0.1)));
    }

    /** How long an untouched bucket takes to fill up again, plus a second; at most a week. */
    static long expiryMillis(Rate rate) {
        return (long) Math.min(Duration.ofDays(7).toMillis(), Math.ceil(rate.burst() / rate.perSecond() * 1000) + 1000);
    }

    // What a check came to before the walk in order: granted, refused (a wait), or still to be decided.
    private static final long UNKNOWN = -1;
    private static final long FALLBACK = -2;

    @Override
    public Decision decide(List<Check> checks) {
        int n = checks.size();
        long now = ticker.nanoTime();
        // Takes: 0 granted, > 0 the wait in nanoseconds. Quotas: the total. Or UNKNOWN / FALLBACK.
        long[] state = new long[n];
        Lease[] held = new Lease[n];
        View[] viewed = new View[n];
        List<Integer> cold = null;
        for (int i = 0; i < n; i++) {
            state[i] = switch (checks.get(i)) {
                case Take t -> {
                    Lease lease = leases.getIfPresent(t.key());
                    long r = lease == null ? UNKNOWN : lease.take(now);
                    if (r >= 0) {
                        held[i] = lease;
                        observer.decision(LimitStoreObserver.Store.SHARED, r == 0);
                        if (r == 0) {
                            refillIfLow(lease, t.rate(), now);
                        }
                    }
                    yield r;
                }
                case Quota q -> {
                    View view = views.getIfPresent(new Tally(q.key(), QuotaWindow.at(q.period(), clock.instant())));
                    yield view == null ? UNKNOWN : view.check(now, active);
                }
            };
            if (state[i] == UNKNOWN) {
                if (cold == null) {
                    cold = new ArrayList<>(n);
                }
                cold.add(i);
            }
        }
        if (cold != null) {
            fetch(checks, cold, state, held, viewed);
        }
        for (int i = 0; i < n; i++) {
            boolean refused = switch (checks.get(i)) {
                case Take t -> {
                    if (state[i] == FALLBACK) {
                        Duration wait = fallbackBuckets.take(t.key(), t.rate());
                        state[i] = wait.isPositive() ? wait.toNanos() : 0;
                    }
                    yield state[i] > 0;
                }
                // Without the store: this instance's share, or what it last knew of the fleet if more (an outage does not reopen a quota).
                case Quota q -> (state[i] == FALLBACK ? Math.max(fallbackCounters.current(q.key(), q.period()), viewed[i].total())
                        : state[i]) >= q.bytes();
            };
            if (refused) {
                for (int j = i + 1; j < n; j++) {
                    if (held[j] != null && state[j] == 0) {
                        held[j].giveBack(now);
                    }
                }
                return new Decision(i, checks.get(i) instanceof Take ? Duration.ofNanos(state[i]) : Duration.ZERO);
            }
        }
        return Decision.GRANTED;
    }

    /** The one store call of a decision: a lease for every cold bucket and the total of every cold quota. */
    private void fetch(List<Check> checks, List<Integer> cold, long[] state, Lease[] held, View[] viewed) {
        List<Integer> takes = new ArrayList<>(cold.size());
        List<Integer> quotas = new ArrayList<>(cold.size());
        for (int i : cold) {
            (checks.get(i) instanceof Take ? takes : quotas).add(i);
        }
        List<String> keys = new ArrayList<>(cold.size());
        List<String> args = new ArrayList<>(1 + 4 * takes.size());
        args.add(Integer.toString(takes.size()));
        int fleet = fleetSize.getAsInt();
        for (int i : takes) {
            Take t = (Take) checks.get(i);
            keys.add(bucketKey(t.key()));
            addTakeArgs(args, t.rate(), leaseSize(t.rate(), fleet));
        }
        List<View> coldViews = new ArrayList<>(quotas.size());
        for (int i : quotas) {
            Quota q = (Quota) checks.get(i);
            View view = views.get(new Tally(q.key(), QuotaWindow.at(q.period(), clock.instant())), View::new);
            viewed[i] = view;
            coldViews.add(view);
            keys.add(view.storeKey);
        }
        SharedStore.Eval reply = store.eval(TAKE, keys, args);
        if (!(reply instanceof SharedStore.Eval.Done done) || done.values().size() != 2 * takes.size() + quotas.size()) {
            for (int i : cold) {
                state[i] = FALLBACK;
                observer.fallback(checks.get(i) instanceof Take ? LimitStoreObserver.Kind.BUCKETS : LimitStoreObserver.Kind.BYTES);
            }
            return;
        }
        List<Long> values = done.values();
        long answered = ticker.nanoTime();
        for (int k = 0; k < takes.size(); k++) {
            int i = takes.get(k);
            Take t = (Take) checks.get(i);
            long granted = values.get(2 * k);
            Lease lease = leases.get(t.key(), key -> new Lease(bucketKey(key)));
            if (granted > 0) {
                lease.granted(answered, granted - 1);
                held[i] = lease;
                state[i] = 0;
                refillIfLow(lease, t.rate(), answered);
            } else {
                long wait = waitNanos(values.get(2 * k + 1));
                lease.empty(answered, wait);
                state[i] = wait;
            }
            observer.decision(LimitStoreObserver.Store.SHARED, granted > 0);
        }
        for (int k = 0; k < quotas.size(); k++) {
            View view = coldViews.get(k);
            view.read(values.get(2 * takes.size() + k), answered);
            active.add(view);
            state[quotas.get(k)] = view.total();
        }
    }

    private static void addTakeArgs(List<String> args, Rate rate, long want) {
        args.add(Double.toString(rate.perSecond()));
        args.add(Long.toString(rate.burst()));
        args.add(Long.toString(want));
        args.add(Long.toString(expiryMillis(rate)));
    }

    /** The store's wait in microseconds, at least one. */
    private static long waitNanos(long micros) {
        return Math.max(1000, micros * 1000);
    }

    /** Starts one background refill of {@code lease} when it is down to half and none is running. */
    private void refillIfLow(Lease lease, Rate rate, long now) {
        int fleet = fleetSize.getAsInt();
        long size = leaseSize(rate, fleet);
        if (!lease.claimRefill(now, size / 2)) {
            return;
        }
        try {
            background.execute(() -> {
                try {
                    List<String> args = new ArrayList<>(5);
                    args.add("1");
                    addTakeArgs(args, rate, size);
                    if (store.eval(TAKE, List.of(lease.storeKey), args) instanceof SharedStore.Eval.Done done && done.values().size() == 2) {
                        long answered = ticker.nanoTime();
                        if (done.values().get(0) > 0) {
                            lease.granted(answered, done.values().get(0));
                        } else {
                            lease.empty(answered, waitNanos(done.values().get(1)));
                        }
                    }
                } finally {
                    lease.refilled();
                }
            });
        } catch (RejectedExecutionException e) {
            lease.refilled();
        }
    }

    @Override
    public void charge(String key, QuotaPeriod period, long bytes) {
        if (bytes <= 0) {
            return;
        }
        fallbackCounters.add(key, period, bytes);
        View view = views.get(new Tally(key, QuotaWindow.at(period, clock.instant())), View::new);
        view.add(bytes);
        active.add(view);
    }

    /**
     * Writes every pending charge and reads back the totals of the views in use, in one script
     * call per {@value #MAX_KEYS_PER_FLUSH} keys; a batch the store did not answer is kept and
     * sent again, unchanged, by the next flush. Run every {@link #FLUSH_INTERVAL} on a background
     * thread and at {@link #close}; never on a request's thread.
     */
    public void flush() {
        flushing.lock();
        try {
            for (int b = 0; b < MAX_BATCHES_PER_FLUSH; b++) {
                if (unacknowledged == null) {
                    unacknowledged = nextBatch();
                    if (unacknowledged == null) {
                        return;
                    }
                }
                if (!send(unacknowledged)) {
                    return;
                }
                unacknowledged = null;
            }
        } finally {
            flushing.unlock();
        }
    }

    /** Bytes charged here and not yet acknowledged by the store, over every key: what an outage holds back. */
    long unwritten() {
        long sum = 0;
        for (View v : views.asMap().values()) {
            sum += v.unwritten();
        }
        return sum;
    }

    private Batch nextBatch() {
        List<View> batch = new ArrayList<>();
        Iterator<View> it = active.iterator();
        while (it.hasNext() && batch.size() < MAX_KEYS_PER_FLUSH) {
            View view = it.next();
            it.remove();
            batch.add(view);
        }
        if (batch.isEmpty()) {
            return null;
        }
        long[] deltas = new long[batch.size()];
        for (int i = 0; i < deltas.length; i++) {
            deltas[i] = batch.get(i).send();
        }
        return new Batch(++sequence, batch, deltas);
    }

    private boolean send(Batch batch) {
        List<String> keys = new ArrayList<>(batch.views.size() + 1);
        List<String> args = new ArrayList<>(2 * batch.views.size() + 2);
        keys.add(sequenceKey);
        args.add(Long.toString(batch.sequence));
        args.add(Long.toString(SEQUENCE_TTL.toMillis()));
        for (int i = 0; i < batch.deltas.length; i++) {
            View view = batch.views.get(i);
            keys.add(view.storeKey);
            args.add(Long.toString(batch.deltas[i]));
            args.add(Long.toString(view.window.end().plus(SLACK).toEpochMilli()));
        }
        if (store.eval(FLUSH, keys, args) instanceof SharedStore.Eval.Done done && done.values().size() == batch.views.size()) {
            long answered = ticker.nanoTime();
            for (int i = 0; i < batch.deltas.length; i++) {
                batch.views.get(i).sent(done.values().get(i), answered);
            }
            return true;
        }
        return false;
    }

    /** Writes what is pending (within the store's timeout): the charges of the requests drained at shutdown. */
    @Override
    public void close() {
        flush();
    }

    private record Tally(String key, QuotaWindow window) {
    }

    private record Batch(long sequence, List<View> views, long[] deltas) {
    }

    /**
     * This instance's leased tokens of one bucket, and what the store last said of it. One lock
     * per bucket, held for a few arithmetic steps; never across I/O.
     */
    private static final class Lease {
        final String storeKey;
        private long tokens;
        private long expiresAt;
        private boolean emptyKnown;
        private long emptyUntil;
        private boolean refilling;

        Lease(String storeKey) {
            this.storeKey = storeKey;
        }

        private synchronized boolean live(long now) {
            return now - expiresAt < 0;
        }

        /** 0 when a token was taken; the wait in nanoseconds while the bucket is known empty; else {@link #UNKNOWN}. */
        synchronized long take(long now) {
            if (tokens > 0 && live(now)) {
                tokens--;
                return 0;
            }
            if (emptyKnown && now - emptyUntil < 0) {
                return emptyUntil - now;
            }
            return UNKNOWN;
        }

        synchronized void giveBack(long now) {
            if (live(now)) {
                tokens++;
            }
        }

        synchronized boolean claimRefill(long now, long lowWater) {
            if (refilling || (live(now) && tokens > lowWater) || (emptyKnown && now - emptyUntil < 0)) {
                return false;
            }
            refilling = true;
            return true;
        }

        synchronized void refilled() {
            refilling = false;
        }

        synchronized void granted(long now, long n) {
            if (!live(now)) {
                tokens = 0;
            }
            tokens += n;
            expiresAt = now + LEASE_TTL.toNanos();
            emptyKnown = false;
        }

        synchronized void empty(long now, long waitNanos) {
            emptyKnown = true;
            emptyUntil = now + waitNanos;
        }
    }

    /**
     * This instance's view of one fleet-wide byte counter: the last total the store answered, the
     * bytes charged here since and not yet sent, and those sent and not yet acknowledged.
     */
    private static final class View {
        final QuotaWindow window;
        final String storeKey;
        private long fleet;
        private long pending;
        private long sending;
        private boolean read;
        private long readAt;

        View(Tally tally) {
            this.window = tally.window();
            this.storeKey = counterKey(tally.key(), tally.window());
        }

        synchronized long total() {
            long sum = fleet + pending + sending;
            return sum < 0 ? Long.MAX_VALUE : sum;
        }

        synchronized long unwritten() {
            return pending + sending;
        }

        /**
         * The total a check compares, or {@link #UNKNOWN} when the store was never read for it or
         * not for {@link #STALE} (the key was idle, or the store has not been answering): then it
         * is read in the request's one store call, like a key seen for the first time. Marks the
         * view for the next flush to read back once it is half an interval old.
         */
        synchronized long check(long now, Set<View> active) {
            if (!read || now - readAt > STALE.toNanos()) {
                return UNKNOWN;
            }
            if (now - readAt >= FLUSH_INTERVAL.toNanos() / 2) {
                active.add(this);
            }
            return total();
        }

        synchronized void read(long total, long now) {
            fleet = Math.max(fleet, total);
            read = true;
            readAt = now;
        }

        synchronized void add(long bytes) {
            pending += bytes;
        }

        /** Moves the pending bytes to those being sent, and answers them. */
        synchronized long send() {
            sending += pending;
            pending = 0;
            return sending;
        }

        synchronized void sent(long total, long now) {
            sending = 0;
            read(total, now);
        }
    }
}
