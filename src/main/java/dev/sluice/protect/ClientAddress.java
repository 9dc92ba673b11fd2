package dev.sluice.protect;

import org.eclipse.jetty.util.InetAddressSet;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Which address a request is limited as (docs/protection.md, "The client address"): the TCP
 * peer, unless the peer is a trusted proxy, in which case the right-most address of
 * {@code X-Forwarded-For} that is not itself a trusted proxy. Each proxy appends the address it
 * received the request from, so only the entries right of the first untrusted one were written
 * by a proxy the operator trusts; everything left of it may be a client's invention. A client
 * that sends its own {@code X-Forwarded-For} straight to sluice is limited by its real address,
 * whatever the header says. An entry that is not an address literal stops the walk at the
 * trusted hop that reported it; no entry is ever looked up in DNS.
 */
public final class ClientAddress {
    private static final Pattern LITERAL = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");
    private static final Pattern IPV4_WITH_PORT = Pattern.compile("(\\d{1,3}(\\.\\d{1,3}){3}):\\d{1,5}");

    private final InetAddressSet trusted = new InetAddressSet();
    private final boolean anyTrusted;

    /** {@code trustedProxies}: address literals and CIDR blocks, as {@code limits.trusted_proxies} holds them. */
    public ClientAddress(List<String> trustedProxies) {
        trustedProxies.forEach(trusted::add);
        this.anyTrusted = !trustedProxies.isEmpty();
    }

    /**
     * The client's address as text, from the TCP {@code peer} and the values of every
     * {@code X-Forwarded-For} header in the order they came.
     */
    public String of(InetAddress peer, List<String> forwardedFor) {
        if (!anyTrusted || forwardedFor.isEmpty() || !trusted.test(peer)) {
            return peer.getHostAddress();
        }
        List<String> hops = new ArrayList<>();
        for (String value : forwardedFor) {
            for (String part : value.split(",")) {
                hops.add(part.trim());
            }
        }
        InetAddress client = peer;
        for (int i = hops.size() - 1; i >= 0; i--) {
            InetAddress hop = literal(hops.get(i));
            if (hop == null) {
                break;
            }
            client = hop;
            if (!trusted.test(hop)) {
                break;
            }
        }
        return client.getHostAddress();
    }

    /** An address literal ({@code 192.0.2.1}, {@code 192.0.2.1:4711}, {@code 2001:db8::1}, {@code [2001:db8::1]:4711}), else null. */
    static InetAddress literal(String text) {
        String t = text;
        if (t.startsWith("[") && t.indexOf(']') > 0) {
            t = t.substring(1, t.indexOf(']'));
        } else if (IPV4_WITH_PORT.matcher(t).matches()) {
            t = t.substring(0, t.indexOf(':'));
        }
        if (!LITERAL.matcher(t).matches()) {
            return null;
        }
        if (!t.contains(":")) {
            for (String octet : t.split("\\.")) {
                if (Integer.parseInt(octet) > 255) {
                    // Not a literal, and InetAddress would look it up as a host name.
                    return null;
                }
            }
        }
        try {
            // A literal is parsed, never resolved.
            return InetAddress.getByName(t);
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
