package dev.sluice.registry;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.config.SluiceConfig;
import dev.sluice.protect.QuotaPeriod;
import dev.sluice.protect.Rate;
import dev.sluice.testing.TestControlPlane;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** A product answer's {@code limits} (docs/control-plane.md, "Limits"): what is read, and what is malformed and why. */
class ControlPlaneLimitsDocumentTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ControlPlaneDocuments.Limits limits(String limitsJson) throws Exception {
        ObjectNode product = TestControlPlane.fixtureJson("product-public.json");
        if (limitsJson != null) {
            product.set("limits", JSON.readTree(limitsJson));
        }
        return ControlPlaneDocuments.product(product).limits();
    }

    private static String malformed(String limitsJson) throws Exception {
        ControlPlaneDocuments.Limits l = limits(limitsJson);
        assertThat(l).isInstanceOf(ControlPlaneDocuments.Limits.Malformed.class);
        return ((ControlPlaneDocuments.Limits.Malformed) l).problem();
    }

    @Test
    void limitsAreReadAsTheStaticConfigurationReadsThem() throws Exception {
        assertThat(limits("{\"requests_per_second\": 0.5, \"burst\": 3, \"bytes_per_day\": \"100GiB\"}"))
                .isEqualTo(new ControlPlaneDocuments.Limits.Given(new SluiceConfig.ProductLimits(Optional.of(new Rate(0.5, 3)),
                        Optional.of(new SluiceConfig.Quota(100L << 30, QuotaPeriod.DAY)))));
        assertThat(limits("{\"bytes_per_hour\": 1000}")).isEqualTo(new ControlPlaneDocuments.Limits.Given(
                new SluiceConfig.ProductLimits(Optional.empty(), Optional.of(new SluiceConfig.Quota(1000, QuotaPeriod.HOUR)))));
        assertThat(limits(null)).isEqualTo(new ControlPlaneDocuments.Limits.None());
        assertThat(limits("null")).isEqualTo(new ControlPlaneDocuments.Limits.None());
    }

    @Test
    void malformedLimitsSayWhatIsWrong() throws Exception {
        assertThat(malformed("[1, 2]")).isEqualTo("limits: expected an object");
        assertThat(malformed("\"unlimited\"")).isEqualTo("limits: expected an object");
        assertThat(malformed("{\"requests_per_minute\": 5}")).contains("limits.requests_per_minute: unknown key");
        assertThat(malformed("{\"requests_per_second\": -1}")).contains("limits.requests_per_second: '-1' is not a positive number");
        assertThat(malformed("{\"requests_per_second\": {\"a\": 1}}")).contains("limits.requests_per_second: expected a single value");
        assertThat(malformed("{\"burst\": 5}")).contains("limits.burst: needs requests_per_second beside it");
        assertThat(malformed("{\"bytes_per_day\": 1, \"bytes_per_hour\": 1}")).contains("not both");
        assertThat(malformed("{\"bytes_per_day\": \"lots\"}")).contains("limits.bytes_per_day: 'lots' is not a positive number of bytes");
    }
}
