package dev.sluice.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.testing.AccessLogCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Usage lines are exact (docs/protection.md, "Usage metering"): a sluice built from YAML with a
 * file product and {@code usage.file}, downloads whole, ranged and abandoned part-way, then
 * sluice closed (which writes the interval in progress): the lines' {@code bytes} sum to what
 * the clients received (for the abandoned download, what the server wrote, the access log's
 * {@code bytes}), their {@code requests} to the number of requests.
 */
class UsageMeteringTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SIZE = 300_000;
    /** Far more than loopback socket buffers hold, so the abandoned download is cut mid-body. */
    private static final long BIG = 256L * 1024 * 1024;
    private static final String SALT = "usage-test-salt-0123456789abcdef";

    @TempDir
    Path dir;

    @RegisterExtension
    final AccessLogCapture accessLog = new AccessLogCapture();

    @Test
    void usageLinesSumToTheBytesClientsReceivedForWholeRangedAndAbandonedDownloads() throws Exception {
        Files.createDirectories(dir.resolve("files"));
        byte[] content = new byte[SIZE];
        new Random(16).nextBytes(content);
        Files.write(dir.resolve("files/data.bin"), content);
        try (RandomAccessFile raf = new RandomAccessFile(dir.resolve("files/big.bin").toFile(), "rw")) {
            raf.setLength(BIG);
        }
        String yaml = """
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
                registry:
                  products:
                    - { account: acme, product: files, backend: { type: file, path: ./files } }
                usage: { file: usage/usage.jsonl, interval: 1h, client_hash_key_env: SALT, instance_id: test-1 }
                """;
        Files.createDirectories(dir.resolve("usage"));
        int full = 5;
        List<String> ranges = List.of("bytes=0-99", "bytes=1000-65535", "bytes=-500", "bytes=299990-");
        long received = 0;
        long abandonedSent;
        long clientRead;
        try (SluiceUnderTest sluice = SluiceUnderTest.start(yaml, Map.of("SALT", SALT), dir)) {
            S3Client s3 = sluice.anonymousClient();
            for (int i = 0; i < full; i++) {
                ResponseBytes<GetObjectResponse> got = s3.getObjectAsBytes(b -> b.bucket("acme").key("files/data.bin"));
                assertThat(got.asByteArray()).isEqualTo(content);
                received += got.asByteArray().length;
            }
            for (String range : ranges) {
                received += s3.getObjectAsBytes(b -> b.bucket("acme").key("files/data.bin").range(range)).asByteArray().length;
            }
            assertThat(received).isEqualTo(full * (long) SIZE + 100 + 64536 + 500 + 10);

            clientRead = readSomeThenAbandon(sluice.s3Endpoint(), "/acme/files/big.bin", 8 * 1024);
            JsonNode line = accessLog.await(json -> json.path("key").asText().equals("big.bin"), "big.bin");
            assertThat(line.path("error").asText()).isEqualTo("ClientDisconnected");
            abandonedSent = line.path("bytes").asLong();
            assertThat(abandonedSent).isGreaterThanOrEqualTo(clientRead).isLessThan(BIG);
        }

        Path file = dir.resolve("usage/usage.jsonl");
        String text = Files.readString(file);
        List<JsonNode> lines = new ArrayList<>();
        for (String l : text.split("\n")) {
            lines.add(JSON.readTree(l));
        }
        assertThat(lines).isNotEmpty();
        assertThat(lines.stream().mapToLong(l -> l.get("requests").asLong()).sum()).isEqualTo(full + ranges.size() + 1);
        assertThat(lines.stream().mapToLong(l -> l.get("bytes").asLong()).sum()).isEqualTo(received + abandonedSent);
        for (JsonNode l : lines) {
            assertThat(l.get("instance").asText()).isEqualTo("test-1");
            assertThat(l.get("account").asText()).isEqualTo("acme");
            assertThat(l.get("product").asText()).isEqualTo("files");
            assertThat(l.get("principal").asText()).isEqualTo("anonymous");
            assertThat(l.get("client").asText()).isEqualTo(hmac("127.0.0.1"));
        }
        assertThat(lines).as("one key, one interval: one line").hasSize(1);
        assertThat(text).doesNotContain("127.0.0.1");
    }

    /** GETs {@code path} on a raw socket, reads its head and {@code bodyBytes} of body, then resets the connection. */
    private static long readSomeThenAbandon(URI endpoint, String path, int bodyBytes) throws IOException {
        try (Socket socket = new Socket(endpoint.getHost(), endpoint.getPort())) {
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + endpoint.getAuthority()
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0 || head.size() > 64 * 1024) {
                    throw new IOException("no response head");
                }
                head.write(b);
            }
            assertThat(head.toString(StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 200");
            byte[] buf = new byte[bodyBytes];
            int read = in.readNBytes(buf, 0, bodyBytes);
            socket.setSoLinger(true, 0); // reset, as a client that gives up does
            return read;
        }
    }

    private static String hmac(String address) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SALT.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return HexFormat.of().formatHex(mac.doFinal(address.getBytes(StandardCharsets.UTF_8))).substring(0, 32);
    }
}
