package dev.sluice.server;

import dev.sluice.Sluice;
import dev.sluice.config.ConfigLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Requests Jetty refuses before any handler runs (it cannot parse their URI) still get an S3
 * error document: an earlier revision let Jetty answer them with its own HTML page, which S3
 * clients cannot parse, without a request id or CORS headers.
 */
class UnparseableRequestTest {
    @TempDir
    static Path root;
    static Sluice sluice;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(root.resolve("hello"));
        Files.writeString(root.resolve("hello/greeting.txt"), "hello\n");
        sluice = new Sluice(new ConfigLoader(name -> Optional.empty()).parse("""
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
                registry:
                  products:
                    - { account: acme, product: hello, backend: { type: file, path: hello } }
                """, root), InstantSource.system());
        sluice.start();
    }

    @AfterAll
    static void stop() throws Exception {
        sluice.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/acme/hello/%zz", "/acme/hello/100%.txt", "/acme/hello/a%00b",
            "/acme/hello/%2E%2E/%2E%2E/%2E%2E/etc/passwd"})
    void uriJettyCannotParseIsAnS3InvalidRequest(String path) throws IOException {
        String response = get(sluice.server().s3Endpoint(), path);

        assertThat(response).startsWith("HTTP/1.1 400 ");
        String head = response.substring(0, response.indexOf("\r\n\r\n")).toLowerCase();
        String body = response.substring(response.indexOf("\r\n\r\n") + 4);
        assertThat(head).contains("content-type: application/xml").contains("access-control-allow-origin: *");
        assertThat(head).containsPattern("x-amz-request-id: [0-9a-f]{16}");
        // Jetty closes the connection after such a request; a client that is not told so reuses it and fails.
        assertThat(head).contains("connection: close");
        assertThat(body).startsWith("<?xml").contains("<Code>InvalidRequest</Code>").contains("<RequestId>")
                .doesNotContain("<html").doesNotContain("badMessage");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/%zz", "/healthz/%2E%2E/%2E%2E/x"})
    void adminListenerKeepsPlainErrors(String path) throws IOException {
        String response = get(sluice.server().adminEndpoint(), path);

        assertThat(response).startsWith("HTTP/1.1 400 ").doesNotContain("<Error>");
    }

    @Test
    void aMinorVersionOtherThanOneIsHttpVersionNotSupported() throws IOException {
        assertS3Error(raw("GET /acme/hello/greeting.txt HTTP/1.2\r\nHost: sluice\r\n\r\n"), 505, "HttpVersionNotSupported");
    }

    @Test
    void aMajorVersionOtherThanOneIsHttpVersionNotSupported() throws IOException {
        assertS3Error(raw("GET /acme/hello/greeting.txt HTTP/3.0\r\nHost: sluice\r\n\r\n"), 505, "HttpVersionNotSupported");
    }

    @Test
    void aLineFeedInsideTheRequestLineIsInvalidRequest() throws IOException {
        assertS3Error(raw("GET /acme/hello/gree\nting.txt HTTP/1.1\r\nHost: sluice\r\n\r\n"), 400, "InvalidRequest");
    }

    @Test
    void aHeaderSectionOverTheLimitIsRequestHeaderSectionTooLarge() throws IOException {
        String response = raw("GET /acme/hello/greeting.txt HTTP/1.1\r\nHost: sluice\r\nX-Big: " + "a".repeat(20 * 1024)
                + "\r\n\r\n");

        assertS3Error(response, 400, "RequestHeaderSectionTooLarge");
        assertThat(response).doesNotContain("percent-encoding");
    }

    @Test
    void clientErrorsAreCountedAsClientErrors() throws IOException {
        raw("GET /acme/hello/greeting.txt HTTP/1.2\r\nHost: sluice\r\n\r\n");
        raw("GET /acme/hello/gree\nting.txt HTTP/1.1\r\nHost: sluice\r\n\r\n");

        // Counters are recorded once the response is out: wait (bounded) for both.
        String metrics = sluice.metrics().scrape();
        for (long deadline = System.nanoTime() + java.time.Duration.ofSeconds(10).toNanos();
             !(metrics.contains("code=\"HttpVersionNotSupported\"") && metrics.contains("code=\"InvalidRequest\""))
                     && System.nanoTime() < deadline; ) {
            Thread.onSpinWait();
            metrics = sluice.metrics().scrape();
        }

        assertThat(metrics).contains("code=\"HttpVersionNotSupported\"").contains("code=\"InvalidRequest\"")
                .doesNotContain("code=\"InternalError\"")
                .doesNotContainPattern("sluice_requests_seconds_count\\{[^}]*status=\"500\"");
    }

    private static void assertS3Error(String response, int status, String code) {
        assertThat(response).startsWith("HTTP/1.1 " + status + " ");
        String head = response.substring(0, response.indexOf("\r\n\r\n")).toLowerCase();
        String body = response.substring(response.indexOf("\r\n\r\n") + 4);
        assertThat(head).contains("content-type: application/xml").contains("connection: close");
        assertThat(head).containsPattern("x-amz-request-id: [0-9a-f]{16}");
        assertThat(body).startsWith("<?xml").contains("<Code>" + code + "</Code>").doesNotContain("<html");
    }

    /** Sends {@code request} exactly as given on a new connection to the S3 listener; answers all that comes back. */
    private static String raw(String request) throws IOException {
        URI endpoint = sluice.server().s3Endpoint();
        try (Socket socket = new Socket(endpoint.getHost(), endpoint.getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            try {
                socket.getInputStream().transferTo(all);
            } catch (java.net.SocketException reset) {
                // unread request bytes make the close a reset; what arrived before is the response
            }
            return all.toString(StandardCharsets.UTF_8);
        }
    }

    /** Writes the request line by hand: java.net.URI refuses to build these paths. */
    private static String get(URI endpoint, String rawPath) throws IOException {
        try (Socket socket = new Socket(endpoint.getHost(), endpoint.getPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + rawPath + " HTTP/1.1\r\nHost: " + endpoint.getAuthority() + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            return all.toString(StandardCharsets.UTF_8);
        }
    }
}
