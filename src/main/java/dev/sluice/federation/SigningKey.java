package dev.sluice.federation;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An RSA key of sluice's OIDC provider, with its {@code kid}. Reads PEM in both forms people
 * have: PKCS#8 ({@code BEGIN PRIVATE KEY}, what {@code openssl genpkey} and
 * {@code sluice keygen} write) and PKCS#1 ({@code BEGIN RSA PRIVATE KEY}, what
 * {@code openssl genrsa} writes on older OpenSSL). An earlier proxy accepted only one of them
 * while its docs told users to run the command producing the other.
 */
public record SigningKey(String kid, RSAPrivateCrtKey privateKey, RSAPublicKey publicKey) {
    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN (RSA )?PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END (RSA )?PRIVATE KEY-----");
    /** DER of AlgorithmIdentifier { rsaEncryption, NULL }. */
    private static final byte[] RSA_ALGORITHM_ID = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86,
            (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    public static final int MINIMUM_BITS = 2048;

    public SigningKey {
        if (kid == null || kid.isBlank()) {
            throw new IllegalArgumentException("a signing key needs a kid");
        }
        if (publicKey.getModulus().bitLength() < MINIMUM_BITS) {
            throw new IllegalArgumentException("RSA keys must have at least " + MINIMUM_BITS + " bits, this one has "
                    + publicKey.getModulus().bitLength());
        }
    }

    /** Parses a PKCS#8 or PKCS#1 PEM private RSA key. */
    public static SigningKey fromPem(String pem, String kid) {
        Matcher m = PEM.matcher(pem);
        if (!m.find()) {
            throw new IllegalArgumentException("not a PEM RSA private key (expected BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)");
        }
        if ((m.group(1) == null) != (m.group(3) == null)) {
            throw new IllegalArgumentException("PEM BEGIN and END lines do not match");
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(m.group(2).replaceAll("\\s", ""));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the PEM body is not base64");
        }
        byte[] pkcs8 = m.group(1) == null ? der : wrapPkcs1(der);
        try {
            KeyFactory rsa = KeyFactory.getInstance("RSA");
            if (!(rsa.generatePrivate(new PKCS8EncodedKeySpec(pkcs8)) instanceof RSAPrivateCrtKey key)) {
                throw new IllegalArgumentException("the RSA key lacks its CRT parameters");
            }
            RSAPublicKey pub = (RSAPublicKey) rsa.generatePublic(new RSAPublicKeySpec(key.getModulus(), key.getPublicExponent()));
            return new SigningKey(kid, key, pub);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("the PEM does not hold a valid RSA private key");
        }
    }

    /** A new key of {@code bits} bits. */
    public static SigningKey generate(int bits, String kid) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(bits);
            KeyPair pair = g.generateKeyPair();
            return new SigningKey(kid, (RSAPrivateCrtKey) pair.getPrivate(), (RSAPublicKey) pair.getPublic());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("RSA key generation is required of every JVM", e);
        }
    }

    /** PKCS#8 PEM of the private key. */
    public String toPem() {
        String body = Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(privateKey.getEncoded());
        return "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n";
    }

    /** The public JWK ({@code kty, alg: RS256, use: sig, kid, n, e}). */
    public RSAKey publicJwk() {
        return new RSAKey.Builder(publicKey).keyID(kid).algorithm(JWSAlgorithm.RS256).keyUse(KeyUse.SIGNATURE).build();
    }

    /** The RFC 7638 thumbprint, a stable default kid. */
    public static String thumbprint(RSAPublicKey key) {
        try {
            return new RSAKey.Builder(key).build().computeThumbprint().toString();
        } catch (JOSEException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }

    @Override
    public String toString() {
        return "SigningKey[kid=" + kid + ", bits=" + publicKey.getModulus().bitLength() + "]";
    }

    /** PrivateKeyInfo { version 0, rsaEncryption, OCTET STRING pkcs1 }. */
    private static byte[] wrapPkcs1(byte[] pkcs1) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {0x02, 0x01, 0x00});
        body.writeBytes(RSA_ALGORITHM_ID);
        body.writeBytes(derHeader(0x04, pkcs1.length));
        body.writeBytes(pkcs1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(derHeader(0x30, body.size()));
        out.writeBytes(body.toByteArray());
        return out.toByteArray();
    }

    private static byte[] derHeader(int tag, int length) {
        if (length < 0x80) {
            return new byte[] {(byte) tag, (byte) length};
        }
        byte[] len = BigInteger.valueOf(length).toByteArray();
        int start = len[0] == 0 ? 1 : 0;
        byte[] out = new byte[2 + len.length - start];
        out[0] = (byte) tag;
        out[1] = (byte) (0x80 | (len.length - start));
        System.arraycopy(len, start, out, 2, len.length - start);
        return out;
    }
}
