package dev.sluice.testing;

import dev.sluice.backend.AzureSharedKey;
import dev.sluice.s3.UriEncoding;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Azurite (Microsoft's Azure Storage emulator, npm {@code azurite@3.34.0}) as a real Azure Blob
 * backend for tests: {@code azurite-blob} on a free loopback port, data in memory, over HTTPS
 * with a certificate for 127.0.0.1 made at start ({@code openssl}), with {@code --oauth basic}
 * so bearer tokens are checked (issuer, audience, lifetime; not the signature), and with
 * telemetry off so it talks to loopback only. Shared Key and SAS signatures are checked too, so
 * a read that succeeds proves sluice signed it correctly.
 *
 * <p>{@code .ci/run} installs Azurite under {@code .tools/azurite}; where it (or {@code node} or
 * {@code openssl}) is missing the test fails when {@code CI=true} and is skipped otherwise. The
 * process and its children are destroyed by {@link #close()} and by a JVM shutdown hook.
 */
public final class AzuriteProcess implements AutoCloseable {
    /** Azurite's well-known development account and its published key. */
    public static final String ACCOUNT = "devstoreaccount1";
    public static final String ACCOUNT_KEY =
            "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    public static final String VERSION = "2021-12-02";

    private static final Path BINARY = Path.of(".tools/azurite/node_modules/.bin/azurite-blob");
    private static final Duration STARTUP_LIMIT = Duration.ofSeconds(60);
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);
    private static final DateTimeFormatter RFC_1123 = DateTimeFormatter.RFC_1123_DATE_TIME;

    private final Process process;
    private final Path directory;
    private final URI endpoint;
    private final Path certificate;
    private final SSLContext ssl;
    private final HttpClient http;
    private final AzureSharedKey sharedKey = new AzureSharedKey(ACCOUNT, ACCOUNT_KEY);
    private final Thread shutdownHook;

    private AzuriteProcess(Process process, Path directory, URI endpoint, Path certificate, SSLContext ssl) {
        this.process = process;
        this.directory = directory;
        this.endpoint = endpoint;
        this.certificate = certificate;
        this.ssl = ssl;
        this.http = HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
        this.shutdownHook = new Thread(this::destroyTree, "azurite-reaper-" + process.pid());
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** Starts Azurite and returns once it answers HTTPS; fails with its output if it exits or is not up within 60 s. */
    public static AzuriteProcess start() {
        Path binary = BINARY.toAbsolutePath();
        if (!Files.isExecutable(binary)) {
            missing("Azurite is not installed at " + binary + " (npm install --prefix .tools/azurite azurite@3.34.0; .ci/run does)");
        }
        Path directory;
        try {
            directory = Files.createTempDirectory("sluice-azurite");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path cert = directory.resolve("cert.pem");
        Path key = directory.resolve("key.pem");
        makeCertificate(cert, key, directory);
        SSLContext ssl = trusting(cert);
        int port = freePort();
        URI endpoint = URI.create("https://127.0.0.1:" + port + "/" + ACCOUNT);
        Path log = directory.resolve("azurite.log");
        Process process;
        try {
            process = new ProcessBuilder(binary.toString(), "--blobHost", "127.0.0.1", "--blobPort", Integer.toString(port),
                    "--inMemoryPersistence", "--oauth", "basic", "--cert", cert.toString(), "--key", key.toString(),
                    "--disableTelemetry", "--disableProductStyleUrl", "--silent")
                    .directory(directory.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
        } catch (IOException e) {
            missing("cannot run " + binary + " (is node installed?): " + e.getMessage());
            throw new IllegalStateException("unreachable");
        }
        AzuriteProcess azurite = new AzuriteProcess(process, directory, endpoint, cert, ssl);
        try {
            azurite.awaitAnswer(log);
            return azurite;
        } catch (RuntimeException | Error e) {
            azurite.close();
            throw e;
        }
    }

    private static void missing(String why) {
        if ("true".equals(System.getenv("CI"))) {
            throw new AssertionError(why);
        }
        org.junit.jupiter.api.Assumptions.abort(why);
    }

    /**
     * Writes a self-signed certificate for 127.0.0.1 and localhost, valid for two days, and its
     * key, made by {@code openssl} (missing: fails on CI, skipped elsewhere).
     */
    public static void makeCertificate(Path cert, Path key, Path directory) {
        List<String> command = List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(),
                "-out", cert.toString(), "-days", "2", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(directory.resolve("openssl.log").toFile()).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("openssl did not make a certificate within 30 s");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("openssl failed: " + Files.readString(directory.resolve("openssl.log")));
            }
        } catch (IOException e) {
            missing("openssl cannot run: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted making a certificate", e);
        }
    }

    /** TLS trusting only {@code cert}. */
    public static SSLContext trusting(Path cert) {
        try (InputStream in = Files.newInputStream(cert)) {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            store.setCertificateEntry("azurite", CertificateFactory.getInstance("X.509").generateCertificate(in));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot trust " + cert, e);
        }
    }

    private void awaitAnswer(Path log) {
        long deadline = System.nanoTime() + STARTUP_LIMIT.toNanos();
        HttpRequest probe = HttpRequest.newBuilder(URI.create(endpoint + "?comp=list")).timeout(Duration.ofSeconds(2)).GET().build();
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException("Azurite exited with " + process.exitValue() + "; its output:\n" + ChildProcesses.output(log));
            }
            try {
                http.send(probe, HttpResponse.BodyHandlers.discarding());
                return; // any HTTP answer (403 for an unsigned request) means it is up
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for Azurite", e);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Azurite did not answer on " + endpoint + " within " + STARTUP_LIMIT
                        + "; its output:\n" + ChildProcesses.output(log));
            }
            // Waits for the next poll, or wakes at once if the process exits meanwhile.
            ChildProcesses.pause(process, Duration.ofMillis(100), "Azurite");
        }
    }


    /** {@code https://127.0.0.1:PORT/devstoreaccount1}: the account's path-style endpoint. */
    public URI endpoint() {
        return endpoint;
    }

    /** The PEM certificate Azurite serves, for {@code backend_tls.ca_file}. */
    public Path certificate() {
        return certificate;
    }

    /** TLS trusting Azurite's certificate. */
    public SSLContext ssl() {
        return ssl;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    // ---------------------------------------------------------------- seeding, signed with the account key

    /** Creates {@code container}; {@code publicAccess} is {@code blob}, {@code container} or null (private). */
    public void createContainer(String container, String publicAccess) {
        Map<String, String> headers = new LinkedHashMap<>();
        if (publicAccess != null) {
            headers.put("x-ms-blob-public-access", publicAccess);
        }
        HttpResponse<String> r = send("PUT", "/" + UriEncoding.encode(container), "restype=container", headers, new byte[0]);
        if (r.statusCode() != 201) {
            throw new IllegalStateException("create container " + container + ": " + r.statusCode() + " " + r.body());
        }
    }

    /** Stores a block blob with a content type and {@code x-ms-meta-*} metadata (names without the prefix). */
    public void putBlob(String container, String name, byte[] bytes, String contentType, Map<String, String> metadata) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("x-ms-blob-type", "BlockBlob");
        headers.put("Content-Type", contentType);
        metadata.forEach((k, v) -> headers.put("x-ms-meta-" + k, v));
        HttpResponse<String> r = send("PUT", blobPath(container, name), "", headers, bytes);
        if (r.statusCode() != 201) {
            throw new IllegalStateException("put blob " + container + "/" + name + ": " + r.statusCode() + " " + r.body());
        }
    }

    /** Stores a block blob with the given content headers ({@code Content-Encoding} etc., sent as {@code x-ms-blob-*}). */
    public void putBlob(String container, String name, byte[] bytes, Map<String, String> headers) {
        Map<String, String> all = new LinkedHashMap<>(headers);
        all.put("x-ms-blob-type", "BlockBlob");
        HttpResponse<String> r = send("PUT", blobPath(container, name), "", all, bytes);
        if (r.statusCode() != 201) {
            throw new IllegalStateException("put blob " + container + "/" + name + ": " + r.statusCode() + " " + r.body());
        }
    }

    /** A request signed with the account key; {@code rawPath} is relative to the account. */
    public HttpResponse<String> send(String method, String rawPath, String rawQuery, Map<String, String> headers, byte[] body) {
        Map<String, String> all = new LinkedHashMap<>(headers);
        all.put("x-ms-date", RFC_1123.format(ZonedDateTime.now(ZoneOffset.UTC)));
        all.put("x-ms-version", VERSION);
        if (body.length > 0 || method.equals("PUT")) {
            all.put("Content-Length", Integer.toString(body.length));
        }
        String path = endpoint.getRawPath() + rawPath;
        all.put("Authorization", sharedKey.authorization(method, path, rawQuery, all));
        all.remove("Content-Length"); // the client sets it (a restricted header)
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(endpoint.getScheme() + "://" + endpoint.getRawAuthority() + path
                        + (rawQuery.isEmpty() ? "" : "?" + rawQuery)))
                .timeout(Duration.ofSeconds(30))
                .method(method, body.length == 0 && !method.equals("PUT") ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        all.forEach(b::header);
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + path + " to Azurite failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static String blobPath(String container, String name) {
        return "/" + UriEncoding.encode(container) + "/" + UriEncoding.encodePath(name);
    }

    // ---------------------------------------------------------------- stopping

    @Override
    public void close() {
        try {
            destroyTree();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down; the hook runs anyway
            }
            http.close();
            S3ProxyProcess.deleteRecursively(directory);
        }
    }

    /** Stops Azurite and every process it started: SIGTERM, a grace period, then SIGKILL. */
    private void destroyTree() {
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy();
        children.forEach(ProcessHandle::destroy);
        try {
            if (!process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port", e);
        }
    }
}
