package dev.sluice.backend;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sluice.s3.ByteRange;
import dev.sluice.s3.ObjectMeta;
import dev.sluice.s3.Preconditions;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.testing.AzuriteExtension;
import dev.sluice.testing.AzuriteProcess;
import dev.sluice.time.Ticker;
import org.eclipse.jetty.client.HttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Azure backend's auth kinds and mappings against Azurite (HTTPS, {@code --oauth basic}):
 * anonymous reads of a public container, an account SAS made with the dev key, bearer tokens
 * Azurite checks (issuer, audience, lifetime), refused credentials as S3's 403, and the blob's
 * headers and metadata as S3 shows them.
 */
class AzureBackendTest {
    @RegisterExtension
    static final AzuriteExtension AZURITE = new AzuriteExtension();

    static final String PUBLIC = "public-data";
    static final String PRIVATE = "private-data";
    static final String TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    static final byte[] NOTE = "a note in a blob\n".getBytes(StandardCharsets.UTF_8);

    static HttpClient http;

    /** Names in S3's (UTF-8 binary) order, which is also UTF-16's for these: upper case first, then multi-byte characters. */
    static final List<String> ORDERED = List.of("A.txt", "a b.txt", "a+b.txt", "a.txt", "a/b.txt", "z.txt",
            "\u00fc.txt", "\u6587.txt", "\ud83d\ude00.txt");
    /**
     * Names whose UTF-8 order (U+FFFD before U+1F600) is not their UTF-16 order (the surrogates of
     * U+1F600 before U+FFFD), which Azurite lists by (a JavaScript string comparison).
     */
    static final List<String> MIXED = List.of("\ufffd.txt", "\ud83d\ude00.txt");

    @BeforeAll
    static void seed() throws Exception {
        AzuriteProcess azurite = AZURITE.get();
        azurite.createContainer(PUBLIC, "container");
        azurite.createContainer(PRIVATE, null);
        for (String container : List.of(PUBLIC, PRIVATE)) {
            azurite.putBlob(container, "docs/note.txt", NOTE, Map.of(
                    "x-ms-blob-content-type", "text/plain; charset=utf-8",
                    "x-ms-blob-content-encoding", "identity",
                    "x-ms-blob-cache-control", "max-age=60",
                    "x-ms-blob-content-disposition", "attachment; filename=\"note.txt\"",
                    "x-ms-blob-content-language", "en",
                    "x-ms-meta-owner", "data-team",
                    "x-ms-meta-Origin", "survey"));
            azurite.putBlob(container, "docs/other.txt", "other\n".getBytes(StandardCharsets.UTF_8), "text/plain", Map.of());
        }
        for (String name : ORDERED) {
            azurite.putBlob(PRIVATE, "order/" + name, new byte[]{1}, "application/octet-stream", Map.of());
        }
        for (String name : MIXED) {
            azurite.putBlob(PRIVATE, "mixed/" + name, new byte[]{1}, "application/octet-stream", Map.of());
        }
        X509Certificate cert;
        try (InputStream in = Files.newInputStream(azurite.certificate())) {
            cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        http = new HttpClient();
        http.setSslContextFactory(OutboundTls.trusting(List.of(cert)));
        http.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (http != null) {
            http.stop();
        }
    }

    private static AzureBackend backend(String container, AzureAuth auth, AccessTokens tokens) {
        BackendSpec.Azure spec = new BackendSpec.Azure(AZURITE.get().endpoint(), AzuriteProcess.ACCOUNT, container, "", auth,
                Duration.ofSeconds(10));
        return new AzureBackend(http, spec, tokens, Clock.systemUTC(), Ticker.SYSTEM);
    }

    private static AzureBackend backend(String container, AzureAuth auth) {
        return backend(container, auth, grant -> {
            throw new AssertionError("no token is asked for with " + auth);
        });
    }

    private static final Fetch WHOLE = new Fetch(Optional.empty(), Preconditions.NONE, false);

    private static byte[] read(Backend backend, String key) throws Exception {
        try (StoredObject o = backend.open(key, WHOLE)) {
            long size = o.meta().size().orElseThrow();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (ObjectBody body = o.body(new ByteRange(0, size - 1))) {
                body.transferTo(out);
            }
            return out.toByteArray();
        }
    }

    private static List<String> keys(Backend backend) {
        return backend.list(new ListQuery("docs/", Optional.empty(), 1000, new ListPosition.Start())).objects().stream()
                .map(dev.sluice.s3.ObjectSummary::key).toList();
    }

    // ---------------------------------------------------------------- anonymous

    @Test
    void readsAndListsAPublicContainerWithoutCredentials() throws Exception {
        AzureBackend anonymous = backend(PUBLIC, new AzureAuth.Anonymous());

        assertThat(read(anonymous, "docs/note.txt")).isEqualTo(NOTE);
        assertThat(keys(anonymous)).containsExactly("docs/note.txt", "docs/other.txt");
    }

    @Test
    void aPrivateContainerRefusesAnonymousReads() {
        AzureBackend anonymous = backend(PRIVATE, new AzureAuth.Anonymous());

        // Azure hides a private container from anonymous callers: 404 ResourceNotFound.
        assertThatThrownBy(() -> anonymous.open("docs/note.txt", WHOLE)).isInstanceOfSatisfying(S3Exception.class,
                e -> assertThat(e.error()).isIn(S3Error.NO_SUCH_KEY, S3Error.ACCESS_DENIED));
    }

    // ---------------------------------------------------------------- metadata

    @Test
    void blobHeadersAndMetadataAreShownAsS3Shows() throws Exception {
        AzureBackend backend = backend(PRIVATE, new AzureAuth.SharedKey(AzuriteProcess.ACCOUNT_KEY));

        ObjectMeta meta;
        try (StoredObject o = backend.open("docs/note.txt", new Fetch(Optional.empty(), Preconditions.NONE, true))) {
            meta = o.meta();
        }

        assertThat(meta.etag()).hasValueSatisfying(e -> assertThat(e).matches("\"0x[0-9A-F]+\""));
        assertThat(meta.size()).hasValue(NOTE.length);
        assertThat(meta.lastModified()).hasValueSatisfying(t -> assertThat(t).isBefore(Instant.now().plusSeconds(5)));
        assertThat(meta.stored()).extracting(e -> e.getKey().toLowerCase(java.util.Locale.ROOT) + ": " + e.getValue())
                .contains("content-type: text/plain; charset=utf-8", "content-encoding: identity", "cache-control: max-age=60",
                        "content-disposition: attachment; filename=\"note.txt\"", "content-language: en",
                        "x-amz-meta-owner: data-team", "x-amz-meta-origin: survey")
                .noneMatch(h -> h.startsWith("x-ms-"));
        var listed = backend.list(new ListQuery("docs/note", Optional.empty(), 10, new ListPosition.Start())).objects();
        assertThat(listed).singleElement().satisfies(s -> {
            assertThat(s.etag()).isEqualTo(meta.etag().orElseThrow());
            assertThat(s.size()).isEqualTo(NOTE.length);
            assertThat(s.lastModified()).isEqualTo(meta.lastModified().orElseThrow());
        });
    }

    @Test
    void aMissingBlobIsNoSuchKeyAndAMissingContainerNoSuchBucket() {
        AzureBackend backend = backend(PRIVATE, new AzureAuth.SharedKey(AzuriteProcess.ACCOUNT_KEY));
        AzureBackend nowhere = backend("no-such-container", new AzureAuth.SharedKey(AzuriteProcess.ACCOUNT_KEY));

        assertThatThrownBy(() -> backend.open("docs/nope.txt", WHOLE)).isInstanceOfSatisfying(S3Exception.class,
                e -> assertThat(e.error()).isEqualTo(S3Error.NO_SUCH_KEY));
        assertThatThrownBy(() -> backend.open("docs/nope.txt", new Fetch(Optional.empty(), Preconditions.NONE, true)))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.NO_SUCH_KEY));
        assertThatThrownBy(() -> nowhere.open("docs/note.txt", WHOLE)).isInstanceOfSatisfying(S3Exception.class,
                e -> assertThat(e.error()).isEqualTo(S3Error.NO_SUCH_BUCKET));
        assertThatThrownBy(() -> keys(nowhere)).isInstanceOfSatisfying(S3Exception.class,
                e -> assertThat(e.error()).isEqualTo(S3Error.NO_SUCH_BUCKET));
    }

    @Test
    void aWrongAccountKeyIsAccessDenied() {
        String wrong = Base64.getEncoder().encodeToString("not the account key at all, 64 bytes long...........".getBytes());
        AzureBackend backend = backend(PRIVATE, new AzureAuth.SharedKey(wrong));

        assertThatThrownBy(() -> backend.open("docs/note.txt", WHOLE)).isInstanceOfSatisfying(S3Exception.class,
                e -> assertThat(e.error()).isEqualTo(S3Error.ACCESS_DENIED));
        assertThatThrownBy(() -> keys(backend)).isInstanceOfSatisfying(S3Exception.class,
                e -> assertThat(e.error()).isEqualTo(S3Error.ACCESS_DENIED));
    }

    @Test
    void listsInS3KeyOrderOnEveryPageSize() {
        AzureBackend backend = backend(PRIVATE, new AzureAuth.SharedKey(AzuriteProcess.ACCOUNT_KEY));

        for (int maxKeys : List.of(1, 2, 3, 1000)) {
            List<String> seen = new java.util.ArrayList<>();
            ListPosition position = new ListPosition.Start();
            for (int pages = 0; pages < 50; pages++) {
                ListPage page = backend.list(new ListQuery("order/", Optional.empty(), maxKeys, position));
                assertThat(page.objects().size()).isLessThanOrEqualTo(maxKeys);
                page.objects().forEach(o -> seen.add(o.key()));
                if (page.next().isEmpty()) {
                    break;
                }
                position = page.next().get();
            }
            assertThat(seen).as("max-keys %d", maxKeys).containsExactlyElementsOf(ORDERED.stream().map(n -> "order/" + n).toList());
        }
    }

    /**
     * Within one Azure page, entries are put in S3's order whatever order the store used; a
     * listing whose pages end between two such names can still follow the store's order
     * (docs/azure.md, "Listing order").
     */
    @Test
    void aPageIsInS3KeyOrderEvenWhereTheStoreSortsByUtf16() {
        AzureBackend backend = backend(PRIVATE, new AzureAuth.SharedKey(AzuriteProcess.ACCOUNT_KEY));

        ListPage page = backend.list(new ListQuery("mixed/", Optional.empty(), 1000, new ListPosition.Start()));

        assertThat(page.objects()).extracting(dev.sluice.s3.ObjectSummary::key)
                .containsExactly("mixed/\ufffd.txt", "mixed/\ud83d\ude00.txt");
    }

    @Test
    void startAfterAnyKeySkipsExactlyUpToIt() {
        AzureBackend backend = backend(PRIVATE, new AzureAuth.SharedKey(AzuriteProcess.ACCOUNT_KEY));

        for (int i = 0; i < ORDERED.size(); i++) {
            ListPage page = backend.list(new ListQuery("order/", Optional.empty(), 1000, new ListPosition.After("order/" + ORDERED.get(i))));
            assertThat(page.objects()).extracting(dev.sluice.s3.ObjectSummary::key)
                    .containsExactlyElementsOf(ORDERED.subList(i + 1, ORDERED.size()).stream().map(n -> "order/" + n).toList());
        }
    }

    // ---------------------------------------------------------------- SAS

    @Test
    void readsAndListsWithAnAccountSas() throws Exception {
        AzureBackend backend = backend(PRIVATE, new AzureAuth.Sas(accountSas("rl", AzuriteProcess.ACCOUNT_KEY)));

        assertThat(read(backend, "docs/note.txt")).isEqualTo(NOTE);
        assertThat(keys(backend)).containsExactly("docs/note.txt", "docs/other.txt");
    }

    @Test
    void aSasSignedWithAnotherKeyIsAccessDenied() {
        String other = Base64.getEncoder().encodeToString(new byte[64]);
        AzureBackend backend = backend(PRIVATE, new AzureAuth.Sas(accountSas("rl", other)));

        assertThatThrownBy(() -> backend.open("docs/note.txt", WHOLE)).isInstanceOfSatisfying(S3Exception.class,
                e -> assertThat(e.error()).isEqualTo(S3Error.ACCESS_DENIED));
    }

    /** An account SAS for the blob service (version 2020-12-06 and later string-to-sign), valid for an hour. */
    static String accountSas(String permissions, String key) {
        String version = AzureBackend.API_VERSION;
        String expiry = Instant.now().plus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS).toString();
        String toSign = String.join("\n", AzuriteProcess.ACCOUNT, permissions, "b", "sco", "", expiry, "", "https", version, "", "");
        String sig;
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(Base64.getDecoder().decode(key), "HmacSHA256"));
            sig = Base64.getEncoder().encodeToString(mac.doFinal(toSign.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return "sv=" + version + "&ss=b&srt=sco&sp=" + permissions + "&se=" + enc(expiry) + "&spr=https&sig=" + enc(sig);
    }

    private static String enc(String s) {
        return dev.sluice.s3.UriEncoding.encode(s);
    }

    // ---------------------------------------------------------------- bearer tokens

    static final TokenGrant.Entra GRANT = new TokenGrant.Entra(URI.create("https://login.example/token"), TENANT,
            "00000000-0000-0000-0000-000000000001", "sluice:product:acme/hello");

    /** A JWT as Entra ID issues for storage; Azurite's {@code --oauth basic} checks iss, aud, nbf, exp and iat, not the signature. */
    static BearerToken entraToken(String issuer, String audience, Instant notBefore, Instant expiry) {
        try {
            JWTClaimsSet claims = new JWTClaimsSet.Builder()
                    .issuer(issuer).audience(audience)
                    .notBeforeTime(Date.from(notBefore)).issueTime(Date.from(notBefore)).expirationTime(Date.from(expiry))
                    .claim("tid", TENANT).subject("sluice").build();
            SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
            jwt.sign(new MACSigner(new byte[32]));
            return new BearerToken(jwt.serialize());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static BearerToken validToken() {
        Instant now = Instant.now();
        return entraToken("https://sts.windows.net/" + TENANT + "/", "https://storage.azure.com",
                now.minus(5, ChronoUnit.MINUTES), now.plus(1, ChronoUnit.HOURS));
    }

    @Test
    void readsAndListsWithABearerTokenAskedForOnEveryRequest() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        AzureBackend backend = backend(PRIVATE, new AzureAuth.Federated(GRANT), grant -> {
            assertThat(grant).isEqualTo(GRANT);
            asked.incrementAndGet();
            return validToken();
        });

        assertThat(read(backend, "docs/note.txt")).isEqualTo(NOTE);
        assertThat(keys(backend)).containsExactly("docs/note.txt", "docs/other.txt");
        assertThat(asked).hasValue(2);
    }

    @Test
    void anExpiredTokenIsAccessDenied() {
        Instant now = Instant.now();
        BearerToken expired = entraToken("https://sts.windows.net/" + TENANT + "/", "https://storage.azure.com",
                now.minus(2, ChronoUnit.HOURS), now.minus(1, ChronoUnit.HOURS));
        AzureBackend backend = backend(PRIVATE, new AzureAuth.Federated(GRANT), grant -> expired);

        List<String> logged = logged(() -> assertThatThrownBy(() -> backend.open("docs/note.txt", WHOLE))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.ACCESS_DENIED)));

        // Azure's refusal is in the log for the operator; the token is not.
        assertThat(logged).anyMatch(l -> l.contains("AuthenticationFailed") && l.contains("x-ms-request-id"));
        assertThat(logged).noneMatch(l -> l.contains(expired.value()) || l.contains(expired.value().substring(0, 20)));
    }

    /** Every log line (message and cause) written while {@code action} runs. */
    private static List<String> logged(Runnable action) {
        ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("ROOT");
        List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
        ch.qos.logback.core.AppenderBase<ch.qos.logback.classic.spi.ILoggingEvent> capture = new ch.qos.logback.core.AppenderBase<>() {
            @Override
            protected void append(ch.qos.logback.classic.spi.ILoggingEvent e) {
                lines.add(e.getFormattedMessage() + (e.getThrowableProxy() == null ? ""
                        : ch.qos.logback.classic.spi.ThrowableProxyUtil.asString(e.getThrowableProxy())));
            }
        };
        capture.start();
        root.addAppender(capture);
        try {
            action.run();
        } finally {
            root.detachAppender(capture);
        }
        return lines;
    }

    @Test
    void aTokenForAnotherAudienceIsAccessDenied() {
        Instant now = Instant.now();
        BearerToken graph = entraToken("https://sts.windows.net/" + TENANT + "/", "https://graph.microsoft.com",
                now.minus(5, ChronoUnit.MINUTES), now.plus(1, ChronoUnit.HOURS));
        AzureBackend backend = backend(PRIVATE, new AzureAuth.Federated(GRANT), grant -> graph);

        assertThatThrownBy(() -> backend.open("docs/note.txt", WHOLE)).isInstanceOfSatisfying(S3Exception.class,
                e -> assertThat(e.error()).isEqualTo(S3Error.ACCESS_DENIED));
        assertThatThrownBy(() -> keys(backend)).isInstanceOfSatisfying(S3Exception.class,
                e -> assertThat(e.error()).isEqualTo(S3Error.ACCESS_DENIED));
    }

    @Test
    void whenNoTokenCanBeHadTheTokenTiersErrorIsPassedOnUnchanged() {
        S3Exception refused = new S3Exception(S3Error.BACKEND_AUTHENTICATION_FAILED);
        S3Exception late = S3Exception.unavailable("token endpoint did not answer", null);
        AzureBackend refusing = backend(PRIVATE, new AzureAuth.Federated(GRANT), grant -> {
            throw refused;
        });
        AzureBackend slow = backend(PRIVATE, new AzureAuth.Federated(GRANT), grant -> {
            throw late;
        });

        assertThatThrownBy(() -> refusing.open("docs/note.txt", WHOLE)).isSameAs(refused);
        assertThatThrownBy(() -> keys(refusing)).isSameAs(refused);
        assertThatThrownBy(() -> slow.open("docs/note.txt", WHOLE)).isSameAs(late);
    }

    // ---------------------------------------------------------------- writes

    @Test
    void writesAreNotImplemented() {
        AzureBackend backend = backend(PRIVATE, new AzureAuth.SharedKey(AzuriteProcess.ACCOUNT_KEY));

        assertThatThrownBy(() -> backend.delete("docs/note.txt")).isInstanceOfSatisfying(S3Exception.class,
                e -> assertThat(e.error()).isEqualTo(S3Error.NOT_IMPLEMENTED));
        assertThatThrownBy(() -> backend.startUpload("docs/new.txt", null)).isInstanceOfSatisfying(S3Exception.class,
                e -> assertThat(e.error()).isEqualTo(S3Error.NOT_IMPLEMENTED));
    }

    @Test
    void describesTheStoreWithoutItsCredentials() {
        AzureBackend backend = backend(PRIVATE, new AzureAuth.SharedKey(AzuriteProcess.ACCOUNT_KEY));

        assertThat(backend.describe()).contains(PRIVATE).doesNotContain(AzuriteProcess.ACCOUNT_KEY);
    }
}
