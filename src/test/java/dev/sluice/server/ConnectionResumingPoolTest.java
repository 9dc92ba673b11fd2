package dev.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.eclipse.jetty.io.ByteArrayEndPoint;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.LocalConnector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.internal.HttpConnection;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The server's pool lets a virtual thread that finished a response read its connection's next
 * request itself (docs/operations.md, "Threads"); everything else still goes to the pool.
 */
class ConnectionResumingPoolTest {
    private SluiceServer.ConnectionResumingPool pool;
    private Server server;

    @BeforeEach
    void start() throws Exception {
        pool = new SluiceServer.ConnectionResumingPool(8, 2);
        pool.start();
        server = new Server();
    }

    @AfterEach
    void stop() throws Exception {
        pool.stop();
    }

    /** A connection whose {@code run} (Jetty's "read the next request") records the thread it ran on. */
    private final class Recording extends HttpConnection {
        final CompletableFuture<Thread> ranOn = new CompletableFuture<>();

        Recording() {
            super(new HttpConfiguration(), new LocalConnector(server), new ByteArrayEndPoint());
        }

        @Override
        public void run() {
            ranOn.complete(Thread.currentThread());
        }
    }

    @Test
    void aConnectionResumedFromAVirtualThreadIsReadOnThatThread() throws Exception {
        Recording connection = new Recording();
        AtomicReference<Thread> caller = new AtomicReference<>();

        Thread.ofVirtual().start(() -> {
            caller.set(Thread.currentThread());
            pool.execute(connection);
        }).join();

        assertThat(connection.ranOn.get(10, TimeUnit.SECONDS)).isSameAs(caller.get());
    }

    /** As on a pool thread, a connection that fails to read on does not fail the response that completed. */
    @Test
    void aConnectionThatFailsToReadOnDoesNotFailTheCaller() throws Exception {
        HttpConnection failing = new HttpConnection(new HttpConfiguration(), new LocalConnector(server), new ByteArrayEndPoint()) {
            @Override
            public void run() {
                throw new IllegalStateException("broken connection");
            }
        };
        AtomicReference<Throwable> escaped = new AtomicReference<>();

        Thread.ofVirtual().start(() -> {
            try {
                pool.execute(failing);
            } catch (Throwable t) {
                escaped.set(t);
            }
        }).join();

        assertThat(escaped.get()).isNull();
    }

    @Test
    void aConnectionResumedFromAPlatformThreadGoesToThePool() throws Exception {
        Recording connection = new Recording();

        pool.execute(connection);

        Thread ranOn = connection.ranOn.get(10, TimeUnit.SECONDS);
        assertThat(ranOn).isNotSameAs(Thread.currentThread());
        assertThat(ranOn.isVirtual()).isFalse();
    }

    /**
     * The backend client's threads send the reply to a read sent from the selector, and read
     * its connection on themselves; a thread of any other pool hands it to the server's pool.
     */
    @Test
    void aConnectionResumedFromTheBackendClientsPoolIsReadOnThatThread() throws Exception {
        org.eclipse.jetty.util.thread.QueuedThreadPool backend = SluiceServer.replyingPool(4, 1);
        org.eclipse.jetty.util.thread.QueuedThreadPool other = new org.eclipse.jetty.util.thread.QueuedThreadPool(4, 1);
        backend.start();
        other.start();
        try {
            Recording fromBackend = new Recording();
            CompletableFuture<Thread> backendCaller = new CompletableFuture<>();
            backend.execute(() -> {
                backendCaller.complete(Thread.currentThread());
                pool.execute(fromBackend);
            });
            assertThat(fromBackend.ranOn.get(10, TimeUnit.SECONDS)).isSameAs(backendCaller.get(10, TimeUnit.SECONDS));

            Recording fromOther = new Recording();
            CompletableFuture<Thread> otherCaller = new CompletableFuture<>();
            other.execute(() -> {
                otherCaller.complete(Thread.currentThread());
                pool.execute(fromOther);
            });
            assertThat(fromOther.ranOn.get(10, TimeUnit.SECONDS)).isNotSameAs(otherCaller.get(10, TimeUnit.SECONDS));
        } finally {
            backend.stop();
            other.stop();
        }
    }

    @Test
    void otherTasksFromAVirtualThreadGoToThePool() throws Exception {
        CompletableFuture<Thread> ranOn = new CompletableFuture<>();
        AtomicReference<Thread> caller = new AtomicReference<>();

        Thread.ofVirtual().start(() -> {
            caller.set(Thread.currentThread());
            pool.execute(() -> ranOn.complete(Thread.currentThread()));
        }).join();

        assertThat(ranOn.get(10, TimeUnit.SECONDS)).isNotSameAs(caller.get());
    }
}
