package dev.sluice.cache;

import dev.sluice.time.Ticker;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The shared tier (L2) as the load of an in-process {@link RefreshAheadCache}: L1 miss → L2
 * read → (miss) exchange → L2 write-back. Its purpose is that a whole fleet makes <em>one</em>
 * exchange per credential lifetime, including right after a fleet-wide restart, when every
 * instance misses at once.
 *
 * <ul>
 *   <li><b>Keys</b> are {@code sluice:v1:{namespace}:} + base64url(SHA-256(identity)): synthetic,
 *       not reversible, never a client-addressable name. For credentials the identity is
 *       {@code scope ␟ subject} (U+001F between them).</li>
 *   <li><b>Values</b> are sealed ({@link Sealer}, the Redis key as associated data). A value
 *       that does not open (wrong key after a rotation, tampering), does not decode, or is
 *       already inside L1's refresh lead is a miss, and is deleted if it is still the value
 *       read (compare-and-delete: a fresh one another instance wrote meanwhile stays).</li>
 *   <li><b>TTL</b> = {@code exp − now − lead}; nothing is written when that is not positive,
 *       and failures are never written.</li>
 *   <li><b>Fleet single flight</b>: on a miss, take a lease ({@code SET NX PX}). Its holder
 *       reads L2 once more (a previous holder may have written and released since the miss),
 *       then exchanges and writes back; the others poll L2 for at most {@code leaseWait}, then
 *       exchange themselves. A dead holder costs the bounded wait, never a failure; its lease
 *       expires after {@code leaseTtl}.</li>
 *   <li><b>Write-back is asynchronous</b>: the caller has its value before Redis is written.</li>
 *   <li><b>The store being down</b> is never an error here: an unavailable read or lease means
 *       "exchange now".</li>
 * </ul>
 */
public final class SharedTier<K, V> implements RefreshAheadCache.Loader<K, V> {

    /** Turns values into bytes and back; {@code decode} is empty for anything it cannot read. */
    public interface Codec<V> {
        byte[] encode(Expiring<V> value);

        Optional<Expiring<V>> decode(byte[] bytes);
    }

    /**
     * @param lead         how long before expiry entries leave L2 (must exceed L1's refresh lead)
     * @param refreshLead  L1's refresh lead: an entry inside it is useless to L1
     * @param leaseTtl     how long a lease lives if its holder dies
     * @param leaseWait    how long a non-holder polls before exchanging itself
     * @param pollInterval between polls
     */
    public record Settings(Duration lead, Duration refreshLead, Duration leaseTtl, Duration leaseWait, Duration pollInterval) {
        public Settings {
            if (lead.compareTo(refreshLead) <= 0) {
                throw new IllegalArgumentException("the shared lead (" + lead + ") must exceed the refresh lead (" + refreshLead + ")");
            }
        }
    }

    /** What each load did; for metrics. */
    public interface Observer {
        Observer NONE = event -> { };

        /**
         * @param event {@code hit}, {@code miss}, {@code discarded} (stale, unopenable or undecodable),
         *              {@code unavailable}, {@code lease_won}, {@code lease_waited} (a holder's value arrived),
         *              {@code lease_fallback} (waited out, exchanged itself), {@code exchange}, {@code write},
         *              {@code write_skipped}
         */
        void event(String event);
    }

    private final String namespace;
    private final Function<K, String> identity;
    private final SharedStore store;
    private final Sealer sealer;
    private final Codec<V> codec;
    private final RefreshAheadCache.Loader<K, V> origin;
    private final Settings settings;
    private final InstantSource clock;
    private final Ticker ticker;
    private final Executor writeBack;
    private final Supplier<String> leaseTokens;
    private final Observer observer;

    public SharedTier(String namespace, Function<K, String> identity, SharedStore store, Sealer sealer, Codec<V> codec,
                      RefreshAheadCache.Loader<K, V> origin, Settings settings, InstantSource clock, Ticker ticker,
                      Executor writeBack, Supplier<String> leaseTokens, Observer observer) {
        this.namespace = namespace;
        this.identity = identity;
        this.store = store;
        this.sealer = sealer;
        this.codec = codec;
        this.origin = origin;
        this.settings = settings;
        this.clock = clock;
        this.ticker = ticker;
        this.writeBack = writeBack;
        this.leaseTokens = leaseTokens;
        this.observer = observer;
    }

    /** The store key for {@code key}. */
    public String storeKey(K key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(identity.apply(key).getBytes(StandardCharsets.UTF_8));
            return "sluice:v1:" + namespace + ":" + Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }

    @Override
    public Expiring<V> load(K key) {
        String storeKey = storeKey(key);
        Found<V> shared = read(storeKey);
        if (shared.value().isPresent()) {
            return shared.value().get();
        }
        if (shared.storeUnavailable()) {
            return exchange(key, storeKey);
        }
        String token = leaseTokens.get();
        String leaseKey = storeKey + ":lease";
        switch (store.acquireLease(leaseKey, token, settings.leaseTtl())) {
            case WON -> {
                observer.event("lease_won");
                // The lease only orders instances that missed before its holder wrote: another may
                // have exchanged, written and released between our miss and our lease.
                Found<V> arrived = read(storeKey);
                if (arrived.value().isPresent()) {
                    writeBack.execute(() -> store.releaseLease(leaseKey, token));
                    return arrived.value().get();
                }
                try {
                    return exchangeAndWrite(key, storeKey, () -> store.releaseLease(leaseKey, token));
                } catch (RuntimeException e) {
                    writeBack.execute(() -> store.releaseLease(leaseKey, token));
                    throw e;
                }
            }
            case HELD -> {
                long deadline = ticker.nanoTime() + settings.leaseWait().toNanos();
                while (ticker.remainingNanos(deadline) > 0) {
                    if (!pause(settings.pollInterval())) {
                        break;
                    }
                    Found<V> arrived = read(storeKey);
                    if (arrived.value().isPresent()) {
                        observer.event("lease_waited");
                        return arrived.value().get();
                    }
                    if (arrived.storeUnavailable()) {
                        break;
                    }
                }
                observer.event("lease_fallback");
                return exchange(key, storeKey);
            }
            default -> {
                return exchange(key, storeKey);
            }
        }
    }

    /** A read of L2: a usable value, or none, and whether that is because the store is unavailable. */
    private record Found<V>(Optional<Expiring<V>> value, boolean storeUnavailable) {
    }

    private Found<V> read(String storeKey) {
        SharedStore.Read r = store.get(storeKey);
        if (!(r instanceof SharedStore.Read.Hit hit)) {
            boolean unavailable = r instanceof SharedStore.Read.Unavailable;
            observer.event(unavailable ? "unavailable" : "miss");
            return new Found<>(Optional.empty(), unavailable);
        }
        Optional<Expiring<V>> value = sealer.open(storeKey, hit.value()).flatMap(codec::decode);
        Instant now = clock.instant();
        if (value.isEmpty() || !now.isBefore(value.get().expiresAt().minus(settings.refreshLead()))) {
            observer.event("discarded");
            writeBack.execute(() -> store.delete(storeKey, hit.value()));
            return new Found<>(Optional.empty(), false);
        }
        observer.event("hit");
        return new Found<>(value, false);
    }

    private Expiring<V> exchange(K key, String storeKey) {
        return exchangeAndWrite(key, storeKey, () -> { });
    }

    private Expiring<V> exchangeAndWrite(K key, String storeKey, Runnable afterWrite) {
        observer.event("exchange");
        Expiring<V> value = origin.load(key);
        writeBack.execute(() -> {
            try {
                Duration ttl = Duration.between(clock.instant(), value.expiresAt()).minus(settings.lead());
                if (ttl.isPositive()) {
                    store.put(storeKey, sealer.seal(storeKey, codec.encode(value)), ttl);
                    observer.event("write");
                } else {
                    observer.event("write_skipped");
                }
            } finally {
                afterWrite.run();
            }
        });
        return value;
    }

    private boolean pause(Duration d) {
        try {
            ticker.sleep(d);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
