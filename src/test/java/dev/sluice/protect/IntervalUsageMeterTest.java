package dev.sluice.protect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.testing.MutableClock;
import dev.sluice.time.Ticker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** The usage meter (docs/protection.md, "Usage metering"), its intervals driven by a clock the test moves. */
class IntervalUsageMeterTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant START = Instant.parse("2026-12-07T10:00:17Z");
    private static final byte[] SALT = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock(START);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<String> written = new CopyOnWriteArrayList<>();

    private IntervalUsageMeter meter(Optional<byte[]> salt, int maxKeys) {
        return new IntervalUsageMeter(new IntervalUsageMeter.Settings(dir.resolve("usage.jsonl"), Duration.ofSeconds(60), salt,
                "i-1", maxKeys), clock, Ticker.SYSTEM, registry, written::addAll, Optional.empty());
    }

    private static UsageMeter.Key key(String product, String principal, String client) {
        return new UsageMeter.Key("demo", product, principal, client);
    }

    private List<JsonNode> lines() throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : written) {
            assertThat(line).doesNotContain("\n");
            out.add(JSON.readTree(line));
        }
        return out;
    }

    private static JsonNode lineFor(List<JsonNode> lines, String product) {
        return lines.stream().filter(l -> l.path("product").asText().equals(product)).findFirst().orElseThrow();
    }

    @Test
    void sumsRequestsAndBytesPerKeyAndWritesOneLinePerKeyAtTheIntervalsEnd() throws Exception {
        IntervalUsageMeter meter = meter(Optional.empty(), 100);
        meter.record(key("hello", "anonymous", "10.0.0.1"), 100);
        meter.record(key("hello", "anonymous", "10.0.0.2"), 250);
        meter.record(key("other", "access_key:alice", "10.0.0.1"), 7);

        clock.set(Instant.parse("2026-12-07T10:00:59.999Z"));
        meter.tick();
        assertThat(written).as("nothing before the interval ends").isEmpty();

        clock.set(Instant.parse("2026-12-07T10:01:00Z"));
        meter.tick();

        List<JsonNode> lines = lines();
        assertThat(lines).hasSize(2);
        JsonNode hello = lineFor(lines, "hello");
        assertThat(hello.get("interval_start").asText()).as("intervals are aligned to the clock").isEqualTo("2026-12-07T10:00:00Z");
        assertThat(hello.get("interval_end").asText()).isEqualTo("2026-12-07T10:01:00Z");
        assertThat(hello.get("instance").asText()).isEqualTo("i-1");
        assertThat(hello.get("account").asText()).isEqualTo("demo");
        assertThat(hello.get("principal").asText()).isEqualTo("anonymous");
        assertThat(hello.get("requests").asLong()).isEqualTo(2);
        assertThat(hello.get("bytes").asLong()).isEqualTo(350);
        assertThat(hello.has("client")).as("no hash key: no client field, clients summed together").isFalse();
        JsonNode other = lineFor(lines, "other");
        assertThat(other.get("principal").asText()).isEqualTo("access_key:alice");
        assertThat(other.get("requests").asLong()).isEqualTo(1);
        assertThat(other.get("bytes").asLong()).isEqualTo(7);

        written.clear();
        meter.tick();
        assertThat(written).as("an interval is written once").isEmpty();
    }

    @Test
    void aRequestAfterTheBoundaryIsInTheNextIntervalAndIdleIntervalsWriteNothing() throws Exception {
        IntervalUsageMeter meter = meter(Optional.empty(), 100);
        meter.record(key("hello", "anonymous", "a"), 10);
        clock.set(Instant.parse("2026-12-07T10:01:00Z"));
        meter.tick();
        meter.record(key("hello", "anonymous", "a"), 20);
        clock.set(Instant.parse("2026-12-07T10:02:00Z"));
        meter.tick();
        clock.set(Instant.parse("2026-12-07T10:05:30Z"));
        meter.tick();

        List<JsonNode> lines = lines();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0).get("bytes").asLong()).isEqualTo(10);
        assertThat(lines.get(1).get("interval_start").asText()).isEqualTo("2026-12-07T10:01:00Z");
        assertThat(lines.get(1).get("interval_end").asText()).isEqualTo("2026-12-07T10:02:00Z");
        assertThat(lines.get(1).get("bytes").asLong()).isEqualTo(20);

        meter.record(key("hello", "anonymous", "a"), 40);
        clock.set(Instant.parse("2026-12-07T10:06:00Z"));
        meter.tick();
        assertThat(lines()).hasSize(3);
        assertThat(lines().get(2).get("interval_start").asText()).as("after idle intervals, the one the clock is in")
                .isEqualTo("2026-12-07T10:05:00Z");
    }

    @Test
    void keysBeyondTheCapAreSummedIntoOneOverflowLineAndCounted() throws Exception {
        IntervalUsageMeter meter = meter(Optional.empty(), 2);
        for (int i = 0; i < 5; i++) {
            meter.record(key("p" + i, "anonymous", ""), 10);
        }
        meter.record(key("p0", "anonymous", ""), 1);
        clock.advance(Duration.ofSeconds(60));
        meter.tick();

        List<JsonNode> lines = lines();
        assertThat(lines).hasSize(3);
        assertThat(lineFor(lines, "p0").get("requests").asLong()).as("a key held before the cap keeps counting").isEqualTo(2);
        JsonNode overflow = lines.stream().filter(l -> l.path("overflow").asBoolean()).findFirst().orElseThrow();
        assertThat(overflow.get("account").asText()).isEqualTo("other");
        assertThat(overflow.get("requests").asLong()).isEqualTo(3);
        assertThat(overflow.get("bytes").asLong()).isEqualTo(30);
        assertThat(lines.stream().mapToLong(l -> l.get("requests").asLong()).sum()).as("every request is in some line").isEqualTo(6);
        assertThat(registry.get("sluice.usage.overflow.requests").counter().count()).isEqualTo(3);

        written.clear();
        meter.record(key("p4", "anonymous", ""), 5);
        clock.advance(Duration.ofSeconds(60));
        meter.tick();
        assertThat(lines()).as("the cap is per interval").hasSize(1);
        assertThat(lines().get(0).get("product").asText()).isEqualTo("p4");
    }

    @Test
    void theClientIsWrittenOnlyAsAnHmacOfItsAddressUnderTheConfiguredKey() throws Exception {
        IntervalUsageMeter meter = meter(Optional.of(SALT), 100);
        meter.record(key("hello", "anonymous", "192.0.2.7"), 1);
        meter.record(key("hello", "anonymous", "192.0.2.7"), 2);
        meter.record(key("hello", "anonymous", "2001:db8::1"), 4);
        clock.advance(Duration.ofSeconds(60));
        meter.tick();

        List<JsonNode> lines = lines();
        assertThat(lines).as("one line per client").hasSize(2);
        JsonNode first = lines.stream().filter(l -> l.get("client").asText().equals(hmac("192.0.2.7"))).findFirst().orElseThrow();
        assertThat(first.get("requests").asLong()).isEqualTo(2);
        assertThat(first.get("bytes").asLong()).isEqualTo(3);
        assertThat(first.get("client").asText()).hasSize(32).matches("[0-9a-f]+");
        assertThat(lines).anyMatch(l -> l.get("client").asText().equals(hmac("2001:db8::1")));
        assertThat(String.join("\n", written)).doesNotContain("192.0.2.7").doesNotContain("2001:db8::1").doesNotContain("db8");
    }

    private static String hmac(String address) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(SALT, "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(address.getBytes(StandardCharsets.UTF_8))).substring(0, 32);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void closeWritesTheIntervalInProgressEndingWhenClosedAndNothingAfter() throws Exception {
        IntervalUsageMeter meter = meter(Optional.empty(), 100);
        meter.record(key("hello", "", ""), 9);
        clock.set(Instant.parse("2026-12-07T10:00:42Z"));
        meter.close();

        List<JsonNode> lines = lines();
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0).get("interval_start").asText()).isEqualTo("2026-12-07T10:00:00Z");
        assertThat(lines.get(0).get("interval_end").asText()).isEqualTo("2026-12-07T10:00:42Z");
        assertThat(lines.get(0).get("principal").asText()).as("no principal is written as anonymous").isEqualTo("anonymous");

        for (int i = 0; i < 3; i++) {
            meter.record(key("after-close-" + i, "", ""), 1);
        }
        clock.advance(Duration.ofMinutes(5));
        meter.tick();
        meter.close();
        assertThat(written).hasSize(1);
        assertThat(registry.get("sluice.usage.overflow.requests").counter().count()).as("nothing is held after close").isZero();
    }

    @Test
    void closeAfterAMissedBoundaryWritesTheEndedIntervalAndThenThePartialOne() throws Exception {
        IntervalUsageMeter meter = meter(Optional.empty(), 100);
        meter.record(key("hello", "anonymous", ""), 9);
        clock.set(Instant.parse("2026-12-07T10:01:05Z"));
        meter.close();

        List<JsonNode> lines = lines();
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0).get("interval_end").asText()).isEqualTo("2026-12-07T10:01:00Z");
    }

    @Test
    void valuesFromRequestsAreEscapedSoEachLineIsOneJsonObject() throws Exception {
        IntervalUsageMeter meter = meter(Optional.empty(), 100);
        meter.record(new UsageMeter.Key("a\"b", "x\ny\u2028z", "", ""), 1);
        clock.advance(Duration.ofSeconds(60));
        meter.tick();

        assertThat(written).hasSize(1);
        assertThat(written.get(0)).doesNotContain("\u2028");
        JsonNode line = lines().get(0);
        assertThat(line.get("account").asText()).isEqualTo("a\"b");
        assertThat(line.get("product").asText()).isEqualTo("x\ny\u2028z");
    }

    @Test
    void requestsAboveAProductHaveNullAccountAndProduct() throws Exception {
        IntervalUsageMeter meter = meter(Optional.empty(), 100);
        meter.record(new UsageMeter.Key("", "", "anonymous", ""), 300);
        clock.advance(Duration.ofSeconds(60));
        meter.tick();

        JsonNode line = lines().get(0);
        assertThat(line.get("account").isNull()).isTrue();
        assertThat(line.get("product").isNull()).isTrue();
    }

    @Test
    void noRequestIsLostOrCountedTwiceWhileIntervalsEndUnderConcurrentRecording() throws Exception {
        IntervalUsageMeter meter = meter(Optional.empty(), 100);
        int threads = 4;
        int perThread = 20_000;
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                String product = "p" + (t % 2);
                done.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < perThread; i++) {
                        meter.record(key(product, "anonymous", ""), 3);
                    }
                    return null;
                }));
            }
            go.countDown();
            // Intervals end while the recorders run, as many times as the recorders take.
            int ends = 0;
            while (!done.stream().allMatch(Future::isDone) && ends < 100_000) {
                clock.advance(Duration.ofSeconds(60));
                meter.tick();
                ends++;
            }
            for (Future<?> f : done) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        meter.close();

        List<JsonNode> lines = lines();
        long requests = lines.stream().mapToLong(l -> l.get("requests").asLong()).sum();
        long bytes = lines.stream().mapToLong(l -> l.get("bytes").asLong()).sum();
        assertThat(requests).isEqualTo((long) threads * perThread);
        assertThat(bytes).isEqualTo(3L * threads * perThread);
        assertThat(lines).allMatch(l -> l.get("bytes").asLong() == 3 * l.get("requests").asLong());
    }

    @Test
    void startedWithAFileAppendsEachIntervalsLinesToIt() throws Exception {
        Path file = dir.resolve("usage.jsonl");
        Files.writeString(file, "{\"earlier\":true}\n");
        IntervalUsageMeter meter = IntervalUsageMeter.start(new IntervalUsageMeter.Settings(file, Duration.ofSeconds(60),
                Optional.empty(), "i-1", 100), clock, registry);
        meter.record(key("hello", "anonymous", ""), 11);
        meter.close();

        List<String> content = Files.readAllLines(file);
        assertThat(content).hasSize(2);
        assertThat(content.get(0)).isEqualTo("{\"earlier\":true}");
        assertThat(JSON.readTree(content.get(1)).get("bytes").asLong()).isEqualTo(11);
    }

    @Test
    void startedOnTheSystemClockItsThreadWritesEachIntervalWhenItEnds() throws Exception {
        Path file = dir.resolve("usage.jsonl");
        IntervalUsageMeter meter = IntervalUsageMeter.start(new IntervalUsageMeter.Settings(file, Duration.ofSeconds(1),
                Optional.empty(), "i-1", 100), java.time.InstantSource.system(), registry);
        try {
            meter.record(key("hello", "anonymous", ""), 11);
            // Bounded poll for the line the meter's own thread writes at the end of the current second.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (Files.size(file) == 0 && System.nanoTime() < deadline) {
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            }
            List<String> content = Files.readAllLines(file);
            assertThat(content).hasSize(1);
            JsonNode line = JSON.readTree(content.get(0));
            assertThat(line.get("bytes").asLong()).isEqualTo(11);
            assertThat(Duration.between(Instant.parse(line.get("interval_start").asText()), Instant.parse(line.get("interval_end").asText())))
                    .isEqualTo(Duration.ofSeconds(1));
        } finally {
            meter.close();
        }
    }

    @Test
    void aFileThatCannotBeWrittenFailsAtStart() {
        Path file = dir.resolve("missing-directory/usage.jsonl");
        assertThatThrownBy(() -> IntervalUsageMeter.start(new IntervalUsageMeter.Settings(file, Duration.ofSeconds(60),
                Optional.empty(), "i-1", 100), clock, registry))
                .hasMessageContaining(file.toString());
    }

    @Test
    void aFailedWriteIsCountedAndTheMeterGoesOn() throws Exception {
        List<String> second = new ArrayList<>();
        boolean[] fail = {true};
        IntervalUsageMeter meter = new IntervalUsageMeter(new IntervalUsageMeter.Settings(dir.resolve("u"), Duration.ofSeconds(60),
                Optional.empty(), "i-1", 100), clock, Ticker.SYSTEM, registry, out -> {
                    if (fail[0]) {
                        throw new java.io.IOException("No space left on device");
                    }
                    second.addAll(out);
                }, Optional.empty());
        meter.record(key("hello", "anonymous", ""), 1);
        clock.advance(Duration.ofSeconds(60));
        meter.tick();
        assertThat(registry.get("sluice.usage.write.failures").counter().count()).isEqualTo(1);

        fail[0] = false;
        meter.record(key("hello", "anonymous", ""), 2);
        clock.advance(Duration.ofSeconds(60));
        meter.tick();
        assertThat(second).hasSize(1);
    }
}
