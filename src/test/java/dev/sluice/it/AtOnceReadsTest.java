package dev.sluice.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A small read of a file product is answered on the thread that parsed it, which is one of a
 * few selector threads serving every connection (docs/operations.md, "Threads"). Nothing there
 * may wait: a client that asks for many objects and reads none of them must leave its writes
 * pending, not the thread, or every other client on that selector would wait with it.
 */
class AtOnceReadsTest {
    private static final int OBJECT = 60 * 1024;
    /** Requests each stalled client sends and never reads the answers to: far more bytes than any socket buffers hold. */
    private static final int PIPELINED = 300;
    private static final Pattern GETS = Pattern.compile("(?m)^sluice_requests_seconds_count\\{[^}]*operation=\"GetObject\"[^}]*} (\\S+)$");

    @TempDir
    static Path dir;
    static SluiceUnderTest sluice;
    static byte[] object;
    /** A remote store that takes connections and never answers on them. */
    static java.net.ServerSocket silentStore;
    static final List<Socket> silentConnections = java.util.Collections.synchronizedList(new ArrayList<>());

    @BeforeAll
    static void start() throws Exception {
        object = new byte[OBJECT];
        new Random(7).nextBytes(object);
        Files.createDirectories(dir.resolve("files"));
        Files.write(dir.resolve("files/object.bin"), object);
        silentStore = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("silent-store").start(() -> {
            while (!silentStore.isClosed()) {
                try {
                    silentConnections.add(silentStore.accept());
                } catch (IOException closed) {
                    return;
                }
            }
        });
        sluice = SluiceUnderTest.start("""
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
                registry:
                  products:
                    - { account: demo, product: files, backend: { type: file, path: ./files } }
                    - account: demo
                      product: remote
                      backend: { type: s3, endpoint: "http://127.0.0.1:%d", region: us-east-1, bucket: silent, timeout: 3s, auth: { type: anonymous } }
                """.formatted(silentStore.getLocalPort()), Map.of(), dir);
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            sluice.close();
        } finally {
            silentStore.close();
            synchronized (silentConnections) {
                for (Socket s : silentConnections) {
                    s.close();
                }
            }
        }
    }

    /**
     * A read of a remote store that needs no credentials fetched is sent from the thread that
     * parsed it, which does not wait for the answer: while a store answers nothing, reads of it
     * hold up no other client, and each is answered 503 at the store's deadline.
     */
    @Test
    void aStoreThatAnswersNothingHoldsUpNoOtherClient() throws Exception {
        URI endpoint = sluice.s3Endpoint();
        List<Socket> waiting = new ArrayList<>();
        try {
            long started = System.nanoTime();
            for (int i = 0; i < 16; i++) {
                waiting.add(send(endpoint, ("GET /demo/remote/key-" + i + " HTTP/1.1\r\nHost: sluice\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII)));
            }
            everyOtherClientIsAnswered(endpoint);
            long fileReadsTook = (System.nanoTime() - started) / 1_000_000;
            assertThat(fileReadsTook).as("ms for the other clients' reads; the store's deadline is 3 s").isLessThan(2_500);
            for (Socket s : waiting) {
                assertThat(s.getInputStream().available()).as("a read of the silent store answered before its deadline").isZero();
            }
            for (Socket s : waiting) {
                s.setSoTimeout(15_000);
                String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                assertThat(answer).startsWith("HTTP/1.1 503 ").contains("<Code>ServiceUnavailable</Code>").doesNotContain("127.0.0.1");
            }
            long took = (System.nanoTime() - started) / 1_000_000;
            assertThat(took).as("ms until every read of the silent store was answered").isBetween(3_000L, 13_000L);
        } finally {
            for (Socket s : waiting) {
                s.close();
            }
        }
    }

    @Test
    void clientsThatStopReadingHoldUpNoOtherClient() throws Exception {
        URI endpoint = sluice.s3Endpoint();
        List<Socket> stalled = new ArrayList<>();
        try {
            // Two per selector at least, so that every selector has some; connections are spread round-robin.
            for (int i = 0; i < 8; i++) {
                byte[] request = "GET /demo/files/object.bin HTTP/1.1\r\nHost: sluice\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
                byte[] all = new byte[request.length * PIPELINED];
                for (int r = 0; r < PIPELINED; r++) {
                    System.arraycopy(request, 0, all, r * request.length, request.length);
                }
                stalled.add(send(endpoint, all));
            }
            // The server writes until the stalled sockets' buffers are full, then stops: the
            // number of GETs it completed stops growing, well short of all that were asked.
            double served = awaitSteadyGetCount();
            assertThat(served).as("GETs completed before the stalled clients' buffers filled").isLessThan(8.0 * PIPELINED);

            everyOtherClientIsAnswered(endpoint);
            // The stalled clients still get whole answers once they read.
            InputStream in = stalled.get(0).getInputStream();
            stalled.get(0).setSoTimeout(10_000);
            String head = new String(in.readNBytes(16), StandardCharsets.US_ASCII);
            assertThat(head).startsWith("HTTP/1.1 200 ");
        } finally {
            for (Socket s : stalled) {
                s.close();
            }
        }
    }

    /** A connection (with a small receive buffer) that has sent {@code bytes} and is left unread. */
    private static Socket send(URI endpoint, byte[] bytes) throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(new InetSocketAddress(endpoint.getHost(), endpoint.getPort()), 5_000);
        s.getOutputStream().write(bytes);
        s.getOutputStream().flush();
        return s;
    }

    /** Eight more clients each read the file whole, whichever selector their connection lands on. */
    private static void everyOtherClientIsAnswered(URI endpoint) throws IOException {
        for (int i = 0; i < 8; i++) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(endpoint.getHost(), endpoint.getPort()), 5_000);
                s.setSoTimeout(10_000);
                s.getOutputStream().write("GET /demo/files/object.bin HTTP/1.1\r\nHost: sluice\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                byte[] response = s.getInputStream().readAllBytes();
                String text = new String(response, StandardCharsets.ISO_8859_1);
                assertThat(text).startsWith("HTTP/1.1 200 ");
                int body = text.indexOf("\r\n\r\n") + 4;
                assertThat(Arrays.copyOfRange(response, body, response.length)).isEqualTo(object);
            }
        }
    }

    /** The GetObject count once it has not moved for half a second, polled for at most 20 s. */
    private static double awaitSteadyGetCount() throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        double last = -1;
        int steady = 0;
        while (System.nanoTime() < deadline) {
            double now = getCount();
            steady = now == last ? steady + 1 : 0;
            if (steady >= 5) {
                return now;
            }
            last = now;
            Thread.sleep(100);
        }
        throw new AssertionError("the GetObject count never settled; last " + last);
    }

    private static double getCount() {
        Matcher m = GETS.matcher(sluice.admin("/metrics").text());
        double sum = 0;
        while (m.find()) {
            sum += Double.parseDouble(m.group(1));
        }
        return sum;
    }
}
