package dev.sluice.testing;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The faults a test identity provider (test Entra ID, test Google) injects on demand, for every
 * following request or the next few, and the latch that ends a hang.
 */
public final class IdentityFaults {

    /** What a request suffers instead of a normal answer. */
    public enum Fault {
        NONE,
        /** No answer until the provider is closed or {@link #releaseHung()}. */
        HANG,
        /** HTTP 429 (Entra: {@code temporarily_unavailable}; Google: {@code RESOURCE_EXHAUSTED}). */
        THROTTLE,
        /** HTTP 500/503 with the provider's error document. */
        SERVER_ERROR,
        /** HTTP 200 with a body that is no token reply. */
        GARBAGE,
        /** HTTP 200 with a token reply padded past any sane size. */
        OVERSIZED,
        /** The identity is refused (Entra AADSTS70021, Google {@code invalid_grant} or 403 {@code PERMISSION_DENIED}). */
        REFUSE,
        /** A misconfiguration (Entra {@code invalid_scope}, Google {@code invalid_request} or 404). */
        MISCONFIGURED
    }

    private final AtomicReference<Fault> fault = new AtomicReference<>(Fault.NONE);
    private final AtomicInteger remaining = new AtomicInteger(Integer.MAX_VALUE);
    private final CountDownLatch released = new CountDownLatch(1);
    private final CountDownLatch hanging = new CountDownLatch(1);

    /** Every following request suffers {@code f}. */
    public void set(Fault f) {
        set(f, Integer.MAX_VALUE);
    }

    /** The next {@code times} requests suffer {@code f}, then requests are answered normally. */
    public void set(Fault f, int times) {
        remaining.set(times);
        fault.set(f);
    }

    /** The fault of the request being answered now. */
    Fault next() {
        Fault f = fault.get();
        if (f == Fault.NONE) {
            return f;
        }
        if (remaining.getAndDecrement() <= 0) {
            fault.compareAndSet(f, Fault.NONE);
            return Fault.NONE;
        }
        return f;
    }

    /** Holds a hung request until released (at most 60 s, so a broken test cannot hang the build). */
    void hang() throws InterruptedException {
        hanging.countDown();
        released.await(60, TimeUnit.SECONDS);
    }

    /** Waits until a request hangs (bounded), for tests that must know the provider is stuck. */
    public boolean awaitHanging(long seconds) throws InterruptedException {
        return hanging.await(seconds, TimeUnit.SECONDS);
    }

    public void releaseHung() {
        released.countDown();
    }
}
