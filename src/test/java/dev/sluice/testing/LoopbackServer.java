package dev.sluice.testing;

import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

import java.time.Duration;

/**
 * The Jetty server under each HTTP test fixture (test STS, test control plane, test issuer,
 * recording proxy): one handler function on a free loopback port, stopped in {@link #close()}.
 */
public final class LoopbackServer implements AutoCloseable {

    /** What the fixture does with a request; the fixture completes {@code callback}. */
    @FunctionalInterface
    public interface Exchange {
        void handle(Request request, Response response, Callback callback) throws Exception;
    }

    private final Server server = new Server();
    private final ServerConnector connector = new ServerConnector(server);
    private final int port;

    /**
     * @param stopTimeout how long {@link #close()} lets requests in flight finish; zero when
     *     clients' idle keep-alive connections would only hold the stop up
     */
    public LoopbackServer(Exchange exchange, Duration stopTimeout) throws Exception {
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                exchange.handle(request, response, callback);
                return true;
            }
        });
        server.setStopTimeout(stopTimeout.toMillis());
        server.start();
        this.port = connector.getLocalPort();
    }

    public int port() {
        return port;
    }

    /** {@code http://127.0.0.1:PORT}, without a trailing slash. */
    public String url() {
        return "http://127.0.0.1:" + port;
    }

    /** Stops listening: connections to the port are refused until {@link #listenAgain()}. */
    public void refuseConnections() throws Exception {
        connector.stop();
    }

    /** Listens again on the same port. */
    public void listenAgain() throws Exception {
        connector.setPort(port);
        connector.start();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
