package dev.sluice.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import dev.sluice.testing.AccessLogCapture;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every route's reply is recorded the same way: the access-log line carries the status sent,
 * the body bytes the client actually received and, for an error, its code; the request metrics
 * count the error under that code and add the bytes to {@code sluice_response_bytes_total}.
 * Earlier revisions recorded each route by hand and drifted apart: errors of one route went
 * uncounted, and a HEAD answered by a route that builds a body logged bytes the client never
 * got. Each case here reads the access log by request id and {@code /metrics} from the admin
 * listener, before and after one request.
 */
class RequestAccountingTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static SluiceUnderTest sluice;

    @RegisterExtension
    final AccessLogCapture accessLog = new AccessLogCapture();

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(dir.resolve("files/dir"));
        Files.writeString(dir.resolve("files/dir/a.txt"), "hello, accounting\n");
        String yaml = """
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
                registry:
                  products:
                    - { account: acme, product: files, backend: { type: file, path: ./files } }
                inbound:
                  sts:
                    session_key_env: SESSION_KEY
                    roles:
                      - id: reader
                        trusted_issuers: ["https://issuer.invalid"]
                        audiences: [sluice]
                        subjects: ["*"]
                        scopes: [ { product: acme/files, actions: [get_object] } ]
                """;
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        sluice = SluiceUnderTest.start(yaml, Map.of("SESSION_KEY", Base64.getEncoder().encodeToString(key)), dir);
    }

    @AfterAll
    static void stop() throws Exception {
        if (sluice != null) {
            sluice.close();
        }
    }


    @Test
    void aPreflightIsLoggedWithoutBodyBytes() throws Exception {
        assertRecorded("OPTIONS", "/acme/files/dir/a.txt", 204, "Preflight", Optional.empty(),
                "Access-Control-Request-Method", "GET");
    }

    @Test
    void serviceInfoLogsTheBytesItSends() throws Exception {
        assertRecorded("GET", "/", 200, "ServiceInfo", Optional.empty(), "Accept", "application/json");
    }

    @Test
    void aHeadOfServiceInfoLogsNoBodyBytes() throws Exception {
        // The route builds the same document as for a GET; the client receives none of it.
        assertRecorded("HEAD", "/", 200, "ServiceInfo", Optional.empty(), "Accept", "application/json");
    }

    @Test
    void listBucketsLogsTheBytesItSends() throws Exception {
        assertRecorded("GET", "/", 200, "ListBuckets", Optional.empty());
    }

    @Test
    void headBucketLogsNoBodyBytes() throws Exception {
        assertRecorded("HEAD", "/acme", 200, "HeadBucket", Optional.empty());
    }

    @Test
    void getBucketLocationLogsTheBytesItSends() throws Exception {
        assertRecorded("GET", "/acme?location", 200, "GetBucketLocation", Optional.empty());
    }

    @Test
    void listObjectsLogsTheBytesItSends() throws Exception {
        assertRecorded("GET", "/acme?list-type=2&prefix=files/", 200, "ListObjectsV2", Optional.empty());
    }

    @Test
    void getObjectLogsTheBytesItSends() throws Exception {
        JsonNode line = assertRecorded("GET", "/acme/files/dir/a.txt", 200, "GetObject", Optional.empty());
        assertThat(line.path("bytes").asLong()).isEqualTo("hello, accounting\n".length());
    }

    @Test
    void headObjectLogsNoBodyBytes() throws Exception {
        assertRecorded("HEAD", "/acme/files/dir/a.txt", 200, "HeadObject", Optional.empty());
    }

    @Test
    void aMissingObjectIsCountedAsAnError() throws Exception {
        assertRecorded("GET", "/acme/files/dir/missing.txt", 404, "GetObject", Optional.of("NoSuchKey"));
    }

    @Test
    void aHeadOfAMissingObjectIsCountedAsAnErrorWithoutBodyBytes() throws Exception {
        assertRecorded("HEAD", "/acme/files/dir/missing.txt", 404, "HeadObject", Optional.of("NoSuchKey"));
    }

    @Test
    void anUnsupportedOperationIsCountedAsAnError() throws Exception {
        assertRecorded("DELETE", "/acme", 501, "Unsupported", Optional.of("NotImplemented"));
    }

    @Test
    void aRefusedWriteIsCountedAsAnErrorUnderItsOperation() throws Exception {
        assertRecorded("DELETE", "/acme/files/dir/a.txt", 403, "DeleteObject", Optional.of("AccessDenied"));
    }

    @Test
    void aMalformedQueryIsCountedAsAnError() throws Exception {
        assertRecorded("GET", "/acme?prefix=%e9", 400, "Unknown", Optional.of("InvalidArgument"));
    }

    @Test
    void anUnknownOidcDocumentIsCountedAsAnError() throws Exception {
        assertRecorded("GET", "/.well-known/openid-configuration", 404, "OidcDocument", Optional.of("NoSuchKey"));
    }

    @Test
    void anStsErrorIsCountedUnderItsCode() throws Exception {
        assertRecorded("GET", "/.sts?Action=GetCallerIdentity", 400, "AssumeRoleWithWebIdentity",
                Optional.of("InvalidAction"));
    }

    @Test
    void anStsCallWithoutAnActionIsCountedUnderItsCode() throws Exception {
        assertRecorded("POST", "/.sts", 400, "AssumeRoleWithWebIdentity", Optional.of("MissingAction"),
                "Content-Type", "application/x-www-form-urlencoded");
    }

    @Test
    void aRequestJettyRefusesIsCountedAsAnError() throws Exception {
        double errorsBefore = errors("InvalidRequest");
        double bytesBefore = responseBytes();
        URI endpoint = sluice.s3Endpoint();
        SluiceUnderTest.RawResponse r;
        try (Socket socket = new Socket(endpoint.getHost(), endpoint.getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET /acme/%zz HTTP/1.1\r\nHost: " + endpoint.getAuthority()
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            try {
                socket.getInputStream().transferTo(all);
            } catch (SocketException reset) {
                // what arrived before a reset is the response
            }
            r = RawHttp.parse(all.toByteArray());
        }
        assertThat(r.status()).isEqualTo(400);
        JsonNode line = accessLine(r.header("x-amz-request-id").orElseThrow());

        assertThat(line.path("operation").asText()).isEqualTo("Rejected");
        assertThat(line.path("status").asInt()).isEqualTo(400);
        assertThat(line.path("error").asText()).isEqualTo("InvalidRequest");
        assertThat(line.path("bytes").asLong()).isEqualTo(r.body().length).isPositive();
        assertThat(errors("InvalidRequest")).isEqualTo(errorsBefore + 1);
        assertThat(responseBytes()).isEqualTo(bytesBefore + r.body().length);
    }

    /**
     * Sends one request and checks its access-log line and metrics against what the client
     * received: status, body bytes, and for an error its code, counted once.
     */
    private JsonNode assertRecorded(String method, String pathAndQuery, int status, String operation,
                                    Optional<String> errorCode, String... headers) throws Exception {
        double errorsBefore = errorCode.isPresent() ? errors(errorCode.get()) : 0;
        double bytesBefore = responseBytes();

        SluiceUnderTest.RawResponse r = sluice.send(method, pathAndQuery, headers);

        assertThat(r.status()).isEqualTo(status);
        JsonNode line = accessLine(r.header("x-amz-request-id").orElseThrow());
        assertThat(line.path("method").asText()).isEqualTo(method);
        assertThat(line.path("operation").asText()).isEqualTo(operation);
        assertThat(line.path("status").asInt()).isEqualTo(status);
        assertThat(line.path("bytes").asLong()).as("bytes logged").isEqualTo(r.body().length);
        assertThat(responseBytes()).as("sluice_response_bytes_total").isEqualTo(bytesBefore + r.body().length);
        if (errorCode.isPresent()) {
            assertThat(line.path("error").asText()).isEqualTo(errorCode.get());
            assertThat(errors(errorCode.get())).as("sluice_errors_total").isEqualTo(errorsBefore + 1);
        } else {
            assertThat(line.has("error")).as("error logged").isFalse();
        }
        if (!method.equals("HEAD") && status != 204) {
            assertThat(r.body()).isNotEmpty();
        }
        return line;
    }

    private JsonNode accessLine(String requestId) throws Exception {
        return accessLog.await(json -> json.path("request_id").asText().equals(requestId), "request " + requestId);
    }

    private static double errors(String code) {
        return sample("sluice_errors_total\\{code=\"" + Pattern.quote(code) + "\"}");
    }

    private static double responseBytes() {
        return sample("sluice_response_bytes_total");
    }

    /** The value of one sample in the Prometheus text of {@code /metrics}; 0 when it is not there yet. */
    private static double sample(String nameAndLabels) {
        Matcher m = Pattern.compile("(?m)^" + nameAndLabels + " (\\S+)$").matcher(sluice.admin("/metrics").text());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }
}
