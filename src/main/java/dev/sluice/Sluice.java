package dev.sluice;

import dev.sluice.auth.AccessKeys;
import dev.sluice.auth.Identifier;
import dev.sluice.auth.IssuerKeys;
import dev.sluice.auth.Role;
import dev.sluice.auth.Scope;
import dev.sluice.auth.ScopeTemplate;
import dev.sluice.auth.SessionTokens;
import dev.sluice.auth.StsService;
import dev.sluice.auth.WebIdentityVerifier;
import dev.sluice.backend.AccessTokens;
import dev.sluice.backend.BearerToken;
import dev.sluice.backend.Backend;
import dev.sluice.backend.Backends;
import dev.sluice.backend.FederatedCredentials;
import dev.sluice.backend.TokenGrant;
import dev.sluice.backend.FileBackend;
import dev.sluice.cache.CircuitBreaker;
import dev.sluice.cache.RedisSharedStore;
import dev.sluice.cache.RefreshAheadCache;
import dev.sluice.cache.Sealer;
import dev.sluice.cache.SharedStore;
import dev.sluice.cache.SharedTier;
import dev.sluice.federation.CredentialCodec;
import dev.sluice.observe.CacheMetrics;
import dev.sluice.config.ConfigException;
import dev.sluice.config.SluiceConfig;
import dev.sluice.federation.CredentialFront;
import dev.sluice.federation.CredentialKey;
import dev.sluice.federation.CredentialTier;
import dev.sluice.federation.EntraExchange;
import dev.sluice.federation.GoogleExchange;
import dev.sluice.federation.GoogleServiceAccountExchange;
import dev.sluice.federation.TokenCodec;
import dev.sluice.federation.TokenExchange;
import dev.sluice.federation.TokenTier;
import dev.sluice.federation.OidcProvider;
import dev.sluice.federation.SigningKey;
import dev.sluice.federation.StsExchange;
import dev.sluice.observe.AccessLog;
import dev.sluice.observe.RequestMetrics;
import dev.sluice.protect.FleetSize;
import dev.sluice.protect.Gate;
import dev.sluice.observe.LimitStoreMetrics;
import dev.sluice.protect.ByteCounters;
import dev.sluice.protect.LocalByteCounters;
import dev.sluice.protect.LocalTokenBuckets;
import dev.sluice.protect.LimitStore;
import dev.sluice.protect.SharedLimits;
import dev.sluice.protect.TokenBuckets;
import dev.sluice.protect.IntervalUsageMeter;
import dev.sluice.protect.UsageMeter;
import dev.sluice.registry.BackendLocation;
import dev.sluice.registry.Caller;
import dev.sluice.registry.ControlPlaneApi;
import dev.sluice.registry.ControlPlaneRegistry;
import dev.sluice.registry.Product;
import dev.sluice.registry.ProductRef;
import dev.sluice.registry.Registry;
import dev.sluice.registry.StaticRegistry;
import dev.sluice.server.BodyBudget;
import dev.sluice.server.Reads;
import dev.sluice.server.RequestIds;
import dev.sluice.server.S3Handler;
import dev.sluice.server.UploadIds;
import dev.sluice.server.Writes;
import dev.sluice.server.SluiceServer;
import dev.sluice.server.VirtualHostStyle;
import dev.sluice.sigv2.SigV2Verifier;
import dev.sluice.sigv4.AwsCredentials;
import dev.sluice.sigv4.SigV4Verifier;
import dev.sluice.time.Ticker;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.net.URI;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.UUID;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import java.util.function.IntSupplier;

/**
 * The composition root: builds every component from the configuration and wires them by
 * constructor. Nothing else in sluice constructs a collaborator it was not handed.
 */
public final class Sluice implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Sluice.class);
    private final HttpClient backendHttp;
    private final Registry registry;
    private final SluiceServer server;
    private final RequestMetrics metrics;
    private final Optional<OidcProvider> oidc;
    /** (role, subject) → credentials usable now: the credential tier, or what a benchmark put in its place. */
    private final Optional<FederatedCredentials> credentials;
    private final ExecutorService loads;
    /** Hashes the content of files served by file backends, in the background, one at a time. */
    private final ExecutorService hashing;
    private final SharedStore sharedStore;
    private final S3Handler handler;
    private final AccessLog accessLog;
    private final UsageMeter usage;
    private final IssuerKeys issuerKeys;
    private final Optional<SluiceConfig.ControlPlane> controlPlane;
    /** Stops the limits' background flusher and writes their pending charges; set while the gate is built. */
    private AutoCloseable limitsFlusher = () -> { };
    /** The fleet size counted in the shared store, when it is not configured; with the thread that keeps it current. */
    private final Optional<FleetSize> fleet;
    private final Optional<ScheduledExecutorService> fleetHeartbeat;

    public Sluice(SluiceConfig config, InstantSource clock) {
        this(config, clock, CredentialFront.TIER);
    }

    /**
     * {@code front} builds what serves federated credentials over the loader chain: production
     * passes {@link CredentialFront#TIER}; benchmarks pass their baselines.
     */
    public Sluice(SluiceConfig config, InstantSource clock, CredentialFront front) {
        this.metrics = new RequestMetrics();
        this.backendHttp = newBackendHttpClient(config.backendTls());
        Optional<SluiceConfig.Shared.Redis> redis = config.cache().shared() instanceof SluiceConfig.Shared.Redis r
                ? Optional.of(r) : Optional.empty();
        this.sharedStore = redis.map(r -> sharedStore(r, clock)).orElse(SharedStore.NONE);
        this.server = new SluiceServer(config.server(), metrics, sharedStore::health, Ticker.SYSTEM);
        String publicUrl = config.server().publicUrl().orElse(server.s3Endpoint().toString());
        this.oidc = config.oidc().map(o -> new OidcProvider(o.issuer().orElse(publicUrl), signingKey(o.signingKey(), "oidc.signing_key"),
                o.previousKey().map(k -> signingKey(k, "oidc.previous_key")), clock));
        this.loads = Executors.newVirtualThreadPerTaskExecutor();
        this.hashing = FileBackend.hashWorker();
        // One sealer for every use of the shared tier (credentials, control-plane answers).
        Optional<Sealer> sealer = redis.map(r -> new Sealer(r.sealKey().bytes(), new SecureRandom()));
        this.credentials = oidc.map(provider -> {
            StsExchange exchange = new StsExchange(backendHttp, URI.create(config.sts().endpoint()), provider,
                    config.sts().timeout(), config.sts().sessionDuration(), () -> ThreadLocalRandom.current().nextDouble(),
                    Ticker.SYSTEM, CredentialTier.exchangeMetrics(metrics.registry()));
            SluiceConfig.Cache c = config.cache();
            RefreshAheadCache.Loader<CredentialKey, AwsCredentials> next = CredentialTier.exchanging(exchange);
            if (redis.isPresent()) {
                SluiceConfig.Shared.Redis r = redis.get();
                next = new SharedTier<>("cred", CredentialKey::sharedIdentity, sharedStore, sealer.orElseThrow(), new CredentialCodec(), next,
                        new SharedTier.Settings(r.lead(), c.refreshLead(), r.leaseTtl(), r.leaseWait(),
                                Duration.ofMillis(25)),
                        clock, Ticker.SYSTEM, loads, () -> UUID.randomUUID().toString(), new CacheMetrics(metrics.registry()).tierEvents("cred"));
            }
            return front.build(next, new CredentialFront.Settings(
                    new RefreshAheadCache.Policy(c.refreshLead(), c.minServe(), c.claimTimeout(), c.failureBackoff()),
                    c.maxWait(), clock, loads, () -> ThreadLocalRandom.current().nextDouble(), metrics.registry()));
        });
        AccessTokens tokens = tokenTier(config, clock, redis, sealer);
        Backends backends = new Backends(backendHttp, hashing, credentials, tokens, clock, Ticker.SYSTEM);
        this.controlPlane = config.registry().controlPlane();
        if (controlPlane.isPresent()) {
            SluiceConfig.ControlPlane cp = controlPlane.get();
            this.registry = new ControlPlaneRegistry(new ControlPlaneApi(backendHttp, cp.url(), oidc, cp.timeout()),
                    new ControlPlaneRegistry.Settings(cp.s3Endpoint(), cp.productTtl(), cp.dataConnectionTtl(), cp.productListTtl(),
                            cp.permissionsTtl(), cp.timeout(), cp.staleIfError()),
                    BackendLocation.Factory.building(backends), clock, loads,
                    () -> ThreadLocalRandom.current().nextDouble(), metrics.registry(),
                    redis.map(r -> new ControlPlaneRegistry.Shared(sharedStore, sealer.orElseThrow(), r.leaseTtl(), r.leaseWait(), loads,
                            () -> UUID.randomUUID().toString(), new CacheMetrics(metrics.registry()).tierEvents("cp"))));
        } else {
            List<Product> products = new ArrayList<>();
            for (SluiceConfig.Product p : config.registry().products()) {
                Backend backend;
                try {
                    backend = backends.build(p.backend());
                } catch (Backends.FederationNotConfigured e) {
                    throw new ConfigException(p.account() + "/" + p.product() + ": " + e.getMessage());
                }
                products.add(new Product(new ProductRef(p.account(), p.product()), p.visibility(), backend, p.writable()));
            }
            this.registry = new StaticRegistry(products);
        }
        SluiceConfig.Inbound inbound = config.inbound();
        SecureRandom random = new SecureRandom();
        Optional<SessionTokens> sessions = inbound.sts()
                .map(s -> new SessionTokens(s.sessionKey().bytes(), s.previousSessionKey().map(SluiceConfig.AesKey::bytes), random));
        SigV2Verifier sigV2 = config.server().virtualHostDomain()
                .map(domain -> new SigV2Verifier(clock, new VirtualHostStyle(domain).sigV2Resource()))
                .orElseGet(() -> new SigV2Verifier(clock));
        Identifier identifier = new Identifier(new SigV4Verifier(clock), sigV2, accessKeys(inbound), sessions, clock);
        this.issuerKeys = new IssuerKeys(backendHttp, clock, IssuerKeys.DEFAULT_TIMEOUT);
        Optional<StsService> sts = inbound.sts().map(s -> new StsService(
                s.roles().stream().map(Sluice::role).toList(),
                new WebIdentityVerifier(issuerKeys, clock), sessions.orElseThrow(), clock, random));
        this.accessLog = new AccessLog(clock, Ticker.SYSTEM, metrics.registry());
        this.usage = config.usage().map(u -> usageMeter(u, clock, random)).orElse(UsageMeter.NONE);
        // Counted in the shared store when limits are on and limits.fleet_size is not given (docs/protection.md, "Fleet size").
        boolean anyLimits = config.limits().isPresent() || config.registry().products().stream().anyMatch(p -> p.limits().limits());
        boolean countFleet = sharedStore != SharedStore.NONE && anyLimits
                && !config.limits().map(SluiceConfig.Protection::fleetSizeGiven).orElse(false);
        this.fleetHeartbeat = countFleet ? Optional.of(Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("sluice-fleet").daemon().factory())) : Optional.empty();
        this.fleet = fleetHeartbeat.map(scheduler -> {
            byte[] id = new byte[8];
            random.nextBytes(id);
            return new FleetSize(sharedStore, FleetSize.KEY, java.util.HexFormat.of().formatHex(id), clock).start(scheduler);
        });
        Writes writes = new Writes(registry, new UploadIds(uploadIdKey(config, random)), clock, publicUrl);
        this.handler = new S3Handler(new Reads(registry), writes, new RequestIds(() -> ThreadLocalRandom.current().nextLong()),
                metrics, accessLog, Version.current(), oidc, identifier, sts, config.server().bodyTimeout(),
                new BodyBudget(config.server().limits().bodyBudget(), metrics.registry()), config.server().virtualHostDomain(), Ticker.SYSTEM,
                gate(config, clock), usage);
    }

    /**
     * The limits (docs/protection.md): buckets and byte counters fleet-wide in the shared store,
     * with this instance's share of each limit when the store cannot answer; with no shared
     * store, this instance's own (a fleet of one unless {@code limits.fleet_size} says otherwise).
     */
    private Gate gate(SluiceConfig config, InstantSource clock) {
        int configured = config.limits().map(SluiceConfig.Protection::fleetSize).orElse(1);
        IntSupplier fleetSize = fleet.isPresent() ? fleet.get() : () -> configured;
        if (config.limits().isPresent() || fleet.isPresent()) {
            io.micrometer.core.instrument.Gauge.builder("sluice.limit.fleet.size", fleetSize, IntSupplier::getAsInt).strongReference(true)
                    .description("Instances this one divides a limit by when it decides alone").register(metrics.registry());
        }
        LimitStoreMetrics observer = new LimitStoreMetrics(metrics.registry());
        // A control-plane product's limits come with its cached answer (docs/protection.md, "Limits from the control plane").
        Optional<Gate.ControlPlaneLimits> fromControlPlane = registry instanceof ControlPlaneRegistry cp
                ? Optional.of((account, product, principal, requestId) -> cp.limits(new ProductRef(account, product),
                        principal.subject().map(s -> Caller.authenticated(s, requestId)).orElseGet(() -> Caller.anonymous(requestId))))
                : Optional.empty();
        return Gate.of(config, fromControlPlane, () -> {
            TokenBuckets buckets = new LocalTokenBuckets(fleetSize, Ticker.SYSTEM, observer);
            ByteCounters counters = new LocalByteCounters(fleetSize, clock);
            if (sharedStore == SharedStore.NONE) {
                return LimitStore.of(buckets, counters);
            }
            // Lease refills wait on Redis (within its timeout), one per key at most: virtual threads.
            SharedLimits shared = new SharedLimits(sharedStore, buckets, counters, observer, Ticker.SYSTEM, clock,
                    r -> Thread.ofVirtual().name("limit-refill").start(r), fleetSize, UUID.randomUUID().toString());
            ScheduledExecutorService flusher = Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().name("limit-flush").daemon().factory());
            long every = SharedLimits.FLUSH_INTERVAL.toMillis();
            // A task that throws is never run again: a flush that failed in an unforeseen way must not stop the next.
            flusher.scheduleWithFixedDelay(() -> {
                try {
                    shared.flush();
                } catch (RuntimeException e) {
                    LOG.warn("limits flush failed: {}", e.toString());
                }
            }, every, every, TimeUnit.MILLISECONDS);
            limitsFlusher = () -> {
                flusher.shutdown();
                flusher.awaitTermination(1, TimeUnit.SECONDS);
                shared.close();
            };
            return shared;
        }, metrics.registry());
    }

    /**
     * The key multipart upload ids are sealed with (docs/configuration.md): {@code server.upload_id_key},
     * else the inbound session key, which a fleet already shares; without either a key of this
     * process alone, and an upload started here can be continued only here.
     */
    static byte[] uploadIdKey(SluiceConfig config, SecureRandom random) {
        Optional<SluiceConfig.AesKey> key = config.server().uploadIdKey()
                .or(() -> config.inbound().sts().map(SluiceConfig.InboundSts::sessionKey));
        if (key.isPresent()) {
            return key.get().bytes();
        }
        LOG.info("multipart upload ids are sealed with a key of this process (set server.upload_id_key_env, or "
                + "inbound.sts.session_key_env): an upload started on this instance cannot be continued on another, "
                + "nor after a restart");
        byte[] random32 = new byte[32];
        random.nextBytes(random32);
        return random32;
    }

    /**
     * The usage meter of {@code usage} (docs/protection.md, "Usage metering"). Without an
     * {@code instance_id} the instance is named at random: a host name would be shared by two
     * processes on one host, whose lines would then look like duplicates.
     */
    private UsageMeter usageMeter(SluiceConfig.Usage u, InstantSource clock, SecureRandom random) {
        String instance = u.instanceId().orElseGet(() -> {
            byte[] id = new byte[6];
            random.nextBytes(id);
            String generated = "sluice-" + java.util.HexFormat.of().formatHex(id);
            LOG.info("usage lines name this instance {} (set usage.instance_id to choose)", generated);
            return generated;
        });
        IntervalUsageMeter.Settings settings = new IntervalUsageMeter.Settings(u.file(), u.interval(),
                u.clientHashKey().map(k -> k.value().getBytes(java.nio.charset.StandardCharsets.UTF_8)), instance, u.maxKeys());
        try {
            return IntervalUsageMeter.start(settings, clock, metrics.registry());
        } catch (java.io.UncheckedIOException e) {
            throw new ConfigException("usage.file: " + e.getMessage());
        }
    }

    private static AccessKeys accessKeys(SluiceConfig.Inbound inbound) {
        return new AccessKeys(inbound.accessKeys().stream()
                .map(k -> new AccessKeys.Entry(k.accessKeyId(), k.secretAccessKey().value(), k.name(), k.expiresAt(), k.enabled(),
                        k.scopes().stream().map(s -> new Scope(s.product(), s.prefixes(), s.actions())).toList()))
                .toList());
    }

    private static Role role(SluiceConfig.Role r) {
        return new Role(r.id(), r.trustedIssuers(), r.audiences(), r.subjects(), r.maxSessionDuration(), r.maxTokenLifetime(),
                r.scopes().stream().map(s -> new ScopeTemplate(s.product(), s.prefixes(), s.actions())).toList());
    }

    /**
     * Bearer tokens of Azure Blob and GCS backends: the same L1 policy, wait bound and loads
     * executor as the credential tier, over the sealed shared tier when configured, over the
     * exchange each grant names, within {@code sts.timeout} (docs/federation.md, "Azure Blob and GCS tokens").
     */
    private AccessTokens tokenTier(SluiceConfig config, InstantSource clock, Optional<SluiceConfig.Shared.Redis> redis,
                                   Optional<Sealer> sealer) {
        TokenExchange.Observer observer = TokenTier.exchangeMetrics(metrics.registry());
        Duration timeout = config.sts().timeout();
        DoubleSupplier jitter = () -> ThreadLocalRandom.current().nextDouble();
        RefreshAheadCache.Loader<TokenGrant, BearerToken> next = TokenTier.exchanging(
                oidc.map(o -> new EntraExchange(backendHttp, o, timeout, jitter, Ticker.SYSTEM, clock, observer)),
                oidc.map(o -> new GoogleExchange(backendHttp, o, timeout, jitter, Ticker.SYSTEM, clock, observer)),
                new GoogleServiceAccountExchange(backendHttp, timeout, jitter, Ticker.SYSTEM, clock, observer));
        SluiceConfig.Cache c = config.cache();
        if (redis.isPresent()) {
            SluiceConfig.Shared.Redis r = redis.get();
            next = new SharedTier<>("tok", TokenGrant::sharedIdentity, sharedStore, sealer.orElseThrow(), new TokenCodec(), next,
                    new SharedTier.Settings(r.lead(), c.refreshLead(), r.leaseTtl(), r.leaseWait(), Duration.ofMillis(25)),
                    clock, Ticker.SYSTEM, loads, () -> UUID.randomUUID().toString(), new CacheMetrics(metrics.registry()).tierEvents("tok"));
        }
        return new TokenTier(next, new RefreshAheadCache.Policy(c.refreshLead(), c.minServe(), c.claimTimeout(), c.failureBackoff()),
                clock, loads, jitter, c.maxWait(), metrics.registry());
    }

    private SharedStore sharedStore(SluiceConfig.Shared.Redis shared, InstantSource clock) {
        CacheMetrics cacheMetrics = new CacheMetrics(metrics.registry());
        CircuitBreaker breaker = new CircuitBreaker(shared.breakerFailures(), shared.breakerOpen(), clock);
        cacheMetrics.breaker(breaker);
        return new RedisSharedStore(shared.uri(), shared.timeout(), breaker, Ticker.SYSTEM, cacheMetrics.storeCalls());
    }

    private static SigningKey signingKey(SluiceConfig.Key key, String path) {
        try {
            SigningKey parsed = SigningKey.fromPem(key.pem().value(), "pending");
            String kid = key.kid().orElseGet(() -> SigningKey.thumbprint(parsed.publicKey()));
            return new SigningKey(kid, parsed.privateKey(), parsed.publicKey());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path + ": " + e.getMessage());
        }
    }

    public Optional<OidcProvider> oidc() {
        return oidc;
    }

    /**
     * One client for every S3 backend. Bytes pass through untouched: no content decoding, no
     * redirects followed, no User-Agent of Jetty's own.
     */
    private static HttpClient newBackendHttpClient(SluiceConfig.BackendTls tls) {
        HttpClient http = new HttpClient();
        // backend_tls.ca_file: trusted besides the JVM's certificates on every outbound call (docs/configuration.md).
        http.setSslContextFactory(dev.sluice.backend.OutboundTls.trusting(tls.certificates()));
        // Its threads may read a server connection's next request after sending a reply (SluiceServer).
        QueuedThreadPool threads = dev.sluice.server.SluiceServer.replyingPool(32, 2);
        threads.setName("sluice-backend");
        // The client's blocking work (reading a response for a request's virtual thread) runs on
        // virtual threads too: the hand-off back to the request is cheaper than from a platform
        // thread (bench/get-vs-direct.sh: 8-12 % less CPU per small GET through the S3 backend).
        threads.setVirtualThreadsExecutor(dev.sluice.server.VirtualThreads.starting("sluice-backend-io"));
        http.setExecutor(threads);
        // A store's answer is read on the client's selector, whose callbacks only complete a
        // future, wake a waiting thread or send a small read's reply without waiting; a body is
        // copied by the request's own thread (ReplyWriter), never by the selector. This saves a
        // virtual thread and a wake-up per answer (BENCHMARKS.md, "An S3 read sent from the selector").
        http.getHttpClientTransport().setInvocationType(org.eclipse.jetty.util.thread.Invocable.InvocationType.NON_BLOCKING);
        http.setFollowRedirects(false);
        http.setUserAgentField(null);
        http.setConnectTimeout(5_000);
        http.setMaxConnectionsPerDestination(256);
        // Larger reads mean fewer chunks per object on the pass-through path.
        http.setResponseBufferSize(64 * 1024);
        return http;
    }

    public void start() throws Exception {
        backendHttp.start();
        // Emptied after start: an empty set at start is filled with every decoder on the class
        // path (gzip among them), which removed Content-Length from an object stored with
        // Content-Encoding: gzip and decoded its bytes (docs/behaviour.md, "S3 backend").
        backendHttp.getContentDecoderFactories().clear();
        server.start(handler);
        // The API may come up after sluice: unreachable is a warning, and the check must not delay startup.
        controlPlane.ifPresent(cp -> Thread.ofVirtual().name("control-plane-probe").start(() ->
                ControlPlaneRegistry.unreachable(cp.url(), cp.timeout()).ifPresent(problem ->
                        LOG.warn("{}; requests needing it will answer 503 until it is", problem))));
    }

    public SluiceServer server() {
        return server;
    }

    public RequestMetrics metrics() {
        return metrics;
    }

    @Override
    public void close() throws Exception {
        try {
            server.stop();
        } finally {
            // After the server: the lines of the requests it drained are queued by now, and are written before this returns.
            accessLog.close();
            // Likewise: the drained requests are in the last interval's lines.
            usage.close();
            // Likewise: the drained requests' charges reach the fleet's counters before the store closes.
            try {
                limitsFlusher.close();
            } catch (Exception e) {
                LOG.warn("writing the limits' last charges failed: {}", e.toString());
            }
            registry.close();
            issuerKeys.close();
            loads.shutdownNow();
            hashing.shutdownNow();
            fleet.ifPresent(FleetSize::close);
            fleetHeartbeat.ifPresent(ExecutorService::shutdownNow);
            sharedStore.close();
            backendHttp.stop();
        }
    }
}
