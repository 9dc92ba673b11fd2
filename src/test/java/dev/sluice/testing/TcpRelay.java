package dev.sluice.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A byte-for-byte TCP relay in front of a backend, which a test can cut: every connection
 * through it is reset at once, as when the backend's host dies mid-request. It counts the bytes
 * it has carried toward the backend, so a test can wait until a request body is really on its
 * way before cutting (no guessing with sleeps). Unlike {@link RecordingProxy} it never buffers,
 * so it carries uploads of any size.
 */
public final class TcpRelay implements AutoCloseable {
    private final ServerSocket listener;
    private final InetSocketAddress target;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final AtomicLong upstreamBytes = new AtomicLong();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition moved = lock.newCondition();
    private volatile boolean cut;
    private final Thread acceptor;

    private TcpRelay(URI target) throws IOException {
        this.target = new InetSocketAddress(target.getHost(), target.getPort());
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.acceptor = Thread.ofVirtual().name("tcp-relay-accept").start(this::accept);
    }

    /** A relay to {@code target} ({@code http://host:port}) on a free loopback port. */
    public static TcpRelay start(URI target) throws IOException {
        return new TcpRelay(target);
    }

    /** {@code http://127.0.0.1:<port>}. */
    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + listener.getLocalPort());
    }

    /** Bytes carried toward the backend so far. */
    public long upstreamBytes() {
        return upstreamBytes.get();
    }

    /** Waits until at least {@code bytes} have been carried toward the backend; false when {@code timeout} passes first. */
    public boolean awaitUpstreamBytes(long bytes, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (upstreamBytes.get() < bytes) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                moved.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Resets every connection through the relay and refuses new ones until {@link #restore()}. */
    public void cut() {
        cut = true;
        for (Socket s : open) {
            try {
                s.setSoLinger(true, 0);
                s.close();
            } catch (IOException ignored) {
                // already gone
            }
        }
        open.clear();
    }

    /** Carries new connections again. */
    public void restore() {
        cut = false;
    }

    private void accept() {
        while (!listener.isClosed()) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return;
            }
            if (cut) {
                try {
                    client.setSoLinger(true, 0);
                    client.close();
                } catch (IOException ignored) {
                    // refused
                }
                continue;
            }
            try {
                Socket backend = new Socket();
                backend.connect(target, 5_000);
                open.add(client);
                open.add(backend);
                Thread.ofVirtual().start(() -> pipe(client, backend, true));
                Thread.ofVirtual().start(() -> pipe(backend, client, false));
            } catch (IOException e) {
                try {
                    client.close();
                } catch (IOException ignored) {
                    // nothing to relay to
                }
            }
        }
    }

    private void pipe(Socket from, Socket to, boolean upstream) {
        byte[] buf = new byte[64 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
                out.flush();
                if (upstream) {
                    upstreamBytes.addAndGet(n);
                    lock.lock();
                    try {
                        moved.signalAll();
                    } finally {
                        lock.unlock();
                    }
                }
            }
        } catch (IOException ignored) {
            // one side closed or was cut
        } finally {
            try {
                from.close();
                to.close();
            } catch (IOException ignored) {
                // closing anyway
            }
            open.remove(from);
            open.remove(to);
        }
    }

    @Override
    public void close() throws Exception {
        listener.close();
        cut();
        acceptor.join(TimeUnit.SECONDS.toMillis(5));
    }
}
