package dev.sluice.backend;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.sluice.s3.ByteRange;
import dev.sluice.s3.ObjectMeta;
import dev.sluice.s3.Preconditions;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.testing.TestGcs;
import dev.sluice.time.Ticker;
import org.eclipse.jetty.client.HttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The GCS backend against the test GCS JSON API server: bearer tokens from {@link AccessTokens}
 * on every request, refusals and injected faults mapped to their S3 errors within the
 * backend's timeout, the ETag rule, and no token in any log line.
 */
class GcsBackendTest {
    /** A token shaped like Google's, to be looked for in every log line. */
    private static final String GOOD_TOKEN = "ya29.c.good-token-never-logged";
    private static final String REFUSED_TOKEN = "ya29.c.refused-token-never-logged";
    private static final Duration TIMEOUT = Duration.ofSeconds(1);
    /** How long any failing call may take: the timeout plus slack for a loaded machine; a deadline, not a benchmark. */
    private static final Duration DEADLINE = Duration.ofSeconds(8);
    private static final TokenGrant GRANT = new TokenGrant.GoogleFederation(URI.create("http://127.0.0.1:1/sts"),
            "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/sluice", Optional.empty(),
            URI.create("http://127.0.0.1:1/iam"), "sluice");

    private TestGcs gcs;
    private HttpClient http;
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private final Logger sluiceLogs = (Logger) LoggerFactory.getLogger("dev.sluice");
    private Level sluiceLevel;

    @BeforeEach
    void start() throws Exception {
        sluiceLevel = sluiceLogs.getLevel();
        sluiceLogs.setLevel(Level.DEBUG);
        logged.start();
        root.addAppender(logged);
        gcs = new TestGcs();
        gcs.bucket("private").requireTokens(GOOD_TOKEN::equals);
        gcs.put("private", "p/data.txt", "0123456789".getBytes(StandardCharsets.US_ASCII), new TestGcs.Attributes(
                Optional.of("text/plain"), Optional.empty(), Optional.of("max-age=60"), Optional.of("inline"), Optional.of("en"),
                Map.of("Origin", "test"), false));
        gcs.put("private", "p/dir/inner.txt", "x".getBytes(StandardCharsets.US_ASCII), TestGcs.Attributes.of("text/plain"));
        http = new HttpClient();
        http.getContentDecoderFactories().clear();
        http.start();
    }

    @AfterEach
    void stop() throws Exception {
        gcs.close();
        http.stop();
        root.detachAppender(logged);
        sluiceLogs.setLevel(sluiceLevel);
        assertThat(logged.list).extracting(ILoggingEvent::getFormattedMessage)
                .noneMatch(m -> m.contains(GOOD_TOKEN) || m.contains(REFUSED_TOKEN));
        assertThat(logged.list).allSatisfy(e -> {
            for (var t = e.getThrowableProxy(); t != null; t = t.getCause()) {
                assertThat(t.getMessage() == null ? "" : t.getMessage()).doesNotContain(GOOD_TOKEN).doesNotContain(REFUSED_TOKEN);
            }
        });
    }

    private GcsBackend backend(String bucket, GcsAuth auth, AccessTokens tokens) {
        return new GcsBackend(http, new BackendSpec.Gcs(gcs.endpoint(), bucket, "p/", auth, TIMEOUT), tokens,
                InstantSource.system(), Ticker.SYSTEM);
    }

    private GcsBackend withToken(String token) {
        return backend("private", new GcsAuth.Token(GRANT), grant -> {
            assertThat(grant).isEqualTo(GRANT);
            return new BearerToken(token);
        });
    }

    @Test
    void readsAPrivateBucketWithTheBearerTokenOnEveryRequest() throws IOException {
        GcsBackend backend = withToken(GOOD_TOKEN);

        ObjectMeta meta;
        String bytes;
        try (StoredObject object = backend.open("data.txt", get())) {
            meta = object.meta();
            bytes = read(object.body(new ByteRange(2, 5)));
        }
        ListPage page = backend.list(new ListQuery("", Optional.of("/"), 1000, new ListPosition.Start()));

        assertThat(bytes).isEqualTo("2345");
        assertThat(meta.size()).hasValue(10);
        assertThat(page.objects()).extracting(o -> o.key()).containsExactly("data.txt");
        assertThat(page.commonPrefixes()).containsExactly("dir/");
        assertThat(gcs.authorizations()).hasSize(3).allMatch(("Bearer " + GOOD_TOKEN)::equals);
    }

    @Test
    void mapsTheObjectResourceToS3Headers() {
        String md5 = HexFormat.of().formatHex(md5("0123456789"));

        ObjectMeta meta;
        try (StoredObject object = withToken(GOOD_TOKEN).open("data.txt", head())) {
            meta = object.meta();
        }

        assertThat(meta.etag()).hasValue("\"" + md5 + "\"");
        assertThat(meta.lastModified()).hasValue(gcs.get("private", "p/data.txt").orElseThrow().updated());
        assertThat(meta.stored()).containsExactly(Map.entry("Content-Type", "text/plain"), Map.entry("Content-Disposition", "inline"),
                Map.entry("Content-Language", "en"), Map.entry("Cache-Control", "max-age=60"), Map.entry("x-amz-meta-origin", "test"));
    }

    @Test
    void anObjectWithoutAnMd5HasAnETagOfItsGeneration() {
        TestGcs.StoredObject composite = gcs.put("private", "p/composite.bin", new byte[] {1, 2, 3}, new TestGcs.Attributes(
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Map.of(), true));
        GcsBackend backend = withToken(GOOD_TOKEN);

        ObjectMeta meta;
        try (StoredObject object = backend.open("composite.bin", head())) {
            meta = object.meta();
        }
        ListPage page = backend.list(new ListQuery("comp", Optional.empty(), 10, new ListPosition.Start()));

        assertThat(meta.etag()).hasValue("\"gcs-" + composite.generation() + "\"");
        assertThat(page.objects()).singleElement().satisfies(o -> assertThat(o.etag()).isEqualTo("\"gcs-" + composite.generation() + "\""));
    }

    @Test
    void aMissingObjectIsNoSuchKeyAndAMissingBucketNoSuchBucket() {
        GcsBackend backend = withToken(GOOD_TOKEN);
        gcs.bucket("other");
        GcsBackend noBucket = backend("absent", new GcsAuth.Token(GRANT), grant -> new BearerToken(GOOD_TOKEN));

        assertS3Error(() -> backend.open("missing.txt", get()), S3Error.NO_SUCH_KEY);
        assertS3Error(() -> noBucket.open("data.txt", get()), S3Error.NO_SUCH_BUCKET);
        assertS3Error(() -> noBucket.list(new ListQuery("", Optional.empty(), 10, new ListPosition.Start())), S3Error.NO_SUCH_BUCKET);
    }

    @Test
    void aTokenTheBucketRefusesIsAccessDenied() {
        GcsBackend refused = withToken(REFUSED_TOKEN);
        GcsBackend anonymous = backend("private", new GcsAuth.Anonymous(), grant -> {
            throw new AssertionError("an anonymous backend asks for no token");
        });

        assertS3Error(() -> refused.open("data.txt", get()), S3Error.ACCESS_DENIED);
        assertS3Error(() -> refused.list(new ListQuery("", Optional.empty(), 10, new ListPosition.Start())), S3Error.ACCESS_DENIED);
        assertS3Error(() -> anonymous.open("data.txt", get()), S3Error.ACCESS_DENIED);
        assertThat(gcs.authorizations()).containsExactly("Bearer " + REFUSED_TOKEN, "Bearer " + REFUSED_TOKEN, "");
        // The refusal is logged for the operator (GCS's answer, no token).
        assertThat(logged.list).extracting(ILoggingEvent::getFormattedMessage)
                .anyMatch(m -> m.contains("403 forbidden") && m.contains("private"))
                .anyMatch(m -> m.contains("401 required"));
    }

    @Test
    void aTokenThatCannotBeHadIsTheTokenTiersErrorUnchanged() {
        S3Exception tierError = S3Exception.unavailable("token endpoint did not answer", null);
        GcsBackend backend = backend("private", new GcsAuth.Token(GRANT), grant -> {
            throw tierError;
        });

        assertThatThrownBy(() -> backend.open("data.txt", get())).isSameAs(tierError);
        assertThatThrownBy(() -> backend.list(new ListQuery("", Optional.empty(), 10, new ListPosition.Start()))).isSameAs(tierError);
        assertThat(gcs.requests()).isZero();
    }

    @ParameterizedTest
    @EnumSource(value = TestGcs.Fault.class, names = {"THROTTLE", "INTERNAL_ERROR", "UNAVAILABLE", "GARBAGE", "HANG"})
    void eachFaultIsARetryableS3ErrorWithinTheTimeout(TestGcs.Fault fault) {
        S3Error expected = fault == TestGcs.Fault.THROTTLE ? S3Error.SLOW_DOWN : S3Error.SERVICE_UNAVAILABLE;
        GcsBackend backend = withToken(GOOD_TOKEN);

        gcs.fault(fault, 1);
        assertS3Error(() -> backend.open("data.txt", get()), expected);
        gcs.fault(fault, 1);
        assertS3Error(() -> backend.list(new ListQuery("", Optional.of("/"), 10, new ListPosition.Start())), expected);
        try (StoredObject object = backend.open("data.txt", get())) {
            gcs.fault(fault, 1);
            assertS3Error(() -> object.body(new ByteRange(0, 9)), expected);
        }
        assertThat(expected.isRetryable()).isTrue();
        gcs.fault(TestGcs.Fault.NONE, 0);
        try (StoredObject object = backend.open("data.txt", get())) {
            assertThat(object.meta().size()).hasValue(10);
        }
    }

    @Test
    void anObjectRewrittenBetweenItsMetadataAndItsBytesFailsTheRead() {
        GcsBackend backend = withToken(GOOD_TOKEN);

        try (StoredObject object = backend.open("data.txt", get())) {
            gcs.put("private", "p/data.txt", "rewritten".getBytes(StandardCharsets.US_ASCII), TestGcs.Attributes.of("text/plain"));
            assertS3Error(() -> object.body(new ByteRange(0, 9)), S3Error.SERVICE_UNAVAILABLE);
        }
    }

    @Test
    void aPositionInsideACommonPrefixListsThatPrefixOnlyWhenSomethingUnderItFollows() {
        GcsBackend backend = withToken(GOOD_TOKEN);

        ListPage atLastKey = backend.list(new ListQuery("", Optional.of("/"), 10, new ListPosition.After("dir/inner.txt")));
        ListPage beforeIt = backend.list(new ListQuery("", Optional.of("/"), 10, new ListPosition.After("dir/a")));
        ListPage afterThePrefix = backend.list(new ListQuery("", Optional.of("/"), 10, new ListPosition.After("dir/")));

        assertThat(atLastKey.commonPrefixes()).isEmpty();
        assertThat(atLastKey.objects()).isEmpty();
        assertThat(beforeIt.commonPrefixes()).containsExactly("dir/");
        assertThat(afterThePrefix.commonPrefixes()).isEmpty();
        assertThat(afterThePrefix.objects()).isEmpty();
    }

    @Test
    void pagesResumeAfterTheirLastEntryAndSkipDirectoryMarkers() {
        for (int i = 0; i < 5; i++) {
            gcs.put("private", "p/m" + i + "/", new byte[0], TestGcs.Attributes.of(null));
        }
        gcs.put("private", "p/z.txt", new byte[] {1}, TestGcs.Attributes.of(null));
        GcsBackend backend = withToken(GOOD_TOKEN);

        ListPage first = backend.list(new ListQuery("", Optional.empty(), 2, new ListPosition.Start()));
        ListPage second = backend.list(new ListQuery("", Optional.empty(), 2, first.next().orElseThrow()));

        assertThat(first.objects()).extracting(o -> o.key()).containsExactly("data.txt", "dir/inner.txt");
        assertThat(first.next()).hasValue(new ListPosition.After("dir/inner.txt"));
        assertThat(second.objects()).extracting(o -> o.key()).containsExactly("z.txt");
        assertThat(second.next()).isEmpty();
    }

    @Test
    void writesAreNotImplemented() {
        assertS3Error(() -> withToken(GOOD_TOKEN).delete("data.txt"), S3Error.NOT_IMPLEMENTED);
    }

    private static void assertS3Error(Runnable call, S3Error expected) {
        long started = System.nanoTime();
        assertThatThrownBy(call::run).isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(expected));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(DEADLINE);
    }

    private static Fetch get() {
        return new Fetch(Optional.empty(), Preconditions.NONE, false);
    }

    private static Fetch head() {
        return new Fetch(Optional.empty(), Preconditions.NONE, true);
    }

    private static String read(ObjectBody body) throws IOException {
        try (body) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            body.transferTo(out);
            return out.toString(StandardCharsets.US_ASCII);
        }
    }

    private static byte[] md5(String s) {
        try {
            return java.security.MessageDigest.getInstance("MD5").digest(s.getBytes(StandardCharsets.US_ASCII));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
