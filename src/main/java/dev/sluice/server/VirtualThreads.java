package dev.sluice.server;

import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;

/**
 * Where the work that may wait runs: a virtual thread per task, started directly. The JDK's
 * per-task executor also adds each thread to a set and removes it when it ends, bookkeeping for
 * a shutdown that sluice never asks of it (the server drains its requests instead), and it pays
 * that on every request.
 */
public final class VirtualThreads {
    private VirtualThreads() {
    }

    /** Starts each task on a new virtual thread named {@code name}. */
    public static Executor starting(String name) {
        // A builder is not safe to share between threads; its factory is.
        ThreadFactory threads = Thread.ofVirtual().name(name).factory();
        return task -> threads.newThread(task).start();
    }
}
