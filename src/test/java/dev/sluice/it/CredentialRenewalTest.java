package dev.sluice.it;

import dev.sluice.testing.RecordingProxy;
import dev.sluice.testing.S3ProxyExtension;
import dev.sluice.testing.TestSts;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static dev.sluice.it.FederatedSluice.GREETING;
import static dev.sluice.it.FederatedSluice.greeting;
import static dev.sluice.it.FederatedSluice.path;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Credentials are renewed ahead of expiry and never used with less than {@code min_serve}
 * left, judged on the wire: a recording proxy between sluice and S3Proxy sees the session
 * token of every backend request and when it arrived, and the test STS says when each token
 * expires.
 *
 * <p>Credentials last 8 s (the STS overrides the 15 min asked for), renewal starts 4 s before
 * expiry and a credential is unusable 2 s before it, so about 20 s of reads live through
 * several renewals.
 */
class CredentialRenewalTest {
    @RegisterExtension
    static final S3ProxyExtension S3PROXY = new S3ProxyExtension();

    static final String PRODUCT = "renewing";
    static final String AGEING = "ageing";
    static final Duration LIFETIME = Duration.ofSeconds(8);
    static final Duration MIN_SERVE = Duration.ofSeconds(2);
    static final Duration READING = Duration.ofSeconds(20);
    /** Between reads: product time, so that reads fall in every state of every credential. */
    static final Duration PACE = Duration.ofMillis(100);

    @TempDir
    static Path base;

    @BeforeAll
    static void putProducts() {
        FederatedSluice.createBucket(S3PROXY.get().client());
        FederatedSluice.putProduct(S3PROXY.get().client(), PRODUCT);
        FederatedSluice.putProduct(S3PROXY.get().client(), AGEING);
    }

    @Test
    void credentialIsNeverUsedWithLessThanMinServeLeft() throws Exception {
        try (RecordingProxy wire = RecordingProxy.start(S3PROXY.get().endpoint(), InstantSource.system());
             FederatedSluice federation = FederatedSluice.builder(S3PROXY.get())
                     .product(PRODUCT, wire.endpoint())
                     // A slow renewal then makes a request wait for it (a miss), never fail.
                     .stsTimeout(Duration.ofSeconds(5))
                     .credentialsCache("{ refresh_lead: 4s, min_serve: %ds }".formatted(MIN_SERVE.toSeconds()))
                     .start(base)) {
            federation.sts.credentialLifetime(LIFETIME);

            List<Integer> statuses = new ArrayList<>();
            long end = System.nanoTime() + READING.toNanos();
            while (System.nanoTime() < end && statuses.size() < 1000) {
                SluiceUnderTest.RawResponse r = federation.sluice.send("GET", path(PRODUCT, GREETING));
                statuses.add(r.status());
                assertThat(r.text()).as("read %d", statuses.size()).isEqualTo(greeting(PRODUCT));
                TimeUnit.NANOSECONDS.sleep(PACE.toNanos());
            }

            assertThat(statuses).as("statuses of %d reads", statuses.size()).containsOnly(200);
            List<TestSts.Issued> issued = federation.issued(PRODUCT);
            assertThat(issued).as("credentials issued in %s (each lasts at most %s)", READING, LIFETIME)
                    .hasSizeBetween(3, 10);
            Map<String, Instant> expiries = issued.stream()
                    .collect(Collectors.toMap(TestSts.Issued::sessionToken, TestSts.Issued::expiration));
            List<RecordingProxy.Forwarded> sent = wire.forwarded();
            assertThat(sent).hasSameSizeAs(statuses).allSatisfy(f -> {
                assertThat(f.securityToken()).as("token of %s", f).isPresent();
                Instant expires = expiries.get(f.securityToken().get());
                assertThat(expires).as("expiry of the token sent at %s", f.arrivedAt()).isNotNull();
                assertThat(f.arrivedAt()).as("arrival of a request whose credential expires at %s", expires)
                        .isBefore(expires.minus(MIN_SERVE));
            });
            assertThat(sent.stream().map(f -> f.securityToken().get()).distinct().count())
                    .as("credentials used on the wire").isGreaterThan(1);
        }
    }

    /**
     * The sharp edge of the same rule: STS throttles from the first renewal on, so the one
     * credential ages through the renewing window into its last {@code min_serve}. It is
     * served while usable, and from {@code exp − min_serve} on the client gets the error
     * instead of a request signed with it. Judged by client-side times, which bracket sluice's
     * decision exactly: a read that ended before the boundary was decided before it, one that
     * started after it was decided after.
     */
    @Test
    void credentialStopsBeingUsedAtMinServeWhenRenewalsFail() throws Exception {
        try (RecordingProxy wire = RecordingProxy.start(S3PROXY.get().endpoint(), InstantSource.system());
             FederatedSluice federation = FederatedSluice.builder(S3PROXY.get())
                     .product(AGEING, wire.endpoint())
                     .credentialsCache("{ refresh_lead: 4s, min_serve: %ds }".formatted(MIN_SERVE.toSeconds()))
                     .start(base)) {
            federation.sts.credentialLifetime(LIFETIME);
            assertThat(federation.sluice.send("GET", path(AGEING, GREETING)).status()).isEqualTo(200);
            Instant expires = federation.issued(AGEING).get(0).expiration();
            Instant unusable = expires.minus(MIN_SERVE);
            federation.sts.fault(TestSts.Fault.THROTTLING);

            record Read(Instant started, Instant ended, int status) {
            }
            List<Read> reads = new ArrayList<>();
            while (Instant.now().isBefore(expires.plusMillis(500)) && reads.size() < 1000) {
                Instant started = Instant.now();
                int status = federation.sluice.send("GET", path(AGEING, GREETING)).status();
                reads.add(new Read(started, Instant.now(), status));
                TimeUnit.NANOSECONDS.sleep(PACE.toNanos());
            }

            List<Read> beforeBoundary = reads.stream().filter(r -> r.ended().isBefore(unusable)).toList();
            List<Read> afterBoundary = reads.stream().filter(r -> !r.started().isBefore(unusable)).toList();
            assertThat(beforeBoundary).as("reads decided while the credential was usable")
                    .isNotEmpty().allSatisfy(r -> assertThat(r.status()).isEqualTo(200));
            assertThat(beforeBoundary).as("reads in the renewing window, served while renewals fail")
                    .anySatisfy(r -> assertThat(r.started()).isAfter(expires.minus(Duration.ofSeconds(4))));
            assertThat(afterBoundary).as("reads decided inside min_serve of expiry").isNotEmpty()
                    .allSatisfy(r -> assertThat(r.status()).isEqualTo(503));
            long served = reads.stream().filter(r -> r.status() == 200).count() + 1;
            assertThat(wire.forwarded()).as("backend requests").hasSize((int) served);
            assertThat(federation.issued(AGEING)).hasSize(1);
        }
    }
}
