package dev.sluice.backend;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.testing.LoopbackServer;
import org.eclipse.jetty.client.HttpClient;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The wait for a response head that the s3, azure and gcs backends share: a failure is a 503
 * whose log detail says what went wrong without carrying the exception, whose message or cause
 * may hold the request's URI (and an Azure SAS token in its query).
 */
class ResponseHeadTest {
    private static final String SAS = "sv=2021-12-02&sp=rl&sig=SECRETSIGNATURE%3D";

    @Test
    void aRefusedConnectionIsA503LoggedByKindWithoutTheException() throws Exception {
        HttpClient http = new HttpClient();
        http.start();
        try (LoopbackServer server = new LoopbackServer((request, response, callback) -> callback.succeeded(), Duration.ZERO)) {
            server.refuseConnections();
            var request = http.newRequest(URI.create(server.url() + "/account/container/blob?" + SAS));

            assertThatThrownBy(() -> ResponseHead.await(request, Duration.ofSeconds(5), "azure:test", "GET /account/container/blob",
                    Optional.of(SAS)))
                    .isInstanceOfSatisfying(S3Exception.class, e -> {
                        assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE);
                        Throwable detail = e.logCause().orElseThrow();
                        assertThat(detail.getMessage()).startsWith("azure:test: GET /account/container/blob failed: ConnectException")
                                .doesNotContain("SECRETSIGNATURE");
                        assertThat(detail.getCause()).as("the wire exception is not kept for the log").isNull();
                    });
        } finally {
            http.stop();
        }
    }

    /**
     * A store that sends its head a byte at a time never lets the connection go idle, so only
     * the deadline on the head ends the wait: 503, and the exchange aborted.
     */
    @Test
    void aHeadThatTricklesInIsA503AtTheDeadline() throws Exception {
        HttpClient http = new HttpClient();
        http.start();
        try (java.net.ServerSocket store = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
             java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            java.util.concurrent.CountDownLatch aborted = new java.util.concurrent.CountDownLatch(1);
            threads.submit(() -> {
                try (java.net.Socket s = store.accept()) {
                    byte[] head = "HTTP/1.1 200 OK\r\nX-Padding: ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                    s.getOutputStream().write(head);
                    // One byte every 50 ms, bounded at 20 s: the connection is never idle for the 1 s idle timeout.
                    for (int i = 0; i < 400; i++) {
                        s.getOutputStream().write('x');
                        s.getOutputStream().flush();
                        Thread.sleep(50);
                    }
                } catch (IOException closed) {
                    aborted.countDown(); // sluice closed the connection: the exchange was aborted
                }
                return null;
            });
            var request = http.newRequest(URI.create("http://127.0.0.1:" + store.getLocalPort() + "/bucket/key"))
                    .idleTimeout(1, java.util.concurrent.TimeUnit.SECONDS);
            long started = System.nanoTime();

            assertThatThrownBy(() -> ResponseHead.await(request, Duration.ofSeconds(1), "s3:test", "GET /bucket/key", Optional.empty()))
                    .isInstanceOfSatisfying(S3Exception.class, e -> {
                        assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE);
                        assertThat(e.logCause().orElseThrow().getMessage()).isEqualTo("s3:test: no response within PT1S for GET /bucket/key");
                    });
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(Duration.ofSeconds(1), Duration.ofSeconds(10));
            assertThat(aborted.await(10, java.util.concurrent.TimeUnit.SECONDS)).as("the store's connection closed").isTrue();
        } finally {
            http.stop();
        }
    }

    /**
     * A read sent by a thread that may not wait returns at once; a store that answers its head
     * and then sends no body is a 503 at the deadline all the same (the deadline covers a small
     * body too), and the exchange is aborted.
     */
    @Test
    void aReadStartedWithoutWaitingIsA503AtTheDeadlineWhenItsBodyNeverComes() throws Exception {
        HttpClient http = new HttpClient();
        http.start();
        try (java.net.ServerSocket store = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
             java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            java.util.concurrent.CountDownLatch aborted = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch asked = new java.util.concurrent.CountDownLatch(1);
            threads.submit(() -> {
                try (java.net.Socket s = store.accept()) {
                    s.getInputStream().read();
                    asked.countDown();
                    s.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Length: 10\r\nETag: \"e\"\r\n\r\n")
                            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                    // Bounded at 20 s: the body never comes, the connection stays open until sluice closes it.
                    s.setSoTimeout(20_000);
                    while (s.getInputStream().read() >= 0) {
                        // what sluice sends after its request: nothing
                    }
                    aborted.countDown();
                } catch (IOException closed) {
                    aborted.countDown();
                }
                return null;
            });
            S3Backend backend = new S3Backend(http, URI.create("http://127.0.0.1:" + store.getLocalPort()), "us-east-1", "bucket", "",
                    BackendCredentials.anonymous(), java.time.InstantSource.system(), dev.sluice.time.Ticker.SYSTEM, Duration.ofSeconds(1));
            long started = System.nanoTime();

            var opened = backend.openWithoutWaiting("key", new Fetch(Optional.empty(), dev.sluice.s3.Preconditions.NONE, false), 64);
            assertThat(opened).as("returned before the store answered").isNotDone();
            assertThat(asked.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();

            assertThat(opened).failsWithin(Duration.ofSeconds(10)).withThrowableThat().havingCause()
                    .isInstanceOfSatisfying(S3Exception.class, e -> {
                        assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE);
                        assertThat(e.logCause().orElseThrow().getMessage())
                                .startsWith("s3:http://127.0.0.1:" + store.getLocalPort() + "/bucket/: no response within PT1S for GET /bucket/key");
                    });
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(Duration.ofSeconds(1), Duration.ofSeconds(10));
            assertThat(aborted.await(10, java.util.concurrent.TimeUnit.SECONDS)).as("the store's connection closed").isTrue();
        } finally {
            http.stop();
        }
    }

    @Test
    void kindCutsTheSecretAndAnyQueryOutOfTheMessage() {
        IOException failure = new IOException("bad " + SAS + " from http://127.0.0.1:1/c/b?comp=list&" + SAS);

        assertThat(ResponseHead.kind(failure, Optional.of(SAS)))
                .isEqualTo("IOException (bad <secret> from http://127.0.0.1:1/c/b?<query>)");
        assertThat(ResponseHead.kind(new IOException("x?a=1"), Optional.empty())).isEqualTo("IOException (x?<query>)");
        assertThat(ResponseHead.kind(null, Optional.empty())).isEqualTo("unknown");
    }
}
