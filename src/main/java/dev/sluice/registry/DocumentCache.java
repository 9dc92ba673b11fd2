package dev.sluice.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.sluice.cache.Expiring;
import dev.sluice.cache.RefreshAheadCache;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.DoubleSupplier;
import java.util.function.Function;

/**
 * One kind of control-plane document (products, data connections, product lists,
 * permissions) cached in the in-process tier, keyed by API path + caller subject: an
 * anonymous and an authenticated caller may be told different things, so their answers never
 * mix.
 *
 * <ul>
 *   <li><b>Expiry</b> of an answer is its fetch time + the kind's TTL. The L1 policy
 *       ({@link RefreshAheadCache}, DESIGN §3) is used unchanged with {@code min_serve = 0}
 *       (a document, unlike a credential, is not refused by anyone for being nearly expired,
 *       so it is served to its last instant) and {@code refresh_lead = TTL / 10} (30 s of a
 *       300 s product): a key in use is refetched in the background shortly before expiry,
 *       so steady traffic never waits on the API.</li>
 *   <li><b>Only parsed answers are cached.</b> A 404, 401/403, 5xx, timeout or unparseable
 *       body is a failed load: never stored as a value; the L1's failure backoff (1–2 s)
 *       replays it to callers of that key, so a client scanning for unknown names costs the
 *       API about one call per name per second, not one per request.</li>
 *   <li><b>Stale-if-error</b>: when a load fails as {@link ControlPlaneApi.FailureKind#UNAVAILABLE}
 *       (the API is down, slow or talking nonsense) and the last good answer for the key
 *       expired less than {@code staleIfError} ago, that answer is served and counted. A 404
 *       or 401/403 is an answer, not an outage: it is never covered by a stale document (a
 *       product deleted or withdrawn must stop being served).</li>
 *   <li>Cold loads of one key are single-flighted by the L1; each caller waits at most the
 *       API timeout + 1 s.</li>
 * </ul>
 */
final class DocumentCache<T> {

    /** What the cache holds per key; the request id is carried to the load but is not part of the key. */
    static final class Key {
        final String path;
        final String subject;
        final String requestId;
        private final int hash;

        Key(String path, Optional<String> subject, String requestId) {
            this.path = path;
            this.subject = subject.orElse("");
            this.requestId = requestId;
            this.hash = 31 * path.hashCode() + this.subject.hashCode();
        }

        Optional<String> subjectIfAny() {
            return subject.isEmpty() ? Optional.empty() : Optional.of(subject);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.path.equals(path) && k.subject.equals(subject);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /** Receives what happened, for metrics; must be cheap and never throw. */
    interface Observer {
        void fetched(String outcome);

        void staleServed();

        RefreshAheadCache.Observer l1();
    }

    private final ControlPlaneApi api;
    private final Function<JsonNode, T> parse;
    private final Duration ttl;
    private final Duration staleIfError;
    private final Duration maxWait;
    private final InstantSource clock;
    private final Observer observer;
    private final RefreshAheadCache<Key, T> l1;
    /** The last good answer per key, kept past its expiry for stale-if-error. */
    private final Cache<Key, Expiring<T>> lastGood;

    DocumentCache(ControlPlaneApi api, Function<JsonNode, T> parse, Duration ttl, Duration staleIfError, Duration apiTimeout,
                  InstantSource clock, Executor loads, DoubleSupplier jitter, Observer observer) {
        this.api = api;
        this.parse = parse;
        this.ttl = ttl;
        this.staleIfError = staleIfError;
        this.maxWait = apiTimeout.plusSeconds(1);
        this.clock = clock;
        this.observer = observer;
        Duration lead = ttl.dividedBy(10);
        RefreshAheadCache.Policy policy = new RefreshAheadCache.Policy(lead.isPositive() ? lead : Duration.ofNanos(1),
                Duration.ZERO, apiTimeout.plusSeconds(5), Duration.ofSeconds(1));
        this.l1 = new RefreshAheadCache<>(this::load, policy, clock, loads, jitter,
                waited -> new ControlPlaneApi.Failure(ControlPlaneApi.FailureKind.UNAVAILABLE,
                        "no control-plane answer within the caller's wait of " + waited, null),
                observer.l1(), 100_000);
        this.lastGood = Caffeine.newBuilder().maximumSize(100_000).build();
    }

    /** The document at {@code path} as {@code caller} is answered; throws {@link ControlPlaneApi.Failure}. */
    T get(String path, Caller caller) {
        Key key = new Key(path, caller.subject(), caller.requestId());
        try {
            return l1.get(key, maxWait);
        } catch (ControlPlaneApi.Failure f) {
            if (f.kind() == ControlPlaneApi.FailureKind.UNAVAILABLE) {
                Expiring<T> stale = lastGood.getIfPresent(key);
                if (stale != null && clock.instant().isBefore(stale.expiresAt().plus(staleIfError))) {
                    observer.staleServed();
                    return stale.value();
                }
            }
            throw f;
        }
    }

    private Expiring<T> load(Key key) {
        T value;
        try {
            value = Objects.requireNonNull(parse.apply(api.get(key.path, key.subjectIfAny(), key.requestId)));
        } catch (ControlPlaneApi.Failure f) {
            observer.fetched(f.kind().name().toLowerCase(java.util.Locale.ROOT));
            throw f;
        } catch (ControlPlaneDocuments.Unparseable e) {
            observer.fetched("unavailable");
            throw new ControlPlaneApi.Failure(ControlPlaneApi.FailureKind.UNAVAILABLE,
                    "unexpected document at " + key.path + ": " + e.getMessage(), null);
        }
        observer.fetched("ok");
        Instant now = clock.instant();
        Expiring<T> fresh = new Expiring<>(value, now.plus(ttl));
        lastGood.put(key, fresh);
        return fresh;
    }
}
