package dev.sluice.observe;

import dev.sluice.time.Ticker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.InstantSource;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * One JSON line per request on the {@code sluice.access} logger. It names what was asked
 * and what happened, never credentials: no Authorization header, no query string (presigned
 * URLs carry signatures there), no tokens. {@code principal} names who was served, as
 * {@link dev.sluice.auth.Principal#logName()} writes it: {@code anonymous}, {@code unknown_key},
 * {@code access_key:NAME} or {@code session:SUBJECT} (never a secret). {@code time} is when
 * the line was written, ISO-8601 in UTC with milliseconds, so a line read on its own (shipped,
 * grepped, piped through {@code jq}) still says when it happened. {@code bytes} counts
 * body bytes actually written to the client. {@code error} is the S3 error code of an error
 * answer or, for a response whose head went out but whose body was cut short,
 * {@code ClientDisconnected}, {@code BackendStreamFailed} or {@code IncompleteBody}: the
 * status then is the one the head carried, and the client saw a short body.
 *
 * <p>Every value is escaped, so a line is always exactly one JSON object whatever a client put
 * in a key or a token: besides what JSON requires (C0 controls, quote, backslash), DEL, the C1
 * controls and U+2028/U+2029 are escaped too, since some log pipelines and terminals treat
 * them as line breaks or commands.
 *
 * <p>Off the request path (docs/operations.md, "Where output goes"): a profile of small GETs
 * once showed the request threads spending their time here, in a JSON generator and a
 * {@code StringWriter} per line and then in the console appender writing to stdout under its
 * lock. Now the request thread only formats the line into one pre-sized builder by hand and
 * offers it to a bounded queue; one writer thread, {@code sluice-access-log}, hands the lines
 * to the logger in batches, waking itself rather than being woken per line. A full queue
 * (stdout slower than the traffic) drops the line rather than make a request wait for a pipe;
 * every drop is counted in {@code sluice_access_log_dropped_total}, and the writer says on the
 * application log how many lines it lost, at most once a second, so a gap in the log is never
 * silent. {@link #close()}
 * writes what is still queued, within {@link #DRAIN_TIMEOUT}.
 */
public final class AccessLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("sluice.access");
    private static final Logger APP = LoggerFactory.getLogger(AccessLog.class);

    /** Lines waiting for stdout: about a second of a busy proxy's requests, a few MiB of lines of about 300 bytes. */
    static final int QUEUE_CAPACITY = 8192;
    /** The most lines handed to the logger per wake-up of the writer. */
    static final int BATCH = 256;
    /** How often at most the writer warns about dropped lines. */
    static final Duration WARN_INTERVAL = Duration.ofSeconds(1);
    /** The writer's first nap when it finds the queue empty, and its longest (see {@link #drain()}). */
    static final Duration MIN_NAP = Duration.ofMillis(1);
    static final Duration MAX_NAP = Duration.ofMillis(100);
    /** How long {@link #close()} waits for the queued lines to be written. */
    static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(2);

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();
    private static final char[] HEX_LOWER = "0123456789abcdef".toCharArray();

    /** Where the writer thread puts each line: the {@code sluice.access} logger, or a test's hand. */
    interface Lines {
        void write(String line);
    }

    private final InstantSource clock;
    private final Ticker ticker;
    private final Lines lines;
    private final BlockingQueue<String> queue;
    private final int capacity;
    private final Counter dropped;
    /** Drops not yet named in a warning. */
    private final AtomicLong unreported = new AtomicLong();
    private final Thread writer;
    private volatile boolean closing;
    /** Writer thread only: when the last drop warning went out. */
    private long lastWarning;

    public AccessLog(InstantSource clock, Ticker ticker, MeterRegistry registry) {
        this(clock, ticker, registry, QUEUE_CAPACITY, LOG::info);
    }

    AccessLog(InstantSource clock, Ticker ticker, MeterRegistry registry, int capacity, Lines lines) {
        this.clock = clock;
        this.ticker = ticker;
        this.lines = lines;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.capacity = capacity;
        this.dropped = Counter.builder("sluice.access.log.dropped")
                .description("Access-log lines dropped because the queue to stdout was full")
                .register(registry);
        this.lastWarning = ticker.nanoTime() - WARN_INTERVAL.toNanos();
        // A daemon: a stdout that never drains must not keep the JVM alive; close() stops it.
        this.writer = Thread.ofPlatform().name("sluice-access-log").daemon(true).unstarted(this::drain);
        writer.start();
    }

    /** What one request did. Absent fields are written as null. */
    public record Entry(String requestId, String method, String operation, String account, String product,
                        String key, int status, long bytes, long bytesReceived, long durationMicros, String client,
                        String errorCode, String principal) {
    }

    /** Formats the line and queues it; never waits: when the queue is full the line is dropped and counted. */
    public void write(Entry e) {
        if (!LOG.isInfoEnabled()) {
            return;
        }
        if (!queue.offer(format(e, clock.millis()))) {
            dropped.increment();
            unreported.incrementAndGet();
        }
    }

    /** The JSON line of {@code e} written at {@code epochMillis}: field names and order are what log readers parse. */
    String format(Entry e, long epochMillis) {
        StringBuilder b = new StringBuilder(320);
        b.append("{\"time\":\"");
        time(b, epochMillis);
        b.append('"');
        field(b, "request_id", e.requestId());
        field(b, "method", e.method());
        field(b, "operation", e.operation());
        field(b, "account", e.account());
        field(b, "product", e.product());
        field(b, "key", e.key());
        b.append(",\"status\":").append(e.status());
        b.append(",\"bytes\":").append(e.bytes());
        b.append(",\"bytes_received\":").append(e.bytesReceived());
        b.append(",\"duration_ms\":");
        millis(b, e.durationMicros());
        field(b, "client", e.client());
        field(b, "principal", e.principal());
        if (e.errorCode() != null) {
            field(b, "error", e.errorCode());
        }
        return b.append('}').toString();
    }

    /**
     * {@code micros / 1000.0} as {@code Double.toString} writes it (the JSON writer used here
     * before wrote it so), without the general double-to-decimal conversion, which showed in
     * profiles: below 10^7 ms a double that close to a number of thousandths prints as that
     * number, trailing zeros cut, at least one fraction digit.
     */
    private static void millis(StringBuilder b, long micros) {
        if (micros < 0 || micros >= 10_000_000_000L) {
            b.append(micros / 1000.0);
            return;
        }
        b.append(micros / 1000).append('.');
        int fraction = (int) (micros % 1000);
        if (fraction == 0) {
            b.append('0');
            return;
        }
        int digits = 3;
        while (fraction % 10 == 0) {
            fraction /= 10;
            digits--;
        }
        pad(b, fraction, digits);
    }

    /** The date and time to the second, of the last second a line was written in. */
    private record Second(long epochSecond, String text) {
    }

    /** Reused while the second lasts: every line of a busy second carries the same one. */
    private volatile Second lastSecond = new Second(Long.MIN_VALUE, "");

    /** {@code uuuu-MM-dd'T'HH:mm:ss.SSS'Z'}: always three fraction digits, which {@code Instant.toString()} drops on a whole second. */
    private void time(StringBuilder b, long epochMillis) {
        long epochSecond = Math.floorDiv(epochMillis, 1000);
        Second last = lastSecond;
        if (last.epochSecond() != epochSecond) {
            last = new Second(epochSecond, second(epochSecond));
            lastSecond = last;
        }
        b.append(last.text()).append('.');
        pad(b, Math.floorMod(epochMillis, 1000), 3).append('Z');
    }

    private static String second(long epochSecond) {
        LocalDateTime t = LocalDateTime.ofEpochSecond(epochSecond, 0, ZoneOffset.UTC);
        int year = t.getYear();
        if (year < 0 || year > 9999) {
            // Outside what four digits hold: the general formatter's output, never seen from a sane clock.
            return java.time.format.DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss").format(t);
        }
        StringBuilder b = new StringBuilder(19);
        pad(b, year, 4).append('-');
        pad(b, t.getMonthValue(), 2).append('-');
        pad(b, t.getDayOfMonth(), 2).append('T');
        pad(b, t.getHour(), 2).append(':');
        pad(b, t.getMinute(), 2).append(':');
        pad(b, t.getSecond(), 2);
        return b.toString();
    }

    /** {@code value} (not negative) in at least {@code digits} digits, zeros in front. */
    private static StringBuilder pad(StringBuilder b, int value, int digits) {
        int scale = 1;
        for (int i = 1; i < digits; i++) {
            scale *= 10;
        }
        for (; scale > 1 && value < scale; scale /= 10) {
            b.append('0');
        }
        return b.append(value);
    }

    private static void field(StringBuilder b, String name, String value) {
        b.append(",\"").append(name).append("\":");
        if (value == null) {
            b.append("null");
            return;
        }
        b.append('"');
        // The run needing no escape, appended at once: all of a typical value.
        int n = value.length();
        int plain = 0;
        while (plain < n) {
            char c = value.charAt(plain);
            if (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f) {
                break;
            }
            plain++;
        }
        b.append(value, 0, plain);
        for (int i = plain; i < n; i++) {
            char c = value.charAt(i);
            if (c >= 0x20 && c != '"' && c != '\\' && c < 0x7f) {
                b.append(c);
            } else if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7f) {
                switch (c) {
                    case '\b' -> b.append("\\b");
                    case '\t' -> b.append("\\t");
                    case '\n' -> b.append("\\n");
                    case '\f' -> b.append("\\f");
                    case '\r' -> b.append("\\r");
                    default -> b.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xf]);
                }
            } else if (c <= 0x9f || c == 0x2028 || c == 0x2029) {
                b.append("\\u").append(HEX_LOWER[c >> 12]).append(HEX_LOWER[(c >> 8) & 0xf])
                        .append(HEX_LOWER[(c >> 4) & 0xf]).append(HEX_LOWER[c & 0xf]);
            } else {
                b.append(c);
            }
        }
        b.append('"');
    }

    /**
     * The writer thread: lines to the logger in batches until {@link #close()}, then what is
     * left. It is never woken per line: when it finds the queue empty it naps, 1 ms at first
     * and twice as long each time it finds nothing, up to {@link #MAX_NAP}. A writer blocked
     * on the queue had to be signalled by every request that queued a line, and that wake-up
     * cost more CPU per request than the writing it spared the request thread.
     */
    private void drain() {
        List<String> batch = new ArrayList<>(BATCH);
        long nap = MIN_NAP.toNanos();
        while (!closing) {
            if (queue.drainTo(batch, BATCH) > 0) {
                writeAll(batch);
                nap = MIN_NAP.toNanos();
            } else {
                LockSupport.parkNanos(this, nap);
                nap = Math.min(nap * 2, MAX_NAP.toNanos());
            }
            warnOfDrops(false);
        }
        long deadline = ticker.nanoTime() + DRAIN_TIMEOUT.toNanos();
        while (queue.drainTo(batch, BATCH) > 0 && ticker.remainingNanos(deadline) > 0) {
            writeAll(batch);
        }
        warnOfDrops(true);
    }

    private void writeAll(List<String> batch) {
        for (String line : batch) {
            try {
                lines.write(line);
            } catch (RuntimeException e) {
                // A failing appender must not end the writer: every later line would be lost without a word.
                APP.warn("access log line not written: {}", e.toString());
            }
        }
        batch.clear();
    }

    private void warnOfDrops(boolean now) {
        if (unreported.get() == 0 || (!now && ticker.nanoTime() - lastWarning < WARN_INTERVAL.toNanos())) {
            return;
        }
        long count = unreported.getAndSet(0);
        lastWarning = ticker.nanoTime();
        APP.warn("access log: {} line(s) dropped since the last warning: stdout did not keep up and the queue of {} lines was full "
                + "(sluice_access_log_dropped_total counts every drop)", count, capacity);
    }

    /** Stops the writer once it has written what is queued, waiting at most {@link #DRAIN_TIMEOUT}. */
    @Override
    public void close() {
        closing = true;
        LockSupport.unpark(writer);
        try {
            if (!writer.join(DRAIN_TIMEOUT.plusMillis(500))) {
                APP.warn("access log: {} queued line(s) not written within {} of shutdown", queue.size(), DRAIN_TIMEOUT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
