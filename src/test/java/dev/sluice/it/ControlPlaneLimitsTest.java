package dev.sluice.it;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.registry.ControlPlaneRegistry;
import dev.sluice.testing.S3ProxyProcess;
import dev.sluice.testing.TestControlPlane;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

import java.nio.file.Path;
import java.util.Map;

import static dev.sluice.it.S3ErrorAssert.assertS3Error;
import static dev.sluice.testing.TestControlPlane.PRODUCTS;
import static dev.sluice.testing.TestControlPlane.fixture;
import static dev.sluice.testing.TestControlPlane.fixtureJson;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Limits a control-plane product's answer carries (docs/control-plane.md, "Limits"), end to end:
 * the test control plane describes {@code street-trees} with a small request rate of its own,
 * {@code city-trees} with none and {@code bare-trees} with a malformed {@code limits}; the
 * configuration's default product rate is a larger burst. Rates are a token per 1000 s, so no
 * bucket refills while the test runs; each test uses products of its own.
 */
class ControlPlaneLimitsTest {
    private static final String STREET_TREES = PRODUCTS + "/street-trees";
    private static final String BARE_TREES = PRODUCTS + "/bare-trees";
    private static final int DEFAULT_BURST = 4;

    @TempDir
    static Path base;

    private static S3ProxyProcess open;
    private static TestControlPlane cp;
    private static SluiceUnderTest sluice;
    private static ListAppender<ILoggingEvent> registryLog;

    @BeforeAll
    static void start() throws Exception {
        open = S3ProxyProcess.startWithoutAuthorization();
        S3Client admin = open.client();
        admin.createBucket(b -> b.bucket("open-data-west"));
        for (String product : new String[] {"city-trees", "street-trees", "bare-trees"}) {
            admin.putObject(b -> b.bucket("open-data-west").key("parks-dept/" + product + "/trees.csv"),
                    RequestBody.fromString("id,species\n1,oak\n"));
        }
        cp = new TestControlPlane();
        cp.put(STREET_TREES, fixture("product-limited.json"));
        ObjectNode bare = fixtureJson("product-limited.json").put("product_id", "bare-trees");
        ((ObjectNode) bare.at("/metadata/mirrors/open-west")).put("prefix", "parks-dept/bare-trees/");
        bare.putObject("limits").put("requests_per_second", "as many as you like").put("burst", 1_000_000);
        cp.put(BARE_TREES, bare.toString());
        registryLog = new ListAppender<>();
        registryLog.start();
        Logger logger = (Logger) LoggerFactory.getLogger(ControlPlaneRegistry.class);
        logger.setLevel(Level.INFO);
        logger.addAppender(registryLog);
        sluice = SluiceUnderTest.start("""
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
                registry:
                  type: control-plane
                  control_plane:
                    url: "%s"
                    s3_endpoint: "%s"
                    timeout: 1s
                limits:
                  product: { requests_per_second: 0.001, burst: %d }
                """.formatted(cp.url(), open.endpoint(), DEFAULT_BURST), Map.of(), base);
    }

    @AfterAll
    static void stop() throws Exception {
        ((Logger) LoggerFactory.getLogger(ControlPlaneRegistry.class)).detachAppender(registryLog);
        try (AutoCloseable a = open; AutoCloseable b = cp; AutoCloseable c = sluice) {
            // closed in reverse order, each whatever the others do
        }
    }

    private static SluiceUnderTest.RawResponse get(String product) {
        return sluice.send("GET", "/parks-dept/" + product + "/trees.csv");
    }

    private static void assertSlowDown(SluiceUnderTest.RawResponse r, String product) {
        assertS3Error(r, 503, "SlowDown", "/parks-dept/" + product + "/trees.csv");
        assertThat(r.header("Retry-After")).hasValueSatisfying(v -> assertThat(Long.parseLong(v)).isGreaterThan(900));
    }

    private static double productHits() {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("sluice_limit_hits_total\\{kind=\"product\"} ([0-9.]+)")
                .matcher(sluice.admin("/metrics").text());
        assertThat(m.find()).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    void aProductsOwnRateFromTheControlPlaneRefusesAfterItsBurstWithoutAskingTheApiAgain() {
        double hitsBefore = productHits();
        SluiceUnderTest.RawResponse first = get("street-trees");
        assertThat(first.status()).isEqualTo(200);
        // The limits' lookup loaded the product for this request, and said so to the API.
        assertThat(cp.lastHeaders(STREET_TREES)).containsEntry("x-request-id", first.header("x-amz-request-id").orElseThrow());
        assertThat(get("street-trees").status()).isEqualTo(200);
        assertSlowDown(get("street-trees"), "street-trees");

        // The product without limits has the default burst: more than street-trees, and no more.
        for (int i = 0; i < DEFAULT_BURST; i++) {
            assertThat(get("city-trees").status()).isEqualTo(200);
        }
        assertSlowDown(get("city-trees"), "city-trees");
        // The limits came with the product's cached answer: one API call for all its requests.
        assertThat(cp.count(STREET_TREES)).isEqualTo(1);
        assertThat(cp.count(TestControlPlane.CITY_TREES)).isEqualTo(1);
        assertThat(productHits() - hitsBefore).isEqualTo(2);
    }

    @Test
    void aProductWithMalformedLimitsGetsTheDefaultsAndAWarningNamingIt() {
        for (int i = 0; i < DEFAULT_BURST; i++) {
            assertThat(get("bare-trees").status()).isEqualTo(200);
        }
        assertSlowDown(get("bare-trees"), "bare-trees");
        assertThat(cp.count(BARE_TREES)).isEqualTo(1);
        assertThat(registryLog.list).filteredOn(e -> e.getLevel() == Level.WARN)
                .extracting(ILoggingEvent::getFormattedMessage)
                .singleElement().asString()
                .contains("parks-dept/bare-trees", "limits.requests_per_second", "default product limits");
    }
}
