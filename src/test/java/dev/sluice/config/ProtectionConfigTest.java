package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.protect.QuotaPeriod;
import dev.sluice.protect.Rate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** {@code limits} and {@code registry.products[].limits} (docs/protection.md): the shape, the defaults, and what is refused by key. */
class ProtectionConfigTest {
    @TempDir
    Path dir;

    private final ConfigLoader loader = new ConfigLoader(name -> Optional.empty());

    private SluiceConfig parse(String limitsLines) {
        return loader.parse("registry:\n  products: []\nlimits:\n" + limitsLines.indent(2), dir);
    }

    private SluiceConfig.ProductLimits productOverride(String limitsLines) throws Exception {
        Files.createDirectories(dir.resolve("files"));
        return loader.parse("""
                registry:
                  products:
                    - account: acme
                      product: files
                      backend: { type: file, path: ./files }
                      limits:
                """ + limitsLines.indent(8), dir).registry().products().get(0).limits();
    }

    private void refused(String limitsLines, String message) {
        assertThatThrownBy(() -> parse(limitsLines)).isInstanceOf(ConfigException.class).hasMessageContaining(message);
    }

    @Test
    void noLimitsSectionMeansNoLimits() {
        SluiceConfig config = loader.parse("registry:\n  products: []\n", dir);
        assertThat(config.limits()).isEmpty();
    }

    @Test
    void aPrincipalByteQuotaIsReadLikeAProducts() {
        assertThat(parse("principal: { bytes_per_day: 5GiB }").limits().orElseThrow().principalQuota())
                .contains(new SluiceConfig.Quota(5L << 30, QuotaPeriod.DAY));
        assertThat(parse("principal: { requests_per_second: 1, bytes_per_hour: 500MiB }").limits().orElseThrow().principalQuota())
                .contains(new SluiceConfig.Quota(500L << 20, QuotaPeriod.HOUR));
        assertThat(parse("principal: { requests_per_second: 1 }").limits().orElseThrow().principalQuota()).isEmpty();
        refused("principal: { bytes_per_day: 1GiB, bytes_per_hour: 1MiB }",
                "limits.principal.bytes_per_day: give bytes_per_hour or bytes_per_day, not both");
        refused("principal: { bytes_per_day: lots }", "limits.principal.bytes_per_day: 'lots' is not a positive number of bytes");
    }

    @Test
    void theWholeSectionIsTyped() {
        SluiceConfig.Protection p = parse("""
                anonymous: { requests_per_second: 50, burst: 100, concurrent: 16 }
                principal: { requests_per_second: 200, burst: 400 }
                product:   { requests_per_second: 2000, bytes_per_day: 100GiB }
                trusted_proxies: ["10.0.0.0/8", "192.0.2.7", "fd00::/8"]
                exempt: [AKIAINTERNAL0001, internal]
                fleet_size: 4
                """).limits().orElseThrow();
        assertThat(p.anonymous().rate()).contains(new Rate(50, 100));
        assertThat(p.anonymous().concurrent()).contains(16);
        assertThat(p.principal()).contains(new Rate(200, 400));
        assertThat(p.product().rate()).contains(new Rate(2000, 2000));
        assertThat(p.product().quota()).contains(new SluiceConfig.Quota(100L << 30, QuotaPeriod.DAY));
        assertThat(p.trustedProxies()).containsExactly("10.0.0.0/8", "192.0.2.7", "fd00::/8");
        assertThat(p.exempt()).isEqualTo(Set.of("AKIAINTERNAL0001", "internal"));
        assertThat(p.fleetSize()).isEqualTo(4);
    }

    @Test
    void unsetPartsLimitNothingAndTheFleetIsOneInstance() {
        SluiceConfig.Protection p = parse("anonymous: { requests_per_second: 0.5 }\n").limits().orElseThrow();
        assertThat(p.anonymous().rate()).contains(new Rate(0.5, 1));
        assertThat(p.anonymous().concurrent()).isEmpty();
        assertThat(p.principal()).isEmpty();
        assertThat(p.product()).isEqualTo(SluiceConfig.ProductLimits.NONE);
        assertThat(p.trustedProxies()).isEmpty();
        assertThat(p.exempt()).isEmpty();
        assertThat(p.fleetSize()).isEqualTo(1);
    }

    @Test
    void aProductsOwnLimitsReplaceTheDefaultFieldByField() throws Exception {
        SluiceConfig.ProductLimits own = productOverride("{ requests_per_second: 10, bytes_per_hour: 5GiB }");
        assertThat(own).isEqualTo(new SluiceConfig.ProductLimits(Optional.of(new Rate(10, 10)),
                Optional.of(new SluiceConfig.Quota(5L << 30, QuotaPeriod.HOUR))));
        SluiceConfig.ProductLimits rateOnly = productOverride("{ requests_per_second: 10, burst: 20 }");
        SluiceConfig.ProductLimits defaults = new SluiceConfig.ProductLimits(Optional.of(new Rate(2000, 2000)),
                Optional.of(new SluiceConfig.Quota(100, QuotaPeriod.DAY)));
        assertThat(rateOnly.over(defaults)).isEqualTo(new SluiceConfig.ProductLimits(Optional.of(new Rate(10, 20)),
                Optional.of(new SluiceConfig.Quota(100, QuotaPeriod.DAY))));
    }

    @Test
    void aProductsLimitsAreCheckedAsTheDefaultsAre() {
        assertThatThrownBy(() -> productOverride("{ requests_per_minute: 10 }")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("registry.products[0].limits.requests_per_minute: unknown key");
        assertThatThrownBy(() -> productOverride("{ bytes_per_day: lots }")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("registry.products[0].limits.bytes_per_day: 'lots' is not a positive number of bytes");
    }

    @Test
    void nonsenseIsRefusedNamingTheKey() {
        refused("anonymous: { requests_per_second: 0 }", "limits.anonymous.requests_per_second: '0' is not a positive number");
        refused("anonymous: { requests_per_second: -5 }", "limits.anonymous.requests_per_second: '-5'");
        refused("principal: { requests_per_second: fast }", "limits.principal.requests_per_second: 'fast'");
        refused("principal: { burst: 10 }", "limits.principal.burst: needs requests_per_second");
        refused("principal: { requests_per_second: 10, burst: 0 }", "limits.principal.burst: '0' is not a whole number from 1");
        refused("anonymous: { concurrent: 0 }", "limits.anonymous.concurrent: '0' is not a whole number from 1");
        refused("product: { bytes_per_day: 0 }", "limits.product.bytes_per_day: '0' is not a positive number of bytes");
        refused("product: { bytes_per_day: 1PiB }", "limits.product.bytes_per_day: '1PiB'");
        refused("product: { bytes_per_day: 1GiB, bytes_per_hour: 1MiB }", "limits.product.bytes_per_day: give bytes_per_hour or bytes_per_day, not both");
        refused("trusted_proxies: [\"10.0.0.0/33\"]", "limits.trusted_proxies[0]: '10.0.0.0/33' is not an IP address or CIDR block");
        refused("trusted_proxies: [proxy.example.org]", "limits.trusted_proxies[0]: 'proxy.example.org'");
        refused("trusted_proxies: 10.0.0.0/8", "limits.trusted_proxies: expected a list");
        refused("fleet_size: 0", "limits.fleet_size: '0' is not a whole number from 1");
        refused("anonymous: { rps: 5 }", "limits.anonymous.rps: unknown key");
        refused("per_address: {}", "limits.per_address: unknown key");
    }

    @Test
    void everyProblemIsReportedInOneRun() {
        assertThatThrownBy(() -> parse("""
                fleet_size: 0
                typo: 1
                """)).isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).problems()).hasSize(2));
    }

    @Test
    void theWorkedExampleOfTheDocsLoadsAsDescribed() throws Exception {
        String doc = Files.readString(Path.of("docs/protection.md"));
        String example = doc.substring(doc.indexOf("## Worked example"));
        String yaml = example.substring(example.indexOf("```yaml\n") + 8, example.indexOf("```\n", example.indexOf("```yaml\n") + 8));

        SluiceConfig config = loader.parse(yaml, dir);

        SluiceConfig.Protection p = config.limits().orElseThrow();
        assertThat(p.anonymous().rate()).contains(new Rate(50, 100));
        assertThat(p.anonymous().concurrent()).contains(16);
        assertThat(p.trustedProxies()).containsExactly("10.0.3.10", "10.0.3.11");
        assertThat(p.exempt()).containsExactly("AKIAMIRROR00000001");
        assertThat(config.registry().products().get(0).limits().quota())
                .contains(new SluiceConfig.Quota(100L << 30, QuotaPeriod.DAY));
    }

    @Test
    void theLimitsOfAnUnlimitedProductAreNone() throws Exception {
        Files.createDirectories(dir.resolve("files"));
        SluiceConfig config = loader.parse("""
                registry:
                  products:
                    - { account: acme, product: files, backend: { type: file, path: ./files } }
                """, dir);
        assertThat(config.registry().products()).extracting(SluiceConfig.Product::limits)
                .isEqualTo(List.of(SluiceConfig.ProductLimits.NONE));
    }
}
