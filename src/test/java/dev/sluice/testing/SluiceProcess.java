package dev.sluice.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A sluice instance in its own JVM, as a fleet member: started from the test's own classpath
 * with {@code serve --config}, ready once its admin {@code /readyz} answers 200. Stopped with
 * SIGTERM (then forcibly), also from a shutdown hook, so a failing test leaves no process.
 */
public final class SluiceProcess implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final Process process;
    private final URI endpoint;
    private final URI admin;
    private final Path log;

    private SluiceProcess(Process process, URI endpoint, URI admin, Path log) {
        this.process = process;
        this.endpoint = endpoint;
        this.admin = admin;
        this.log = log;
    }

    /**
     * Starts {@code sluice serve --config config}; the config must listen on {@code s3Port} and
     * {@code adminPort}. {@code env} is added to the child's environment.
     */
    public static SluiceProcess start(Path config, int s3Port, int adminPort, Map<String, String> env, Path logFile)
            throws IOException, InterruptedException {
        return start(List.of("dev.sluice.cli.SluiceCommand", "serve", "--config", config.toString()), s3Port, adminPort, env, logFile);
    }

    /**
     * Starts {@code mainAndArgs} (a main class on the test classpath and its arguments), which
     * must run a sluice listening on {@code s3Port} and {@code adminPort}; for benchmarks that
     * build sluice in code.
     */
    public static SluiceProcess start(List<String> mainAndArgs, int s3Port, int adminPort, Map<String, String> env, Path logFile)
            throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path")));
        cmd.addAll(mainAndArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logFile.toFile());
        pb.environment().putAll(env);
        pb.environment().put("SLUICE_ACCESS_LOG_LEVEL", "OFF");
        Process p = pb.start();
        SluiceProcess s = new SluiceProcess(p, URI.create("http://127.0.0.1:" + s3Port),
                URI.create("http://127.0.0.1:" + adminPort), logFile);
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IOException("sluice exited with " + p.exitValue() + ":\n" + s.log());
            }
            if (s.ready()) {
                return s;
            }
            TimeUnit.MILLISECONDS.sleep(100); // polling for the process to come up, bounded above
        }
        s.close();
        throw new IOException("sluice was not ready within 60 s:\n" + s.log());
    }

    public URI endpoint() {
        return endpoint;
    }

    public URI admin() {
        return admin;
    }

    public boolean ready() {
        try {
            return readyStatus() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The status {@code /readyz} answers; an {@link IOException} when the admin listener does not answer. */
    public int readyStatus() throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(admin.resolve("/readyz")).timeout(Duration.ofSeconds(2)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** The admin {@code /readyz} body. */
    public String readiness() throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(admin.resolve("/readyz")).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The Prometheus text from {@code /metrics}. */
    public String metrics() throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(admin.resolve("/metrics")).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The sum of every sample of {@code metric} whose labels contain all of {@code labels} (e.g. {@code outcome="hit"}). */
    public double metric(String metric, String... labels) throws IOException, InterruptedException {
        double sum = 0;
        for (String line : metrics().split("\n")) {
            if (line.startsWith("#") || !(line.startsWith(metric + "{") || line.startsWith(metric + " "))) {
                continue;
            }
            boolean all = true;
            for (String l : labels) {
                all &= line.contains(l);
            }
            if (all) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Sends SIGTERM and returns at once, for a test to watch the shutdown. */
    public void terminate() {
        process.destroy();
    }

    /** The exit status, once the process has exited within {@code timeout}. */
    public Optional<Integer> awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? Optional.of(process.exitValue()) : Optional.empty();
    }

    @Override
    public void close() {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
