package dev.sluice.server;

import dev.sluice.sigv2.SigV2Verifier;

import java.util.Locale;
import java.util.Optional;

/**
 * Virtual-hosted-style addressing ({@code server.virtual_host_domain}, docs/configuration.md):
 * a request whose {@code Host} is {@code {account}.{domain}} names the account in its host, so
 * {@code GET http://demo.s3.example.org/hello/x} is the path-style {@code /demo/hello/x}, as S3
 * reads {@code {bucket}.s3.amazonaws.com}. The bare domain and every other host stay path style.
 * Only the routing changes: a signature is still checked over the path and {@code Host} as sent.
 */
public record VirtualHostStyle(String domain) {

    public VirtualHostStyle {
        domain = domain.toLowerCase(Locale.ROOT);
    }

    /** The account a request's host names, if the host is {@code {account}.{domain}}. */
    Optional<String> account(String host) {
        if (host == null) {
            return Optional.empty();
        }
        String h = host.toLowerCase(Locale.ROOT);
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1); // a fully qualified name is the same host
        }
        if (h.length() <= domain.length() + 1 || !h.endsWith(domain) || h.charAt(h.length() - domain.length() - 1) != '.') {
            return Optional.empty();
        }
        return Optional.of(h.substring(0, h.length() - domain.length() - 1));
    }

    /**
     * What SigV2 signs as the resource of a request (docs/identity.md): the bucket and the path,
     * the bucket taken from the {@code Host} header (its port dropped) when that names an account.
     */
    public SigV2Verifier.ResourcePath sigV2Resource() {
        return request -> pathStyle(request.header("host").flatMap(h -> account(withoutPort(h))), request.rawPath());
    }

    private static String withoutPort(String host) {
        int colon = host.lastIndexOf(':');
        return colon > host.lastIndexOf(']') ? host.substring(0, colon) : host;
    }

    /** The path-style path of a request: {@code /{account}} + the path as sent when the host names an account. */
    static String pathStyle(Optional<String> account, String rawPath) {
        return account.map(a -> "/" + a + rawPath).orElse(rawPath);
    }
}
