package dev.sluice.it;

import dev.sluice.testing.SluiceProcess;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;

/**
 * Sluice in a child JVM ({@link SluiceProcess}, {@code -Xmx256m}) serving one writable product
 * from a directory, for the write tests that must kill it or bound its memory, and the SDK
 * client that writes to it.
 */
final class WriteProcesses {
    static final String WRITER_ID = "AKIASLUICEWRITER001";
    static final String WRITER_SECRET = "writer-secret-0123456789abcdefghijklmn";

    private final Path dir;
    private final String uploadIdKey;
    private final Path config;

    /** {@code dir} holds the configuration, the logs and the product's directory {@code data/}. */
    WriteProcesses(Path dir) throws IOException {
        this.dir = dir;
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        // One key for every process started here: an upload id sealed by one instance opens on the next.
        this.uploadIdKey = Base64.getEncoder().encodeToString(key);
        this.config = dir.resolve("sluice.yaml");
        Files.createDirectories(data());
    }

    Path data() {
        return dir.resolve("data");
    }

    /** Starts a sluice on new free ports; the n-th start logs to {@code sluice-n.log}. */
    SluiceProcess start(int n) throws IOException, InterruptedException {
        int s3Port = freePort();
        int adminPort = freePort();
        while (adminPort == s3Port) {
            adminPort = freePort();
        }
        Files.writeString(config, """
                server: { listen: "127.0.0.1:%d", admin_listen: "127.0.0.1:%d", body_timeout: 10s, shutdown_grace: 0,
                          upload_id_key_env: UPLOAD_ID_KEY }
                registry:
                  products:
                    - { account: acme, product: data, visibility: public, writable: true, backend: { type: file, path: ./data } }
                inbound:
                  access_keys:
                    - access_key_id: %s
                      secret_access_key_env: WRITER_SECRET
                      scopes: [ { product: acme/data, actions: [get_object, head_object, list_bucket, put_object, delete_object,
                                                               abort_multipart_upload, list_multipart_uploads] } ]
                """.formatted(s3Port, adminPort, WRITER_ID));
        return SluiceProcess.start(config, s3Port, adminPort, Map.of("WRITER_SECRET", WRITER_SECRET, "UPLOAD_ID_KEY", uploadIdKey),
                dir.resolve("sluice-" + n + ".log"));
    }

    /** The writer's SDK client for {@code sluice}, with the SDK's default checksums and no retries. */
    static S3Client writer(SluiceProcess sluice) {
        return S3Client.builder()
                .endpointOverride(sluice.endpoint())
                .forcePathStyle(true)
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(WRITER_ID, WRITER_SECRET)))
                .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofMinutes(2)).build())
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()).apiCallTimeout(Duration.ofMinutes(10)))
                .build();
    }

    /** Kills {@code sluice}'s JVM with SIGKILL: no shutdown hook, no cleanup, as a crash or an OOM killer would. */
    static void killHard(SluiceProcess sluice, Path config) throws InterruptedException {
        // Found by its command line, read whole from /proc: ProcessHandle.Info cuts long ones
        // (the test classpath) short of the --config argument.
        ProcessHandle child = ProcessHandle.current().children()
                .filter(p -> commandLine(p).contains("\0" + config + "\0") || commandLine(p).endsWith("\0" + config))
                .filter(ProcessHandle::isAlive)
                .findFirst().orElseThrow(() -> new AssertionError("no sluice child process with " + config));
        child.destroyForcibly();
        child.onExit().orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join();
        if (sluice.isAlive()) {
            throw new AssertionError("sluice survived SIGKILL");
        }
    }

    private static String commandLine(ProcessHandle p) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "cmdline")),
                    java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    Path config() {
        return config;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
