package dev.sluice.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Optional;
import java.util.concurrent.Semaphore;

/**
 * The bytes of request bodies sluice may hold in memory at once, across all requests: a
 * semaphore of bytes. A request that needs to hold a body reserves its size first, without
 * waiting; when the budget is spent it is refused ({@code 503 SlowDown}, see
 * {@code docs/operations.md}) instead of queueing, since a client that holds a body back is
 * exactly what spends the budget.
 *
 * <p>This exists because a per-request limit alone did not bound memory: about 270 anonymous
 * requests, each sending a 1 MB body with its last byte withheld, filled 256 MiB of direct
 * memory within the body timeout, and every other client was disconnected.
 *
 * <p>Meters: {@code sluice_body_budget_bytes} (the capacity), {@code sluice_body_reserved_bytes}
 * (held now) and {@code sluice_body_refusals_total} (requests refused for want of budget).
 */
public final class BodyBudget {
    private final int capacity;
    private final Semaphore bytes;
    private final Counter refusals;

    public BodyBudget(long capacityBytes, MeterRegistry meters) {
        if (capacityBytes < 1 || capacityBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a body budget is between 1 byte and 2 GiB: " + capacityBytes);
        }
        this.capacity = (int) capacityBytes;
        this.bytes = new Semaphore(capacity);
        Gauge.builder("sluice.body.budget", () -> capacity).baseUnit("bytes")
                .description("Request-body bytes sluice may hold at once").register(meters);
        Gauge.builder("sluice.body.reserved", this, BodyBudget::reservedBytes).baseUnit("bytes")
                .description("Request-body bytes held now").register(meters);
        this.refusals = Counter.builder("sluice.body.refusals")
                .description("Requests refused because the body budget was spent").register(meters);
    }

    /** Reserves {@code size} bytes now, or answers empty (and counts a refusal) when they are not free. */
    public Optional<Reservation> tryReserve(int size) {
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size);
        }
        if (size > capacity || !bytes.tryAcquire(size)) {
            refusals.increment();
            return Optional.empty();
        }
        return Optional.of(new Reservation(size));
    }

    /** Bytes reserved now; never more than the capacity. */
    public long reservedBytes() {
        return capacity - bytes.availablePermits();
    }

    public long capacity() {
        return capacity;
    }

    public long refusals() {
        return (long) refusals.count();
    }

    /** Bytes held for one request; closing returns them (once). */
    public final class Reservation implements AutoCloseable {
        private final int size;
        private boolean released;

        private Reservation(int size) {
            this.size = size;
        }

        @Override
        public void close() {
            if (!released) {
                released = true;
                bytes.release(size);
            }
        }
    }
}
