package dev.sluice.registry;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.sluice.backend.AzureAuth;
import dev.sluice.backend.Backend;
import dev.sluice.backend.BackendAuth;
import dev.sluice.backend.BackendSpec;
import dev.sluice.backend.Backends;
import dev.sluice.backend.GcsAuth;
import dev.sluice.backend.KeyOrder;
import dev.sluice.backend.TokenGrant;
import dev.sluice.cache.RefreshAheadCache;
import dev.sluice.cache.Sealer;
import dev.sluice.cache.SharedStore;
import dev.sluice.cache.SharedTier;
import dev.sluice.config.SluiceConfig;
import dev.sluice.observe.CounterFamily;
import dev.sluice.registry.ControlPlaneDocuments.ConnectionAuth;
import dev.sluice.registry.ControlPlaneDocuments.DataConnectionDocument;
import dev.sluice.registry.ControlPlaneDocuments.ProductDocument;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.backend.HttpEndpoint;
import io.micrometer.core.instrument.Counter;
import org.eclipse.jetty.client.HttpClient;
import io.micrometer.core.instrument.MeterRegistry;

import java.net.URI;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Products resolved through a Source-Cooperative-style control-plane API
 * ({@code testdata/control-plane/README.md}; docs/control-plane.md):
 * product → mirror ({@code primary_mirror}, else the first) → data connection → backend
 * location (bucket, region, endpoint, prefix = {@code base_prefix} + mirror prefix) → backend
 * authentication.
 *
 * <p>Every rule fails closed: a visibility other than {@code "public"} is not public; a
 * disabled product is not served; a connection that does not say it is {@code read_only} (or
 * not), or whose {@code authentication} is anything but absent/null or a well-formed
 * {@code s3_web_identity_role}, {@code azure_workload_identity} or {@code gcp_workload_identity}
 * that fits its provider, is refused with 502 and never read unsigned instead.
 *
 * <p>Failures: API 404 → {@code NoSuchBucket}. 401/403 on a product or a product list also
 * → {@code NoSuchBucket} (a refusal would tell the caller the product exists); on a data
 * connection or permissions, whose product the caller already knows, → {@code AccessDenied}.
 * Outages (5xx, timeout, refused connection, unparseable body) → 503 with Retry-After, unless a
 * stale answer may be served ({@link DocumentCache}). Names that could change the API path
 * ({@code ..}, '/', anything outside {@code [A-Za-z0-9._-]}) never reach the API.
 *
 * <p>Writes need more than a read: the caller's {@code write} permission and a writable,
 * federated data connection ({@link Product#acceptsWrites()}).
 *
 * <p>A warm resolution is two L1 hits (product, data connection) and one identity lookup of
 * the backend resolved for that product answer; backends are built once per distinct location
 * and shared by every product on it.
 *
 * <p>Metrics: {@code sluice_control_plane_fetches_total{kind,outcome}} (ok, not_found, denied,
 * unavailable), {@code sluice_control_plane_lookups_total{kind,outcome}} (the L1's hit,
 * renewing, miss, error) and {@code sluice_control_plane_stale_served_total{kind}}.
 */
public final class ControlPlaneRegistry implements Registry {
    private static final Logger LOG = LoggerFactory.getLogger(ControlPlaneRegistry.class);
    /** The subject sluice asserts for a data connection: to STS for its role, to Entra ID or Google's STS for a token. */
    public static final String CONNECTION_SUBJECT_PREFIX = "scv1:conn:";
    /** Per-kind TTLs, the API timeout and the stale-if-error window; {@code s3Endpoint} as in the config. */
    public record Settings(Optional<String> s3Endpoint, Duration productTtl, Duration dataConnectionTtl,
                           Duration productListTtl, Duration permissionsTtl, Duration timeout, Duration staleIfError) {
    }

    /**
     * The shared tier (L2) for control-plane answers, when {@code cache.shared} is configured:
     * the same store and sealer as the credential tier, namespace {@code cp}. Leases and polling
     * as for credentials; the lead is the documents' own ({@code TTL/5}, see {@link DocumentCache}).
     */
    public record Shared(SharedStore store, Sealer sealer, Duration leaseTtl, Duration leaseWait, Executor writeBack,
                         Supplier<String> leaseTokens, SharedTier.Observer observer) {
    }

    private final ControlPlaneApi api;
    private final Settings settings;
    private final BackendLocation.Factory backends;
    private final DocumentCache<ProductDocument> products;
    private final DocumentCache<DataConnectionDocument> connections;
    private final DocumentCache<List<ProductDocument>> productLists;
    private final DocumentCache<Set<String>> permissions;
    private final Cache<BackendSpec, Backend> built = Caffeine.newBuilder().maximumSize(10_000).build();
    /** Keyed by identity (weak keys): a product answer as cached, and what it resolved to. */
    private final Cache<ProductDocument, Resolved> resolved = Caffeine.newBuilder().weakKeys().maximumSize(100_000).build();
    /** Product answers whose malformed limits were logged (by identity): a refreshed answer is logged again. */
    private final Cache<ProductDocument, Boolean> malformedLimitsLogged = Caffeine.newBuilder().weakKeys().maximumSize(10_000).build();

    public ControlPlaneRegistry(ControlPlaneApi api, Settings settings, BackendLocation.Factory backends, InstantSource clock,
                                Executor loads, DoubleSupplier jitter, MeterRegistry meters) {
        this(api, settings, backends, clock, loads, jitter, meters, Optional.empty());
    }

    public ControlPlaneRegistry(ControlPlaneApi api, Settings settings, BackendLocation.Factory backends, InstantSource clock,
                                Executor loads, DoubleSupplier jitter, MeterRegistry meters, Optional<Shared> shared) {
        this.api = api;
        this.settings = settings;
        this.backends = backends;
        Optional<DocumentCache.Shared> l2 = shared.map(s -> new DocumentCache.Shared(s.store(), s.sealer(), api.baseUrl(),
                s.leaseTtl(), s.leaseWait(), s.writeBack(), s.leaseTokens(), s.observer()));
        this.products = new DocumentCache<>(api, ControlPlaneDocuments::product, settings.productTtl(), settings.staleIfError(),
                settings.timeout(), clock, loads, jitter, observer("product", meters), l2);
        this.connections = new DocumentCache<>(api, ControlPlaneDocuments::dataConnection, settings.dataConnectionTtl(),
                settings.staleIfError(), settings.timeout(), clock, loads, jitter, observer("data_connection", meters), l2);
        this.productLists = new DocumentCache<>(api, ControlPlaneDocuments::productList, settings.productListTtl(),
                settings.staleIfError(), settings.timeout(), clock, loads, jitter, observer("product_list", meters), l2);
        this.permissions = new DocumentCache<>(api, ControlPlaneDocuments::permissions, settings.permissionsTtl(),
                settings.staleIfError(), settings.timeout(), clock, loads, jitter, observer("permissions", meters), l2);
    }

    @Override
    public Optional<Product> find(ProductRef ref) {
        return find(ref, Caller.anonymous("-"));
    }

    @Override
    public List<Product> list(String account) {
        return list(account, Caller.anonymous("-"));
    }

    @Override
    public Optional<Product> find(ProductRef ref, Caller caller) {
        Optional<ProductDocument> doc = productDocument(ref, caller);
        if (doc.isEmpty() || doc.get().disabled()) {
            return Optional.empty();
        }
        if (!doc.get().isPublic()) {
            // Resolved only if the read path lets the caller see it, so that a restricted
            // product's broken connection cannot answer 502 to a caller who may not know it exists.
            return Optional.of(new Product(ref, Visibility.RESTRICTED, deferred(ref, doc.get(), caller),
                    writeAccess(ref, doc.get(), caller)));
        }
        Backend backend = resolvedBackend(ref, doc.get(), caller);
        return Optional.of(new Product(ref, Visibility.PUBLIC, () -> backend, writeAccess(ref, doc.get(), caller)));
    }

    /**
     * The backend of a public product, remembered per product document (by identity) together
     * with the data-connection document it was built from: while both answers are the same
     * cached instances, a warm resolution is two L1 hits and an identity lookup, and the
     * composition (mirror, endpoint, prefix, authentication) is not redone. A refreshed answer
     * is a new instance, so the location is composed again and checked again.
     */
    private Backend resolvedBackend(ProductRef ref, ProductDocument doc, Caller caller) {
        Resolved known = resolved.getIfPresent(doc);
        if (known != null && connection(ref, known.mirror(), caller) == known.connection()) {
            return known.backend();
        }
        ControlPlaneDocuments.Mirror mirror = mirror(ref, doc);
        DataConnectionDocument c = connection(ref, mirror, caller);
        Backend b = backend(location(ref, mirror, c));
        resolved.put(doc, new Resolved(mirror, c, b));
        return b;
    }

    private record Resolved(ControlPlaneDocuments.Mirror mirror, DataConnectionDocument connection, Backend backend) {
    }

    /**
     * The account's products as the API lists them to {@code caller}, without disabled ones, in
     * S3 key order. Backends are resolved only when a listing walks into a product.
     */
    @Override
    public List<Product> list(String account, Caller caller) {
        if (!validName(account)) {
            return List.of();
        }
        List<ProductDocument> docs;
        try {
            docs = productLists.get("/api/v1/products/" + account, caller);
        } catch (ControlPlaneApi.Failure f) {
            if (f.kind() == ControlPlaneApi.FailureKind.UNAVAILABLE) {
                throw S3Exception.unavailable("control plane: product list of " + account + ": " + f.getMessage(), f);
            }
            return List.of();
        }
        return docs.stream()
                .filter(d -> !d.disabled() && validName(d.productId()))
                .map(d -> {
                    ProductRef ref = new ProductRef(account, d.productId());
                    return new Product(ref, d.isPublic() ? Visibility.PUBLIC : Visibility.RESTRICTED, deferred(ref, d, caller));
                })
                .sorted(Comparator.comparing(p -> p.ref().product(), KeyOrder.COMPARATOR))
                .toList();
    }

    /**
     * The product's own limits as its answer carries them (docs/control-plane.md, "Limits"),
     * from the same cached answer the read path resolves the product with, so asking costs no
     * API call of its own. Empty when it carries none, when the product is unknown, hidden or
     * disabled, and when its limits are malformed: that is logged (once per answer, naming the
     * product) and the product keeps the default limits.
     */
    public Optional<SluiceConfig.ProductLimits> limits(ProductRef ref, Caller caller) {
        Optional<ProductDocument> doc = productDocument(ref, caller).filter(d -> !d.disabled());
        if (doc.isEmpty()) {
            return Optional.empty();
        }
        return switch (doc.get().limits()) {
            case ControlPlaneDocuments.Limits.None n -> Optional.empty();
            case ControlPlaneDocuments.Limits.Given g -> Optional.of(g.limits());
            case ControlPlaneDocuments.Limits.Malformed m -> {
                if (malformedLimitsLogged.asMap().putIfAbsent(doc.get(), Boolean.TRUE) == null) {
                    LOG.warn("control plane: product {} has malformed limits ({}); it is served with the default product limits",
                            ref, m.problem());
                }
                yield Optional.empty();
            }
        };
    }

    /** Where {@code ref}'s bytes are, as {@code caller} is told; empty when the product is unknown, hidden or disabled. */
    public Optional<BackendSpec> locate(ProductRef ref, Caller caller) {
        return productDocument(ref, caller).filter(d -> !d.disabled()).map(d -> location(ref, d, caller));
    }

    /**
     * The caller's permissions on {@code ref} ({@code GET .../permissions}). Asked only for
     * authenticated callers: an anonymous caller has none and costs the API nothing.
     */
    public Set<String> permissions(ProductRef ref, Caller caller) {
        if (caller.isAnonymous() || !validRef(ref)) {
            return Set.of();
        }
        try {
            return permissions.get(productPath(ref) + "/permissions", caller);
        } catch (ControlPlaneApi.Failure f) {
            if (f.kind() == ControlPlaneApi.FailureKind.UNAVAILABLE) {
                throw S3Exception.unavailable("control plane: permissions on " + ref + ": " + f.getMessage(), f);
            }
            return Set.of();
        }
    }

    private Optional<ProductDocument> productDocument(ProductRef ref, Caller caller) {
        if (!validRef(ref)) {
            return Optional.empty();
        }
        try {
            return Optional.of(products.get(productPath(ref), caller));
        } catch (ControlPlaneApi.Failure f) {
            if (f.kind() == ControlPlaneApi.FailureKind.UNAVAILABLE) {
                throw S3Exception.unavailable("control plane: product " + ref + ": " + f.getMessage(), f);
            }
            return Optional.empty();
        }
    }

    private BackendSpec location(ProductRef ref, ProductDocument doc, Caller caller) {
        ControlPlaneDocuments.Mirror mirror = mirror(ref, doc);
        return location(ref, mirror, connection(ref, mirror, caller));
    }

    private BackendSpec location(ProductRef ref, ControlPlaneDocuments.Mirror mirror, DataConnectionDocument c) {
        readOnly(c);
        String id = mirror.connectionId().orElseThrow();
        String prefix = c.basePrefix() + mirror.prefix();
        if (prefix.startsWith("/")) {
            throw misconfigured(ref, "data connection " + id + " composes prefix '" + prefix + "', which starts with '/'");
        }
        String subject = CONNECTION_SUBJECT_PREFIX + id;
        return switch (c.provider()) {
            case "s3" -> {
                String bucket = c.bucket().filter(b -> !b.isBlank())
                        .orElseThrow(() -> misconfigured(ref, "data connection " + id + " names no bucket"));
                String region = c.region().filter(r -> !r.isBlank()).orElse("us-east-1");
                URI endpoint = endpoint(ref, id, c.endpoint().or(settings::s3Endpoint).orElse("https://s3." + region + ".amazonaws.com"));
                BackendAuth auth = switch (c.auth()) {
                    case ConnectionAuth.Unsigned u -> new BackendAuth.Anonymous();
                    case ConnectionAuth.WebIdentityRole w -> new BackendAuth.WebIdentity(w.roleArn(), subject);
                    default -> throw wrongAuth(ref, id, c);
                };
                yield new BackendSpec.S3(endpoint, region, bucket, prefix, auth, BackendLocation.BACKEND_TIMEOUT);
            }
            case "az", "azure" -> {
                String account = c.accountName().filter(a -> !a.isBlank())
                        .orElseThrow(() -> misconfigured(ref, "data connection " + id + " names no account_name"));
                String container = c.containerName().filter(a -> !a.isBlank())
                        .orElseThrow(() -> misconfigured(ref, "data connection " + id + " names no container_name"));
                URI endpoint = endpoint(ref, id, c.endpoint().orElse("https://" + account + ".blob.core.windows.net"));
                AzureAuth auth = switch (c.auth()) {
                    case ConnectionAuth.Unsigned u -> new AzureAuth.Anonymous();
                    case ConnectionAuth.AzureWorkloadIdentity a -> new AzureAuth.Federated(new TokenGrant.Entra(
                            endpoint(ref, id, a.tokenEndpoint().orElse("https://login.microsoftonline.com/" + a.tenantId()
                                    + "/oauth2/v2.0/token")), a.tenantId(), a.clientId(), subject));
                    default -> throw wrongAuth(ref, id, c);
                };
                yield new BackendSpec.Azure(endpoint, account, container, prefix, auth, BackendLocation.BACKEND_TIMEOUT);
            }
            case "gcs", "gs" -> {
                String bucket = c.bucket().filter(b -> !b.isBlank())
                        .orElseThrow(() -> misconfigured(ref, "data connection " + id + " names no bucket"));
                URI endpoint = endpoint(ref, id, c.endpoint().orElse("https://storage.googleapis.com"));
                GcsAuth auth = switch (c.auth()) {
                    case ConnectionAuth.Unsigned u -> new GcsAuth.Anonymous();
                    case ConnectionAuth.GcpWorkloadIdentity g -> new GcsAuth.Token(new TokenGrant.GoogleFederation(
                            endpoint(ref, id, g.stsEndpoint().orElse("https://sts.googleapis.com/v1/token")), g.audience(),
                            g.serviceAccount(), endpoint(ref, id, g.iamEndpoint().orElse("https://iamcredentials.googleapis.com")),
                            subject));
                    default -> throw wrongAuth(ref, id, c);
                };
                yield new BackendSpec.Gcs(endpoint, bucket, prefix, auth, BackendLocation.BACKEND_TIMEOUT);
            }
            default -> throw misconfigured(ref, "data connection " + id + " has unknown provider '" + c.provider() + "'");
        };
    }

    private S3Exception wrongAuth(ProductRef ref, String id, DataConnectionDocument c) {
        String why = c.auth() instanceof ConnectionAuth.Unsupported u ? u.why()
                : "authentication " + c.auth().type() + " for provider '" + c.provider() + "'";
        return misconfigured(ref, "data connection " + id + ": unsupported " + why + " (refused, never read unsigned)");
    }

    private URI endpoint(ProductRef ref, String id, String url) {
        if (!HttpEndpoint.isValid(url)) {
            throw misconfigured(ref, "data connection " + id + " has endpoint '" + url + "', not an http(s) URL");
        }
        return URI.create(url.replaceAll("/+$", ""));
    }

    private ControlPlaneDocuments.Mirror mirror(ProductRef ref, ProductDocument doc) {
        ControlPlaneDocuments.Mirror mirror = doc.mirror().orElseThrow(() -> misconfigured(ref, "product has no mirror"));
        if (mirror.connectionId().filter(ControlPlaneRegistry::validName).isEmpty()) {
            throw misconfigured(ref, "mirror '" + mirror.name() + "' has no valid connection_id");
        }
        return mirror;
    }

    private DataConnectionDocument connection(ProductRef ref, ControlPlaneDocuments.Mirror mirror, Caller caller) {
        String id = mirror.connectionId().orElseThrow();
        DataConnectionDocument c;
        try {
            c = connections.get("/api/v1/data-connections/" + id, caller);
        } catch (ControlPlaneApi.Failure f) {
            throw switch (f.kind()) {
                case UNAVAILABLE -> S3Exception.unavailable("control plane: data connection " + id + " of " + ref + ": "
                        + f.getMessage(), f);
                case DENIED -> new S3Exception(S3Error.ACCESS_DENIED, S3Error.ACCESS_DENIED.defaultMessage(),
                        new S3Exception.DependencyFailure("control plane refused data connection " + id + " of " + ref, f));
                case NOT_FOUND -> misconfigured(ref, "data connection " + id + " does not exist");
            };
        }
        if (!c.id().isEmpty() && !c.id().equals(id)) {
            throw misconfigured(ref, "data connection " + id + " calls itself '" + c.id() + "'");
        }
        return c;
    }

    private boolean readOnly(DataConnectionDocument c) {
        return c.readOnly().orElseThrow(() -> new S3Exception(S3Error.BACKEND_AUTHENTICATION_FAILED,
                S3Error.BACKEND_AUTHENTICATION_FAILED.defaultMessage(), new S3Exception.DependencyFailure(
                "control plane: data connection " + c.id() + " does not say whether it is read_only; refused", null)));
    }

    private Backend backend(BackendSpec location) {
        try {
            return built.get(location, backends::build);
        } catch (Backends.FederationNotConfigured e) {
            throw new S3Exception(S3Error.BACKEND_AUTHENTICATION_FAILED, S3Error.BACKEND_AUTHENTICATION_FAILED.defaultMessage(),
                    new S3Exception.DependencyFailure("control plane: " + e.getMessage(), null));
        }
    }

    /**
     * Whether {@code caller} may write to the product (docs/control-plane.md, "Permissions"):
     * {@code write} among the caller's permissions, and a data connection that says
     * {@code read_only: false} and is reached with a federated role (a connection read unsigned
     * is a public bucket sluice holds no credentials for). Asked only for a write, after the
     * caller's scopes allowed it, so an anonymous caller or a read costs the API nothing.
     */
    private Product.WriteAccess writeAccess(ProductRef ref, ProductDocument doc, Caller caller) {
        return () -> {
            if (!permissions(ref, caller).contains("write")) {
                return false;
            }
            DataConnectionDocument c = connection(ref, mirror(ref, doc), caller);
            return !readOnly(c) && c.auth() instanceof ControlPlaneDocuments.ConnectionAuth.WebIdentityRole;
        };
    }

    /** Resolved only when the read path asks, after authorization. */
    private Product.BackendResolver deferred(ProductRef ref, ProductDocument doc, Caller caller) {
        return () -> backend(location(ref, doc, caller));
    }

    /**
     * The control plane describes a product sluice cannot serve safely. 502 with the code S3
     * clients already treat as "the proxy could not reach its storage"; the detail is logged.
     */
    private static S3Exception misconfigured(ProductRef ref, String detail) {
        return new S3Exception(S3Error.BACKEND_AUTHENTICATION_FAILED, S3Error.BACKEND_AUTHENTICATION_FAILED.defaultMessage(),
                new S3Exception.DependencyFailure("control plane: " + ref + ": " + detail, null));
    }

    private static boolean validRef(ProductRef ref) {
        return validName(ref.account()) && validName(ref.product());
    }

    /**
     * {@code [A-Za-z0-9][A-Za-z0-9._-]{0,254}}: a name that cannot change the API path. Checked
     * on every resolution, so by hand rather than with a regex (a warm resolution's largest cost).
     */
    static boolean validName(String name) {
        int n = name.length();
        if (n == 0 || n > 255 || !alnum(name.charAt(0))) {
            return false;
        }
        for (int i = 1; i < n; i++) {
            char c = name.charAt(i);
            if (!alnum(c) && c != '.' && c != '_' && c != '-') {
                return false;
            }
        }
        return true;
    }

    private static boolean alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }

    private static String productPath(ProductRef ref) {
        return "/api/v1/products/" + ref.account() + "/" + ref.product();
    }

    /**
     * Whether the API answers HTTP at all, for startup and {@code check-config}: a problem
     * description, or empty. Any status counts as reachable; the API may come up after sluice,
     * so callers report a problem as a warning, never as a failure to start.
     */
    public static Optional<String> unreachable(String url, Duration timeout) {
        HttpClient http = new HttpClient();
        http.setConnectTimeout(timeout.toMillis());
        http.setFollowRedirects(false);
        try {
            http.start();
            http.newRequest(URI.create(url)).timeout(timeout.toMillis(), TimeUnit.MILLISECONDS).send();
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted checking control plane " + url);
        } catch (Exception e) {
            return Optional.of("control plane " + url + " is not reachable: " + e);
        } finally {
            try {
                http.stop();
            } catch (Exception e) {
                // nothing to do: the probe's answer is already decided
            }
        }
    }

    /**
     * None: the API has no call that lists accounts (only an account's products), so
     * ListBuckets on a control-plane sluice is an empty list (docs/control-plane.md).
     */
    @Override
    public List<String> accounts() {
        return List.of();
    }

    @Override
    public void close() {
        resolved.invalidateAll();
        built.asMap().values().forEach(Backend::close);
        built.invalidateAll();
    }

    private static DocumentCache.Observer observer(String kind, MeterRegistry meters) {
        Map<RefreshAheadCache.Outcome, Counter> lookups = new EnumMap<>(RefreshAheadCache.Outcome.class);
        for (RefreshAheadCache.Outcome o : RefreshAheadCache.Outcome.values()) {
            lookups.put(o, Counter.builder("sluice.control_plane.lookups").description("Control-plane cache lookups by outcome")
                    .tag("kind", kind).tag("outcome", o.name().toLowerCase(Locale.ROOT)).register(meters));
        }
        Counter stale = Counter.builder("sluice.control_plane.stale_served")
                .description("Control-plane answers served stale because the API failed").tag("kind", kind).register(meters);
        CounterFamily fetches = new CounterFamily(meters, "sluice.control_plane.fetches", "Control-plane API calls by outcome",
                "kind", "outcome");
        RefreshAheadCache.Observer l1 = new RefreshAheadCache.Observer() {
            @Override
            public void lookup(RefreshAheadCache.Outcome outcome) {
                lookups.get(outcome).increment();
            }
        };
        return new DocumentCache.Observer() {
            @Override
            public void fetched(String outcome) {
                fetches.increment(kind, outcome);
            }

            @Override
            public void staleServed() {
                stale.increment();
            }

            @Override
            public RefreshAheadCache.Observer l1() {
                return l1;
            }
        };
    }
}
