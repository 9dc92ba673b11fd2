package dev.sluice.observe;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.testing.MutableClock;
import dev.sluice.time.Ticker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.io.StringWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** The access log as a log shipper reads it: exactly one JSON object per line, whatever a client sent, each saying when. */
class AccessLogTest {
    private static final Duration BOUND = Duration.ofSeconds(10);
    private final Logger logger = (Logger) LoggerFactory.getLogger("sluice.access");
    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    private Level testLevel;

    @BeforeEach
    void capture() {
        // The test logging configuration keeps the access log quiet; these tests read it.
        testLevel = logger.getLevel();
        logger.setLevel(Level.INFO);
        lines.start();
        logger.addAppender(lines);
    }

    @AfterEach
    void release() {
        logger.detachAppender(lines);
        logger.setLevel(testLevel);
    }

    private static AccessLog.Entry entry() {
        return new AccessLog.Entry("RID1", "GET", "GetObject", "demo", "hello", "greeting.txt", 200, 78, 0, 1500,
                "127.0.0.1", null, "anonymous");
    }

    private static AccessLog.Entry entry(String key) {
        return new AccessLog.Entry("RID1", "GET", "GetObject", "demo", "hello", key, 200, 78, 0, 1500, "127.0.0.1", null, "anonymous");
    }

    /** Writes {@code e} and closes the log, which writes what is queued before it returns. */
    private static void writeOne(InstantSource clock, AccessLog.Entry e) {
        try (AccessLog log = new AccessLog(clock, Ticker.SYSTEM, new SimpleMeterRegistry())) {
            log.write(e);
        }
    }

    @Test
    void everyLineCarriesTheTimeInUtcWithMilliseconds() throws Exception {
        writeOne(InstantSource.fixed(Instant.parse("2026-12-06T21:30:05.120Z")), entry());

        JsonNode line = new ObjectMapper().readTree(lines.list.get(0).getFormattedMessage());
        assertThat(line.get("time").asText()).isEqualTo("2026-12-06T21:30:05.120Z");
        assertThat(line.get("request_id").asText()).isEqualTo("RID1");
    }

    @Test
    void aWholeSecondStillHasItsMilliseconds() throws Exception {
        // Instant.toString would drop ".000", and a log reader parsing fixed-width fields would stumble.
        writeOne(InstantSource.fixed(Instant.parse("2026-12-06T21:30:05Z")), entry());

        JsonNode line = new ObjectMapper().readTree(lines.list.get(0).getFormattedMessage());
        assertThat(line.get("time").asText()).isEqualTo("2026-12-06T21:30:05.000Z");
    }

    @Test
    void clientTextCannotEndTheLineOrForgeAnother() throws Exception {
        String forged = "x\n{\"request_id\":\"forged\",\"status\":200}\r\u0085\u2028\u2029\u001b[2K\u007f";
        writeOne(InstantSource.system(), new AccessLog.Entry("0123456789ABCDEF", "GET", "GetObject", "acme", "hello",
                forged, 200, 5, 0, 1000, "127.0.0.1", null, "session:" + forged));

        List<ILoggingEvent> written = lines.list;
        assertThat(written).hasSize(1);
        String line = written.get(0).getFormattedMessage();
        assertThat(line.chars().filter(c -> Character.isISOControl(c) || c == 0x2028 || c == 0x2029)).isEmpty();
        JsonNode json = new ObjectMapper().readTree(line);
        assertThat(json.path("key").asText()).isEqualTo(forged);
        assertThat(json.path("principal").asText()).isEqualTo("session:" + forged);
        assertThat(json.path("request_id").asText()).isEqualTo("0123456789ABCDEF");
    }

    @Test
    void theLineIsCharacterForCharacterWhatTheJsonGeneratorWrote() throws Exception {
        // Log readers parse these lines; the hand-written writer must not change a byte of them.
        StringBuilder everyChar = new StringBuilder();
        for (char c = 0; c < 0x3000; c++) {
            everyChar.append(c);
        }
        everyChar.append("\uD83D\uDE00\uFFFF\uD800");
        List<AccessLog.Entry> entries = List.of(entry(),
                entry(everyChar.toString()),
                new AccessLog.Entry(null, "PUT", "Rejected", null, null, null, 400, 0, 0, 0, "[::1]", "InvalidRequest", null),
                new AccessLog.Entry("R", "PUT", "PutObject", "a", "p", "k", 200, 0, 5_242_880, 2, "c", null, "access_key:writer"),
                new AccessLog.Entry("R", "GET", "GetObject", "a", "p", "k", 206, Long.MAX_VALUE, 0, 1, "c", "ClientDisconnected", "unknown_key"),
                new AccessLog.Entry("R", "GET", "GetObject", "a", "p", "k", 500, 1, 0, 123_456_789_012L, "c", "InternalError", "x"),
                new AccessLog.Entry("R", "HEAD", "HeadObject", "a", "p", "k", 304, 0, 0, 999, "c", null, "access_key:reader"));
        List<Instant> times = List.of(Instant.parse("2026-12-06T21:30:05.120Z"), Instant.parse("2026-12-06T21:30:05Z"),
                Instant.parse("2026-12-06T21:30:05.999Z"), Instant.parse("2026-12-06T21:30:06.007Z"),
                Instant.EPOCH, Instant.parse("1999-12-31T23:59:59.999Z"), Instant.parse("2400-02-29T00:00:00.001Z"));
        try (AccessLog log = new AccessLog(InstantSource.system(), Ticker.SYSTEM, new SimpleMeterRegistry())) {
            for (AccessLog.Entry e : entries) {
                for (Instant t : times) {
                    assertThat(log.format(e, t.toEpochMilli())).isEqualTo(generated(e, t));
                }
            }
            // duration_ms as the double it was: whole, tenths, hundredths, thousandths, up to where it turns scientific.
            for (long micros : new long[] {0, 1, 10, 100, 999, 1000, 1001, 1010, 1100, 1500, 12_345, 99_999_999, 9_999_999_999L,
                    10_000_000_000L, 123_456_789_012L, Long.MAX_VALUE}) {
                AccessLog.Entry e = new AccessLog.Entry("R", "GET", "GetObject", "a", "p", "k", 200, 1, 0, micros, "c", null, "x");
                assertThat(log.format(e, 0)).isEqualTo(generated(e, Instant.EPOCH));
            }
        }
    }

    @Test
    void aFullQueueDropsAndCountsWithoutWaitingThenEveryQueuedLineArrivesInOrder() throws Exception {
        HeldLines held = new HeldLines();
        RequestMetrics metrics = new RequestMetrics();
        try (AccessLog log = new AccessLog(InstantSource.system(), Ticker.SYSTEM, metrics.registry(), 2, held)) {
            log.write(entry("a"));
            assertThat(held.entered.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
            log.write(entry("b"));
            log.write(entry("c"));

            assertTimeoutPreemptively(BOUND, () -> log.write(entry("d")));

            assertThat(metrics.scrape()).contains("sluice_access_log_dropped_total 1.0");
            held.release.countDown();
        }
        assertThat(held.keys()).containsExactly("a", "b", "c");
    }

    @Test
    void aDropWarningNamesTheCountAtMostOnceASecond() throws Exception {
        MutableClock ticker = new MutableClock(Instant.parse("2026-12-06T21:30:05Z"));
        Logger app = (Logger) LoggerFactory.getLogger(AccessLog.class);
        List<String> events = new CopyOnWriteArrayList<>();
        CountDownLatch twoWarnings = new CountDownLatch(2);
        AppenderBase<ILoggingEvent> warnings = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent e) {
                events.add("warn@" + ticker.nanoTime() + " " + e.getFormattedMessage());
                twoWarnings.countDown();
            }
        };
        warnings.start();
        app.addAppender(warnings);
        try {
            HeldLines held = new HeldLines();
            CountDownLatch marked = new CountDownLatch(1);
            AccessLog.Lines recorded = line -> {
                held.write(line);
                if (line.contains("\"key\":\"marker\"")) {
                    marked.countDown();
                }
            };
            long start = ticker.nanoTime();
            try (AccessLog log = new AccessLog(ticker, ticker, new SimpleMeterRegistry(), 1, recorded)) {
                log.write(entry("a"));
                assertThat(held.entered.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
                log.write(entry("b"));
                for (int i = 0; i < 3; i++) {
                    log.write(entry("dropped"));
                }
                held.release.countDown();
                held.awaitWritten(2);
                // The second round of drops comes before a second has passed: it is reported once it has.
                held.hold(entry("c"), log);
                log.write(entry("d"));
                for (int i = 0; i < 2; i++) {
                    log.write(entry("dropped"));
                }
                held.release.countDown();
                held.awaitWritten(4);
                log.write(entry("marker"));
                assertThat(marked.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
                ticker.advance(Duration.ofSeconds(1));
                log.write(entry("wake"));
                assertThat(twoWarnings.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
            }
            assertThat(events).hasSize(2);
            assertThat(events.get(0)).startsWith("warn@" + start + " ").contains(" 3 line(s) dropped");
            assertThat(events.get(1)).startsWith("warn@" + (start + Duration.ofSeconds(1).toNanos()) + " ").contains(" 2 line(s) dropped");
            assertThat(held.keys()).containsExactly("a", "b", "c", "d", "marker", "wake");
        } finally {
            app.detachAppender(warnings);
        }
    }

    @Test
    void closeWritesWhatIsStillQueued() throws Exception {
        HeldLines held = new HeldLines();
        AccessLog log = new AccessLog(InstantSource.system(), Ticker.SYSTEM, new SimpleMeterRegistry(), 8, held);
        log.write(entry("a"));
        assertThat(held.entered.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
        log.write(entry("b"));
        log.write(entry("c"));
        Thread closer = Thread.ofPlatform().start(log::close);
        // close() has asked the writer to stop once it waits for it; only then is the held line let go.
        long deadline = System.nanoTime() + BOUND.toNanos();
        while (closer.getState() != Thread.State.TIMED_WAITING && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(closer.getState()).isEqualTo(Thread.State.TIMED_WAITING);
        held.release.countDown();
        assertThat(closer.join(BOUND)).isTrue();
        assertThat(held.keys()).containsExactly("a", "b", "c");
    }

    /** Lines as the writer hands them over; the first one is held until the test lets go. */
    private static final class HeldLines implements AccessLog.Lines {
        final List<String> written = new CopyOnWriteArrayList<>();
        volatile CountDownLatch entered = new CountDownLatch(1);
        volatile CountDownLatch release = new CountDownLatch(1);
        private boolean holding = true;

        @Override
        public void write(String line) {
            boolean hold;
            // Decided with the line counted, so a test that saw it counted knows whether it was held.
            synchronized (this) {
                written.add(line);
                hold = holding;
                holding = false;
                notifyAll();
            }
            if (!hold) {
                return;
            }
            entered.countDown();
            // Held even through an interrupt: the test decides when the line goes.
            boolean interrupted = false;
            while (true) {
                try {
                    if (!release.await(BOUND.toSeconds(), TimeUnit.SECONDS)) {
                        throw new AssertionError("the test never let the line go");
                    }
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        /** Writes {@code e} and waits until the writer holds it. */
        void hold(AccessLog.Entry e, AccessLog log) throws InterruptedException {
            synchronized (this) {
                entered = new CountDownLatch(1);
                release = new CountDownLatch(1);
                holding = true;
            }
            log.write(e);
            assertThat(entered.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
        }

        /** Waits, bounded, until {@code count} lines have been handed over. */
        synchronized void awaitWritten(int count) throws InterruptedException {
            long deadline = System.nanoTime() + BOUND.toNanos();
            while (written.size() < count && System.nanoTime() < deadline) {
                wait(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            }
            assertThat(written).hasSizeGreaterThanOrEqualTo(count);
        }

        List<String> keys() throws Exception {
            List<String> keys = new ArrayList<>();
            for (String line : written) {
                keys.add(new ObjectMapper().readTree(line).path("key").asText());
            }
            return keys;
        }
    }

    /** The line as the Jackson generator with the line-safe escapes wrote it before the writer was hand-written. */
    private static String generated(AccessLog.Entry e, Instant at) throws Exception {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
            g.setCharacterEscapes(new CharacterEscapes() {
                private final int[] table = standardAsciiEscapesForJSON();

                {
                    table[0x7f] = ESCAPE_STANDARD;
                }

                @Override
                public int[] getEscapeCodesForAscii() {
                    return table;
                }

                @Override
                public SerializableString getEscapeSequence(int ch) {
                    if ((ch >= 0x80 && ch <= 0x9f) || ch == 0x2028 || ch == 0x2029) {
                        return new SerializedString(String.format("\\u%04x", ch));
                    }
                    return null;
                }
            });
            g.writeStartObject();
            g.writeStringField("time", DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC).format(at));
            g.writeStringField("request_id", e.requestId());
            g.writeStringField("method", e.method());
            g.writeStringField("operation", e.operation());
            g.writeStringField("account", e.account());
            g.writeStringField("product", e.product());
            g.writeStringField("key", e.key());
            g.writeNumberField("status", e.status());
            g.writeNumberField("bytes", e.bytes());
            g.writeNumberField("bytes_received", e.bytesReceived());
            g.writeNumberField("duration_ms", e.durationMicros() / 1000.0);
            g.writeStringField("client", e.client());
            g.writeStringField("principal", e.principal());
            if (e.errorCode() != null) {
                g.writeStringField("error", e.errorCode());
            }
            g.writeEndObject();
        }
        return out.toString();
    }
}
