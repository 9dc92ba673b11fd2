package dev.sluice.server;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.observe.RequestMetrics;
import dev.sluice.time.Ticker;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Binding the listeners: the message an operator gets for a port in use, and what "all interfaces" binds. */
class ListenerBindTest {

    private static SluiceConfig.Server server(String listen, String admin) {
        return new ConfigLoader(name -> Optional.empty()).parse("""
                server: { listen: "%s", admin_listen: "%s" }
                registry: { products: [] }
                """.formatted(listen, admin), Path.of(".")).server();
    }

    @Test
    void aPortInUseOnTheS3ListenerSaysAddressAlreadyInUseAndWhichListener() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String address = "127.0.0.1:" + taken.getLocalPort();

            assertThatThrownBy(() -> new SluiceServer(server(address, "127.0.0.1:0"), new RequestMetrics(), () -> "ok", Ticker.SYSTEM))
                    .hasMessage("server.listen " + address + ": address already in use (is another sluice, or another "
                            + "program, listening there?)");
        }
    }

    @Test
    void aPortInUseOnTheAdminListenerNamesTheAdminListener() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String address = "127.0.0.1:" + taken.getLocalPort();

            assertThatThrownBy(() -> new SluiceServer(server("127.0.0.1:0", address), new RequestMetrics(), () -> "ok", Ticker.SYSTEM))
                    .hasMessageStartingWith("server.admin_listen " + address + ": address already in use");
        }
    }

    @Test
    void aListenAddressWithoutAHostAcceptsConnectionsOnEveryLoopback() throws Exception {
        SluiceServer s = new SluiceServer(server(":0", "127.0.0.1:0"), new RequestMetrics(), () -> "ok", Ticker.SYSTEM);
        try {
            int port = s.s3Endpoint().getPort();
            assertThat(s.s3Endpoint().getHost()).isEqualTo("127.0.0.1");
            connect(InetAddress.getByName("127.0.0.1"), port);
            boolean ipv6 = hasIpv6Loopback();
            assumeTrue(ipv6, "no IPv6 loopback on this machine");
            connect(InetAddress.getByName("::1"), port);
        } finally {
            s.close();
        }
    }

    private static void connect(InetAddress host, int port) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 5_000);
            assertThat(socket.isConnected()).isTrue();
        }
    }

    private static boolean hasIpv6Loopback() {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("::1"))) {
            return probe.getLocalPort() > 0;
        } catch (IOException e) {
            return false;
        }
    }
}
