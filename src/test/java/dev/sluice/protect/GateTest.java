package dev.sluice.protect;

import dev.sluice.auth.Principal;
import dev.sluice.config.SluiceConfig;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.testing.InMemoryLimits;
import dev.sluice.testing.MutableClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GateTest {
    private static final Rate TWO_THEN_ONE_A_SECOND = new Rate(1, 2);
    private static final Principal READER = new Principal.AccessKey("AKIAREADER", "reader", List.of());
    private static final Principal INTERNAL = new Principal.AccessKey("AKIAINTERNAL0001", "internal", List.of());
    private static final Optional<String> ACME = Optional.of("acme");
    private static final Optional<String> FILES = Optional.of("files");

    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-07T10:00:00Z"));
    private final InMemoryLimits store = new InMemoryLimits(clock);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private Gate gate(SluiceConfig.Protection limits, Map<String, SluiceConfig.ProductLimits> products) {
        return new Gate(limits, products, false, store, store, registry);
    }

    private static SluiceConfig.Protection limits(Optional<Rate> anonymous, Optional<Integer> concurrent, Optional<Rate> principal,
                                                  SluiceConfig.ProductLimits product) {
        return new SluiceConfig.Protection(new SluiceConfig.AnonymousLimits(anonymous, concurrent), principal, product,
                List.of(), Set.of("AKIAINTERNAL0001"), 1);
    }

    private static Gate.Pass from(Gate gate, String address) throws Exception {
        return gate.pass(InetAddress.getByName(address), List::of);
    }

    private double hits(String kind) {
        return registry.get("sluice.limit.hits").tag("kind", kind).counter().count();
    }

    private static void assertSlowDown(Runnable call, String retryAfter) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(S3Exception.class, e -> {
            assertThat(e.error()).isEqualTo(S3Error.SLOW_DOWN);
            assertThat(e.extraHeaders()).containsExactly(Map.entry("Retry-After", retryAfter));
        });
    }

    @Test
    void anAnonymousAddressOverItsRateIsToldToSlowDownAndWhenToComeBack() throws Exception {
        Gate gate = gate(limits(Optional.of(TWO_THEN_ONE_A_SECOND), Optional.empty(), Optional.empty(), SluiceConfig.ProductLimits.NONE),
                Map.of());
        for (int i = 0; i < 2; i++) {
            try (Gate.Pass pass = from(gate, "192.0.2.1")) {
                pass.admit(Principal.Anonymous.UNSIGNED, ACME, FILES, true);
            }
        }
        try (Gate.Pass pass = from(gate, "192.0.2.1")) {
            assertSlowDown(() -> pass.admit(Principal.Anonymous.UNSIGNED, ACME, FILES, true), "1");
        }
        try (Gate.Pass other = from(gate, "192.0.2.2")) {
            other.admit(Principal.Anonymous.UNSIGNED, ACME, FILES, true);
        }
        clock.advance(Duration.ofSeconds(1));
        try (Gate.Pass pass = from(gate, "192.0.2.1")) {
            pass.admit(Principal.Anonymous.UNSIGNED, ACME, FILES, true);
        }
        assertThat(hits("address")).isEqualTo(1);
        assertThat(store.keys()).containsExactlyInAnyOrder("addr:192.0.2.1", "addr:192.0.2.2");
    }

    @Test
    void anAuthenticatedCallerHasItsOwnBucketAndAnExemptOneNone() throws Exception {
        Gate gate = gate(limits(Optional.of(new Rate(1, 1)), Optional.empty(), Optional.of(new Rate(1, 1)),
                SluiceConfig.ProductLimits.NONE), Map.of());
        try (Gate.Pass pass = from(gate, "192.0.2.1")) {
            pass.admit(Principal.Anonymous.UNSIGNED, ACME, FILES, true);
        }
        try (Gate.Pass pass = from(gate, "192.0.2.1")) {
            pass.admit(READER, ACME, FILES, true);
        }
        try (Gate.Pass pass = from(gate, "192.0.2.1")) {
            assertSlowDown(() -> pass.admit(READER, ACME, FILES, true), "1");
        }
        for (int i = 0; i < 5; i++) {
            try (Gate.Pass pass = from(gate, "192.0.2.1")) {
                pass.admit(INTERNAL, ACME, FILES, true);
            }
        }
        assertThat(hits("principal")).isEqualTo(1);
        assertThat(store.keys()).containsExactlyInAnyOrder("addr:192.0.2.1", "principal:access_key:reader");
    }

    @Test
    void aProductsOwnRateAppliesToEveryCallerTogether() throws Exception {
        Gate gate = gate(limits(Optional.empty(), Optional.empty(), Optional.empty(), SluiceConfig.ProductLimits.NONE),
                Map.of("acme/files", new SluiceConfig.ProductLimits(Optional.of(new Rate(0.5, 2)), Optional.empty())));
        try (Gate.Pass a = from(gate, "192.0.2.1"); Gate.Pass b = from(gate, "192.0.2.2")) {
            a.admit(Principal.Anonymous.UNSIGNED, ACME, FILES, true);
            b.admit(READER, ACME, FILES, true);
        }
        try (Gate.Pass c = from(gate, "192.0.2.3")) {
            assertSlowDown(() -> c.admit(Principal.Anonymous.UNSIGNED, ACME, FILES, true), "2");
        }
        try (Gate.Pass other = from(gate, "192.0.2.3")) {
            other.admit(Principal.Anonymous.UNSIGNED, ACME, Optional.of("other"), true);
        }
        assertThat(hits("product")).isEqualTo(1);
    }

    @Test
    void aNameThatIsNoProductOfAStaticRegistryGetsNoBucket() throws Exception {
        SluiceConfig.ProductLimits defaults = new SluiceConfig.ProductLimits(Optional.of(new Rate(1, 1)), Optional.empty());
        Gate gate = new Gate(limits(Optional.empty(), Optional.empty(), Optional.empty(), defaults), Map.of("acme/files", defaults),
                true, store, store, registry);
        for (int i = 0; i < 3; i++) {
            try (Gate.Pass pass = from(gate, "192.0.2.1")) {
                pass.admit(Principal.Anonymous.UNSIGNED, ACME, Optional.of("invented-" + i), true);
            }
        }
        try (Gate.Pass pass = from(gate, "192.0.2.1")) {
            pass.admit(Principal.Anonymous.UNSIGNED, ACME, FILES, true);
        }
        assertThat(store.keys()).containsExactly("product:acme/files");
    }

    @Test
    void anUnlistedProductOfAControlPlaneHasTheDefaultLimits() throws Exception {
        SluiceConfig.ProductLimits defaults = new SluiceConfig.ProductLimits(Optional.of(new Rate(1, 1)), Optional.empty());
        Gate gate = gate(limits(Optional.empty(), Optional.empty(), Optional.empty(), defaults), Map.of());
        try (Gate.Pass pass = from(gate, "192.0.2.1")) {
            pass.admit(Principal.Anonymous.UNSIGNED, ACME, FILES, true);
        }
        try (Gate.Pass pass = from(gate, "192.0.2.2")) {
            assertSlowDown(() -> pass.admit(Principal.Anonymous.UNSIGNED, ACME, FILES, true), "1");
        }
    }

    @Test
    void aQuotaIsCheckedBeforeARead() throws Exception {
        SluiceConfig.ProductLimits quota = new SluiceConfig.ProductLimits(Optional.empty(),
                Optional.of(new SluiceConfig.Quota(1000, QuotaPeriod.DAY)));
        Gate gate = gate(limits(Optional.empty(), Optional.empty(), Optional.empty(), quota), Map.of());
        try (Gate.Pass pass = from(gate, "192.0.2.1")) {
            pass.admit(Principal.Anonymous.UNSIGNED, ACME, FILES, true);
            pass.charge(999);
        }
        // The read that crosses the quota is let through, and charged whole.
        try (Gate.Pass pass = from(gate, "192.0.2.1")) {
            pass.admit(Principal.Anonymous.UNSIGNED, ACME, FILES, true);
            pass.charge(600);
        }
        assertThat(store.current("product:acme/files", QuotaPeriod.DAY)).isEqualTo(1599);
        try (Gate.Pass pass = from(gate, "192.0.2.2")) {
            assertThatThrownBy(() -> pass.admit(READER, ACME, FILES, true)).isInstanceOfSatisfying(S3Exception.class, e -> {
                assertThat(e.error()).isEqualTo(S3Error.ACCESS_DENIED);
                assertThat(e.clientMessage()).isEqualTo("This product's daily download quota is used up.");
            });
            // A write to the product is not a download.
            pass.admit(READER, ACME, FILES, false);
        }
        clock.advance(Duration.ofDays(1));
        try (Gate.Pass pass = from(gate, "192.0.2.2")) {
            pass.admit(READER, ACME, FILES, true);
        }
        assertThat(hits("quota")).isEqualTo(1);
    }

    @Test
    void aPrincipalsOwnQuotaRefusesItsNextReadAndLeavesOtherCallersAlone() throws Exception {
        Principal writer = new Principal.AccessKey("AKIAWRITER", "writer", List.of());
        SluiceConfig.Quota quota = new SluiceConfig.Quota(1000, QuotaPeriod.HOUR);
        Gate gate = gate(new SluiceConfig.Protection(new SluiceConfig.AnonymousLimits(Optional.empty(), Optional.empty()),
                Optional.empty(), SluiceConfig.ProductLimits.NONE, List.of(), Set.of("AKIAINTERNAL0001"), 1, Optional.of(quota), true),
                Map.of());
        try (Gate.Pass pass = from(gate, "192.0.2.1")) {
            pass.admit(READER, ACME, FILES, true);
            pass.charge(999);
        }
        // The read that crosses the quota is let through, and charged whole.
        try (Gate.Pass pass = from(gate, "192.0.2.1")) {
            pass.admit(READER, ACME, Optional.of("other"), true);
            pass.charge(600);
        }
        assertThat(store.current("principal:access_key:reader", QuotaPeriod.HOUR)).isEqualTo(1599);
        try (Gate.Pass pass = from(gate, "192.0.2.1")) {
            assertThatThrownBy(() -> pass.admit(READER, ACME, FILES, true)).isInstanceOfSatisfying(S3Exception.class, e -> {
                assertThat(e.error()).isEqualTo(S3Error.ACCESS_DENIED);
                assertThat(e.clientMessage()).isEqualTo("Your hourly download quota is used up.");
            });
            // A write is not a download.
            pass.admit(READER, ACME, FILES, false);
        }
        for (Principal other : List.of(writer, INTERNAL, Principal.Anonymous.UNSIGNED)) {
            try (Gate.Pass pass = from(gate, "192.0.2.1")) {
                pass.admit(other, ACME, FILES, true);
                pass.charge(5000);
            }
        }
        assertThat(store.current("principal:access_key:internal", QuotaPeriod.HOUR)).isZero();
        clock.advance(Duration.ofHours(1));
        try (Gate.Pass pass = from(gate, "192.0.2.1")) {
            pass.admit(READER, ACME, FILES, true);
        }
        assertThat(hits("principal_quota")).isEqualTo(1);
        assertThat(hits("quota")).isZero();
    }

    @Test
    void aPrincipalQuotaAndAProductQuotaBothApply() throws Exception {
        SluiceConfig.Quota small = new SluiceConfig.Quota(100, QuotaPeriod.DAY);
        SluiceConfig.Quota large = new SluiceConfig.Quota(1000, QuotaPeriod.DAY);
        Gate gate = gate(new SluiceConfig.Protection(new SluiceConfig.AnonymousLimits(Optional.empty(), Optional.empty()),
                Optional.empty(), new SluiceConfig.ProductLimits(Optional.empty(), Optional.of(large)), List.of(), Set.of(), 1,
                Optional.of(small), true), Map.of());
        try (Gate.Pass pass = from(gate, "192.0.2.1")) {
            pass.admit(READER, ACME, FILES, true);
            pass.charge(100);
        }
        assertThat(store.current("product:acme/files", QuotaPeriod.DAY)).isEqualTo(100);
        try (Gate.Pass pass = from(gate, "192.0.2.1")) {
            assertThatThrownBy(() -> pass.admit(READER, ACME, FILES, true)).isInstanceOfSatisfying(S3Exception.class,
                    e -> assertThat(e.clientMessage()).isEqualTo("Your daily download quota is used up."));
        }
        try (Gate.Pass pass = from(gate, "192.0.2.2")) {
            pass.admit(Principal.Anonymous.UNSIGNED, ACME, FILES, true);
            pass.charge(900);
        }
        Principal writer = new Principal.AccessKey("AKIAWRITER", "writer", List.of());
        try (Gate.Pass pass = from(gate, "192.0.2.1")) {
            assertThatThrownBy(() -> pass.admit(writer, ACME, FILES, true)).isInstanceOfSatisfying(S3Exception.class,
                    e -> assertThat(e.clientMessage()).isEqualTo("This product's daily download quota is used up."));
        }
    }

    @Test
    void aFailedIdentificationTakesFromItsAddressesBucketAtTheAnonymousRate() throws Exception {
        Gate gate = gate(limits(Optional.of(TWO_THEN_ONE_A_SECOND), Optional.empty(), Optional.of(new Rate(100, 100)),
                SluiceConfig.ProductLimits.NONE), Map.of());
        for (int i = 0; i < 2; i++) {
            try (Gate.Pass pass = from(gate, "192.0.2.1")) {
                pass.unidentified();
            }
        }
        try (Gate.Pass pass = from(gate, "192.0.2.1")) {
            assertSlowDown(pass::unidentified, "1");
        }
        try (Gate.Pass pass = from(gate, "192.0.2.1")) {
            assertSlowDown(() -> pass.admit(Principal.Anonymous.UNSIGNED, ACME, FILES, true), "1");
        }
        try (Gate.Pass pass = from(gate, "192.0.2.2")) {
            pass.unidentified();
        }
        assertThat(hits("address")).isEqualTo(2);
        assertThat(store.keys()).containsExactlyInAnyOrder("addr:192.0.2.1", "addr:192.0.2.2");
        // Without an anonymous rate there is no bucket to take from.
        Gate unlimited = gate(limits(Optional.empty(), Optional.empty(), Optional.empty(), SluiceConfig.ProductLimits.NONE), Map.of());
        for (int i = 0; i < 5; i++) {
            try (Gate.Pass pass = from(unlimited, "192.0.2.3")) {
                pass.unidentified();
            }
        }
    }

    @Test
    void anAnonymousAddressHoldsAtMostItsCapOfOpenRequests() throws Exception {
        Gate gate = gate(limits(Optional.empty(), Optional.of(2), Optional.empty(), SluiceConfig.ProductLimits.NONE), Map.of());
        Gate.Pass first = from(gate, "192.0.2.1");
        Gate.Pass second = from(gate, "192.0.2.1");
        first.admit(Principal.Anonymous.UNSIGNED, ACME, FILES, true);
        second.admit(Principal.Anonymous.UNSIGNED, ACME, FILES, true);
        try (Gate.Pass third = from(gate, "192.0.2.1")) {
            assertSlowDown(() -> third.admit(Principal.Anonymous.UNSIGNED, ACME, FILES, true), "1");
        }
        try (Gate.Pass elsewhere = from(gate, "192.0.2.2")) {
            elsewhere.admit(Principal.Anonymous.UNSIGNED, ACME, FILES, true);
        }
        first.close();
        first.close(); // closing twice gives back one slot
        try (Gate.Pass third = from(gate, "192.0.2.1")) {
            third.admit(Principal.Anonymous.UNSIGNED, ACME, FILES, true);
        }
        second.close();
        assertThat(registry.get("sluice.limit.concurrent.requests").gauge().value()).isZero();
        assertThat(hits("concurrency")).isEqualTo(1);
    }

    @Test
    void retryAfterIsWholeSecondsRoundedUpAndNeverZero() {
        assertThat(Gate.retryAfterSeconds(Duration.ofMillis(1))).isEqualTo(1);
        assertThat(Gate.retryAfterSeconds(Duration.ofMillis(1000))).isEqualTo(1);
        assertThat(Gate.retryAfterSeconds(Duration.ofMillis(1001))).isEqualTo(2);
        assertThat(Gate.retryAfterSeconds(Duration.ofSeconds(30))).isEqualTo(30);
    }

    @Test
    void withoutLimitsAPassCostsNothingAndAdmitsEveryone() throws Exception {
        try (Gate.Pass pass = Gate.NONE.pass(InetAddress.getByName("192.0.2.1"), () -> {
            throw new AssertionError("X-Forwarded-For read without limits");
        })) {
            pass.admit(Principal.Anonymous.UNSIGNED, ACME, FILES, true);
            pass.charge(1000);
        }
    }
}
