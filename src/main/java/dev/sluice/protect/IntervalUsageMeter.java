package dev.sluice.protect;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.time.Ticker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * The usage meter of docs/protection.md ("Usage metering"): requests and bytes per
 * {@link UsageMeter.Key} summed over an interval on this instance, written at the interval's
 * end as one JSON line per key to a file of its own, apart from the access log.
 *
 * <p>Why it is built this way:
 * <ul>
 * <li><b>The request path never waits.</b> {@link #record} adds to {@link LongAdder}s in a
 * {@link ConcurrentHashMap} of the current interval's window; no lock, no I/O, no hashing.
 * Formatting, the HMAC of client addresses and the file write happen on one background
 * thread, {@code sluice-usage}, at each interval's end.</li>
 * <li><b>Exact.</b> Usage is billed from these lines, so no request may be lost or counted
 * twice when one interval ends and the next begins. Each window counts the recorders that
 * entered it and those that left; the writer swaps in the next window and then waits until
 * every recorder that saw the old one has left before it reads the sums (a recorder that finds
 * its window swapped before it added anything moves to the new one). The wait is a few
 * instructions' worth and bounded by {@link #STRAGGLER_WAIT}.</li>
 * <li><b>Bounded.</b> Account and product come from the request path and the client address
 * from the connection, so a flood of distinct keys is a client's choice. A window holds at most
 * {@code maxKeys} keys; requests for further keys are summed into one line marked
 * {@code "overflow": true} and counted in {@code sluice_usage_overflow_requests_total}, so
 * memory stays bounded and every request and byte is still in some line.</li>
 * <li><b>Client addresses only as a keyed hash.</b> Without a hash key the client is not part
 * of the aggregation at all (lines are per account, product and principal); with one, the line
 * carries {@code HMAC-SHA256(key, address)}, truncated to 128 bits, in hex. The raw address is
 * held in memory until the line is written and is never written.</li>
 * <li><b>Time is injected.</b> Intervals are aligned to the wall clock ({@code InstantSource}:
 * a 60 s interval ends on each minute), so lines from every instance of a fleet cover the same
 * intervals; the writer is scheduled from that clock, and tests drive {@link #tick()} instead of
 * waiting.</li>
 * </ul>
 *
 * <p>The file is opened, appended to and closed for each interval's lines, so a file renamed by
 * a log rotator is followed without a signal. {@link #close()} writes the interval in progress
 * (its {@code interval_end} is the moment of closing).
 */
public final class IntervalUsageMeter implements UsageMeter {
    private static final Logger LOG = LoggerFactory.getLogger(IntervalUsageMeter.class);
    /** How long the writer waits for recorders still adding to a window it has swapped out. */
    static final Duration STRAGGLER_WAIT = Duration.ofSeconds(1);
    /** How long {@link #close()} waits for a write in progress before writing the last interval. */
    static final Duration CLOSE_WAIT = Duration.ofSeconds(5);
    /** Bytes of HMAC-SHA256 kept: 128 bits, no collision between clients in practice. */
    static final int CLIENT_HASH_BYTES = 16;

    private static final JsonMapper JSON = JsonMapper.builder()
            // Account, product and principal come from requests: escaping all but ASCII keeps each line one line for any reader.
            .enable(JsonWriteFeature.ESCAPE_NON_ASCII)
            .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET)
            .build();

    /**
     * What a meter needs: where lines go, how long an interval lasts, the key client addresses
     * are hashed with (empty: no client in the lines), the instance named in each line and the
     * most keys one interval holds.
     */
    public record Settings(Path file, Duration interval, Optional<byte[]> clientHashKey, String instance, int maxKeys) {
        public Settings {
            if (!interval.isPositive()) {
                throw new IllegalArgumentException("the usage interval must be positive");
            }
            if (maxKeys < 1) {
                throw new IllegalArgumentException("maxKeys must be at least 1");
            }
            clientHashKey = clientHashKey.map(byte[]::clone);
        }

        @Override
        public String toString() {
            return "Settings[file=" + file + ", interval=" + interval + ", clientHashKey=" + (clientHashKey.isPresent() ? "<redacted>" : "none")
                    + ", instance=" + instance + ", maxKeys=" + maxKeys + "]";
        }
    }

    /** Where an interval's lines go: appended to the file, or a test's hand. */
    interface Lines {
        void write(List<String> lines) throws IOException;
    }

    private final Settings settings;
    private final InstantSource clock;
    private final Ticker ticker;
    private final Lines lines;
    private final Optional<ScheduledExecutorService> timer;
    private final Optional<Mac> hmac;
    private final Counter overflowRequests;
    private final Counter writeFailures;
    private final AtomicReference<Window> current;
    /** Writer only (tick and close hold the monitor): set once the last interval is written. */
    private boolean closed;

    /**
     * A meter appending to {@code settings.file()}, written by its own thread at each interval's
     * end. The file is opened once here, so a path sluice cannot write fails at start, not a
     * minute later.
     */
    public static IntervalUsageMeter start(Settings settings, InstantSource clock, MeterRegistry registry) {
        Path file = settings.file();
        try {
            Files.write(file, new byte[0], StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("the usage file " + file + " cannot be written: " + e.getMessage(), e);
        }
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().name("sluice-usage").daemon(true).factory());
        // close() writes the last interval itself; the next tick, up to an interval away, must not hold it up.
        timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        IntervalUsageMeter meter = new IntervalUsageMeter(settings, clock, Ticker.SYSTEM, registry, appendingTo(file),
                Optional.of(timer));
        meter.scheduleNext();
        return meter;
    }

    /** {@code timer} empty: nothing runs on its own, the caller calls {@link #tick()} (tests). */
    IntervalUsageMeter(Settings settings, InstantSource clock, Ticker ticker, MeterRegistry registry, Lines lines,
                       Optional<ScheduledExecutorService> timer) {
        this.settings = settings;
        this.clock = clock;
        this.ticker = ticker;
        this.lines = lines;
        this.timer = timer;
        this.hmac = settings.clientHashKey().map(IntervalUsageMeter::hmac);
        this.overflowRequests = Counter.builder("sluice.usage.overflow.requests")
                .description("Requests summed into the usage overflow line because an interval held the most keys it may")
                .register(registry);
        this.writeFailures = Counter.builder("sluice.usage.write.failures")
                .description("Intervals whose usage lines could not be written to the usage file")
                .register(registry);
        Instant now = clock.instant();
        this.current = new AtomicReference<>(new Window(alignedStart(now), settings.maxKeys()));
    }

    @Override
    public void record(Key key, long bytes) {
        // Without a hash key the client is no part of a line, so it is no part of the aggregation either.
        Key counted = hmac.isPresent() ? key : new Key(key.account(), key.product(), key.principal(), "");
        while (true) {
            Window w = current.get();
            if (w.isClosed()) {
                return;
            }
            w.entered.increment();
            try {
                if (current.get() == w) {
                    w.add(counted, bytes, overflowRequests);
                    return;
                }
            } finally {
                w.left.increment();
            }
        }
    }

    /**
     * Ends the current interval if the clock has reached its end, writing its lines. Called by
     * the meter's thread; tests call it after moving the clock.
     */
    synchronized void tick() {
        if (closed) {
            return;
        }
        Instant now = clock.instant();
        Window w = current.get();
        Instant end = w.start.plus(settings.interval());
        if (now.isBefore(end)) {
            return;
        }
        rollOver(w, end, new Window(alignedStart(now), settings.maxKeys()));
    }

    /** Writes the interval in progress (ending now) and stops the meter's thread. */
    @Override
    public void close() {
        timer.ifPresent(t -> {
            t.shutdown();
            try {
                if (!t.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                    t.shutdownNow();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        synchronized (this) {
            if (closed) {
                return;
            }
            tick();
            Window w = current.get();
            Instant now = clock.instant();
            // A window that ends later than now (the clock stepped back) still ends no earlier than it started.
            rollOver(w, now.isBefore(w.start) ? w.start : now, Window.closed());
            closed = true;
        }
    }

    private void rollOver(Window ended, Instant end, Window next) {
        current.set(next);
        ended.awaitRecorders(ticker, STRAGGLER_WAIT);
        List<String> out = ended.lines(ended.start, end, settings.instance(), this::clientHash);
        if (out.isEmpty()) {
            return;
        }
        try {
            lines.write(out);
        } catch (IOException | RuntimeException e) {
            writeFailures.increment();
            LOG.warn("usage: the lines of the interval {} to {} ({} lines) could not be written to {}: {}",
                    ended.start, end, out.size(), settings.file(), e.toString());
        }
    }

    private void scheduleNext() {
        ScheduledExecutorService t = timer.orElseThrow();
        Instant end = current.get().start.plus(settings.interval());
        // At most an interval: a wall clock stepped back must not put the next line off for as long.
        long delayMillis = Math.min(settings.interval().toMillis(), Math.max(0, Duration.between(clock.instant(), end).toMillis()));
        try {
            t.schedule(() -> {
                try {
                    tick();
                } catch (RuntimeException e) {
                    LOG.warn("usage: ending an interval failed: {}", e.toString());
                }
                scheduleNext();
            }, delayMillis, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing: close() writes the last interval itself
        }
    }

    /** The start of the interval {@code now} is in, intervals counted from the epoch, so every instance agrees. */
    private Instant alignedStart(Instant now) {
        long millis = settings.interval().toMillis();
        long epochMillis = now.toEpochMilli();
        return Instant.ofEpochMilli(Math.floorDiv(epochMillis, millis) * millis);
    }

    private Optional<String> clientHash(String address) {
        return hmac.filter(m -> !address.isEmpty()).map(m -> {
            byte[] mac = m.doFinal(address.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(mac, 0, CLIENT_HASH_BYTES);
        });
    }

    private static Mac hmac(byte[] key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    private static Lines appendingTo(Path file) {
        return out -> {
            StringBuilder text = new StringBuilder(out.size() * 200);
            for (String line : out) {
                text.append(line).append('\n');
            }
            // One write of the whole interval, then closed: the lines are in the file (flushed) when this returns.
            Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                    StandardOpenOption.WRITE);
        };
    }

    /** Requests and bytes of one key in one window. */
    private static final class Counts {
        final LongAdder requests = new LongAdder();
        final LongAdder bytes = new LongAdder();
    }

    /** One interval's sums, and who is adding to them. */
    private static final class Window {
        final Instant start;
        final int maxKeys;
        final ConcurrentHashMap<Key, Counts> counts = new ConcurrentHashMap<>();
        final AtomicInteger keys = new AtomicInteger();
        final Counts overflow = new Counts();
        final LongAdder entered = new LongAdder();
        final LongAdder left = new LongAdder();

        Window(Instant start, int maxKeys) {
            this.start = start;
            this.maxKeys = maxKeys;
        }

        /** The window after close: nothing is recorded in it (the server has stopped by then). */
        static Window closed() {
            return new Window(Instant.MAX, 1);
        }

        boolean isClosed() {
            return start.equals(Instant.MAX);
        }

        void add(Key key, long bytes, Counter overflowRequests) {
            Counts c = counts.get(key);
            if (c == null) {
                // The count is taken inside the map's insertion, so no more than maxKeys keys ever get in.
                c = keys.get() >= maxKeys ? null
                        : counts.computeIfAbsent(key, k -> keys.getAndIncrement() < maxKeys ? new Counts() : null);
                if (c == null) {
                    c = overflow;
                    overflowRequests.increment();
                }
            }
            c.requests.increment();
            c.bytes.add(bytes);
        }

        /**
         * Waits until every recorder that entered this window has left it. The counters only
         * grow and every leave follows its enter, so reading {@code left} before {@code entered}
         * and finding them equal means no recorder was inside when {@code left} was read; one
         * that enters later finds the window swapped and adds nothing here.
         */
        void awaitRecorders(Ticker ticker, Duration bound) {
            long deadline = ticker.nanoTime() + bound.toNanos();
            while (left.sum() != entered.sum()) {
                if (ticker.remainingNanos(deadline) == 0) {
                    LOG.warn("usage: a recorder was still adding to an ended interval after {}; its request may be missing", bound);
                    return;
                }
                Thread.onSpinWait();
            }
        }

        List<String> lines(Instant from, Instant to, String instance, java.util.function.Function<String, Optional<String>> hash) {
            List<String> out = new ArrayList<>(counts.size() + 1);
            for (Map.Entry<Key, Counts> e : counts.entrySet()) {
                out.add(line(from, to, instance, e.getKey(), e.getValue(), hash, false));
            }
            if (overflow.requests.sum() > 0) {
                out.add(line(from, to, instance, new Key("", "", "", ""), overflow, hash, true));
            }
            return out;
        }

        private static String line(Instant from, Instant to, String instance, Key key, Counts c,
                                   java.util.function.Function<String, Optional<String>> hash, boolean overflow) {
            ObjectNode o = JSON.createObjectNode();
            o.put("interval_start", from.toString());
            o.put("interval_end", to.toString());
            o.put("instance", instance);
            if (overflow) {
                o.put("account", "other");
                o.put("product", "other");
                o.put("principal", "other");
                o.put("overflow", true);
            } else {
                putOrNull(o, "account", key.account());
                putOrNull(o, "product", key.product());
                o.put("principal", key.principal().isEmpty() ? "anonymous" : key.principal());
                hash.apply(key.client()).ifPresent(h -> o.put("client", h));
            }
            o.put("requests", c.requests.sum());
            o.put("bytes", c.bytes.sum());
            try {
                return JSON.writeValueAsString(o);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        private static void putOrNull(ObjectNode o, String field, String value) {
            if (value.isEmpty()) {
                o.putNull(field);
            } else {
                o.put(field, value);
            }
        }
    }
}
