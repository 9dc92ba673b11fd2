package dev.sluice.backend;

import dev.sluice.s3.ObjectSummary;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.sigv4.AwsCredentials;
import dev.sluice.testing.S3ProxyExtension;
import dev.sluice.testing.S3ProxyProcess;
import dev.sluice.time.Ticker;
import org.eclipse.jetty.client.HttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The one backend factory: each kind of {@link BackendSpec} and {@link BackendAuth} becomes a
 * backend that lists, against a real signature-checking S3 server (S3Proxy) and a directory.
 */
class BackendsTest {
    @RegisterExtension
    static final S3ProxyExtension S3PROXY = new S3ProxyExtension();
    private static final AccessTokens NO_TOKENS = grant -> {
        throw new AssertionError("no token expected");
    };

    private static final String BUCKET = "backends-test";
    private static final AwsCredentials KEY = AwsCredentials.of(S3ProxyProcess.IDENTITY, S3ProxyProcess.CREDENTIAL);

    static HttpClient http;

    @BeforeAll
    static void start() throws Exception {
        S3PROXY.get().client().createBucket(b -> b.bucket(BUCKET));
        S3PROXY.get().client().putObject(b -> b.bucket(BUCKET).key("p/a.txt"), RequestBody.fromString("from s3"));
        http = new HttpClient();
        http.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (http != null) {
            http.stop();
        }
    }

    private static Backends backends(Optional<FederatedCredentials> federated) {
        return new Backends(http, Runnable::run, federated, NO_TOKENS, InstantSource.system(), Ticker.SYSTEM);
    }

    private static BackendSpec.S3 s3(BackendAuth auth) {
        return new BackendSpec.S3(S3PROXY.get().endpoint(), "us-east-1", BUCKET, "p/", auth, Duration.ofSeconds(10));
    }

    /** The keys a backend lists: a signed request to S3Proxy, or a directory walk. */
    private static List<String> keys(Backend backend) {
        return backend.list(new ListQuery("", Optional.empty(), 1000, new ListPosition.Start())).objects().stream()
                .map(ObjectSummary::key).toList();
    }

    @Test
    void aStaticKeySignsTheBackendsRequests() {
        assertThat(keys(backends(Optional.empty()).build(s3(new BackendAuth.Static(KEY))))).containsExactly("a.txt");
    }

    @Test
    void aWebIdentityRoleSignsWithWhatTheFederatedCredentialsGiveForItsRoleAndSubject() {
        List<String> asked = new CopyOnWriteArrayList<>();
        FederatedCredentials federated = (roleArn, subject) -> {
            asked.add(roleArn + " as " + subject);
            return KEY;
        };
        Backend backend = backends(Optional.of(federated)).build(
                s3(new BackendAuth.WebIdentity("arn:aws:iam::123456789012:role/reader", "sluice:product:a/b")));

        assertThat(asked).as("credentials are asked for per request, not when the backend is built").isEmpty();
        assertThat(keys(backend)).containsExactly("a.txt");
        assertThat(asked).containsExactly("arn:aws:iam::123456789012:role/reader as sluice:product:a/b");
    }

    @Test
    void anAnonymousBackendSendsUnsignedRequestsWhichASigningServerRefuses() {
        Backend backend = backends(Optional.empty()).build(s3(new BackendAuth.Anonymous()));

        assertThatThrownBy(() -> keys(backend)).isInstanceOfSatisfying(S3Exception.class,
                e -> assertThat(e.error()).isEqualTo(S3Error.ACCESS_DENIED));
    }

    @Test
    void aWebIdentityRoleWithoutFederationIsRefusedWhenBuilt() {
        Backends withoutOidc = backends(Optional.empty());

        assertThatThrownBy(() -> withoutOidc.build(s3(new BackendAuth.WebIdentity("arn:aws:iam::123456789012:role/reader", "s"))))
                .isInstanceOf(Backends.FederationNotConfigured.class)
                .hasMessage("needs federation (role arn:aws:iam::123456789012:role/reader) but oidc.signing_key is not configured");
    }

    @Test
    void aFileSpecServesTheDirectorysFiles(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("f.txt"), "from a file");

        assertThat(keys(backends(Optional.empty()).build(new BackendSpec.File(dir)))).containsExactly("f.txt");
    }

    @Test
    void aFileSpecsAbandonedUploadAgeReachesTheBackend(@TempDir Path dir) {
        // An upload started two hours ago (by a backend whose clock says so), never finished.
        InstantSource twoHoursAgo = InstantSource.fixed(java.time.Instant.now().minus(Duration.ofHours(2)));
        new FileBackend(dir, Runnable::run, Duration.ofDays(7), twoHoursAgo).startUpload("big.bin", ObjectAttributes.NONE);

        Backend keeping = backends(Optional.empty()).build(new BackendSpec.File(dir, Duration.ofHours(3)));
        assertThat(keeping.listUploads("", Optional.empty(), 10).uploads()).extracting(Multipart.InProgress::key)
                .containsExactly("big.bin");

        Backend sweeping = backends(Optional.empty()).build(new BackendSpec.File(dir, Duration.ofHours(1)));
        assertThat(sweeping.listUploads("", Optional.empty(), 10).uploads()).isEmpty();
    }
}
