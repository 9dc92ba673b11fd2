package dev.sluice.testing;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** Successful exchanges a test token service made, per (who asked, for whom): what fleet tests count. */
final class ExchangeCounts {
    private final Map<List<String>, AtomicInteger> counts = new ConcurrentHashMap<>();

    void add(String client, String subject) {
        counts.computeIfAbsent(List.of(client, subject), k -> new AtomicInteger()).incrementAndGet();
    }

    int of(String client, String subject) {
        AtomicInteger n = counts.get(List.of(client, subject));
        return n == null ? 0 : n.get();
    }

    int total() {
        return counts.values().stream().mapToInt(AtomicInteger::get).sum();
    }
}
