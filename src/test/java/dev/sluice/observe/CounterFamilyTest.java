package dev.sluice.observe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class CounterFamilyTest {

    @Test
    void registersEachTagCombinationOnceAndCountsEveryEvent() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        CounterFamily calls = new CounterFamily(registry, "sluice.shared.calls", "calls", "op", "outcome");

        calls.increment("get", "hit");
        calls.increment("get", "hit");
        calls.increment("get", "miss");

        assertThat(calls.get("get", "hit")).isSameAs(calls.get("get", "hit"));
        assertThat(registry.getMeters()).hasSize(2);
        assertThat(registry.get("sluice.shared.calls").tag("op", "get").tag("outcome", "hit").counter().count()).isEqualTo(2.0);
        assertThat(registry.get("sluice.shared.calls").tag("outcome", "miss").counter().count()).isEqualTo(1.0);
    }

    @Test
    void refusesTagValuesThatDoNotMatchItsKeys() {
        CounterFamily calls = new CounterFamily(new SimpleMeterRegistry(), "sluice.shared.calls", "calls", "op", "outcome");

        assertThatThrownBy(() -> calls.increment("get")).isInstanceOf(IllegalArgumentException.class);
    }
}
