package dev.sluice.cache;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

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

    /**
     * A Lua script the store runs atomically on its server, by its SHA-1 digest ({@code EVALSHA}),
     * sending the source only when the server does not know it yet. Scripts must take the time
     * from the server ({@code TIME}) when they need it, so instances' clocks do not matter.
     */
    record Script(String source, String sha1) {
        public Script(String source) {
            this(source, sha1Of(source));
        }

        private static String sha1Of(String source) {
            try {
                return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(source.getBytes(StandardCharsets.UTF_8)));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-1 is required of every JVM", e);
            }
        }
    }

    /** A script's outcome: its reply, integers only, or that the store could not answer. */
    sealed interface Eval {
        record Done(List<Long> values) implements Eval {
        }

        record Unavailable() implements Eval {
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

    /**
     * Runs {@code script} on {@code keys} with {@code args} in one round trip, within the store's
     * timeout and breaker like every other call. The script must answer an array of integers
     * (or a single integer, answered as a list of one).
     */
    Eval eval(Script script, List<String> keys, List<String> args);

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
        public Eval eval(Script script, List<String> keys, List<String> args) {
            return new Eval.Unavailable();
        }

        @Override
        public String health() {
            return "shared tier: none";
        }
    };
}
