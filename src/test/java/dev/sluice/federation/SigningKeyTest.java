package dev.sluice.federation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.fail;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.KeyType;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SigningKey} reads the keys the commands in our docs produce. The PEMs are made by the
 * real {@code openssl} at test time (OpenSSL 3 writes PKCS#8 from both {@code genpkey} and
 * plain {@code genrsa}, so PKCS#1 needs {@code genrsa -traditional}), and each loaded key is
 * compared with what {@code openssl rsa -pubout} says its public key is. Without openssl
 * these tests are skipped locally and fail on CI.
 */
class SigningKeyTest {
    private static final String OPENSSL = "/usr/bin/openssl";

    @TempDir
    static Path dir;

    /** Made by the JDK, for tests about sluice's own handling; one per class, as RSA key generation is slow. */
    private static SigningKey generated;
    private static boolean haveOpenssl;
    private static Path pkcs8;
    private static Path pkcs1;

    @BeforeAll
    static void generateKeys() throws Exception {
        generated = SigningKey.generate(2048, "k1");
        haveOpenssl = Files.isExecutable(Path.of(OPENSSL));
        if (!haveOpenssl) {
            return;
        }
        pkcs8 = dir.resolve("pkcs8.pem");
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", pkcs8.toString());
        pkcs1 = dir.resolve("pkcs1.pem");
        openssl("genrsa", "-traditional", "-out", pkcs1.toString(), "2048");
    }

    // ---- the two PEM forms ----

    @Test
    void readsPkcs8PemFromOpensslGenpkey() throws Exception {
        requireOpenssl();
        String pem = Files.readString(pkcs8);
        assertThat(pem).startsWith("-----BEGIN PRIVATE KEY-----");

        SigningKey key = SigningKey.fromPem(pem, "k1");

        assertThat(key.kid()).isEqualTo("k1");
        assertSamePublicKeyAsOpenssl(key, pkcs8);
    }

    @Test
    void readsPkcs1PemFromOpensslGenrsaTraditional() throws Exception {
        requireOpenssl();
        String pem = Files.readString(pkcs1);
        assertThat(pem).startsWith("-----BEGIN RSA PRIVATE KEY-----");

        SigningKey key = SigningKey.fromPem(pem, "k1");

        assertSamePublicKeyAsOpenssl(key, pkcs1);
    }

    @Test
    void pkcs1AndPkcs8FormsOfOneKeyLoadAsTheSameKey() throws Exception {
        requireOpenssl();
        Path converted = dir.resolve("pkcs1-as-pkcs8.pem");
        openssl("pkcs8", "-topk8", "-nocrypt", "-in", pkcs1.toString(), "-out", converted.toString());

        SigningKey fromPkcs1 = SigningKey.fromPem(Files.readString(pkcs1), "k1");
        SigningKey fromPkcs8 = SigningKey.fromPem(Files.readString(converted), "k1");

        assertThat(fromPkcs8.privateKey()).isEqualTo(fromPkcs1.privateKey());
        assertThat(fromPkcs8.publicKey()).isEqualTo(fromPkcs1.publicKey());
    }

    @Test
    void readsPemWithCrlfLineEndingsAndTextAroundIt() throws Exception {
        requireOpenssl();
        String pem = Files.readString(pkcs1);
        String edited = "# signing key for sluice\r\n" + pem.replace("\n", "\r\n") + "\r\n# end\r\n";

        assertThat(SigningKey.fromPem(edited, "k1").publicKey())
                .isEqualTo(SigningKey.fromPem(pem, "k1").publicKey());
    }

    @Test
    void toPemRoundTripsAndOpensslAcceptsIt() throws Exception {
        SigningKey key = generated;

        String pem = key.toPem();
        SigningKey reread = SigningKey.fromPem(pem, "k1");

        assertThat(pem).startsWith("-----BEGIN PRIVATE KEY-----\n").endsWith("-----END PRIVATE KEY-----\n");
        assertThat(reread.privateKey()).isEqualTo(key.privateKey());
        assertThat(reread.publicKey()).isEqualTo(key.publicKey());
        assertThat(reread.toPem()).isEqualTo(pem);
        if (haveOpenssl) {
            Path written = dir.resolve("written-by-sluice.pem");
            Files.writeString(written, pem);
            openssl("rsa", "-check", "-noout", "-in", written.toString());
            assertSamePublicKeyAsOpenssl(key, written);
        }
    }

    // ---- refusals ----

    @Test
    void refusesA1024BitKey() throws Exception {
        requireOpenssl();
        Path small = dir.resolve("rsa1024.pem");
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", small.toString());

        assertThatIllegalArgumentException()
                .isThrownBy(() -> SigningKey.fromPem(Files.readString(small), "k1"))
                .withMessage("RSA keys must have at least 2048 bits, this one has 1024");
    }

    @Test
    void refusesAnEcKeyInPkcs8() throws Exception {
        requireOpenssl();
        Path ec = dir.resolve("ec.pem");
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", ec.toString());

        assertThatIllegalArgumentException()
                .isThrownBy(() -> SigningKey.fromPem(Files.readString(ec), "k1"))
                .withMessage("the PEM does not hold a valid RSA private key");
    }

    @Test
    void refusesTextThatIsNotAPemPrivateKey() {
        String notPem = "not a PEM RSA private key (expected BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)";
        for (String garbage : List.of("", "   ", "hello", "{\"kty\":\"RSA\"}", "-----BEGIN PRIVATE KEY-----")) {
            assertThatIllegalArgumentException().as("%s", garbage)
                    .isThrownBy(() -> SigningKey.fromPem(garbage, "k1"))
                    .withMessage(notPem);
        }
        assertThatIllegalArgumentException()
                .isThrownBy(() -> SigningKey.fromPem("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n", "k1"))
                .withMessage("the PEM does not hold a valid RSA private key");
    }

    @Test
    void refusesOtherPemTypes() throws Exception {
        SigningKey key = generated;
        String body = pemBody(key.toPem());
        String notPem = "not a PEM RSA private key (expected BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)";
        for (String label : List.of("PUBLIC KEY", "RSA PUBLIC KEY", "ENCRYPTED PRIVATE KEY", "EC PRIVATE KEY", "CERTIFICATE")) {
            String pem = "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n";
            assertThatIllegalArgumentException().as(label)
                    .isThrownBy(() -> SigningKey.fromPem(pem, "k1"))
                    .withMessage(notPem);
        }
    }

    @Test
    void refusesMismatchedBeginAndEndLines() {
        String body = pemBody(generated.toPem());

        assertThatIllegalArgumentException()
                .isThrownBy(() -> SigningKey.fromPem(
                        "-----BEGIN RSA PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n", "k1"))
                .withMessage("PEM BEGIN and END lines do not match");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> SigningKey.fromPem(
                        "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END RSA PRIVATE KEY-----\n", "k1"))
                .withMessage("PEM BEGIN and END lines do not match");
    }

    @Test
    void refusesABodyUnderTheOtherFormsMarkers() throws Exception {
        requireOpenssl();
        String pkcs1Body = pemBody(Files.readString(pkcs1));
        String pkcs8Body = pemBody(Files.readString(pkcs8));

        assertThatIllegalArgumentException()
                .isThrownBy(() -> SigningKey.fromPem(
                        "-----BEGIN PRIVATE KEY-----\n" + pkcs1Body + "\n-----END PRIVATE KEY-----\n", "k1"))
                .withMessage("the PEM does not hold a valid RSA private key");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> SigningKey.fromPem(
                        "-----BEGIN RSA PRIVATE KEY-----\n" + pkcs8Body + "\n-----END RSA PRIVATE KEY-----\n", "k1"))
                .withMessage("the PEM does not hold a valid RSA private key");
    }

    @Test
    void refusesTruncatedBase64() {
        String pem = generated.toPem();
        String body = pemBody(pem);

        // Whole base64 units, but half a DER structure.
        String halfBody = body.substring(0, body.length() / 2 / 4 * 4);
        assertThatIllegalArgumentException()
                .isThrownBy(() -> SigningKey.fromPem(wrap(halfBody), "k1"))
                .withMessage("the PEM does not hold a valid RSA private key");

        // A dangling character that cannot be a base64 unit.
        String stripped = body.replaceAll("\\s", "");
        String dangling = stripped.substring(0, (stripped.length() / 2) / 4 * 4 + 1);
        assertThatIllegalArgumentException()
                .isThrownBy(() -> SigningKey.fromPem(wrap(dangling), "k1"))
                .withMessage("the PEM body is not base64");
    }

    @Test
    void refusesABlankKid() {
        SigningKey key = generated;

        assertThatIllegalArgumentException()
                .isThrownBy(() -> SigningKey.fromPem(key.toPem(), " "))
                .withMessage("a signing key needs a kid");
    }

    // ---- what it shows ----

    @Test
    void toStringShowsKidAndSizeButNoKeyMaterial() {
        SigningKey key = generated;

        String shown = key.toString();

        assertThat(shown).isEqualTo("SigningKey[kid=k1, bits=2048]");
        List<String> secrets = new ArrayList<>();
        for (BigInteger part : List.of(key.privateKey().getPrivateExponent(), key.privateKey().getPrimeP(),
                key.privateKey().getPrimeQ(), key.privateKey().getModulus())) {
            secrets.add(part.toString());
            secrets.add(part.toString(16));
            secrets.add(Base64.getUrlEncoder().withoutPadding().encodeToString(part.toByteArray()).substring(8, 40));
        }
        secrets.add(pemBody(key.toPem()).substring(0, 40));
        for (String secret : secrets) {
            assertThat(shown).doesNotContain(secret);
        }
    }

    @Test
    void publicJwkCarriesOnlyThePublicHalf() {
        SigningKey key = generated;

        RSAKey jwk = key.publicJwk();

        assertThat(jwk.getKeyType()).isEqualTo(KeyType.RSA);
        assertThat(jwk.getAlgorithm()).isEqualTo(JWSAlgorithm.RS256);
        assertThat(jwk.getKeyUse()).isEqualTo(KeyUse.SIGNATURE);
        assertThat(jwk.getKeyID()).isEqualTo("k1");
        assertThat(jwk.isPrivate()).isFalse();
        assertThat(jwk.toJSONObject()).containsOnlyKeys("kty", "alg", "use", "kid", "n", "e");
    }

    // ---- helpers ----

    /** The public key openssl derives from the private key file must be the one sluice derives. */
    private static void assertSamePublicKeyAsOpenssl(SigningKey key, Path privatePem) throws Exception {
        String modulusLine = openssl("rsa", "-in", privatePem.toString(), "-noout", "-modulus").trim();
        assertThat(modulusLine).startsWith("Modulus=");
        assertThat(key.publicKey().getModulus()).isEqualTo(new BigInteger(modulusLine.substring("Modulus=".length()), 16));

        Path pub = privatePem.resolveSibling(privatePem.getFileName() + ".pub");
        openssl("rsa", "-in", privatePem.toString(), "-pubout", "-out", pub.toString());
        byte[] spki = Base64.getMimeDecoder().decode(pemBody(Files.readString(pub)));
        RSAPublicKey fromOpenssl = (RSAPublicKey) KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(spki));
        assertThat(key.publicKey()).isEqualTo(fromOpenssl);
    }

    private static String pemBody(String pem) {
        return pem.replaceAll("-----(BEGIN|END) [A-Z ]+-----", "").strip();
    }

    private static String wrap(String body) {
        return "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n";
    }

    private static void requireOpenssl() {
        if (!haveOpenssl) {
            if ("true".equals(System.getenv("CI"))) {
                fail(OPENSSL + " is required on CI to generate the test keys");
            }
            Assumptions.abort(OPENSSL + " not found; skipping tests of keys it generates");
        }
    }

    /** Runs openssl, returning its stdout; fails the test with its stderr if it fails. */
    private static String openssl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(OPENSSL);
        command.addAll(List.of(args));
        Path stderr = Files.createTempFile(dir, "openssl", ".err");
        Process p = new ProcessBuilder(command).redirectError(Redirect.to(stderr.toFile())).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("openssl " + String.join(" ", args) + " did not finish");
        }
        if (p.exitValue() != 0) {
            fail("openssl " + String.join(" ", args) + " failed: " + Files.readString(stderr));
        }
        return out;
    }
}
