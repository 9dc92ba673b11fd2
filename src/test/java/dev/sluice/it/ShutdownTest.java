package dev.sluice.it;

import dev.sluice.testing.SluiceProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SIGTERM on a real sluice process, in the order docs/operations.md ("Shutdown") gives:
 * {@code /readyz} answers 503 for {@code server.shutdown_grace} while S3 requests are still
 * served, then the S3 listener refuses connections, then downloads in flight drain whatever
 * the pace of their clients, until {@code server.shutdown_timeout}; the admin listener answers
 * until the drain ends.
 *
 * <p>The downloading client is a socket with a small receive buffer that stops reading after
 * the response head, so sluice's writes wait on a full TCP window, as they do for a client
 * that is momentarily slow. An earlier revision cut such a download as soon as SIGTERM
 * arrived (Jetty shortens every connection's idle timeout to one second when it stops).
 */
class ShutdownTest {
    private static final long SIZE = 100L * 1024 * 1024;
    private static final String BIG = "/acme/data/big.bin";
    /** Bounds every wait on the other process; a pass never takes this long. */
    private static final Duration LIMIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    @Test
    void pausedDownloadsOutliveTheGraceAndTheListenerThenCompleteAndSluiceExitsCleanly() throws Exception {
        try (SluiceProcess sluice = start("2s", "60s");
             PausedDownload first = PausedDownload.begin(sluice.endpoint(), BIG);
             PausedDownload second = PausedDownload.begin(sluice.endpoint(), BIG)) {
            sluice.terminate();

            awaitReadiness(sluice, 503);
            SluiceUnderTest.RawResponse fresh = get(sluice.endpoint(), "/acme/data/small.txt");
            assertThat(fresh.status()).as("a new connection during the grace is still served").isEqualTo(200);
            assertThat(fresh.text()).isEqualTo("hello\n");

            awaitRefused(sluice.endpoint());
            assertThat(sluice.readyStatus()).as("the admin listener answers while the drain runs").isEqualTo(503);

            Received whole = first.resume();
            assertThat(whole.bytes()).isEqualTo(SIZE);
            assertThat(whole.ending()).as("the connection ends with its response, while the drain goes on")
                    .isEqualTo(Received.END_OF_STREAM);
            assertThat(sluice.readyStatus()).as("still draining the second download").isEqualTo(503);

            whole = second.resume();
            assertThat(whole.bytes()).isEqualTo(SIZE);
            assertThat(whole.ending()).isEqualTo(Received.END_OF_STREAM);
            assertThat(sluice.awaitExit(LIMIT)).as("exit status").contains(0);
        }
    }

    @Test
    void aDownloadThatNeverResumesIsCutAtTheShutdownTimeoutAndSluiceExits() throws Exception {
        Duration timeout = Duration.ofSeconds(3);
        try (SluiceProcess sluice = start("1s", "3s"); PausedDownload download = PausedDownload.begin(sluice.endpoint(), BIG)) {
            long signalled = System.nanoTime();
            sluice.terminate();

            awaitReadiness(sluice, 503);
            awaitRefused(sluice.endpoint());
            assertThat(sluice.readyStatus()).as("the admin listener answers while the drain runs").isEqualTo(503);

            assertThat(sluice.awaitExit(LIMIT)).as("exit status").contains(0);
            assertThat(Duration.ofNanos(System.nanoTime() - signalled)).as("time from SIGTERM to exit")
                    .isGreaterThanOrEqualTo(timeout);
            assertThat(download.resume().bytes()).as("bytes of the cut download").isLessThan(SIZE);
        }
    }

    /** Starts sluice on free ports, serving {@code big.bin} (100 MB) and {@code small.txt} from a directory. */
    private SluiceProcess start(String grace, String timeout) throws IOException, InterruptedException {
        Path data = Files.createDirectories(dir.resolve("data"));
        try (RandomAccessFile big = new RandomAccessFile(data.resolve("big.bin").toFile(), "rw")) {
            big.setLength(SIZE);
        }
        Files.writeString(data.resolve("small.txt"), "hello\n");
        int[] ports = freePorts();
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, """
                server:
                  listen: "127.0.0.1:%d"
                  admin_listen: "127.0.0.1:%d"
                  shutdown_grace: %s
                  shutdown_timeout: %s
                registry:
                  products:
                    - account: acme
                      product: data
                      backend: { type: file, path: data }
                """.formatted(ports[0], ports[1], grace, timeout));
        return SluiceProcess.start(config, ports[0], ports[1], Map.of(), dir.resolve("sluice.log"));
    }

    private static void awaitReadiness(SluiceProcess sluice, int status) throws Exception {
        await("/readyz to answer " + status, () -> sluice.readyStatus() == status);
    }

    private static void awaitRefused(URI endpoint) throws Exception {
        await("the S3 listener to refuse connections", () -> {
            try (Socket probe = new Socket()) {
                probe.connect(new InetSocketAddress(endpoint.getHost(), endpoint.getPort()), 2_000);
                return false;
            } catch (ConnectException refused) {
                return true;
            }
        });
    }

    /** Polls {@code condition} of the other process every 20 ms, failing after {@link #LIMIT}. */
    private static void await(String what, Check condition) throws Exception {
        long deadline = System.nanoTime() + LIMIT.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + LIMIT + " waiting for " + what);
            }
            TimeUnit.MILLISECONDS.sleep(20); // bounded polling of another process's state
        }
    }

    @FunctionalInterface
    private interface Check {
        boolean holds() throws Exception;
    }

    /** One request on a new connection that asks to be closed after the response, read whole. */
    private static SluiceUnderTest.RawResponse get(URI endpoint, String path) throws IOException {
        try (Socket socket = new Socket(endpoint.getHost(), endpoint.getPort())) {
            socket.setSoTimeout((int) LIMIT.toMillis());
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + endpoint.getAuthority()
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            return RawHttp.parse(socket.getInputStream().readAllBytes());
        }
    }

    private static int[] freePorts() throws IOException {
        try (ServerSocket a = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             ServerSocket b = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return new int[] {a.getLocalPort(), b.getLocalPort()};
        }
    }

    /** What a resumed download received after its head, and how its stream ended. */
    private record Received(long bytes, String ending) {
        static final String END_OF_STREAM = "end of stream";
    }

    /** A GET whose client read the response head and then stopped reading. */
    private static final class PausedDownload implements AutoCloseable {
        private final Socket socket;
        private final InputStream in;

        private PausedDownload(Socket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
        }

        static PausedDownload begin(URI endpoint, String path) throws IOException {
            Socket socket = new Socket();
            // A small window, so that sluice's writes soon wait on it.
            socket.setReceiveBufferSize(32 * 1024);
            socket.setSoTimeout((int) LIMIT.toMillis());
            socket.connect(new InetSocketAddress(endpoint.getHost(), endpoint.getPort()), 2_000);
            PausedDownload download = new PausedDownload(socket);
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + endpoint.getAuthority() + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String head = download.head();
            assertThat(head).startsWith("HTTP/1.1 200").containsIgnoringCase("Content-Length: " + SIZE);
            return download;
        }

        /** Reads the response head byte by byte, so that no byte of the body is read yet. */
        private String head() throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    throw new AssertionError("the connection ended in the response head: " + head);
                }
                head.write(b);
            }
            return head.toString(StandardCharsets.ISO_8859_1);
        }

        /** Reads until the stream ends (or fails); a stream kept open longer than {@link #LIMIT} fails the read. */
        Received resume() {
            byte[] buffer = new byte[256 * 1024];
            long total = 0;
            try {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    total += n;
                }
                return new Received(total, Received.END_OF_STREAM);
            } catch (IOException e) {
                return new Received(total, e.toString());
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
