package dev.sluice.backend;

import dev.sluice.time.Ticker;
import dev.sluice.s3.ByteRange;
import dev.sluice.s3.ObjectSummary;
import dev.sluice.s3.Preconditions;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.sigv4.AwsCredentials;
import dev.sluice.testing.S3ProxyExtension;
import dev.sluice.testing.S3ProxyProcess;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.io.Content;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link S3Backend} against a real, signature-checking S3 server (S3Proxy), for the places where
 * S3-compatible servers differ from S3 and sluice must still answer as S3 does.
 */
class S3BackendTest {
    @RegisterExtension
    static final S3ProxyExtension S3PROXY = new S3ProxyExtension();

    private static final String BUCKET = "backend-test";
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);

    static HttpClient http;
    static S3Backend backend;

    @BeforeAll
    static void start() throws Exception {
        S3ProxyProcess s3proxy = S3PROXY.get();
        S3Client admin = s3proxy.client();
        admin.createBucket(b -> b.bucket(BUCKET));
        admin.putObject(b -> b.bucket(BUCKET).key("p/top.txt"), RequestBody.fromString("0123456789abcdefghij"));
        admin.putObject(b -> b.bucket(BUCKET).key("p/sub/x.txt"), RequestBody.fromString("x"));
        admin.putObject(b -> b.bucket(BUCKET).key("p/dir/"), RequestBody.empty());
        http = new HttpClient();
        http.start();
        backend = new S3Backend(http, s3proxy.endpoint(), "us-east-1", BUCKET, "p/",
                BackendCredentials.fixed(AwsCredentials.of(S3ProxyProcess.IDENTITY, S3ProxyProcess.CREDENTIAL)),
                InstantSource.system(), Ticker.SYSTEM, Duration.ofSeconds(10));
    }

    @AfterAll
    static void stop() throws Exception {
        if (http != null) {
            http.stop();
        }
    }

    @Test
    void directoriesAreNeverListedAsObjects() {
        // S3Proxy's filesystem store lists every directory, marker or not, as a 4096-byte "dir/" object.
        ListPage flat = backend.list(new ListQuery("", Optional.empty(), 1000, new ListPosition.Start()));
        ListPage delimited = backend.list(new ListQuery("", Optional.of("/"), 1000, new ListPosition.Start()));

        assertThat(flat.objects()).extracting(ObjectSummary::key).containsExactly("sub/x.txt", "top.txt");
        assertThat(flat.commonPrefixes()).isEmpty();
        assertThat(delimited.objects()).extracting(ObjectSummary::key).containsExactly("top.txt");
        assertThat(delimited.commonPrefixes()).containsExactly("dir/", "sub/");
    }

    @Test
    void aPageOfOnlyDirectoriesIsReadPastSoEveryPageMakesProgress() {
        // The server's first pages hold only "dir/" and "sub/"; an empty truncated page would leave
        // a ListObjects (V1) client without a marker to resume from.
        ListPage first = backend.list(new ListQuery("", Optional.empty(), 1, new ListPosition.Start()));

        assertThat(first.objects()).extracting(ObjectSummary::key).containsExactly("sub/x.txt");
        assertThat(first.next()).isPresent();
        ListPage second = backend.list(new ListQuery("", Optional.empty(), 1, first.next().get()));
        assertThat(second.objects()).extracting(ObjectSummary::key).containsExactly("top.txt");
    }

    @Test
    void maxKeysZeroIsTruncatedWhenOnlyDirectoriesComeFirst() {
        ListPage page = backend.list(new ListQuery("", Optional.empty(), 0, new ListPosition.Start()));

        assertThat(page.objects()).isEmpty();
        assertThat(page.commonPrefixes()).isEmpty();
        assertThat(page.next()).isPresent();
        assertThat(backend.list(new ListQuery("nothing-here/", Optional.empty(), 0, new ListPosition.Start())).next()).isEmpty();
    }

    @Test
    void aBucketThatIsNotThereIsNoSuchBucketAsInTheOtherStoresAndAMissingKeyNoSuchKey() {
        S3Backend nowhere = new S3Backend(http, S3PROXY.get().endpoint(), "us-east-1", "no-such-bucket-here", "p/",
                BackendCredentials.fixed(AwsCredentials.of(S3ProxyProcess.IDENTITY, S3ProxyProcess.CREDENTIAL)),
                InstantSource.system(), Ticker.SYSTEM, Duration.ofSeconds(10));
        Fetch whole = new Fetch(Optional.empty(), Preconditions.NONE, false);

        assertThatThrownBy(() -> nowhere.open("top.txt", whole)).isInstanceOfSatisfying(S3Exception.class,
                e -> assertThat(e.error()).isEqualTo(S3Error.NO_SUCH_BUCKET));
        assertThatThrownBy(() -> nowhere.list(new ListQuery("", Optional.empty(), 1000, new ListPosition.Start())))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.NO_SUCH_BUCKET));
        assertThatThrownBy(() -> backend.open("not-there.txt", whole)).isInstanceOfSatisfying(S3Exception.class,
                e -> assertThat(e.error()).isEqualTo(S3Error.NO_SUCH_KEY));
    }

    @Test
    void readsAdvertiseByteRangesEvenWhenTheServerDoesNot() {
        ObjectResponse get = read(Optional.empty(), Preconditions.NONE, false);
        ObjectResponse head = read(Optional.empty(), Preconditions.NONE, true);

        assertThat(header(get, "Accept-Ranges")).hasValue("bytes");
        assertThat(header(head, "Accept-Ranges")).hasValue("bytes");
        get.body().orElseThrow().close();
    }

    @Test
    void headWithARangeAnswersForTheRangeEvenWhenTheServerIgnoresIt() {
        ObjectResponse head = read(ByteRange.parse("bytes=5-9"), Preconditions.NONE, true);

        assertThat(head.status()).isEqualTo(206);
        assertThat(header(head, "Content-Length")).hasValue("5");
        assertThat(header(head, "Content-Range")).hasValue("bytes 5-9/20");
        assertThat(head.body()).isEmpty();

        ObjectResponse suffix = read(ByteRange.parse("bytes=-3"), Preconditions.NONE, true);
        assertThat(header(suffix, "Content-Range")).hasValue("bytes 17-19/20");

        assertThatThrownBy(() -> read(ByteRange.parse("bytes=20-"), Preconditions.NONE, true))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.error()).isEqualTo(S3Error.INVALID_RANGE);
                    assertThat(e.extraHeaders()).contains(Map.entry("Content-Range", "bytes */20"));
                });
    }

    @Test
    void getWithARangeStillServesTheRange() throws IOException {
        ObjectResponse get = read(ByteRange.parse("bytes=5-9"), Preconditions.NONE, false);

        assertThat(get.status()).isEqualTo(206);
        assertThat(header(get, "Content-Range")).hasValue("bytes 5-9/20");
        assertThat(body(get)).isEqualTo("56789");
    }

    @Test
    void modificationTimesCompareAtTheSecondsTheClientWasShown() throws IOException {
        // The server keeps sub-second modification times; clients only ever see whole seconds.
        String lastModified = header(read(Optional.empty(), Preconditions.NONE, true), "Last-Modified").orElseThrow();
        Instant shown = Instant.from(HTTP_DATE.parse(lastModified));

        ObjectResponse notModified = read(Optional.empty(), Preconditions.of(null, null, lastModified, null), false);
        assertThat(notModified.status()).isEqualTo(304);
        assertThat(notModified.body()).isEmpty();
        assertThat(header(notModified, "ETag")).isPresent();

        ObjectResponse unmodified = read(Optional.empty(), Preconditions.of(null, null, null, lastModified), false);
        assertThat(unmodified.status()).isEqualTo(200);
        assertThat(body(unmodified)).isEqualTo("0123456789abcdefghij");

        ObjectResponse headNotModified = read(Optional.empty(), Preconditions.of(null, null, lastModified, null), true);
        assertThat(headNotModified.status()).isEqualTo(304);

        String earlier = HTTP_DATE.format(shown.minusSeconds(1));
        assertThat(read(Optional.empty(), Preconditions.of(null, null, earlier, null), false).status()).isEqualTo(200);
        assertThatThrownBy(() -> read(Optional.empty(), Preconditions.of(null, null, null, earlier), false))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.PRECONDITION_FAILED));
    }

    @Test
    void etagConditionsFollowS3sOrder() {
        String etag = header(read(Optional.empty(), Preconditions.NONE, true), "ETag").orElseThrow();
        String lastModified = header(read(Optional.empty(), Preconditions.NONE, true), "Last-Modified").orElseThrow();
        String earlier = HTTP_DATE.format(Instant.from(HTTP_DATE.parse(lastModified)).minusSeconds(60));

        // If-Match holds, so If-Unmodified-Since is ignored.
        assertThat(read(Optional.empty(), Preconditions.of(etag, null, null, earlier), true).status()).isEqualTo(200);
        // If-None-Match does not match, so If-Modified-Since is ignored.
        assertThat(read(Optional.empty(), Preconditions.of(null, "\"other\"", lastModified, null), true).status()).isEqualTo(200);
        assertThat(read(Optional.empty(), Preconditions.of(null, etag, null, null), true).status()).isEqualTo(304);
        assertThatThrownBy(() -> read(Optional.empty(), Preconditions.of("\"other\"", null, null, null), true))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.PRECONDITION_FAILED));
    }

    /**
     * A read started without waiting answers what the waiting read answers: a small body comes
     * in memory (every chunk there, none to wait for), a larger one streams, a range is the
     * range, a HEAD has no body, and a missing key is NoSuchKey, through the future.
     */
    @Test
    void aReadStartedWithoutWaitingAnswersAsTheWaitingOne() throws Exception {
        assertThat(backend.opensWithoutWaiting()).isTrue();
        ObjectResponse small = ObjectResponse.readWithoutWaiting(backend,
                new ObjectRead("top.txt", Optional.empty(), Preconditions.NONE, false, "TEST"), 64).get(10, TimeUnit.SECONDS);
        assertThat(small.status()).isEqualTo(200);
        assertThat(header(small, "ETag")).isEqualTo(header(read(Optional.empty(), Preconditions.NONE, false), "ETag"));
        try (ObjectBody body = small.body().orElseThrow()) {
            Content.Chunk chunk = body.source().read();
            assertThat(chunk).as("the body was read before the future completed").isNotNull();
            assertThat(chunk.isLast()).isTrue();
            assertThat(java.nio.charset.StandardCharsets.UTF_8.decode(chunk.getByteBuffer()).toString()).isEqualTo("0123456789abcdefghij");
            chunk.release();
        }

        ObjectResponse streamed = ObjectResponse.readWithoutWaiting(backend,
                new ObjectRead("top.txt", Optional.empty(), Preconditions.NONE, false, "TEST"), 19).get(10, TimeUnit.SECONDS);
        assertThat(body(streamed)).isEqualTo("0123456789abcdefghij");

        ObjectResponse range = ObjectResponse.readWithoutWaiting(backend,
                new ObjectRead("top.txt", ByteRange.parse("bytes=5-9"), Preconditions.NONE, false, "TEST"), 64).get(10, TimeUnit.SECONDS);
        assertThat(range.status()).isEqualTo(206);
        assertThat(header(range, "Content-Range")).hasValue("bytes 5-9/20");
        assertThat(body(range)).isEqualTo("56789");

        ObjectResponse head = ObjectResponse.readWithoutWaiting(backend,
                new ObjectRead("top.txt", Optional.empty(), Preconditions.NONE, true, "TEST"), 64).get(10, TimeUnit.SECONDS);
        assertThat(head.body()).isEmpty();
        assertThat(header(head, "Content-Length")).hasValue("20");

        assertThat(ObjectResponse.readWithoutWaiting(backend,
                new ObjectRead("not-there.txt", Optional.empty(), Preconditions.NONE, false, "TEST"), 64))
                .failsWithin(Duration.ofSeconds(10)).withThrowableThat().havingCause()
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.NO_SUCH_KEY));
    }

    /**
     * A backend whose credentials may need an exchange (a web identity role the credential tier
     * does not hold) still starts a read without waiting: the read, credentials and all, is made
     * on a virtual thread of its own, and the caller's thread returns at once.
     */
    @Test
    void aReadWhoseCredentialsMayWaitIsMadeElsewhere() throws Exception {
        java.util.concurrent.CountDownLatch exchanged = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicReference<Thread> exchangedOn = new java.util.concurrent.atomic.AtomicReference<>();
        S3Backend federated = new S3Backend(http, S3PROXY.get().endpoint(), "us-east-1", BUCKET, "p/", () -> {
            exchangedOn.set(Thread.currentThread());
            try {
                assertThat(exchanged.await(10, TimeUnit.SECONDS)).isTrue();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return Optional.of(AwsCredentials.of(S3ProxyProcess.IDENTITY, S3ProxyProcess.CREDENTIAL));
        }, InstantSource.system(), Ticker.SYSTEM, Duration.ofSeconds(10));

        assertThat(federated.opensWithoutWaiting()).isTrue();
        var opened = federated.openWithoutWaiting("top.txt", new Fetch(Optional.empty(), Preconditions.NONE, false), 64);
        assertThat(opened).as("returned while the credentials are being had").isNotDone();
        exchanged.countDown();

        StoredObject object = opened.get(10, TimeUnit.SECONDS);
        assertThat(exchangedOn.get()).isNotSameAs(Thread.currentThread());
        assertThat(exchangedOn.get().isVirtual()).isTrue();
        assertThat(object.meta().size()).hasValue(20);
        object.close();
    }

    /** A web identity role's credentials are had without waiting exactly when the tier holds them. */
    @Test
    void federatedCredentialsAreHeldNowOnlyWhenTheTierHoldsThem() {
        AwsCredentials held = AwsCredentials.of(S3ProxyProcess.IDENTITY, S3ProxyProcess.CREDENTIAL);
        java.util.concurrent.atomic.AtomicBoolean inTier = new java.util.concurrent.atomic.AtomicBoolean();
        FederatedCredentials tier = new FederatedCredentials() {
            @Override
            public AwsCredentials credentials(String roleArn, String subject) {
                return held;
            }

            @Override
            public Optional<AwsCredentials> heldNow(String roleArn, String subject) {
                return inTier.get() ? Optional.of(held) : Optional.empty();
            }
        };
        BackendCredentials role = BackendCredentials.federated(tier, "arn:aws:iam::1:role/r", "sluice:product:a/b");

        assertThat(role.withoutWaiting()).isEmpty();
        inTier.set(true);
        assertThat(role.withoutWaiting()).hasValue(new BackendCredentials.Now(Optional.of(held)));
        assertThat(BackendCredentials.anonymous().withoutWaiting()).hasValue(new BackendCredentials.Now(Optional.empty()));
    }

    private static ObjectResponse read(Optional<ByteRange.Spec> range, Preconditions p, boolean headOnly) {
        return ObjectResponse.read(backend, new ObjectRead("top.txt", range, p, headOnly, "TEST"));
    }

    private static Optional<String> header(ObjectResponse r, String name) {
        List<String> values = r.headers().stream().filter(h -> h.getKey().equalsIgnoreCase(name)).map(Map.Entry::getValue).toList();
        assertThat(values).as("%s headers", name).hasSizeLessThanOrEqualTo(1);
        return values.stream().findFirst();
    }

    private static String body(ObjectResponse r) throws IOException {
        try (ObjectBody body = r.body().orElseThrow()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            body.transferTo(out);
            return out.toString(java.nio.charset.StandardCharsets.UTF_8);
        }
    }
}
