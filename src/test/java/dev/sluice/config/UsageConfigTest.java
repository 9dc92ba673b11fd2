package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code usage} section (docs/configuration.md, docs/protection.md): defaults, what is refused, with which key named. */
class UsageConfigTest {
    private static final String SALT = "a-salt-of-32-characters-or-so-00";

    @TempDir
    Path dir;

    private final Map<String, String> env = new HashMap<>(Map.of("SLUICE_USAGE_SALT", SALT));
    private final ConfigLoader loader = new ConfigLoader(name -> Optional.ofNullable(env.get(name)));

    private SluiceConfig parse(String usageLines) {
        return loader.parse("registry:\n  products: []\nusage:\n" + usageLines.indent(2), dir);
    }

    @Test
    void noUsageSectionMeansNoMeter() {
        assertThat(loader.parse("registry:\n  products: []\n", dir).usage()).isEmpty();
    }

    @Test
    void defaultsAreAMinuteNoClientAndAGeneratedInstance() {
        SluiceConfig.Usage usage = parse("file: logs/usage.jsonl").usage().orElseThrow();

        assertThat(usage.file()).as("relative to the config file's directory").isEqualTo(dir.resolve("logs/usage.jsonl"));
        assertThat(usage.interval()).isEqualTo(Duration.ofSeconds(60));
        assertThat(usage.clientHashKey()).isEmpty();
        assertThat(usage.instanceId()).isEmpty();
        assertThat(usage.maxKeys()).isEqualTo(10_000);
    }

    @Test
    void everyKeyIsRead() throws Exception {
        Files.writeString(dir.resolve("salt"), SALT + "\n");
        SluiceConfig.Usage usage = parse("""
                file: /var/log/sluice/usage.jsonl
                interval: 5m
                client_hash_key_file: salt
                instance_id: eu-1a
                max_keys: 500
                """).usage().orElseThrow();

        assertThat(usage.file()).isEqualTo(Path.of("/var/log/sluice/usage.jsonl"));
        assertThat(usage.interval()).isEqualTo(Duration.ofMinutes(5));
        assertThat(usage.clientHashKey().orElseThrow().value()).as("trimmed").isEqualTo(SALT);
        assertThat(usage.clientHashKey().toString()).doesNotContain(SALT);
        assertThat(usage.instanceId()).contains("eu-1a");
        assertThat(usage.maxKeys()).isEqualTo(500);
        assertThat(parse("file: u\nclient_hash_key_env: SLUICE_USAGE_SALT").usage().orElseThrow().clientHashKey().orElseThrow().value())
                .isEqualTo(SALT);
    }

    @Test
    void badValuesAreRefusedNamingTheirKey() {
        assertThatThrownBy(() -> parse("interval: 60s")).isInstanceOf(ConfigException.class).hasMessageContaining("usage.file");
        assertThatThrownBy(() -> parse("file: u\ninterval: 0s")).isInstanceOf(ConfigException.class).hasMessageContaining("usage.interval");
        assertThatThrownBy(() -> parse("file: u\ninterval: 500ms")).isInstanceOf(ConfigException.class).hasMessageContaining("usage.interval");
        assertThatThrownBy(() -> parse("file: u\nmax_keys: 0")).isInstanceOf(ConfigException.class).hasMessageContaining("usage.max_keys");
        assertThatThrownBy(() -> parse("file: u\nclient_hash_key_env: UNSET")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("usage.client_hash_key_env").hasMessageContaining("UNSET");
        env.put("SHORT", "short");
        assertThatThrownBy(() -> parse("file: u\nclient_hash_key_env: SHORT")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("usage").hasMessageContaining("at least 16").hasMessageNotContaining("short");
        assertThatThrownBy(() -> parse("file: u\nclient_hash_key_env: SLUICE_USAGE_SALT\nclient_hash_key_file: salt"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("exactly one");
        assertThatThrownBy(() -> parse("file: u\nintervall: 1m")).isInstanceOf(ConfigException.class).hasMessageContaining("usage.intervall");
    }
}
