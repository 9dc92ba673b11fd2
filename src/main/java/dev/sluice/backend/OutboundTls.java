package dev.sluice.backend;

import org.eclipse.jetty.util.ssl.SslContextFactory;

import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * The TLS settings of sluice's outbound HTTP client: the JVM's trusted certificates, plus those
 * an operator names in {@code backend_tls.ca_file} for endpoints behind a private CA
 * (docs/configuration.md, "backend_tls"). The extra certificates are added to the defaults,
 * never in their place, so public endpoints stay reachable; host names are still verified.
 */
public final class OutboundTls {
    private OutboundTls() {
    }

    /** Client TLS trusting the JVM's defaults and {@code extra}. */
    public static SslContextFactory.Client trusting(List<X509Certificate> extra) {
        SslContextFactory.Client tls = new SslContextFactory.Client();
        if (extra.isEmpty()) {
            return tls;
        }
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int n = 0;
            for (X509Certificate c : jvmDefaults()) {
                store.setCertificateEntry("jvm-" + n++, c);
            }
            n = 0;
            for (X509Certificate c : extra) {
                store.setCertificateEntry("backend-tls-" + n++, c);
            }
            tls.setTrustStore(store);
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build the outbound trust store", e);
        }
        return tls;
    }

    private static X509Certificate[] jvmDefaults() throws GeneralSecurityException {
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init((KeyStore) null);
        for (var manager : factory.getTrustManagers()) {
            if (manager instanceof X509TrustManager x509) {
                return x509.getAcceptedIssuers();
            }
        }
        return new X509Certificate[0];
    }
}
