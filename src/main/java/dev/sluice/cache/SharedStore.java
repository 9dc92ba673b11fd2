package dev.sluice.cache;

import java.time.Duration;

/**
 * The shared tier (L2): a key-value store every instance of a fleet sees, with leases for
 * fleet-wide single flight. Implementations never throw and never block past their own
 * timeout: a store that is slow, down or answering errors reports {@code UNAVAILABLE}, and the
 * caller carries on without it. Redis being unwell means more exchanges, never a failed request.
 */
public interface SharedStore extends AutoCloseable {

    /** A read's outcome. */
    sealed interface Read {
        record Hit(byte[] value) implements Read {
        }

        record Miss() implements Read {
        }

        record Unavailable() implements Read {
        }
    }

    /** A lease attempt's outcome. */
    enum Lease { WON, HELD, UNAVAILABLE }

    Read get(String key);

    /** Stores {@code value} for {@code ttl}; best effort. */
    void put(String key, byte[] value, Duration ttl);

    /**
     * Deletes {@code key} only while it still holds {@code expected} (compare-and-delete); best
     * effort. A reader discarding a stale entry must not delete the fresh one another instance
     * wrote in the meantime.
     */
    void delete(String key, byte[] expected);

    /** {@code SET key token NX PX ttl}. */
    Lease acquireLease(String key, String token, Duration ttl);

    /** Deletes the lease only if {@code token} still holds it (compare-and-delete). */
    void releaseLease(String key, String token);

    /** One line for {@code /readyz}: what the store is and how it is doing. */
    String health();

    @Override
    default void close() {
    }

    /** No shared tier: every read misses, no lease is ever contended. For a single instance. */
    SharedStore NONE = new SharedStore() {
        @Override
        public Read get(String key) {
            return new Read.Miss();
        }

        @Override
        public void put(String key, byte[] value, Duration ttl) {
        }

        @Override
        public void delete(String key, byte[] expected) {
        }

        @Override
        public Lease acquireLease(String key, String token, Duration ttl) {
            return Lease.WON;
        }

        @Override
        public void releaseLease(String key, String token) {
        }

        @Override
        public String health() {
            return "shared tier: none";
        }
    };
}
