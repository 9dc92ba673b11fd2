package dev.sluice.protect;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ClientAddressTest {
    private final ClientAddress behindProxies = new ClientAddress(List.of("10.0.0.0/8", "2001:db8:ffff::/48"));

    private static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }

    @Test
    void aPeerThatIsNoTrustedProxyIsTheClientWhateverItForwards() throws Exception {
        assertThat(behindProxies.of(ip("198.51.100.7"), List.of("192.0.2.1"))).isEqualTo("198.51.100.7");
        assertThat(new ClientAddress(List.of()).of(ip("10.1.2.3"), List.of("192.0.2.1"))).isEqualTo("10.1.2.3");
    }

    @Test
    void behindATrustedProxyTheRightMostUntrustedAddressIsTheClient() throws Exception {
        assertThat(behindProxies.of(ip("10.0.0.5"), List.of("192.0.2.1"))).isEqualTo("192.0.2.1");
        // A client's forged entry stays left of the one its proxy appended.
        assertThat(behindProxies.of(ip("10.0.0.5"), List.of("203.0.113.9, 192.0.2.1"))).isEqualTo("192.0.2.1");
        // A chain of trusted proxies is walked through, over several headers.
        assertThat(behindProxies.of(ip("10.0.0.5"), List.of("203.0.113.9, 192.0.2.1", "10.9.9.9"))).isEqualTo("192.0.2.1");
        assertThat(behindProxies.of(ip("10.0.0.5"), List.of("[2001:db8::7]:4711, 10.0.0.6"))).isEqualTo("2001:db8:0:0:0:0:0:7");
        assertThat(behindProxies.of(ip("10.0.0.5"), List.of("192.0.2.1:50123"))).isEqualTo("192.0.2.1");
    }

    @Test
    void onlyTrustedProxiesLeftTheLeftMostIsTheClient() throws Exception {
        assertThat(behindProxies.of(ip("10.0.0.5"), List.of("10.0.0.7, 10.0.0.6"))).isEqualTo("10.0.0.7");
    }

    @Test
    void anEntryThatIsNoAddressStopsAtTheProxyThatReportedIt() throws Exception {
        assertThat(behindProxies.of(ip("10.0.0.5"), List.of("192.0.2.1, unknown"))).isEqualTo("10.0.0.5");
        assertThat(behindProxies.of(ip("10.0.0.5"), List.of("192.0.2.1, 10.0.0.6, evil.example"))).isEqualTo("10.0.0.5");
        assertThat(behindProxies.of(ip("10.0.0.5"), List.of("999.0.0.1"))).isEqualTo("10.0.0.5");
        assertThat(behindProxies.of(ip("10.0.0.5"), List.of(""))).isEqualTo("10.0.0.5");
    }

    @Test
    void withoutTheHeaderThePeerIsTheClient() throws Exception {
        assertThat(behindProxies.of(ip("10.0.0.5"), List.of())).isEqualTo("10.0.0.5");
    }
}
