package dev.sluice.protect;

/**
 * Usage metering (docs/protection.md): requests and bytes per (account, product, principal,
 * client) aggregated per interval on this instance and written as JSON usage lines, a stream
 * apart from the access log. Recording is cheap and never blocks a request.
 */
public interface UsageMeter extends AutoCloseable {
    UsageMeter NONE = (key, bytes) -> { };

    /**
     * One request for {@code key} that sent {@code bytes} of body to its client (what was
     * actually written: a range, a download cut short).
     */
    void record(Key key, long bytes);

    @Override
    default void close() {
    }

    /**
     * What usage is counted by. {@code principal} is empty for an anonymous caller;
     * {@code client} is the client's address, which the meter writes only as a keyed hash.
     * {@code account} and {@code product} are empty for requests above a product (a listing of
     * accounts).
     */
    record Key(String account, String product, String principal, String client) {
    }
}
