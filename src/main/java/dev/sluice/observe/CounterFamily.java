package dev.sluice.observe;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counters of one name whose tag values are only known when an event happens (an outcome, an
 * error code): each combination is built and registered once, then found in a map. Building
 * and registering a meter on every event, as observers here once did, costs a builder, an id
 * and a registry lookup per request.
 *
 * <p>Tag values must come from small closed sets (outcomes, codes, kinds), never from client
 * input: every combination seen lives as long as the registry.
 */
public final class CounterFamily {
    private final MeterRegistry registry;
    private final String name;
    private final String description;
    private final List<String> tagKeys;
    private final ConcurrentHashMap<List<String>, Counter> counters = new ConcurrentHashMap<>();

    public CounterFamily(MeterRegistry registry, String name, String description, String... tagKeys) {
        this.registry = registry;
        this.name = name;
        this.description = description;
        this.tagKeys = List.of(tagKeys);
    }

    /** The counter for these tag values, in the order of the family's tag keys. */
    public Counter get(String... tagValues) {
        if (tagValues.length != tagKeys.size()) {
            throw new IllegalArgumentException(name + " has tags " + tagKeys + ", given " + Arrays.toString(tagValues));
        }
        return counters.computeIfAbsent(List.of(tagValues), values -> {
            Counter.Builder b = Counter.builder(name).description(description);
            for (int i = 0; i < tagKeys.size(); i++) {
                b = b.tag(tagKeys.get(i), values.get(i));
            }
            return b.register(registry);
        });
    }

    /** Adds one to the counter for these tag values. */
    public void increment(String... tagValues) {
        get(tagValues).increment();
    }
}
