package dev.sluice.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} on a free loopback port, with persistence off, that a test can
 * kill (SIGKILL), pause (SIGSTOP), resume (SIGCONT) and restart on the same port. The process
 * is destroyed on {@link #close()} and by a JVM shutdown hook, so a failing test leaves nothing
 * behind. Where {@code redis-server} is missing the test fails when {@code CI=true} (CI must
 * have it) and is skipped otherwise.
 */
public final class RedisProcess implements AutoCloseable {
    private final Path binary;
    private final int port;
    private final Path dir;
    private Process process;

    private RedisProcess(Path binary, int port, Path dir) {
        this.binary = binary;
        this.port = port;
        this.dir = dir;
    }

    public static RedisProcess start() throws IOException {
        Path binary = findBinary();
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        RedisProcess r = new RedisProcess(binary, port, Files.createTempDirectory("sluice-redis"));
        r.launch();
        Runtime.getRuntime().addShutdownHook(new Thread(r::destroy));
        return r;
    }

    private static Path findBinary() {
        for (String candidate : List.of("/usr/bin/redis-server", "/usr/local/bin/redis-server", "/usr/sbin/redis-server")) {
            Path p = Path.of(candidate);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        if ("true".equals(System.getenv("CI"))) {
            throw new AssertionError("redis-server is not installed; CI must install the Debian package redis-server");
        }
        org.junit.jupiter.api.Assumptions.abort("redis-server is not installed (apt-get install redis-server)");
        throw new IllegalStateException("unreachable");
    }

    private void launch() throws IOException {
        process = new ProcessBuilder(binary.toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--protected-mode", "yes")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.log").toFile())
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("redis-server exited: " + Files.readString(dir.resolve("redis.log")));
            }
            if (ping()) {
                return;
            }
            try {
                TimeUnit.MILLISECONDS.sleep(20); // polling for the process to come up, bounded above
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }
        destroy();
        throw new IOException("redis-server did not answer PING within 10 s");
    }

    /** Whether the server answers {@code PING} within 200 ms. */
    public boolean ping() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            s.setSoTimeout(200);
            s.getOutputStream().write("PING\r\n".getBytes());
            byte[] buf = new byte[7];
            int n = s.getInputStream().read(buf);
            return n > 0 && new String(buf, 0, n).startsWith("+PONG");
        } catch (IOException e) {
            return false;
        }
    }

    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public void kill() {
        signal("KILL");
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public void pause() {
        signal("STOP");
    }

    public void resume() {
        signal("CONT");
    }

    /** Starts a fresh (empty) server on the same port, after {@link #kill()}. */
    public void restart() throws IOException {
        if (process.isAlive()) {
            kill();
        }
        launch();
    }

    /** Runs {@code redis-cli} against this server and returns its output. */
    public String cli(String... args) throws IOException, InterruptedException {
        List<String> cmd = new java.util.ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(port)));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        return out;
    }

    /** Runs {@code redis-cli} and returns its standard output as raw bytes (for values that are not text). */
    public byte[] cliBytes(String... args) throws IOException, InterruptedException {
        List<String> cmd = new java.util.ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(port)));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        return out;
    }

    private void signal(String sig) {
        try {
            new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).start().waitFor(5, TimeUnit.SECONDS);
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("could not send SIG" + sig + " to redis-server", e);
        }
    }

    private void destroy() {
        if (process != null && process.isAlive()) {
            signal("CONT");
            process.destroyForcibly();
        }
    }

    @Override
    public void close() {
        destroy();
    }

}
