package dev.sluice.it;

import static dev.sluice.it.S3ErrorAssert.assertS3Error;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Request bodies cannot exhaust sluice's memory. An earlier revision read up to 1 MiB of any
 * request's body before authentication and held it for the body timeout: about 270 anonymous
 * GETs, each sending a 1 MB body with its last byte withheld, filled 256 MiB of direct memory
 * and every other client was disconnected. Now a GET or HEAD body is refused unread, and the
 * bodies sluice does read ({@code /.sts} forms) come out of one budget shared by all requests.
 */
class RequestBodyBoundsTest {
    /** Four {@code /.sts} bodies of 64 KiB. */
    private static final int BUDGET = 4 * 64 * 1024;

    @TempDir
    static Path dir;
    static SluiceUnderTest sluice;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(dir.resolve("hello"));
        Files.writeString(dir.resolve("hello/greeting.txt"), "hello, world\n");
        // A long body timeout: the held bodies must stay held for the whole test.
        String yaml = """
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0", body_timeout: 2m, body_budget: %d }
                registry:
                  products:
                    - { account: demo, product: hello, backend: { type: file, path: ./hello } }
                inbound:
                  sts:
                    session_key_env: SESSION_KEY
                    roles:
                      - id: reader
                        trusted_issuers: ["https://issuer.example"]
                        audiences: [sluice]
                        scopes: [ { product: demo/hello, actions: [get_object] } ]
                """.formatted(BUDGET);
        sluice = SluiceUnderTest.start(yaml, Map.of("SESSION_KEY", Base64.getEncoder().encodeToString(new byte[32])), dir);
    }

    @AfterAll
    static void stop() throws Exception {
        sluice.close();
    }

    /** Opens a connection and sends a request head and {@code sent} bytes of the body it declares. */
    private static Socket startRequest(String method, String path, long declaredLength, int sent) throws IOException {
        URI endpoint = sluice.s3Endpoint();
        Socket socket = new Socket(endpoint.getHost(), endpoint.getPort());
        socket.setSoTimeout(10_000);
        OutputStream out = socket.getOutputStream();
        out.write((method + " " + path + " HTTP/1.1\r\nHost: " + endpoint.getAuthority()
                + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " + declaredLength + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        try {
            out.write(new byte[sent]);
            out.flush();
        } catch (IOException refusedMidBody) {
            // sluice may answer and close before the client has written all it meant to
        }
        return socket;
    }

    /** The response sluice sent on a connection it closes, read within the socket's timeout. */
    private static SluiceUnderTest.RawResponse response(Socket socket) throws IOException {
        try (socket) {
            java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
            try {
                socket.getInputStream().transferTo(all);
            } catch (java.net.SocketException reset) {
                // the client's unread body makes the close a reset; what arrived before is the response
            }
            return RawHttp.parse(all.toByteArray());
        }
    }

    private static double metric(String name) {
        Matcher m = Pattern.compile("(?m)^" + name + "(?:\\{[^}]*\\})? (\\S+)$").matcher(sluice.admin("/metrics").text());
        assertThat(m.find()).as("metric %s", name).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    void aGetWithABodyIsRefusedWithoutWaitingForIt() throws Exception {
        // 1 MB declared, 64 KiB sent, the rest withheld: the answer cannot wait for the body (2 minutes).
        SluiceUnderTest.RawResponse r = response(startRequest("GET", "/demo/hello/greeting.txt", 1_000_000, 64 * 1024));

        assertS3Error(r, 400, "InvalidRequest", "/demo/hello/greeting.txt");
        assertThat(r.header("Connection")).hasValue("close");
    }

    @Test
    void aHeadWithABodyIsRefusedWithoutWaitingForIt() throws Exception {
        SluiceUnderTest.RawResponse r = response(startRequest("HEAD", "/demo/hello/greeting.txt", 100, 10));

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.header("Connection")).hasValue("close");
    }

    /**
     * A write refused before its body is read (here: an anonymous PUT to a read-only product)
     * leaves the rest of the body in the connection, so sluice closes it after the reply, and the
     * reply must say so: a client that is not told (the JDK's HttpClient, for one) reuses the
     * connection and its next request fails with no response at all.
     */
    @Test
    void aWriteRefusedWithItsBodyStillComingSaysTheConnectionCloses() throws Exception {
        SluiceUnderTest.RawResponse r = response(startRequest("PUT", "/demo/hello/upload.bin", 1_000_000, 64 * 1024));

        assertS3Error(r, 403, "AccessDenied", "/demo/hello/upload.bin");
        assertThat(r.header("Connection")).hasValue("close");
    }

    /** A refused write whose small body has arrived whole keeps its connection for the next request. */
    @Test
    void aWriteRefusedWithItsWholeBodyInHandKeepsTheConnection() throws Exception {
        URI endpoint = sluice.s3Endpoint();
        try (Socket socket = new Socket(endpoint.getHost(), endpoint.getPort())) {
            socket.setSoTimeout(10_000);
            // Head and body in one write, so the body is in sluice's hands with the head.
            socket.getOutputStream().write(("PUT /demo/hello/upload.bin HTTP/1.1\r\nHost: " + endpoint.getAuthority()
                    + "\r\nContent-Length: 100\r\n\r\n" + "x".repeat(100)).getBytes(StandardCharsets.US_ASCII));
            SluiceUnderTest.RawResponse refused = oneResponse(socket.getInputStream());
            assertS3Error(refused, 403, "AccessDenied", "/demo/hello/upload.bin");
            assertThat(refused.header("Connection")).isEmpty();

            socket.getOutputStream().write(("GET /demo/hello/greeting.txt HTTP/1.1\r\nHost: " + sluice.s3Endpoint().getAuthority()
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            SluiceUnderTest.RawResponse next = oneResponse(socket.getInputStream());
            assertThat(next.status()).isEqualTo(200);
            assertThat(next.text()).isEqualTo("hello, world\n");
        }
    }

    /** One response with a Content-Length body, read off a connection that stays open. */
    private static SluiceUnderTest.RawResponse oneResponse(java.io.InputStream in) throws IOException {
        java.io.ByteArrayOutputStream head = new java.io.ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            assertThat(b).as("the connection ended inside a response head: %s", head).isNotNegative();
            head.write(b);
        }
        Matcher length = Pattern.compile("(?im)^Content-Length:\\s*(\\d+)").matcher(head.toString(StandardCharsets.ISO_8859_1));
        assertThat(length.find()).as("a Content-Length in %s", head).isTrue();
        head.write(in.readNBytes(Integer.parseInt(length.group(1))));
        return RawHttp.parse(head.toByteArray());
    }

    @Test
    void slowBodiesHoldNoMoreThanTheBudgetAndOthersAreStillServed() throws Exception {
        List<Socket> held = new ArrayList<>();
        List<Socket> refused = new ArrayList<>();
        double refusalsBefore = metric("sluice_body_refusals_total");
        try {
            // Four STS forms of 64 KiB with their last byte withheld spend the whole budget...
            for (int i = 0; i < 4; i++) {
                held.add(startRequest("POST", "/.sts", 64 * 1024, 64 * 1024 - 1));
            }
            for (long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                 metric("sluice_body_reserved_bytes") < BUDGET && System.nanoTime() < deadline; ) {
                Thread.onSpinWait();
            }
            assertThat(metric("sluice_body_reserved_bytes")).isEqualTo(BUDGET);

            // ... so the next 396 are refused at once rather than held, and so are 1 MB GETs.
            for (int i = 0; i < 396; i++) {
                refused.add(startRequest("POST", "/.sts", 64 * 1024, 64 * 1024 - 1));
            }
            for (int i = 0; i < 20; i++) {
                refused.add(startRequest("GET", "/demo/hello/greeting.txt", 1_000_000, 64 * 1024));
            }
            for (int i = 0; i < 396; i++) {
                SluiceUnderTest.RawResponse r = response(refused.get(i));
                assertS3Error(r, 503, "SlowDown", "/.sts");
                assertThat(r.header("Retry-After")).isPresent();
            }
            for (int i = 396; i < refused.size(); i++) {
                assertThat(response(refused.get(i)).status()).isEqualTo(400);
            }

            assertThat(metric("sluice_body_refusals_total") - refusalsBefore).isEqualTo(396);
            assertThat(metric("sluice_body_reserved_bytes")).isEqualTo(BUDGET);
            assertThat(metric("sluice_body_budget_bytes")).isEqualTo(BUDGET);
            SluiceUnderTest.RawResponse normal = sluice.send("GET", "/demo/hello/greeting.txt");
            assertThat(normal.status()).isEqualTo(200);
            assertThat(normal.text()).isEqualTo("hello, world\n");
        } finally {
            for (Socket s : held) {
                s.close();
            }
            for (Socket s : refused) {
                s.close();
            }
        }
        // A client that gives up returns what its body held.
        for (long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
             metric("sluice_body_reserved_bytes") > 0 && System.nanoTime() < deadline; ) {
            Thread.onSpinWait();
        }
        assertThat(metric("sluice_body_reserved_bytes")).isZero();
    }
}
