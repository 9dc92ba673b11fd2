package dev.sluice.testing;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * S3Proxy as a real S3 backend for tests, in a process of its own: S3Proxy 3.0.0 is built on
 * Jetty 11 and cannot share a classpath with sluice's Jetty 12. It stores objects in a
 * temporary directory ({@code jclouds.provider=filesystem}) and checks SigV4 signatures, so a
 * GET through sluice that succeeds proves sluice signed it correctly.
 *
 * <p>{@code s3proxy.ignore-unknown-headers=true} because S3Proxy otherwise answers
 * {@code NotImplemented} to any request carrying {@code x-amz-security-token}, which federated
 * (temporary) credentials add.
 *
 * <p>The process is always destroyed by {@link #close()} (a grace period, then
 * {@code destroyForcibly}), and a JVM shutdown hook does the same should the test JVM exit
 * without closing it, so no S3Proxy outlives the build.
 */
public final class S3ProxyProcess implements AutoCloseable {
    public static final String IDENTITY = "sluice-it-access-key";
    public static final String CREDENTIAL = "sluice-it-secret-key";
    public static final String JAR_PROPERTY = "sluice.s3proxy.jar";

    private static final Duration STARTUP_LIMIT = Duration.ofSeconds(30);
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);
    private static final int BIND_ATTEMPTS = 3;

    private final Process process;
    private final Path directory;
    private final Path log;
    private final URI endpoint;
    private final Thread shutdownHook;
    private S3Client client;

    private S3ProxyProcess(Process process, Path directory, Path log, URI endpoint) {
        this.process = process;
        this.directory = directory;
        this.log = log;
        this.endpoint = endpoint;
        this.shutdownHook = new Thread(process::destroyForcibly, "s3proxy-reaper-" + process.pid());
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /**
     * Starts S3Proxy on a free loopback port with its data in a new temporary directory, and
     * returns once it answers HTTP. Fails with S3Proxy's output when it exits or does not come
     * up within 30 s.
     */
    public static S3ProxyProcess start() {
        return start("aws-v4");
    }

    /**
     * Like {@link #start()}, but S3Proxy checks no signatures ({@code s3proxy.authorization=none}):
     * a stand-in for a public bucket, which unsigned requests can read. S3Proxy has no per-bucket
     * policy, so it is all signed or all open; signed requests are accepted too.
     */
    public static S3ProxyProcess startWithoutAuthorization() {
        return start("none");
    }

    private static S3ProxyProcess start(String authorization) {
        Path directory;
        try {
            directory = Files.createTempDirectory("sluice-s3proxy-");
            Files.createDirectories(directory.resolve("data"));
            Files.writeString(directory.resolve("logback.xml"), """
                    <configuration>
                      <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
                        <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{24} %msg%n</pattern></encoder>
                      </appender>
                      <root level="WARN"><appender-ref ref="OUT"/></root>
                    </configuration>
                    """);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare a directory for S3Proxy", e);
        }
        // The free port is found by binding and releasing it, so another process may take it
        // before S3Proxy binds; such a start fails fast and is retried on a new port.
        IllegalStateException last = null;
        for (int attempt = 1; attempt <= BIND_ATTEMPTS; attempt++) {
            try {
                return launch(directory, freePort(), attempt, authorization);
            } catch (PortTakenException e) {
                last = e;
            } catch (RuntimeException e) {
                deleteRecursively(directory);
                throw e;
            }
        }
        deleteRecursively(directory);
        throw last;
    }

    private static S3ProxyProcess launch(Path directory, int port, int attempt, String authorization) {
        URI endpoint = URI.create("http://127.0.0.1:" + port);
        Path properties = directory.resolve("s3proxy.properties");
        Path log = directory.resolve("s3proxy-" + attempt + ".log");
        try {
            Files.writeString(properties, String.join("\n",
                    "s3proxy.endpoint=" + endpoint,
                    "s3proxy.authorization=" + authorization,
                    "s3proxy.identity=" + IDENTITY,
                    "s3proxy.credential=" + CREDENTIAL,
                    "s3proxy.ignore-unknown-headers=true",
                    "jclouds.provider=filesystem",
                    "jclouds.filesystem.basedir=" + directory.resolve("data"),
                    ""));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write S3Proxy's properties", e);
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder builder = new ProcessBuilder(List.of(
                java.toString(),
                "-Dlogback.configurationFile=" + directory.resolve("logback.xml"),
                "-cp", jar().toString(),
                "org.gaul.s3proxy.Main",
                "--properties", properties.toString()))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start S3Proxy with " + java, e);
        }
        S3ProxyProcess s3proxy = new S3ProxyProcess(process, directory, log, endpoint);
        try {
            s3proxy.awaitReady();
            return s3proxy;
        } catch (RuntimeException e) {
            s3proxy.stopProcess();
            throw e;
        }
    }

    private static Path jar() {
        String configured = System.getProperty(JAR_PROPERTY);
        Path jar = configured != null ? Path.of(configured) : Path.of("target", "s3proxy", "s3proxy.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("S3Proxy's jar is not at " + jar.toAbsolutePath()
                    + "; run the tests through Maven (process-test-resources copies it) or set -D" + JAR_PROPERTY);
        }
        return jar;
    }

    /** Polls until any HTTP response arrives (S3Proxy answers 403 to an unsigned GET /). */
    private void awaitReady() {
        long deadline = System.nanoTime() + STARTUP_LIMIT.toNanos();
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build()) {
            HttpRequest probe = HttpRequest.newBuilder(endpoint.resolve("/")).timeout(Duration.ofSeconds(2)).GET().build();
            while (true) {
                if (!process.isAlive()) {
                    String output = output();
                    if (output.contains("Address already in use")) {
                        throw new PortTakenException(endpoint);
                    }
                    throw new IllegalStateException("S3Proxy exited with status " + process.exitValue()
                            + " before answering on " + endpoint + "; its output:\n" + output);
                }
                try {
                    http.send(probe, HttpResponse.BodyHandlers.discarding());
                    return;
                } catch (ConnectException e) {
                    // not listening yet
                } catch (IOException e) {
                    // accepted but not answering yet
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted waiting for S3Proxy", e);
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("S3Proxy did not answer on " + endpoint + " within "
                            + STARTUP_LIMIT + "; its output:\n" + output());
                }
                // Waits for the next poll, or wakes at once if the process exits meanwhile.
                ChildProcesses.pause(process, Duration.ofMillis(100), "S3Proxy");
            }
        }
    }

    /** {@code http://127.0.0.1:<port>}. */
    public URI endpoint() {
        return endpoint;
    }

    /** A client with S3Proxy's own credentials, for creating buckets and putting fixture objects. */
    public synchronized S3Client client() {
        if (client == null) {
            client = S3Client.builder()
                    .endpointOverride(endpoint)
                    .forcePathStyle(true)
                    .region(Region.US_EAST_1)
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(IDENTITY, CREDENTIAL)))
                    .httpClient(UrlConnectionHttpClient.create())
                    // S3Proxy 3.0.0 predates the SDK's default CRC trailers on uploads.
                    .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                    .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                    .build();
        }
        return client;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    /**
     * A file the filesystem store is still writing: it writes each object and part to
     * {@code <name>-<random UUID>} beside its final name, renames it when the body is whole, and
     * deletes it when the body fails.
     */
    private static final java.util.regex.Pattern WRITE_IN_PROGRESS =
            java.util.regex.Pattern.compile(".+-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    /**
     * Returns once S3Proxy holds no write in progress, polling its data directory for at most
     * {@code limit}. A write sluice aborted (a client that went away, a failed check) ends in
     * S3Proxy only when S3Proxy notices the closed connection, after sluice has answered; until
     * then its temporary file is visible: listings show it, and a ListParts of the upload fails on
     * its name (S3Proxy 3.0.0 answers 400 with an HTML page). S3 has no such window.
     */
    public void awaitWritesEnded(Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        List<Path> writing = writesInProgress();
        while (!writing.isEmpty()) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("S3Proxy still writing after " + limit + ": " + writing);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for S3Proxy's writes to end", e);
            }
            writing = writesInProgress();
        }
    }

    private List<Path> writesInProgress() {
        try (Stream<Path> files = Files.walk(directory.resolve("data"))) {
            return files.filter(f -> WRITE_IN_PROGRESS.matcher(f.getFileName().toString()).matches()).toList();
        } catch (IOException | UncheckedIOException e) {
            return List.of(directory); // a file went away while listed: look again
        }
    }

    /** Kills S3Proxy at once (SIGKILL) and waits for it to be gone: the backend is down. */
    public void kill() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("S3Proxy (pid " + process.pid() + ") survived SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted killing S3Proxy", e);
        }
    }

    /**
     * Freezes S3Proxy (SIGSTOP): connections are still accepted by the kernel, but nothing
     * answers. Returns once every thread of the process is stopped: a signal is delivered
     * asynchronously, and a request sent in between would still be answered.
     */
    public void pause() {
        signal("STOP");
        awaitAllThreadsStopped();
    }

    /** Polls the process's threads in {@code /proc} (Linux) until each is stopped, for at most 5 s. */
    private void awaitAllThreadsStopped() {
        Path tasks = Path.of("/proc", Long.toString(process.pid()), "task");
        if (!Files.isDirectory(tasks)) {
            return; // no procfs: nothing to poll, the signal is usually through by now
        }
        long deadline = System.nanoTime() + STOP_GRACE.toNanos();
        while (!allStopped(tasks)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("S3Proxy exited instead of stopping; its output:\n" + output());
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("S3Proxy (pid " + process.pid() + ") did not stop within " + STOP_GRACE);
            }
            // Bounded polling: a stopped process signals nothing to wait on.
            ChildProcesses.pause(process, Duration.ofMillis(1), "S3Proxy to stop");
        }
    }

    private static boolean allStopped(Path tasks) {
        try (Stream<Path> threads = Files.list(tasks)) {
            return threads.allMatch(t -> {
                try {
                    String stat = Files.readString(t.resolve("stat"));
                    // "pid (comm) S ...": the state follows the last ')' since comm may hold spaces or parens.
                    char state = stat.charAt(stat.lastIndexOf(')') + 2);
                    return state == 'T' || state == 't';
                } catch (IOException e) {
                    return true; // the thread has exited meanwhile
                }
            });
        } catch (IOException e) {
            return false;
        }
    }

    /** Undoes {@link #pause()} (SIGCONT). */
    public void resume() {
        signal("CONT");
    }

    private void signal(String name) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
                    .redirectErrorStream(true).start();
            if (!kill.waitFor(5, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed: "
                        + new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run kill -" + name, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted signalling S3Proxy", e);
        }
    }

    /** What S3Proxy has written to stdout and stderr so far (WARN and above). */
    public String output() {
        return ChildProcesses.output(log);
    }

    @Override
    public void close() {
        try {
            if (client != null) {
                client.close();
            }
        } finally {
            stopProcess();
            deleteRecursively(directory);
        }
    }

    private void stopProcess() {
        try {
            // A stopped (SIGSTOP) process would ignore SIGTERM until continued.
            if (process.isAlive()) {
                resumeQuietly();
                process.destroy();
                if (!process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
                }
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down; the hook runs anyway
            }
        }
    }

    private void resumeQuietly() {
        try {
            resume();
        } catch (RuntimeException e) {
            // best effort: destroyForcibly below works on a stopped process too
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port", e);
        }
    }

    static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // a leftover temp file is not worth failing a test for
                }
            });
        } catch (IOException e) {
            // same
        }
    }

    private static final class PortTakenException extends IllegalStateException {
        PortTakenException(URI endpoint) {
            super("the port of " + endpoint + " was taken before S3Proxy could bind it");
        }
    }
}
