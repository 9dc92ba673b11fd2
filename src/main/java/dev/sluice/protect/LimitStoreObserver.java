package dev.sluice.protect;

/**
 * What the limit stores did, for metrics: each token-bucket decision by the store that made it
 * ({@code shared} or {@code local}) and its outcome, and each fallback from the shared store to
 * this instance's share. Never told a key: labels stay a small closed set.
 */
public interface LimitStoreObserver {
    LimitStoreObserver NONE = new LimitStoreObserver() {
        @Override
        public void decision(Store store, boolean granted) {
        }

        @Override
        public void fallback(Kind kind) {
        }
    };

    /** Where a decision was made. */
    enum Store { SHARED, LOCAL }

    /** What fell back: a token-bucket decision or a byte-counter read or charge. */
    enum Kind { BUCKETS, BYTES }

    void decision(Store store, boolean granted);

    void fallback(Kind kind);
}
