package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Which key seals multipart upload ids (docs/configuration.md, {@code server.upload_id_key_env}). */
class UploadIdKeyTest {
    private static final byte[] UPLOAD_KEY = filled(1);
    private static final byte[] SESSION_KEY = filled(2);

    @TempDir
    Path dir;

    private static byte[] filled(int value) {
        byte[] key = new byte[32];
        java.util.Arrays.fill(key, (byte) value);
        return key;
    }

    private SluiceConfig config(String yaml) throws IOException {
        Files.createDirectories(dir.resolve("data"));
        Map<String, String> env = Map.of("UPLOAD_KEY", Base64.getEncoder().encodeToString(UPLOAD_KEY),
                "SESSION_KEY", Base64.getEncoder().encodeToString(SESSION_KEY));
        return new ConfigLoader(name -> Optional.ofNullable(env.get(name))).parse(yaml
                + "registry: { products: [ { account: demo, product: drop, backend: { type: file, path: data } } ] }\n", dir);
    }

    private static final String STS = """
            inbound:
              sts:
                session_key_env: SESSION_KEY
                trusted_issuers: ["https://issuer.example"]
                audiences: [sluice]
            """;

    @Test
    void theConfiguredUploadIdKeyWins() throws IOException {
        assertThat(Sluice.uploadIdKey(config("server: { upload_id_key_env: UPLOAD_KEY }\n" + STS), new SecureRandom()))
                .isEqualTo(UPLOAD_KEY);
    }

    @Test
    void withoutOneTheSessionKeyAFleetAlreadySharesIsUsed() throws IOException {
        assertThat(Sluice.uploadIdKey(config(STS), new SecureRandom())).isEqualTo(SESSION_KEY);
    }

    @Test
    void withNeitherEachProcessMakesItsOwnAndSaysUploadsCannotMoveBetweenInstances() throws IOException {
        Logger logger = (Logger) LoggerFactory.getLogger(Sluice.class);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        logger.addAppender(logged);
        ch.qos.logback.classic.Level level = logger.getLevel();
        logger.setLevel(ch.qos.logback.classic.Level.INFO);
        try {
            byte[] first = Sluice.uploadIdKey(config(""), new SecureRandom());
            byte[] second = Sluice.uploadIdKey(config(""), new SecureRandom());

            assertThat(first).hasSize(32).isNotEqualTo(second);
            assertThat(logged.list).extracting(ILoggingEvent::getFormattedMessage)
                    .anyMatch(m -> m.contains("cannot be continued on another") && m.contains("upload_id_key_env"));
        } finally {
            logger.setLevel(level);
            logger.detachAppender(logged);
        }
    }
}
