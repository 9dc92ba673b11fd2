package dev.sluice.config;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code backend_tls}: certificates sluice trusts, besides the JVM's own, on every outbound
 * HTTPS call (backends, STS and token endpoints, the control plane), for endpoints behind a
 * private CA (docs/configuration.md, "backend_tls"). The file is read and parsed at load, so a
 * wrong path or a file without a certificate stops sluice from starting instead of failing
 * every request later.
 */
final class BackendTlsSection {
    private BackendTlsSection() {
    }

    static SluiceConfig.BackendTls backendTls(Node n, Path base) {
        n.allowOnly("ca_file");
        Optional<String> caFile = n.optionalText("ca_file");
        if (caFile.isEmpty()) {
            return SluiceConfig.BackendTls.NONE;
        }
        Path path = base.resolve(caFile.get()).normalize();
        byte[] pem;
        try {
            pem = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new ConfigException(n.path("ca_file") + ": file " + path + " cannot be read");
        }
        List<X509Certificate> certificates = new ArrayList<>();
        try {
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem))) {
                certificates.add((X509Certificate) c);
            }
        } catch (CertificateException e) {
            throw new ConfigException(n.path("ca_file") + ": file " + path + " holds no readable PEM certificate");
        }
        if (certificates.isEmpty()) {
            throw new ConfigException(n.path("ca_file") + ": file " + path + " holds no PEM certificate");
        }
        return new SluiceConfig.BackendTls(Optional.of(path), certificates);
    }
}
