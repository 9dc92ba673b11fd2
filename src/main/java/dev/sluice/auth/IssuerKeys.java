package dev.sluice.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The signing keys of trusted OIDC issuers, fetched the way relying parties do: the issuer's
 * discovery document ({@code {issuer}/.well-known/openid-configuration}), whose {@code issuer}
 * must equal the configured one, then the JWKS at its {@code jwks_uri}.
 *
 * <p>Policy, per issuer:
 * <ul>
 *   <li>Keys are cached for {@link #KEYS_TTL} (15 min) after a successful fetch.</li>
 *   <li>A failed fetch is remembered for {@link #FAILURE_TTL} (30 s): lookups in that time fail
 *       at once with {@link Unreachable} instead of each waiting out the timeout against an
 *       issuer that is down.</li>
 *   <li>A {@code kid} not in the cached set triggers one refetch, so an issuer's key rotation
 *       is picked up at the first token signed with the new key. Such refetches are limited to
 *       one per issuer per {@link #REFETCH_INTERVAL} (30 s): tokens with made-up kids cost the
 *       issuer at most two requests a minute, not one each. A failed refetch keeps the keys
 *       already cached.</li>
 *   <li>Concurrent lookups that need a fetch share one (single flight): a cold start under load
 *       makes one request to the issuer, not one per caller.</li>
 * </ul>
 * Every request has a connect and a request timeout ({@link #DEFAULT_TIMEOUT} unless given).
 * Callers must only ask for issuers they trust: this class fetches whatever URL it is given.
 */
public final class IssuerKeys implements AutoCloseable {
    public static final Duration KEYS_TTL = Duration.ofMinutes(15);
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
    private final ConcurrentMap<String, IssuerState> issuers = new ConcurrentHashMap<>();

    public IssuerKeys(InstantSource clock) {
        this(clock, DEFAULT_TIMEOUT);
    }

    public IssuerKeys(InstantSource clock, Duration timeout) {
        this.clock = clock;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder()
                .connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    /** The issuer cannot give its keys now (unreachable, erroring, or answering nonsense). */
    public static final class Unreachable extends Exception {
        Unreachable(String issuer) {
            super("issuer unreachable: " + issuer, null, false, false);
        }
    }

    /**
     * The key {@code kid} of {@code issuer}, or empty when the issuer does not publish it (after
     * the one refetch the policy allows).
     */
    public Optional<JWK> find(String issuer, String kid) throws Unreachable {
        IssuerState state = issuers.computeIfAbsent(issuer, IssuerState::new);
        Instant now = clock.instant();
        Snapshot snapshot = state.fresh(now);
        boolean fetchedNow = false;
        if (snapshot == null) {
            snapshot = state.fetch(false);
            fetchedNow = true;
        }
        if (snapshot.keys.isEmpty()) {
            throw new Unreachable(issuer);
        }
        JWK key = snapshot.keys.get().getKeyByKeyId(kid);
        if (key != null || fetchedNow || !state.mayRefetchForUnknownKid(now)) {
            return Optional.ofNullable(key);
        }
        Snapshot refetched = state.fetch(true);
        if (refetched.keys.isEmpty()) {
            throw new Unreachable(issuer);
        }
        return Optional.ofNullable(refetched.keys.get().getKeyByKeyId(kid));
    }

    /** What one fetch gave: keys, or none (failed), and when. */
    private record Snapshot(Optional<JWKSet> keys, Instant at) {
        boolean freshAt(Instant now) {
            return now.isBefore(at.plus(keys.isPresent() ? KEYS_TTL : FAILURE_TTL));
        }
    }

    private final class IssuerState {
        private final String issuer;
        // guarded by this
        private Snapshot current;
        private CompletableFuture<Snapshot> inFlight;
        private Instant lastKidRefetch;

        IssuerState(String issuer) {
            this.issuer = issuer;
        }

        synchronized Snapshot fresh(Instant now) {
            return current != null && current.freshAt(now) ? current : null;
        }

        synchronized boolean mayRefetchForUnknownKid(Instant now) {
            if (lastKidRefetch != null && now.isBefore(lastKidRefetch.plus(REFETCH_INTERVAL))) {
                return false;
            }
            lastKidRefetch = now;
            return true;
        }

        /**
         * Joins the fetch in flight or starts one in this thread. {@code keepKeysOnFailure}: a
         * failed refetch for an unknown kid must not evict keys that still verify other tokens.
         */
        Snapshot fetch(boolean keepKeysOnFailure) {
            CompletableFuture<Snapshot> mine = null;
            CompletableFuture<Snapshot> shared;
            synchronized (this) {
                if (inFlight == null) {
                    mine = new CompletableFuture<>();
                    inFlight = mine;
                }
                shared = inFlight;
            }
            if (mine == null) {
                return shared.join();
            }
            Snapshot result = new Snapshot(Optional.empty(), clock.instant());
            try {
                result = new Snapshot(Optional.of(download(issuer)), clock.instant());
            } catch (IOException | RuntimeException e) {
                LOG.warn("fetching the keys of issuer {} failed: {}", issuer, e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                synchronized (this) {
                    boolean keep = result.keys.isEmpty() && keepKeysOnFailure && current != null && current.keys.isPresent();
                    if (!keep) {
                        current = result;
                    }
                    inFlight = null;
                }
                mine.complete(result);
            }
            return result;
        }
    }

    private JWKSet download(String issuer) throws IOException, InterruptedException {
        String base = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
        JsonNode discovery = JSON.readTree(get(URI.create(base + DISCOVERY_PATH)));
        if (!issuer.equals(discovery.path("issuer").asText(null))) {
            throw new IOException("the discovery document names another issuer");
        }
        String jwksUri = discovery.path("jwks_uri").asText("");
        URI uri = URI.create(jwksUri);
        if (!"https".equals(uri.getScheme()) && !"http".equals(uri.getScheme())) {
            throw new IOException("the discovery document has no http(s) jwks_uri");
        }
        try {
            return JWKSet.parse(get(uri)).toPublicJWKSet();
        } catch (java.text.ParseException e) {
            throw new IOException("the JWKS does not parse: " + e.getMessage());
        }
    }

    /**
     * One document, within {@link #timeout} from the request to the last byte: the client's
     * request timeout alone ends at the response head, and an issuer that sends its head and
     * then trickles the body would hold every caller of that issuer. At most
     * {@link #MAX_DOCUMENT_BYTES}.
     */
    private String get(URI uri) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(timeout).header("Accept", "application/json").GET().build();
        CompletableFuture<HttpResponse<byte[]>> call = http.sendAsync(request, info -> new LimitedBody(MAX_DOCUMENT_BYTES));
        HttpResponse<byte[]> response;
        try {
            response = call.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            call.cancel(true);
            throw new IOException(uri + " did not answer in full within " + timeout);
        } catch (ExecutionException e) {
            throw new IOException(uri + ": " + e.getCause(), e.getCause());
        }
        if (response.statusCode() != 200) {
            throw new IOException(uri + " answered " + response.statusCode());
        }
        return new String(response.body(), StandardCharsets.UTF_8);
    }

    /** A body collected into memory, refused (and the stream cancelled) past {@code max} bytes. */
    private static final class LimitedBody implements HttpResponse.BodySubscriber<byte[]> {
        private final CompletableFuture<byte[]> body = new CompletableFuture<>();
        private final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        private final int max;
        private Flow.Subscription subscription;

        LimitedBody(int max) {
            this.max = max;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return body;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            for (ByteBuffer b : items) {
                if (bytes.size() + b.remaining() > max) {
                    subscription.cancel();
                    body.completeExceptionally(new IOException("more than " + max + " bytes"));
                    return;
                }
                byte[] chunk = new byte[b.remaining()];
                b.get(chunk);
                bytes.write(chunk, 0, chunk.length);
            }
        }

        @Override
        public void onError(Throwable t) {
            body.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            body.complete(bytes.toByteArray());
        }
    }

    /** Closes the HTTP client, abandoning fetches in flight (their callers see the issuer unreachable). */
    @Override
    public void close() {
        http.shutdownNow();
    }

    @Override
    public String toString() {
        return "IssuerKeys" + issuers.keySet();
    }
}
