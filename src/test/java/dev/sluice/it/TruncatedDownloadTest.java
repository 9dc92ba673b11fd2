package dev.sluice.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.testing.LoopbackServer;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import dev.sluice.testing.AccessLogCapture;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.net.Socket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Downloads cut short after the response head: the client sees a 200 and a short body, and the
 * access log and metrics must record that outcome (which side failed, how many bytes went out)
 * instead of a success. Each case is made deterministic without timing: a file far larger than
 * the socket buffers is truncated while the client has stopped reading, so sluice cannot have
 * read it whole; the client closes its socket with the download in flight; a stub S3 server
 * sends a head and part of a body, then drops the connection.
 */
class TruncatedDownloadTest {
    /** Far more than loopback socket buffers hold (tens of MiB), so the transfer is mid-body when the test acts. */
    private static final long BIG = 256L * 1024 * 1024;
    private static final int STUB_SENT = 1000;
    private static final long STUB_LENGTH = 1_000_000;

    @TempDir
    static Path dir;
    static LoopbackServer stubS3;
    static SluiceUnderTest sluice;

    @RegisterExtension
    final AccessLogCapture accessLog = new AccessLogCapture();

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(dir.resolve("files"));
        // A stub S3 server: the head of a 1 MB object and its first 1000 bytes, then the connection dies.
        stubS3 = new LoopbackServer((request, response, callback) -> {
            boolean stalls = request.getHttpURI().getPath().endsWith("/stalls.bin");
            response.setStatus(200);
            response.getHeaders().put("Content-Length", STUB_LENGTH);
            response.getHeaders().put("Content-Type", "application/octet-stream");
            response.getHeaders().put("ETag", "\"0123456789abcdef0123456789abcdef\"");
            response.getHeaders().put("Last-Modified", "Sun, 06 Dec 2026 12:00:00 GMT");
            // Either the connection dies after the first bytes, or the store goes silent with it
            // open: the callback is never completed, and the stub's stop abandons it.
            response.write(false, ByteBuffer.wrap(new byte[STUB_SENT]), stalls ? Callback.NOOP
                    : Callback.from(() -> callback.failed(new IOException("the backend died mid-body")), callback::failed));
        }, Duration.ZERO);
        String yaml = """
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
                registry:
                  products:
                    - { account: acme, product: files, backend: { type: file, path: ./files } }
                    - account: acme
                      product: remote
                      backend: { type: s3, endpoint: "%s", bucket: data, timeout: 5s, auth: { type: anonymous } }
                    - account: acme
                      product: silent
                      backend: { type: s3, endpoint: "%s", bucket: data, timeout: 1s, auth: { type: anonymous } }
                """.formatted(stubS3.url(), stubS3.url());
        sluice = SluiceUnderTest.start(yaml, Map.of(), dir);
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (sluice != null) {
                sluice.close();
            }
        } finally {
            if (stubS3 != null) {
                stubS3.close();
            }
        }
    }


    @Test
    void aFileThatShrinksWhileStreamedIsLoggedAsAnIncompleteBody() throws Exception {
        Path file = sparseFile("shrinks.bin");
        try (Socket socket = get("/acme/files/shrinks.bin")) {
            Head head = readHead(socket.getInputStream());
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.contentLength()).isEqualTo(BIG);

            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                raf.setLength(0);
            }
            long received = head.bodyBytesSoFar() + drain(socket.getInputStream());

            assertThat(received).isLessThan(BIG);
        }
        JsonNode line = accessLine("shrinks.bin");
        assertThat(line.path("status").asInt()).isEqualTo(200);
        assertThat(line.path("error").asText()).isEqualTo("IncompleteBody");
        assertThat(line.path("bytes").asLong()).isPositive().isLessThan(BIG);
        assertThat(metrics()).containsPattern("sluice_responses_truncated_total\\{reason=\"incomplete_body\"} [1-9]");
    }

    @Test
    void aClientThatGoesAwayMidBodyIsLoggedAsDisconnected() throws Exception {
        sparseFile("abandoned.bin");
        try (Socket socket = get("/acme/files/abandoned.bin")) {
            Head head = readHead(socket.getInputStream());
            assertThat(head.status()).isEqualTo(200);
            socket.setSoLinger(true, 0); // reset, as a client that gives up does
        }
        JsonNode line = accessLine("abandoned.bin");
        assertThat(line.path("status").asInt()).isEqualTo(200);
        assertThat(line.path("error").asText()).isEqualTo("ClientDisconnected");
        assertThat(line.path("bytes").asLong()).isLessThan(BIG);
        assertThat(metrics()).containsPattern("sluice_responses_truncated_total\\{reason=\"client_disconnected\"} [1-9]");
    }

    @Test
    void anS3BackendThatDiesMidBodyIsLoggedAsABackendFailure() throws Exception {
        long received;
        try (Socket socket = get("/acme/remote/object.bin")) {
            Head head = readHead(socket.getInputStream());
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.contentLength()).isEqualTo(STUB_LENGTH);
            received = head.bodyBytesSoFar() + drain(socket.getInputStream());
        }

        assertThat(received).isLessThan(STUB_LENGTH);
        JsonNode line = accessLine("object.bin");
        assertThat(line.path("status").asInt()).isEqualTo(200);
        assertThat(line.path("error").asText()).isEqualTo("BackendStreamFailed");
        assertThat(line.path("bytes").asLong()).isBetween(0L, (long) STUB_SENT);
        assertThat(metrics()).containsPattern("sluice_responses_truncated_total\\{reason=\"backend_failed\"} [1-9]");
    }

    /**
     * The store's {@code timeout} bounds each silence of its body too, not only the wait for its
     * head: a store that goes quiet mid-body with its connection open ends the client's download
     * (the socket's own 20 s timeout fails the test in {@link #drain}), and the log says whose fault.
     */
    @Test
    void anS3BackendThatFallsSilentMidBodyEndsTheDownloadWithinItsTimeout() throws Exception {
        long received;
        try (Socket socket = get("/acme/silent/stalls.bin")) {
            socket.setSoTimeout(20_000);
            Head head = readHead(socket.getInputStream());
            assertThat(head.status()).isEqualTo(200);
            received = head.bodyBytesSoFar() + drain(socket.getInputStream());
        }

        assertThat(received).isLessThan(STUB_LENGTH);
        JsonNode line = accessLine("stalls.bin");
        assertThat(line.path("status").asInt()).isEqualTo(200);
        assertThat(line.path("error").asText()).isEqualTo("BackendStreamFailed");
        assertThat(line.path("bytes").asLong()).isBetween(0L, (long) STUB_SENT);
    }

    @Test
    void aCompleteDownloadIsNotTruncated() throws Exception {
        Files.writeString(dir.resolve("files/whole.txt"), "whole\n");
        try (Socket socket = get("/acme/files/whole.txt")) {
            Head head = readHead(socket.getInputStream());
            assertThat(head.bodyBytesSoFar() + drain(socket.getInputStream())).isEqualTo(6);
        }
        JsonNode line = accessLine("whole.txt");
        assertThat(line.has("error")).isFalse();
        assertThat(line.path("bytes").asLong()).isEqualTo(6);
    }

    // ---------------------------------------------------------------- helpers

    private static Path sparseFile(String name) throws IOException {
        Path file = dir.resolve("files").resolve(name);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(BIG);
        }
        return file;
    }

    private static Socket get(String path) throws IOException {
        URI endpoint = sluice.s3Endpoint();
        Socket socket = new Socket(endpoint.getHost(), endpoint.getPort());
        socket.setSoTimeout(30_000);
        socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + endpoint.getAuthority()
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        return socket;
    }

    private record Head(int status, long contentLength, long bodyBytesSoFar) {
    }

    /** Reads up to the end of the response head; bytes of the body read with it are counted, not kept. */
    private static Head readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        byte[] buf = new byte[1];
        while (head.size() < 64 * 1024) {
            if (in.read(buf) < 0) {
                throw new IOException("connection closed inside the head");
            }
            head.write(buf[0]);
            String text = head.toString(StandardCharsets.ISO_8859_1);
            if (text.endsWith("\r\n\r\n")) {
                String[] lines = text.split("\r\n");
                int status = Integer.parseInt(lines[0].split(" ")[1]);
                long length = -1;
                for (String l : lines) {
                    if (l.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                        length = Long.parseLong(l.substring("content-length:".length()).trim());
                    }
                }
                return new Head(status, length, 0);
            }
        }
        throw new IOException("no end of head within 64 KiB");
    }

    /**
     * Reads to the end of the connection (or its reset); returns the bytes read. A connection
     * still open when the socket's timeout passes fails the test: sluice left it hanging.
     */
    private static long drain(InputStream in) {
        long total = 0;
        byte[] buf = new byte[64 * 1024];
        try {
            for (int n; (n = in.read(buf)) >= 0; ) {
                total += n;
            }
        } catch (java.net.SocketTimeoutException stillOpen) {
            throw new AssertionError("the download was still open after the socket's timeout, " + total + " bytes in", stillOpen);
        } catch (IOException reset) {
            // an aborted connection may end in a reset rather than a clean close
        }
        return total;
    }

    /** The access-log line of the GetObject for {@code keySuffix}, waiting (bounded) for it to be written after the response. */
    private JsonNode accessLine(String keySuffix) throws Exception {
        return accessLog.await(json -> json.path("operation").asText().equals("GetObject")
                && json.path("key").asText().endsWith(keySuffix), keySuffix);
    }

    private static String metrics() {
        return sluice.admin("/metrics").text();
    }
}
