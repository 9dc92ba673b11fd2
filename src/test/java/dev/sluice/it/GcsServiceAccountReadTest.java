package dev.sluice.it;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.sluice.testing.TestGcs;
import dev.sluice.testing.TestGoogle;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.services.s3.S3Client;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A GCS product authorized with a service-account key file (docs/gcs.md): sluice signs a JWT
 * with the key, trades it at the key's {@code token_uri} for a bearer token, and reads a bucket
 * that admits only tokens that endpoint issued, with no OIDC provider configured. Many reads
 * make one exchange; the private key and the token never reach a log.
 */
class GcsServiceAccountReadTest {
    static final String READER = "reader@sluice-test.iam.gserviceaccount.com";

    @TempDir
    static Path root;

    static TestGoogle google;
    static TestGcs gcs;
    static SluiceUnderTest sluice;
    static String keyJson;
    static final ListAppender<ILoggingEvent> LOGS = new ListAppender<>();

    @BeforeAll
    static void start() throws Exception {
        google = new TestGoogle("http://127.0.0.1:9"); // no federation here: the issuer is never asked
        keyJson = google.serviceAccountKey(READER);
        Files.writeString(root.resolve("reader.json"), keyJson, StandardCharsets.UTF_8);
        gcs = new TestGcs().bucket("survey").requireTokens(google::accepts);
        gcs.put("survey", "plots/2024/a.csv", "id,trees\n1,12\n".getBytes(StandardCharsets.UTF_8), TestGcs.Attributes.of("text/csv"));
        gcs.put("survey", "plots/2024/b.csv", "id,trees\n2,7\n".getBytes(StandardCharsets.UTF_8), TestGcs.Attributes.of("text/csv"));
        LOGS.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(LOGS);
        sluice = SluiceUnderTest.start("""
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
                registry:
                  products:
                    - account: acme
                      product: survey
                      backend:
                        type: gcs
                        bucket: survey
                        prefix: plots/
                        endpoint: "%s"
                        timeout: 5s
                        auth: { type: service_account_key, key_file: reader.json }
                """.formatted(gcs.endpoint()), Map.of(), root);
    }

    @AfterAll
    static void stop() throws Exception {
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(LOGS);
        try (AutoCloseable a = sluice; AutoCloseable b = gcs; AutoCloseable c = google) {
            // closed in reverse order
        }
    }

    @Test
    void readsAndListingsUseOneTokenFromTheKeyAndNoSecretIsLogged() {
        S3Client s3 = sluice.anonymousClient();
        for (int i = 0; i < 5; i++) {
            String body = s3.getObject(b -> b.bucket("acme").key("survey/2024/a.csv"), ResponseTransformer.toBytes()).asUtf8String();
            assertThat(body).isEqualTo("id,trees\n1,12\n");
        }
        List<String> keys = s3.listObjectsV2(b -> b.bucket("acme").prefix("survey/")).contents().stream()
                .map(o -> o.key()).toList();

        assertThat(keys).containsExactly("survey/2024/a.csv", "survey/2024/b.csv");
        assertThat(google.exchanges("oauth")).as("one JWT bearer grant for every read").isEqualTo(1);
        assertThat(google.exchanges("sts")).isZero();
        assertThat(gcs.authorizations()).as("every storage request carried the token").isNotEmpty()
                .allSatisfy(a -> assertThat(a).startsWith("Bearer "));
        String privateKey = keyJson.replaceAll("(?s).*\"private_key\":\"-----BEGIN PRIVATE KEY-----\\\\n(.{40}).*", "$1");
        assertThat(privateKey).hasSize(40);
        for (ILoggingEvent e : LOGS.list) {
            String line = e.getFormattedMessage() + (e.getThrowableProxy() == null ? "" : e.getThrowableProxy().getMessage());
            assertThat(line).doesNotContain(privateKey);
            for (String token : google.issuedTokens()) {
                assertThat(line).doesNotContain(token);
            }
        }
    }
}
