package dev.sluice.bench;

import dev.sluice.s3.UriEncoding;
import dev.sluice.testing.AzuriteProcess;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The Azure side of {@code bench/azure-get.sh}: starts Azurite as the tests do
 * ({@link AzuriteProcess}: HTTPS with a certificate made now, {@code --oauth basic}, telemetry
 * off, loopback), creates a private container {@code bench} holding {@code big.bin} of random
 * bytes (uploaded as 32 MiB blocks and a block list, each request signed with the development
 * account's Shared Key), and writes {@code key=value} lines to a file for the script: the account
 * endpoint, a copy of Azurite's certificate, an account SAS (read, one hour) for the direct
 * GETs, the blob's size and sha256, and Azurite's pid. It then stays up until it is sent
 * SIGTERM (Azurite is stopped by the shutdown hook) or {@code maxMinutes} have passed.
 *
 * <pre>java -cp BENCH_CP dev.sluice.bench.AzuriteBench MIB INFO_FILE MAX_MINUTES</pre>
 */
public final class AzuriteBench {
    static final String CONTAINER = "bench";
    static final String BLOB = "big.bin";
    private static final int BLOCK = 32 * 1024 * 1024;

    private AzuriteBench() {
    }

    public static void main(String[] args) throws Exception {
        int mib = Integer.parseInt(args[0]);
        Path info = Path.of(args[1]);
        int maxMinutes = Integer.parseInt(args[2]);
        if (mib < 1 || mib > 4096 || maxMinutes < 1 || maxMinutes > 240) {
            throw new IllegalArgumentException("MIB must be 1..4096 and MAX_MINUTES 1..240");
        }
        AzuriteProcess azurite = AzuriteProcess.start();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            azurite.close();
            stopped.countDown();
        }, "azurite-bench-stop"));

        azurite.createContainer(CONTAINER, null);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        SecureRandom random = new SecureRandom();
        long size = (long) mib * 1024 * 1024;
        List<String> ids = new ArrayList<>();
        byte[] block = new byte[BLOCK];
        for (long done = 0; done < size; done += BLOCK) {
            int n = (int) Math.min(BLOCK, size - done);
            byte[] part = n == BLOCK ? block : new byte[n];
            random.nextBytes(part);
            sha.update(part);
            String id = Base64.getEncoder().encodeToString(String.format("block-%08d", ids.size()).getBytes(StandardCharsets.US_ASCII));
            ids.add(id);
            HttpResponse<String> r = azurite.send("PUT", "/" + CONTAINER + "/" + BLOB,
                    "comp=block&blockid=" + UriEncoding.encode(id), Map.of(), part);
            if (r.statusCode() != 201) {
                throw new IllegalStateException("put block " + ids.size() + ": " + r.statusCode() + " " + r.body());
            }
        }
        StringBuilder list = new StringBuilder("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
        ids.forEach(id -> list.append("<Latest>").append(id).append("</Latest>"));
        list.append("</BlockList>");
        HttpResponse<String> r = azurite.send("PUT", "/" + CONTAINER + "/" + BLOB, "comp=blocklist",
                Map.of("x-ms-blob-content-type", "application/octet-stream"), list.toString().getBytes(StandardCharsets.UTF_8));
        if (r.statusCode() != 201) {
            throw new IllegalStateException("put block list: " + r.statusCode() + " " + r.body());
        }

        Path cert = info.resolveSibling("azurite-cert.pem");
        Files.copy(azurite.certificate(), cert, StandardCopyOption.REPLACE_EXISTING);
        String lines = String.join("\n",
                "endpoint=" + azurite.endpoint(),
                "account=" + AzuriteProcess.ACCOUNT,
                "container=" + CONTAINER,
                "blob=" + BLOB,
                "cert=" + cert.toAbsolutePath(),
                "sas=" + accountSas(AzuriteProcess.ACCOUNT_KEY),
                "bytes=" + size,
                "sha256=" + HexFormat.of().formatHex(sha.digest()),
                "azurite_pid=" + azurite.pid(),
                "");
        Path tmp = info.resolveSibling(info.getFileName() + ".tmp");
        Files.writeString(tmp, lines);
        Files.move(tmp, info, StandardCopyOption.ATOMIC_MOVE); // the script sees the whole file or none
        System.err.println("azurite-bench: ready, " + mib + " MiB in " + CONTAINER + "/" + BLOB);
        if (!stopped.await(maxMinutes, TimeUnit.MINUTES)) {
            System.err.println("azurite-bench: " + maxMinutes + " minutes passed, stopping");
        }
        System.exit(0); // runs the shutdown hook, which stops Azurite
    }

    /** An account SAS for the blob service, read and list on objects and containers, valid for an hour (version 2020-12-06+ string-to-sign). */
    static String accountSas(String key) throws GeneralSecurityException {
        String version = AzuriteProcess.VERSION;
        String expiry = Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.SECONDS).toString();
        String toSign = String.join("\n", AzuriteProcess.ACCOUNT, "rl", "b", "sco", "", expiry, "", "https", version, "", "");
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(Base64.getDecoder().decode(key), "HmacSHA256"));
        String sig = Base64.getEncoder().encodeToString(mac.doFinal(toSign.getBytes(StandardCharsets.UTF_8)));
        return "sv=" + version + "&ss=b&srt=sco&sp=rl&se=" + UriEncoding.encode(expiry) + "&spr=https&sig=" + UriEncoding.encode(sig);
    }
}
