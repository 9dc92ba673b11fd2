package dev.sluice.backend;

import dev.sluice.testing.AzuriteExtension;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Sluice's outbound client trusts a private endpoint's certificate only when
 * {@code backend_tls.ca_file} names it, and Azurite (HTTPS with a certificate made at test time)
 * is reached through it.
 */
class OutboundTlsTest {
    @RegisterExtension
    static final AzuriteExtension AZURITE = new AzuriteExtension();

    @Test
    void aCertificateFromTheCaFileIsTrustedBesidesTheJvmsOwn() throws Exception {
        X509Certificate cert;
        try (InputStream in = Files.newInputStream(AZURITE.get().certificate())) {
            cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        HttpClient http = new HttpClient();
        http.setSslContextFactory(OutboundTls.trusting(List.of(cert)));
        http.start();
        try {
            ContentResponse r = http.newRequest(AZURITE.get().endpoint() + "?comp=list").timeout(10, TimeUnit.SECONDS).send();
            // Unsigned: refused by Azurite, but over a TLS connection sluice trusted.
            assertThat(r.getStatus()).isEqualTo(403);
        } finally {
            http.stop();
        }
    }

    @Test
    void withoutTheCaFileAPrivateCertificateIsRefused() throws Exception {
        HttpClient http = new HttpClient();
        http.setSslContextFactory(OutboundTls.trusting(List.of()));
        http.start();
        try {
            assertThatThrownBy(() -> http.newRequest(AZURITE.get().endpoint() + "?comp=list").timeout(10, TimeUnit.SECONDS).send())
                    .isInstanceOf(ExecutionException.class)
                    .hasStackTraceContaining("PKIX path building failed");
        } finally {
            http.stop();
        }
    }
}
