package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What one client can hold of the S3 listener. Before these limits a socket trickling one
 * header byte every 20 seconds stayed open indefinitely, and about 1,050 of them used up the
 * process's 1,024 file descriptors: every accept failed and normal GETs timed out, the admin
 * listener's included.
 */
class ConnectionLimitsTest {
    private static final String GET_GREETING = "GET /demo/hello/greeting.txt HTTP/1.1\r\nHost: sluice\r\n";

    @TempDir
    static Path dir;
    /** A one-second head deadline. */
    static SluiceUnderTest quickHeads;
    /** Eight S3 connections at most, and heads that may take a minute. */
    static SluiceUnderTest eightConnections;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(dir.resolve("hello"));
        Files.writeString(dir.resolve("hello/greeting.txt"), "hello, world\n");
        String registry = """
                registry:
                  products:
                    - { account: demo, product: hello, backend: { type: file, path: ./hello } }
                """;
        quickHeads = SluiceUnderTest.start("""
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0", header_timeout: 1s }
                """ + registry, Map.of(), dir);
        eightConnections = SluiceUnderTest.start("""
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0", header_timeout: 1m, max_connections: 8 }
                """ + registry, Map.of(), dir);
    }

    @AfterAll
    static void stop() throws Exception {
        try (SluiceUnderTest a = quickHeads; SluiceUnderTest b = eightConnections) {
            // closed in reverse order, each even if the other fails
        }
    }

    private static Socket connect(SluiceUnderTest sluice) throws IOException {
        URI endpoint = sluice.s3Endpoint();
        return new Socket(endpoint.getHost(), endpoint.getPort());
    }

    private static void send(Socket socket, String text) throws IOException {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
    }

    /** Reads one complete response off a kept-alive connection (its body has a Content-Length). */
    private static String readResponse(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed after: " + head);
            }
            head.append((char) b);
        }
        int length = Integer.parseInt(head.toString().replaceAll("(?is).*\r\ncontent-length: *(\\d+).*", "$1"));
        return head + new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }

    @Test
    void aRequestHeadTrickledByteByByteIsClosedAtTheHeaderTimeout() throws IOException {
        try (Socket socket = connect(quickHeads)) {
            send(socket, GET_GREETING + "X-Trickle: ");
            // One byte every 200 ms keeps any idle timeout from firing; only a deadline on the whole head ends it.
            socket.setSoTimeout(200);
            boolean closed = false;
            int trickled = 0;
            for (int i = 0; i < 50 && !closed; i++) {
                try {
                    closed = socket.getInputStream().read() < 0;
                } catch (SocketTimeoutException stillOpen) {
                    try {
                        send(socket, "a");
                        trickled++;
                    } catch (IOException reset) {
                        closed = true;
                    }
                } catch (IOException reset) {
                    closed = true;
                }
            }

            assertThat(closed).as("closed within 50 reads of 200 ms").isTrue();
            assertThat(trickled).as("bytes trickled before the close").isGreaterThan(2);
        }
    }

    @Test
    void aConnectionThatSendsNothingIsClosedAtTheHeaderTimeout() throws IOException {
        try (Socket socket = connect(quickHeads)) {
            socket.setSoTimeout(10_000);

            assertThat(socket.getInputStream().read()).isEqualTo(-1);
        }
    }

    @Test
    void aKeptAliveConnectionIsNotClosedBetweenRequests() throws IOException {
        try (Socket socket = connect(quickHeads)) {
            socket.setSoTimeout(10_000);
            send(socket, GET_GREETING + "\r\n");
            assertThat(readResponse(socket)).startsWith("HTTP/1.1 200 ").endsWith("hello, world\n");

            // Idle for longer than the head deadline: that is the idle timeout's business, not the deadline's.
            socket.setSoTimeout(2_500);
            assertThatThrownBy(() -> socket.getInputStream().read()).isInstanceOf(SocketTimeoutException.class);

            socket.setSoTimeout(10_000);
            send(socket, GET_GREETING + "\r\n");
            assertThat(readResponse(socket)).startsWith("HTTP/1.1 200 ");
        }
    }

    @Test
    void connectionsOverTheCapWaitAndTheAdminListenerStillAnswers() throws IOException {
        List<Socket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 8 + 24; i++) {
                idle.add(connect(eightConnections));
            }
            try (Socket waiting = connect(eightConnections)) {
                send(waiting, GET_GREETING + "\r\n");

                assertThat(eightConnections.admin("/healthz").status()).isEqualTo(200);
                // Not accepted while eight others are open (they got there first)...
                waiting.setSoTimeout(1_000);
                assertThatThrownBy(() -> waiting.getInputStream().read()).isInstanceOf(SocketTimeoutException.class);
                // ... and served once they are gone.
                for (Socket s : idle) {
                    s.close();
                }
                waiting.setSoTimeout(10_000);
                assertThat(readResponse(waiting)).startsWith("HTTP/1.1 200 ").endsWith("hello, world\n");
            }
        } finally {
            for (Socket s : idle) {
                s.close();
            }
        }
    }
}
