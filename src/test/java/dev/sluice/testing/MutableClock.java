package dev.sluice.testing;

import dev.sluice.time.Ticker;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * A clock that only moves when the test says so, in the manner of Caffeine's {@code FakeTicker}:
 * time-dependent code is driven to each boundary exactly (to the nanosecond) instead of being
 * waited for. It is both the wall clock ({@link InstantSource}) and the {@link Ticker}: a
 * {@link #sleep} by the code under test returns at once having moved both by the time slept,
 * and is recorded, so backoff and polling are asserted as the exact waits they asked for.
 */
public final class MutableClock implements InstantSource, Ticker {
    private final AtomicReference<Instant> now;
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final List<Duration> sleeps = new CopyOnWriteArrayList<>();
    private volatile Consumer<Duration> onSleep = d -> { };

    public MutableClock(Instant start) {
        this.now = new AtomicReference<>(start);
    }

    @Override
    public Instant instant() {
        return now.get();
    }

    @Override
    public long nanoTime() {
        return nanos.get();
    }

    @Override
    public void sleep(Duration duration) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        sleeps.add(duration);
        if (duration.isPositive()) {
            advance(duration);
        }
        onSleep.accept(duration);
    }

    public void set(Instant instant) {
        Duration moved = Duration.between(now.getAndSet(instant), instant);
        if (moved.isPositive()) { // a ticker never runs backwards, whatever the wall clock does
            nanos.addAndGet(moved.toNanos());
        }
    }

    public void advance(Duration by) {
        now.updateAndGet(t -> t.plus(by));
        nanos.addAndGet(by.toNanos());
    }

    /** Every sleep asked for so far, in order. */
    public List<Duration> sleeps() {
        return List.copyOf(sleeps);
    }

    /** Runs {@code action} after each sleep, once time has moved: what happens "meanwhile". */
    public void onSleep(Consumer<Duration> action) {
        this.onSleep = action;
    }
}
