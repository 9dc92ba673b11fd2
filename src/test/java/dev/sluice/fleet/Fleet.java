package dev.sluice.fleet;

import dev.sluice.testing.AzuriteProcess;
import dev.sluice.testing.RecordingProxy;
import dev.sluice.testing.RedisProcess;
import dev.sluice.testing.S3ProxyProcess;
import dev.sluice.testing.SluiceProcess;
import dev.sluice.testing.TestEntra;
import dev.sluice.testing.TestSts;
import software.amazon.awssdk.core.sync.RequestBody;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Four sluice instances, each its own JVM, sharing one real {@code redis-server}, in front of
 * S3Proxy (behind a {@link RecordingProxy}), federating to a {@link TestSts} that trusts
 * instance 0 as the OIDC issuer, and of Azurite for one Azure Blob product whose bearer tokens
 * come from a {@link TestEntra} trusting the same issuer. Every port is picked free up front and every process is on
 * loopback; {@link #close()} stops them all, and each fixture also has a shutdown hook.
 *
 * <p>Credentials are short-lived (30 s) and every lead is scaled down with them, so a test
 * sees several credential lifetimes in a couple of minutes: L1 renews 8 s before expiry and
 * never serves the last 2 s; L2 entries leave Redis 12 s before expiry, so the first instance
 * to renew finds L2 empty and the others find its write.
 */
final class Fleet implements AutoCloseable {
    static final int SIZE = 4;
    static final String ACCOUNT = "fleet";
    static final String KEY = "object.bin";

    static final Duration LIFETIME = Duration.ofSeconds(30);
    static final Duration REFRESH_LEAD = Duration.ofSeconds(8);
    static final Duration MIN_SERVE = Duration.ofSeconds(2);
    static final Duration SHARED_LEAD = Duration.ofSeconds(12);
    /**
     * The shared store's per-call timeout. Production's default is 100 ms; here four JVMs, Redis,
     * S3Proxy and Azurite share the test machine's cores, and under that load a Redis reply
     * took over 100 ms now and then, which the tier rightly treats as "unavailable, exchange
     * now": the single-flight assertions then failed for the machine's sake, not sluice's.
     */
    static final Duration SHARED_TIMEOUT = Duration.ofMillis(300);
    /** How often, at most, a credential is renewed: every instance renews {@code REFRESH_LEAD} before expiry. */
    static final Duration RENEWAL_PERIOD = LIFETIME.minus(REFRESH_LEAD);

    static final String ROLE_READER = "arn:aws:iam::123456789012:role/fleet-reader";
    static final String ROLE_SHARED = "arn:aws:iam::123456789012:role/fleet-shared";
    static final String ROLE_AUDIT = "arn:aws:iam::123456789012:role/fleet-audit";
    static final String SUBJECT_ONE = "fleet-subject-one";
    static final String SUBJECT_TWO = "fleet-subject-two";

    /** A federated product: its own bucket, its own (role, subject), its own bytes. */
    record Product(String name, String bucket, String roleArn, String subject) {
        byte[] body() {
            return ("the object of " + name + " read as " + roleArn + " for " + subject + "\n").repeat(16)
                    .getBytes(StandardCharsets.UTF_8);
        }
    }

    /** The product the load scenarios read. */
    static final Product MAIN = new Product("main", "fleet-main", ROLE_READER, SUBJECT_ONE);
    /** Two subjects on one role ... */
    static final Product SHARED_ONE = new Product("shared-one", "fleet-shared-one", ROLE_SHARED, SUBJECT_ONE);
    static final Product SHARED_TWO = new Product("shared-two", "fleet-shared-two", ROLE_SHARED, SUBJECT_TWO);
    /** ... and one subject on two roles (with SHARED_ONE). */
    static final Product AUDIT_ONE = new Product("audit-one", "fleet-audit-one", ROLE_AUDIT, SUBJECT_ONE);
    static final List<Product> PRODUCTS = List.of(MAIN, SHARED_ONE, SHARED_TWO, AUDIT_ONE);

    /** The Entra ID application sluice's Azure product federates as, in this tenant. */
    static final String TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    static final String AZURE_CLIENT = "6b0d8a3e-1f2c-4d5e-9a7b-0c1d2e3f4a5b";
    /**
     * A federated Azure Blob product (Azurite, a bearer token from the test Entra ID): its
     * container in {@code bucket}, its client id in {@code roleArn}, outside {@link #PRODUCTS}
     * (which are read through S3Proxy).
     */
    static final Product AZURE = new Product("azure", "fleet-azure", "entra:" + AZURE_CLIENT, "fleet-azure-subject");

    final TestSts sts;
    final TestEntra entra;
    final S3ProxyProcess s3proxy;
    final RecordingProxy backend;
    final RedisProcess redis;
    final List<SluiceProcess> instances;
    private final List<AutoCloseable> closeables;

    private Fleet(TestSts sts, TestEntra entra, S3ProxyProcess s3proxy, RecordingProxy backend, RedisProcess redis,
                  List<SluiceProcess> instances, List<AutoCloseable> closeables) {
        this.sts = sts;
        this.entra = entra;
        this.s3proxy = s3proxy;
        this.backend = backend;
        this.redis = redis;
        this.instances = instances;
        this.closeables = closeables;
    }

    static Fleet start() throws Exception {
        List<AutoCloseable> started = new ArrayList<>();
        try {
            S3ProxyProcess s3proxy = S3ProxyProcess.start();
            started.add(s3proxy);
            for (Product p : PRODUCTS) {
                s3proxy.client().createBucket(b -> b.bucket(p.bucket()));
                s3proxy.client().putObject(b -> b.bucket(p.bucket()).key(KEY), RequestBody.fromBytes(p.body()));
            }
            RecordingProxy backend = RecordingProxy.start(s3proxy.endpoint(), java.time.InstantSource.system());
            started.add(backend);

            RedisProcess redis = RedisProcess.start();
            started.add(redis);

            AzuriteProcess azurite = AzuriteProcess.start();
            started.add(azurite);
            azurite.createContainer(AZURE.bucket(), null);
            azurite.putBlob(AZURE.bucket(), KEY, AZURE.body(), "application/octet-stream", Map.of());

            byte[] sealKey = new byte[32];
            new SecureRandom().nextBytes(sealKey);
            // sluice's own logging configuration (INFO: one line per exchange), not the tests' WARN-only one
            Path logback = Path.of(Fleet.class.getResource("/logback.xml").toURI());
            Map<String, String> env = Map.of("SLUICE_CACHE_KEY", Base64.getEncoder().encodeToString(sealKey),
                    "JAVA_TOOL_OPTIONS", "-Dlogback.configurationFile=" + logback);

            // A port picked free may be taken before sluice binds it (an outgoing connection gets
            // an ephemeral port from the same range): such a start is retried on new ports.
            for (int attempt = 1; ; attempt++) {
                int[] ports = freePorts(2 * SIZE);
                TestSts sts = trustingIssuer("http://127.0.0.1:" + ports[0]);
                TestEntra entra = new TestEntra("http://127.0.0.1:" + ports[0], TENANT).application(AZURE_CLIENT, AZURE.subject()::equals);
                List<SluiceProcess> instances = new ArrayList<>();
                try {
                    startInstances(ports, sts, entra, azurite, backend, redis, env, instances);
                    started.add(sts);
                    started.add(entra);
                    started.addAll(instances);
                    return new Fleet(sts, entra, s3proxy, backend, redis, List.copyOf(instances), List.copyOf(started));
                } catch (IOException e) {
                    closeAll(new ArrayList<>(instances));
                    sts.close();
                    entra.close();
                    if (attempt == 3 || !(String.valueOf(e.getMessage()).contains("Failed to bind")
                            || String.valueOf(e.getMessage()).contains("address already in use"))) {
                        throw e;
                    }
                }
            }
        } catch (Exception | Error e) {
            closeAll(started);
            throw e;
        }
    }

    /** The test STS, trusting {@code issuer} (instance 0) for the fleet's roles. */
    private static TestSts trustingIssuer(String issuer) throws Exception {
        TestSts sts = new TestSts(issuer, S3ProxyProcess.IDENTITY, S3ProxyProcess.CREDENTIAL);
        sts.role(ROLE_READER, SUBJECT_ONE::equals);
        sts.role(ROLE_SHARED, s -> s.equals(SUBJECT_ONE) || s.equals(SUBJECT_TWO));
        sts.role(ROLE_AUDIT, SUBJECT_ONE::equals);
        sts.credentialLifetime(LIFETIME);
        return sts;
    }

    /** Starts the instances in parallel, adding each to {@code instances} as it comes up; throws the first failure. */
    private static void startInstances(int[] ports, TestSts sts, TestEntra entra, AzuriteProcess azurite, RecordingProxy backend,
                                       RedisProcess redis, Map<String, String> env, List<SluiceProcess> instances) throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "fleet"));
        Path pem = testKey("test-rsa-a");
        String issuer = "http://127.0.0.1:" + ports[0];
        ExecutorService starting = Executors.newFixedThreadPool(SIZE);
        try {
            List<Future<SluiceProcess>> pending = new ArrayList<>();
            for (int i = 0; i < SIZE; i++) {
                int s3Port = ports[2 * i];
                int adminPort = ports[2 * i + 1];
                Path config = dir.resolve("sluice-" + i + ".yaml");
                Files.writeString(config, config(s3Port, adminPort, issuer, pem, sts.endpoint(), backend.endpoint(), redis.uri(),
                        entra, azurite));
                Path log = dir.resolve("sluice-" + i + ".log");
                pending.add(starting.submit(() -> SluiceProcess.start(config, s3Port, adminPort, env, log)));
            }
            Exception failure = null;
            for (Future<SluiceProcess> f : pending) {
                try {
                    instances.add(f.get(90, TimeUnit.SECONDS));
                } catch (ExecutionException e) {
                    if (failure == null) {
                        failure = e.getCause() instanceof Exception cause ? cause : e;
                    }
                }
            }
            if (failure != null) {
                throw failure;
            }
        } finally {
            starting.shutdownNow();
        }
    }

    private static String config(int s3Port, int adminPort, String issuer, Path pem, URI sts, URI backend, String redis,
                                 TestEntra entra, AzuriteProcess azurite) {
        StringBuilder products = new StringBuilder();
        for (Product p : PRODUCTS) {
            products.append("""
                        - account: %s
                          product: %s
                          backend:
                            type: s3
                            endpoint: "%s"
                            region: us-east-1
                            bucket: %s
                            timeout: 10s
                            auth: { type: web_identity_role, role_arn: "%s", subject: "%s" }
                    """.formatted(ACCOUNT, p.name(), backend, p.bucket(), p.roleArn(), p.subject()));
        }
        products.append("""
                    - account: %s
                      product: %s
                      backend:
                        type: azure
                        account: %s
                        container: %s
                        endpoint: "%s"
                        timeout: 10s
                        auth: { type: azure_workload_identity, tenant_id: "%s", client_id: "%s", token_endpoint: "%s", subject: "%s" }
                """.formatted(ACCOUNT, AZURE.name(), AzuriteProcess.ACCOUNT, AZURE.bucket(), azurite.endpoint(), TENANT, AZURE_CLIENT,
                entra.tokenEndpoint(), AZURE.subject()));
        return """
                server:
                  listen: "127.0.0.1:%d"
                  admin_listen: "127.0.0.1:%d"
                  shutdown_timeout: 1s
                backend_tls: { ca_file: "%s" }
                oidc:
                  issuer: "%s"
                  signing_key: { pem_file: "%s", kid: "fleet-test" }
                sts:
                  endpoint: "%s"
                  timeout: 5s
                cache:
                  credentials: { refresh_lead: %ds, min_serve: %ds }
                  shared:
                    type: redis
                    uri: "%s"
                    timeout: %dms
                    lead: %ds
                    seal_key_env: SLUICE_CACHE_KEY
                    # a renewal while Redis is unwell makes two calls (the read, the write-back): enough to open it
                    breaker_failures: 2
                    breaker_open: 1s
                registry:
                  type: static
                  products:
                %s""".formatted(s3Port, adminPort, azurite.certificate().toAbsolutePath(), issuer, pem.toAbsolutePath(), sts, REFRESH_LEAD.toSeconds(), MIN_SERVE.toSeconds(),
                redis, SHARED_TIMEOUT.toMillis(), SHARED_LEAD.toSeconds(), products);
    }

    /** Binds {@code n} ports at once (so they are distinct), reads them, and frees them for the processes to take. */
    private static int[] freePorts(int n) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                sockets.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket s : sockets) {
                s.close();
            }
        }
    }

    private static Path testKey(String name) throws URISyntaxException {
        return Path.of(Fleet.class.getResource("/keys/" + name + ".pem").toURI());
    }

    URI objectUri(int instance, Product p) {
        return instances.get(instance).endpoint().resolve("/" + ACCOUNT + "/" + p.name() + "/" + KEY);
    }

    /** The Redis key sluice uses for a product's credential, computed here independently of sluice's code. */
    static String storeKey(Product p) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest((p.roleArn() + "\u001F" + p.subject()).getBytes(StandardCharsets.UTF_8));
            return "sluice:v1:cred:" + Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    int exchanges(Product p) {
        return sts.exchanges(p.roleArn(), p.subject());
    }

    /** One metric of every instance, in instance order. */
    double[] metric(String name, String... labels) throws IOException, InterruptedException {
        double[] values = new double[SIZE];
        for (int i = 0; i < SIZE; i++) {
            values[i] = instances.get(i).metric(name, labels);
        }
        return values;
    }

    /**
     * Credential loads each instance has completed through the shared tier: each ends either in
     * a usable L2 read (the {@code hit} event) or in an exchange of its own, counted once it has
     * answered (the tier's {@code exchange} event is counted when the exchange starts, and the
     * STS would not have counted it yet).
     */
    double[] loads() throws IOException, InterruptedException {
        double[] hits = metric("sluice_shared_events_total", "event=\"hit\"");
        double[] exchanges = metric("sluice_sts_exchanges_total");
        double[] loads = new double[SIZE];
        for (int i = 0; i < SIZE; i++) {
            loads[i] = hits[i] + exchanges[i];
        }
        return loads;
    }

    /** Exchanges each instance made itself (successful ones). */
    double[] instanceExchanges() throws IOException, InterruptedException {
        return metric("sluice_sts_exchanges_total", "outcome=\"success\"");
    }

    /** Waits until every instance has completed a credential load since {@code before}: a renewal went round the fleet. */
    void awaitLoadOnEveryInstance(double[] before, Duration limit) throws Exception {
        exchangesUpToFirstLoad(before, instanceExchanges(), limit);
    }

    /**
     * Waits until every instance has completed a credential load since {@code loadsBefore}, and
     * returns, for each, the exchanges it had made since {@code exchangesBefore} when that first
     * load was seen (polled every 100 ms, far shorter than a renewal period). Counting each
     * instance up to its own first load, not the fleet up to the last one, keeps an instance
     * whose renewal falls early from being charged for a second renewal while it waits for the
     * others.
     */
    int[] exchangesUpToFirstLoad(double[] loadsBefore, double[] exchangesBefore, Duration limit) throws Exception {
        int[] counted = new int[SIZE];
        Arrays.fill(counted, -1);
        awaitCondition("a credential load on every instance (loads before " + Arrays.toString(loadsBefore) + ")", limit, () -> {
            double[] loads = loads();
            double[] exchanges = instanceExchanges();
            boolean all = true;
            for (int i = 0; i < SIZE; i++) {
                if (counted[i] < 0 && loads[i] > loadsBefore[i]) {
                    counted[i] = (int) (exchanges[i] - exchangesBefore[i]);
                }
                all &= counted[i] >= 0;
            }
            return all;
        });
        return counted;
    }

    /** Polls {@code condition} every 100 ms, failing after {@code limit}. */
    static void awaitCondition(String what, Duration limit, Check condition) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + limit + " waiting for " + what);
            }
            TimeUnit.MILLISECONDS.sleep(100); // bounded polling of another process's state
        }
    }

    @FunctionalInterface
    interface Check {
        boolean holds() throws Exception;
    }

    /** Every instance's shared-tier and exchange counters that are not zero, for failure messages. */
    String sharedTierReport() {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < instances.size(); i++) {
            out.append("--- sluice ").append(i).append(" ---\n");
            try {
                for (String line : instances.get(i).metrics().split("\n")) {
                    if ((line.startsWith("sluice_shared_") || line.startsWith("sluice_sts_exchanges_total")
                            || line.startsWith("sluice_token_exchanges_total"))
                            && !line.endsWith(" 0.0")) {
                        out.append(line).append('\n');
                    }
                }
            } catch (IOException | InterruptedException e) {
                out.append("(no metrics: ").append(e).append(")\n");
            }
        }
        return out.toString();
    }

    /** The end of every instance's log, for failure messages. */
    /** Every instance's token-exchange log lines (time, outcome, expiry), for failure messages about exchange counts. */
    String exchangeLog() {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < instances.size(); i++) {
            out.append("--- sluice ").append(i).append(" ---\n");
            instances.get(i).log().lines().filter(l -> l.contains("sts exchange") || l.contains("token exchange")).forEach(l -> out.append(l).append('\n'));
        }
        return out.toString();
    }

    String logTails() {
        return logs(3000);
    }

    /** The last {@code chars} characters of every instance's log. */
    String logs(int chars) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < instances.size(); i++) {
            String log = instances.get(i).log();
            out.append("--- sluice ").append(i).append(" ---\n").append(log, Math.max(0, log.length() - chars), log.length()).append('\n');
        }
        return out.toString();
    }

    @Override
    public void close() {
        closeAll(closeables);
    }

    private static void closeAll(List<AutoCloseable> started) {
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.get(i).close();
            } catch (Exception e) {
                // keep closing the rest: one stuck fixture must not leave the others running
            }
        }
    }
}
