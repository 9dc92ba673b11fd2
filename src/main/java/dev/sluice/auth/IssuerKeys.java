package dev.sluice.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import dev.sluice.cache.Expiring;
import dev.sluice.cache.RefreshAheadCache;
import org.eclipse.jetty.client.CompletableResponseListener;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The signing keys of trusted OIDC issuers, fetched the way relying parties do: the issuer's
 * discovery document ({@code {issuer}/.well-known/openid-configuration}), whose {@code issuer}
 * must equal the configured one, then the JWKS at its {@code jwks_uri}.
 *
 * <p>The keys live in a {@link RefreshAheadCache}, the same engine as backend credentials and
 * control-plane answers, so its rules hold here too. Per issuer:
 * <ul>
 *   <li>Keys are fresh for {@link #KEYS_TTL} (15 min) after a fetch. Then one background fetch
 *       renews them while the cached keys go on verifying tokens for up to
 *       {@link #REFRESH_LEAD} (5 min) more, so an issuer that is down at that moment costs
 *       nothing until the keys are 20 minutes old.</li>
 *   <li>Concurrent lookups that need a fetch share one (single flight): a cold start under load
 *       makes one request to the issuer, not one per caller.</li>
 *   <li>A failed fetch is remembered for {@link #FAILURE_TTL} (30 s): lookups that need keys in
 *       that time fail at once with {@link Unreachable} instead of each waiting out the timeout
 *       against an issuer that is down. (Not jittered: one process asks one issuer.)</li>
 *   <li>A {@code kid} not in the cached set triggers one refetch, so an issuer's key rotation
 *       is picked up at the first token signed with the new key, unless the keys were fetched
 *       during this very lookup. Such refetches are limited to one per issuer per
 *       {@link #REFETCH_INTERVAL} (30 s): tokens with made-up kids cost the issuer at most two
 *       requests a minute, not one each. A failed refetch keeps the keys already cached.</li>
 * </ul>
 * Every request goes through the given Jetty client, with {@code timeout} from the request to
 * the last byte, and at most {@link #MAX_DOCUMENT_BYTES}. Callers must only ask for issuers
 * they trust: this class fetches whatever URL it is given.
 */
public final class IssuerKeys implements AutoCloseable {
    public static final Duration KEYS_TTL = Duration.ofMinutes(15);
    public static final Duration REFRESH_LEAD = Duration.ofMinutes(5);
    public static final Duration FAILURE_TTL = Duration.ofSeconds(30);
    public static final Duration REFETCH_INTERVAL = Duration.ofSeconds(30);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(3);
    public static final String DISCOVERY_PATH = "/.well-known/openid-configuration";
    /** Discovery documents and key sets are a few KiB; more than this is not one. */
    private static final int MAX_DOCUMENT_BYTES = 1024 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(IssuerKeys.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http;
    private final Duration timeout;
    private final InstantSource clock;
    private final RefreshAheadCache<String, Fetched> keys;
    private final Optional<ExecutorService> ownedLoads;
    private final AtomicLong fetches = new AtomicLong();
    private final ConcurrentMap<String, Instant> kidRefetches = new ConcurrentHashMap<>();

    /** Keys fetched with {@code http}, each document within {@code timeout}, loads on virtual threads. */
    public IssuerKeys(HttpClient http, InstantSource clock, Duration timeout) {
        this(http, clock, timeout, Optional.of(Executors.newVirtualThreadPerTaskExecutor()));
    }

    /** As above, with loads run on {@code loads} (a test runs them on the caller's thread). */
    IssuerKeys(HttpClient http, InstantSource clock, Duration timeout, Executor loads) {
        this(http, clock, timeout, Optional.empty(), loads);
    }

    private IssuerKeys(HttpClient http, InstantSource clock, Duration timeout, Optional<ExecutorService> owned) {
        this(http, clock, timeout, owned, owned.orElseThrow());
    }

    private IssuerKeys(HttpClient http, InstantSource clock, Duration timeout, Optional<ExecutorService> owned, Executor loads) {
        this.http = http;
        this.clock = clock;
        this.timeout = timeout;
        this.ownedLoads = owned;
        // claim_timeout: a load is a discovery request and a JWKS request, each within the timeout.
        RefreshAheadCache.Policy policy = new RefreshAheadCache.Policy(REFRESH_LEAD, Duration.ZERO,
                timeout.multipliedBy(2).plusSeconds(1), FAILURE_TTL);
        this.keys = new RefreshAheadCache<>(this::load, policy, clock, loads, () -> 0.0,
                waited -> new IllegalStateException("no keys within " + waited), RefreshAheadCache.Observer.NONE, 10_000);
    }

    /** The issuer cannot give its keys now (unreachable, erroring, or answering nonsense). */
    public static final class Unreachable extends Exception {
        Unreachable(String issuer) {
            super("issuer unreachable: " + issuer, null, false, false);
        }
    }

    /** One fetch's keys; {@code sequence} orders fetches, to tell whether one happened during a lookup. */
    private record Fetched(JWKSet keys, long sequence) {
    }

    /**
     * The key {@code kid} of {@code issuer}, or empty when the issuer does not publish it (after
     * the one refetch the policy allows).
     */
    public Optional<JWK> find(String issuer, String kid) throws Unreachable {
        long before = fetches.get();
        Fetched fetched;
        try {
            fetched = keys.get(issuer, loadWait());
        } catch (RuntimeException e) {
            throw new Unreachable(issuer);
        }
        JWK key = fetched.keys().getKeyByKeyId(kid);
        if (key != null || fetched.sequence() > before || !mayRefetchForUnknownKid(issuer)) {
            return Optional.ofNullable(key);
        }
        try {
            return Optional.ofNullable(keys.refresh(issuer, loadWait()).keys().getKeyByKeyId(kid));
        } catch (RuntimeException e) {
            throw new Unreachable(issuer);
        }
    }

    private Duration loadWait() {
        return timeout.multipliedBy(2).plusSeconds(1);
    }

    private boolean mayRefetchForUnknownKid(String issuer) {
        Instant now = clock.instant();
        boolean[] allowed = {false};
        kidRefetches.compute(issuer, (k, last) -> {
            if (last != null && now.isBefore(last.plus(REFETCH_INTERVAL))) {
                return last;
            }
            allowed[0] = true;
            return now;
        });
        return allowed[0];
    }

    private Expiring<Fetched> load(String issuer) {
        Instant at = clock.instant();
        try {
            JWKSet set = download(issuer);
            return new Expiring<>(new Fetched(set, fetches.incrementAndGet()), at.plus(KEYS_TTL).plus(REFRESH_LEAD));
        } catch (IOException e) {
            LOG.warn("fetching the keys of issuer {} failed: {}", issuer, e.getMessage());
            throw new UncheckedIOException(e);
        }
    }

    private JWKSet download(String issuer) throws IOException {
        String base = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
        JsonNode discovery = JSON.readTree(get(URI.create(base + DISCOVERY_PATH)));
        if (!issuer.equals(discovery.path("issuer").asText(null))) {
            throw new IOException("the discovery document names another issuer");
        }
        URI uri;
        try {
            uri = URI.create(discovery.path("jwks_uri").asText(""));
        } catch (IllegalArgumentException e) {
            throw new IOException("the discovery document's jwks_uri is not a URI");
        }
        if (!"https".equals(uri.getScheme()) && !"http".equals(uri.getScheme())) {
            throw new IOException("the discovery document has no http(s) jwks_uri");
        }
        try {
            return JWKSet.parse(new String(get(uri), StandardCharsets.UTF_8)).toPublicJWKSet();
        } catch (java.text.ParseException e) {
            throw new IOException("the JWKS does not parse: " + e.getMessage());
        }
    }

    /**
     * One document, within {@link #timeout} from the request to the last byte (the request's
     * timeout covers the whole exchange, so an issuer that sends its head and then trickles the
     * body cannot hold every caller of that issuer), and at most {@link #MAX_DOCUMENT_BYTES}.
     */
    private byte[] get(URI uri) throws IOException {
        Request request = http.newRequest(uri).timeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .headers(h -> h.put("Accept", "application/json"));
        ContentResponse response;
        try {
            response = new CompletableResponseListener(request, MAX_DOCUMENT_BYTES).send()
                    .get(timeout.toMillis() + 1_000, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            request.abort(e);
            throw new IOException(uri + " did not answer in full within " + timeout);
        } catch (ExecutionException e) {
            throw new IOException(uri + ": " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            request.abort(e);
            throw new IOException("interrupted fetching " + uri);
        }
        if (response.getStatus() != 200) {
            throw new IOException(uri + " answered " + response.getStatus());
        }
        return response.getContent();
    }

    /** Stops the loads this instance started (their callers see the issuer unreachable); the HTTP client is its owner's. */
    @Override
    public void close() {
        ownedLoads.ifPresent(ExecutorService::shutdownNow);
    }

    @Override
    public String toString() {
        return "IssuerKeys";
    }
}
