package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code cache.shared} section (docs/configuration.md): what is refused, with which key named, and the defaults. */
class SharedTierConfigTest {
    private static final String SEAL_KEY = Base64.getEncoder().encodeToString(bytes(32, 7));

    @TempDir
    Path dir;

    private final Map<String, String> env = new HashMap<>(Map.of("SLUICE_CACHE_KEY", SEAL_KEY));
    private final ConfigLoader loader = new ConfigLoader(name -> Optional.ofNullable(env.get(name)));

    private static byte[] bytes(int n, int value) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) value);
        return b;
    }

    /** A minimal configuration whose {@code cache:} section is {@code cacheLines}. */
    private SluiceConfig parse(String cacheLines) {
        return loader.parse("registry:\n  products: []\ncache:\n" + cacheLines.indent(2), dir);
    }

    private SluiceConfig.Shared.Redis shared(String sharedLines) {
        return (SluiceConfig.Shared.Redis) parse("shared:\n" + sharedLines.indent(2)).cache().shared();
    }

    private AbstractThrowableAssert<?, ? extends Throwable> refused(String sharedLines) {
        return assertThatThrownBy(() -> shared(sharedLines)).isInstanceOf(ConfigException.class);
    }

    // --- type ----------------------------------------------------------------------------------

    @Test
    void noSharedSectionMeansNoSharedTier() {
        SluiceConfig.Shared shared = loader.parse("registry:\n  products: []\n", dir).cache().shared();

        assertThat(shared.enabled()).isFalse();
        assertThat(shared).isEqualTo(new SluiceConfig.Shared.None());
    }

    @Test
    void typeNoneTakesNoOtherKeys() {
        refused("""
                type: none
                uri: redis://127.0.0.1:6379
                """).hasMessageContaining("cache.shared.uri").hasMessageContaining("unknown key");
    }

    @Test
    void anUnknownTypeIsRefused() {
        refused("type: memcached").hasMessageContaining("cache.shared.type").hasMessageContaining("memcached");
        refused("type: Redis").hasMessageContaining("cache.shared.type");
    }

    @Test
    void anUnknownKeyIsRefused() {
        refused("""
                type: redis
                seal_key_env: SLUICE_CACHE_KEY
                timout: 50ms
                """).hasMessageContaining("cache.shared.timout");
    }

    // --- defaults ------------------------------------------------------------------------------

    @Test
    void redisDefaultsFollowTheDesign() {
        SluiceConfig.Shared.Redis shared = shared("""
                type: redis
                seal_key_env: SLUICE_CACHE_KEY
                """);

        assertThat(shared.enabled()).isTrue();
        assertThat(shared.uri()).isEqualTo("redis://127.0.0.1:6379");
        assertThat(shared.timeout()).isEqualTo(Duration.ofMillis(100));
        assertThat(shared.lead()).isEqualTo(Duration.ofSeconds(300));
        assertThat(shared.leaseWait()).isEqualTo(Duration.ofSeconds(2));
        assertThat(shared.leaseTtl()).as("the STS deadline (5 s) and a margin").isEqualTo(Duration.ofSeconds(10));
        assertThat(shared.breakerFailures()).isEqualTo(3);
        assertThat(shared.breakerOpen()).isEqualTo(Duration.ofSeconds(5));
        assertThat(shared.sealKey().bytes()).isEqualTo(Base64.getDecoder().decode(SEAL_KEY));
    }

    @Test
    void everyKeyCanBeSet() {
        SluiceConfig.Shared.Redis shared = shared("""
                type: redis
                uri: rediss://cache.internal:6380/2
                timeout: 250ms
                lead: 10m
                seal_key_env: SLUICE_CACHE_KEY
                lease_ttl: 20s
                lease_wait: 500ms
                breaker_failures: 7
                breaker_open: 30s
                """);

        assertThat(shared.uri()).isEqualTo("rediss://cache.internal:6380/2");
        assertThat(shared.timeout()).isEqualTo(Duration.ofMillis(250));
        assertThat(shared.lead()).isEqualTo(Duration.ofMinutes(10));
        assertThat(shared.leaseTtl()).isEqualTo(Duration.ofSeconds(20));
        assertThat(shared.leaseWait()).isEqualTo(Duration.ofMillis(500));
        assertThat(shared.breakerFailures()).isEqualTo(7);
        assertThat(shared.breakerOpen()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void theCallersDefaultWaitCoversTheLeaseWaitAndTheExchange() {
        SluiceConfig.Cache cache = parse("""
                shared:
                  type: redis
                  seal_key_env: SLUICE_CACHE_KEY
                  lease_wait: 3s
                """).cache();

        assertThat(cache.maxWait()).isEqualTo(Duration.ofSeconds(5 + 3 + 1));
    }

    // --- the seal key ----------------------------------------------------------------------------

    @Test
    void redisWithoutASealKeyIsRefusedNamingTheKey() {
        refused("type: redis").hasMessageContaining("cache.shared.seal_key_env").hasMessageContaining("32 random bytes");
    }

    @Test
    void aSealKeyEnvironmentVariableThatIsNotSetIsRefused() {
        refused("""
                type: redis
                seal_key_env: NOT_SET_ANYWHERE
                """).hasMessageContaining("cache.shared.seal_key_env").hasMessageContaining("NOT_SET_ANYWHERE");
    }

    @Test
    void bothSealKeySourcesAtOnceAreRefused() throws Exception {
        Path file = Files.writeString(dir.resolve("seal.key"), SEAL_KEY);

        refused("""
                type: redis
                seal_key_env: SLUICE_CACHE_KEY
                seal_key_file: %s
                """.formatted(file)).hasMessageContaining("exactly one of seal_key_env or seal_key_file");
    }

    @Test
    void aSealKeyFileIsReadAndTrimmed() throws Exception {
        Path file = Files.writeString(dir.resolve("seal.key"), SEAL_KEY + "\n");

        SluiceConfig.Shared.Redis shared = shared("""
                type: redis
                seal_key_file: %s
                """.formatted(file));

        assertThat(shared.sealKey().bytes()).hasSize(32);
    }

    @Test
    void aSealKeyThatIsNotBase64IsRefusedWithoutEchoingIt() {
        env.put("SLUICE_CACHE_KEY", "this is not base64 at all!");

        refused("""
                type: redis
                seal_key_env: SLUICE_CACHE_KEY
                """).hasMessageContaining("cache.shared").hasMessageContaining("not base64")
                .hasMessageNotContaining("this is not base64 at all!");
    }

    @Test
    void aSealKeyThatIsNot32BytesIsRefusedWithoutEchoingIt() {
        for (int length : new int[] {16, 31, 33, 64}) {
            String key = Base64.getEncoder().encodeToString(bytes(length, 9));
            env.put("SLUICE_CACHE_KEY", key);

            refused("""
                    type: redis
                    seal_key_env: SLUICE_CACHE_KEY
                    """).as("%d bytes", length).hasMessageContaining("32 bytes, not " + length).hasMessageNotContaining(key);
        }
    }

    @Test
    void theSealKeyIsRedactedFromTheConfigsString() {
        SluiceConfig.Shared.Redis shared = shared("""
                type: redis
                seal_key_env: SLUICE_CACHE_KEY
                """);

        assertThat(shared.toString()).doesNotContain(SEAL_KEY).contains("<redacted>");
    }

    // --- lead ------------------------------------------------------------------------------------

    @Test
    void aLeadEqualToTheRefreshLeadIsRefused() {
        refused("""
                type: redis
                seal_key_env: SLUICE_CACHE_KEY
                lead: 60s
                """).hasMessageContaining("cache.shared.lead").hasMessageContaining("refresh_lead");
    }

    @Test
    void aLeadBelowTheRefreshLeadIsRefused() {
        refused("""
                type: redis
                seal_key_env: SLUICE_CACHE_KEY
                lead: 59s
                """).hasMessageContaining("cache.shared.lead");
    }

    @Test
    void aLeadJustAboveTheRefreshLeadIsAccepted() {
        assertThat(shared("""
                type: redis
                seal_key_env: SLUICE_CACHE_KEY
                lead: 61s
                """).lead()).isEqualTo(Duration.ofSeconds(61));
    }

    @Test
    void theLeadIsComparedWithTheConfiguredRefreshLead() {
        assertThatThrownBy(() -> parse("""
                credentials:
                  refresh_lead: 10m
                shared:
                  type: redis
                  seal_key_env: SLUICE_CACHE_KEY
                """)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("cache.shared.lead").hasMessageContaining("PT10M");
    }

    // --- other values ----------------------------------------------------------------------------

    @Test
    void aUriThatIsNotRedisIsRefused() {
        refused("""
                type: redis
                uri: http://127.0.0.1:6379
                seal_key_env: SLUICE_CACHE_KEY
                """).hasMessageContaining("cache.shared.uri");
    }

    @Test
    void aZeroTimeoutIsRefused() {
        refused("""
                type: redis
                timeout: 0ms
                seal_key_env: SLUICE_CACHE_KEY
                """).hasMessageContaining("cache.shared.timeout");
    }

    /** A zero lease expires as it is taken: fleet single flight would be off without a word. */
    @Test
    void aZeroLeaseTtlIsRefused() {
        refused("""
                type: redis
                seal_key_env: SLUICE_CACHE_KEY
                lease_ttl: 0s
                """).hasMessageContaining("cache.shared.lease_ttl");
    }

    @Test
    void aBreakerThresholdBelowOneIsRefused() {
        refused("""
                type: redis
                seal_key_env: SLUICE_CACHE_KEY
                breaker_failures: 0
                """).hasMessageContaining("cache.shared.breaker_failures");
    }
}
