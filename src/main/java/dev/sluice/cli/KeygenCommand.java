package dev.sluice.cli;

import dev.sluice.federation.SigningKey;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.Callable;

/** {@code sluice keygen}: a new RSA signing key for sluice's OIDC provider, PKCS#8 PEM, readable by its owner only. */
@Command(name = "keygen", description = "Write a new RSA signing key (PKCS#8 PEM) for the OIDC provider.")
final class KeygenCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, description = "File to write; must not exist.")
    Path out;

    @Option(names = "--kid", description = "Key id to print for the config (default: the key's RFC 7638 thumbprint).")
    String kid;

    @Option(names = "--bits", defaultValue = "2048", description = "Modulus size, at least 2048 (default: ${DEFAULT-VALUE}).")
    int bits;

    @Override
    public Integer call() throws Exception {
        if (bits < SigningKey.MINIMUM_BITS) {
            System.err.println("sluice: --bits must be at least " + SigningKey.MINIMUM_BITS);
            return 2;
        }
        SigningKey key = SigningKey.generate(bits, "pending");
        String id = kid != null && !kid.isBlank() ? kid : SigningKey.thumbprint(key.publicKey());
        try {
            Files.createFile(out, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (FileAlreadyExistsException e) {
            System.err.println("sluice: " + out + " exists; refusing to overwrite a key");
            return 2;
        } catch (UnsupportedOperationException e) {
            Files.createFile(out);
        }
        Files.writeString(out, key.toPem(), StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
        System.out.println("wrote " + bits + "-bit RSA key to " + out);
        System.out.println("config:  oidc: { signing_key: { pem_file: \"" + out + "\", kid: \"" + id + "\" } }");
        return 0;
    }
}
