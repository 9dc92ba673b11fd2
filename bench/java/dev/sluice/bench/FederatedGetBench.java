package dev.sluice.bench;

import dev.sluice.Sluice;
import dev.sluice.config.ConfigLoader;
import dev.sluice.testing.S3ProxyProcess;
import dev.sluice.testing.TestKeys;
import dev.sluice.testing.TestSts;
import software.amazon.awssdk.core.sync.RequestBody;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;

/**
 * What federated credentials add to a warm read: the same 1 KiB GET of the same object through
 * a sluice whose product reaches S3Proxy with a web-identity role (the credentials held by its
 * tier after the first exchange) and through one whose product uses S3Proxy's static key, all
 * in this JVM, in front of one S3Proxy that checks signatures, in rounds of 2 concurrent
 * clients. A second static sluice is the A/A pair: the machine's noise floor. The order of the
 * three rotates every round, and the exchanges made during the measurement are counted (none
 * are expected: the credentials last an hour).
 *
 * <p>Usage: {@code bench/federated-get.sh}.
 */
public final class FederatedGetBench {
    private static final String ROLE = "arn:aws:iam::123456789012:role/federated-get-bench";

    public static void main(String[] args) throws Exception {
        Path base = Files.createTempDirectory("sluice-federated-bench");
        Path pem = base.resolve("oidc.pem");
        Files.writeString(pem, TestKeys.pem("test-rsa-a"));
        int federatedPort = freePort();
        String issuer = "http://127.0.0.1:" + federatedPort;
        try (S3ProxyProcess s3 = S3ProxyProcess.start();
             TestSts sts = new TestSts(issuer, S3ProxyProcess.IDENTITY, S3ProxyProcess.CREDENTIAL)) {
            sts.role(ROLE, subject -> subject.equals("bench"));
            s3.client().createBucket(b -> b.bucket("federated"));
            s3.client().putObject(b -> b.bucket("federated").key("object.bin"), RequestBody.fromBytes(new byte[1024]));
            String federated = config("""
                    server: { listen: "127.0.0.1:%d", admin_listen: "127.0.0.1:0" }
                    oidc: { issuer: "%s", signing_key: { pem_file: "%s", kid: bench } }
                    sts: { endpoint: "%s", timeout: 5s }
                    """.formatted(federatedPort, issuer, pem, sts.endpoint()), s3.endpoint(),
                    "{ type: web_identity_role, role_arn: \"" + ROLE + "\", subject: bench }");
            String fixed = config("server: { listen: \"127.0.0.1:0\", admin_listen: \"127.0.0.1:0\" }\n", s3.endpoint(),
                    "{ type: static, access_key_id: \"" + S3ProxyProcess.IDENTITY + "\", secret_access_key_env: S3PROXY_SECRET }");
            ConfigLoader loader = new ConfigLoader(name -> name.equals("S3PROXY_SECRET")
                    ? Optional.of(S3ProxyProcess.CREDENTIAL) : Optional.empty());
            try (Sluice a = new Sluice(loader.parse(federated, base), InstantSource.system());
                 Sluice b = new Sluice(loader.parse(fixed, base), InstantSource.system());
                 Sluice c = new Sluice(loader.parse(fixed, base), InstantSource.system())) {
                a.start();
                b.start();
                c.start();
                List<URI> targets = List.of(a.server().s3Endpoint().resolve("/bench/data/object.bin"),
                        b.server().s3Endpoint().resolve("/bench/data/object.bin"),
                        c.server().s3Endpoint().resolve("/bench/data/object.bin"));
                List<String> names = List.of("web-identity role (credentials held)", "static key", "static key, second instance (A/A)");
                HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
                for (int warm = 0; warm < 3; warm++) {
                    for (URI target : targets) {
                        ResolutionGetBench.run(http, target, ResolutionGetBench.PER_ROUND); // warm-up, not reported
                    }
                }
                int exchangesBefore = sts.totalExchanges();
                List<List<Long>> latencies = ResolutionGetBench.rounds(http, targets);
                int exchanges = sts.totalExchanges() - exchangesBefore;
                ResolutionGetBench.table("backend credentials", names, latencies);
                System.out.println(ResolutionGetBench.difference("web identity - static key", latencies.get(0), latencies.get(1)));
                System.out.println(ResolutionGetBench.difference("static A/A (noise floor)", latencies.get(2), latencies.get(1)));
                System.out.println("STS exchanges during measurement: " + exchanges + "; in all: " + sts.totalExchanges());
            }
        }
    }

    /** A configuration of {@code head} and one product on S3Proxy's bucket, reached with {@code auth}. */
    private static String config(String head, URI s3, String auth) {
        return head + """
                registry:
                  type: static
                  products:
                    - account: bench
                      product: data
                      backend: { type: s3, endpoint: "%s", bucket: federated, auth: %s }
                """.formatted(s3, auth);
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
