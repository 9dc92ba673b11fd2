package dev.sluice.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.Version;
import dev.sluice.it.SluiceUnderTest.RawResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.EncodingType;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static dev.sluice.it.Fixture.ACCOUNT;
import static dev.sluice.it.Fixture.BIG;
import static dev.sluice.it.Fixture.BIG_BYTES;
import static dev.sluice.it.Fixture.EMPTY;
import static dev.sluice.it.Fixture.HELLO;
import static dev.sluice.it.S3ErrorAssert.assertS3Error;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The read path of sluice as an S3 client sees it, run unchanged against every backend: each
 * subclass starts a real sluice in front of a real backend holding the {@link Fixture}
 * objects, and every test here must pass on all of them. What S3 would answer is computed by
 * {@link Fixture#expectedListing}; the one intended difference between backends, directory
 * marker objects (which only an S3 bucket can hold), comes from {@link #directoryMarkers()}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ReadPathContract {
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);
    private static final List<String> EXPOSED = List.of("ETag", "Content-Range", "Content-Length", "x-amz-request-id");

    protected SluiceUnderTest sluice;
    protected S3Client s3;

    /** Puts the fixture into a new backend and starts sluice in front of it. */
    protected abstract SluiceUnderTest startSluice();

    /** Zero-byte {@code product/dir/} objects the backend holds besides the fixture; none by default. */
    protected List<String> directoryMarkers() {
        return List.of();
    }

    @BeforeAll
    void startSluiceAndClients() {
        sluice = startSluice();
        s3 = sluice.anonymousClient();
    }

    @AfterAll
    void stopSluice() throws Exception {
        if (sluice != null) {
            sluice.close();
        }
    }

    // ---------------------------------------------------------------- service

    @Test
    void listsTheAccountAsABucketAtTheRoot() {
        assertThat(s3.listBuckets().buckets()).extracting(b -> b.name()).containsExactly(ACCOUNT);
    }

    @Test
    void describesItselfAtTheRootWhenAskedForJson() throws IOException {
        RawResponse r = sluice.send("GET", "/", "Accept", "application/json");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
        JsonNode json = new ObjectMapper().readTree(r.body());
        assertThat(json.path("name").asText()).isEqualTo("sluice");
        assertThat(json.path("version").asText()).isEqualTo(Version.current()).isNotBlank();
    }

    // ---------------------------------------------------------------- listing

    @Test
    void listsPublicProductsAsCommonPrefixesOfTheAccount() {
        ListObjectsV2Response r = s3.listObjectsV2(b -> b.bucket(ACCOUNT).delimiter("/"));

        assertThat(r.name()).isEqualTo(ACCOUNT);
        assertThat(prefixesOf(r)).containsExactly("hello/", "world/");
        assertThat(r.contents()).isEmpty();
        assertThat(r.keyCount()).isEqualTo(2);
        assertThat(r.isTruncated()).isFalse();
        assertThat(r.nextContinuationToken()).isNull();
    }

    @Test
    void listsTheTopLevelOfAProductWithADelimiter() {
        assertListing("hello/", Optional.of("/"));
    }

    @Test
    void listsASubdirectoryOfAProduct() {
        Fixture.Listing expected = assertListing("hello/sub/", Optional.of("/"));

        assertThat(expected.contents()).containsExactly("hello/sub/one.txt", "hello/sub/two.txt");
        assertThat(expected.commonPrefixes()).containsExactly("hello/sub/deeper/");
    }

    @Test
    void listsEveryKeyOfAProductWithoutADelimiter() {
        Fixture.Listing expected = assertListing("hello/", Optional.empty());

        assertThat(expected.contents()).hasSize(Fixture.objects(HELLO).size());
    }

    @Test
    void listsEveryPublicKeyOfTheAccountWithoutAPrefix() {
        assertListing("", Optional.empty());
    }

    @Test
    void listsKeysUnderAPartialKeyPrefix() {
        Fixture.Listing expected = assertListing("hello/country_iso=", Optional.of("/"));

        assertThat(expected.commonPrefixes()).containsExactly("hello/country_iso=ETH/", "hello/country_iso=KEN/");
    }

    @Test
    void listsWithADelimiterOtherThanSlash() {
        Fixture.Listing inProduct = assertListing("hello/", Optional.of("="));
        assertThat(inProduct.commonPrefixes()).containsExactly("hello/country_iso=");

        assertListing("", Optional.of("="));
        assertPaginated("", Optional.of("="), 2);
    }

    @Test
    void paginatesOneEntryAtATime() {
        assertPaginated("hello/", Optional.of("/"), 1);
        assertPaginated("hello/nested/", Optional.empty(), 1);
    }

    @Test
    void listsPartialProductPrefixesAsCommonPrefixes() {
        ListObjectsV2Response r = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("wor").delimiter("/"));

        assertThat(prefixesOf(r)).containsExactly("world/");
        assertThat(r.contents()).isEmpty();
    }

    @Test
    void listingAPrefixThatMatchesNothingIsEmpty() {
        for (String prefix : List.of("hello/no-such-thing", "no-such-product/", "hello/sub/nothing/")) {
            ListObjectsV2Response r = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix(prefix).delimiter("/"));

            assertThat(r.contents()).as(prefix).isEmpty();
            assertThat(r.commonPrefixes()).as(prefix).isEmpty();
            assertThat(r.keyCount()).as(prefix).isZero();
            assertThat(r.isTruncated()).as(prefix).isFalse();
        }
    }

    @Test
    void aListingPrefixWithADotSegmentIsInvalidArgument() {
        for (String prefix : List.of("hello/../", "hello/./", "hello/sub/../x", "hello//", "../hello/")) {
            List<String> warnings = backendWarnings(() -> assertS3Error(
                    sluice.send("GET", "/acme?list-type=2&prefix=" + URLEncoder.encode(prefix, StandardCharsets.UTF_8)), 400,
                    "InvalidArgument", "/acme"));
            assertThat(warnings).as(prefix).isEmpty();
        }
    }

    @Test
    void aListingPrefixEndingInAPartialDotSegmentStillLists() {
        // "hello/." is the start of "hello/.hidden": only a complete "." or ".." segment can match no key.
        ListObjectsV2Response r = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("hello/."));

        assertThat(r.contents()).allSatisfy(o -> assertThat(o.key()).startsWith("hello/."));
    }

    @Test
    void aStartAfterOrMarkerWithADotSegmentIsInvalidArgument() {
        assertS3Error(sluice.send("GET", "/acme?list-type=2&start-after=hello/../x"), 400, "InvalidArgument", "/acme");
        assertS3Error(sluice.send("GET", "/acme?marker=hello/./x"), 400, "InvalidArgument", "/acme");
    }

    @Test
    void neverListsARestrictedProduct() {
        assertThat(allKeys(ListObjectsV2Request.builder().bucket(ACCOUNT).build()))
                .noneMatch(k -> k.startsWith("secret/"));
        assertThat(s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("secret/")).contents()).isEmpty();
    }

    @Test
    void paginatesAProductVisitingEveryKeyExactlyOnce() {
        assertPaginated("hello/", Optional.empty(), 2);
    }

    @Test
    void paginatesAProductWithADelimiterVisitingEveryKeyAndPrefixExactlyOnce() {
        assertPaginated("hello/", Optional.of("/"), 2);
    }

    @Test
    void paginatesAcrossTheProductsOfTheAccount() {
        assertPaginated("", Optional.empty(), 2);
        assertPaginated("", Optional.empty(), 3);
    }

    @Test
    void paginatesTheProductsOfTheAccountOneByOne() {
        assertPaginated("", Optional.of("/"), 1);
    }

    @Test
    void startsAfterTheGivenKey() {
        String after = "hello/big.bin";
        ListObjectsV2Response r = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("hello/").startAfter(after));

        List<String> expected = expected("hello/", Optional.empty()).contents().stream()
                .filter(k -> Fixture.S3_ORDER.compare(k, after) > 0).toList();
        assertThat(keysOf(r)).containsExactlyElementsOf(expected);
        assertThat(r.startAfter()).isEqualTo(after);
        assertThat(r.keyCount()).isEqualTo(expected.size());
    }

    @Test
    void startAfterASpecialKeySkipsExactlyUpToIt() {
        for (String key : Fixture.SPECIAL_KEYS) {
            String after = "hello/" + key;
            ListObjectsV2Response r = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("hello/").startAfter(after));

            List<String> expected = expected("hello/", Optional.empty()).contents().stream()
                    .filter(k -> Fixture.S3_ORDER.compare(k, after) > 0).toList();
            assertThat(keysOf(r)).as("start-after %s", after).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void startAfterAProductSkipsIt() {
        ListObjectsV2Response r = s3.listObjectsV2(b -> b.bucket(ACCOUNT).delimiter("/").startAfter("hello/"));

        assertThat(prefixesOf(r)).containsExactly("world/");
    }

    @Test
    void maxKeysZeroListsNothingAndIsTruncated() {
        for (String prefix : List.of("", "hello/")) {
            ListObjectsV2Response r = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix(prefix).maxKeys(0));

            assertThat(r.contents()).as(prefix).isEmpty();
            assertThat(r.commonPrefixes()).as(prefix).isEmpty();
            assertThat(r.keyCount()).as(prefix).isZero();
            assertThat(r.maxKeys()).as(prefix).isZero();
            assertThat(r.isTruncated()).as(prefix).isTrue();
        }
    }

    @Test
    void urlEncodingTypeGivesEveryKeyBackExactly() {
        ListObjectsV2Response r = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("hello/").encodingType(EncodingType.URL));

        assertThat(r.encodingType()).isEqualTo(EncodingType.URL);
        assertThat(keysOf(r)).containsExactlyElementsOf(expected("hello/", Optional.empty()).contents());

        ListObjectsV2Response delimited = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("hello/")
                .delimiter("/").encodingType(EncodingType.URL));
        assertThat(prefixesOf(delimited)).containsExactlyElementsOf(expected("hello/", Optional.of("/")).commonPrefixes());
    }

    @Test
    void urlEncodingTypePercentEncodesKeysInTheDocument() {
        RawResponse r = sluice.send("GET", "/acme?list-type=2&prefix=hello%2F&encoding-type=url");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text())
                .contains("<EncodingType>url</EncodingType>")
                .contains("<Key>hello/a%20b.txt</Key>")
                .contains("<Key>hello/a%2Bb.txt</Key>")
                .contains("<Key>hello/100%25.txt</Key>")
                .contains("<Key>hello/100%2525.txt</Key>")
                .contains("<Key>hello/%C3%BCn%C3%AFc%C3%B8d%C3%A9/%E6%96%87%E4%BB%B6.txt</Key>")
                .doesNotContain("<Key>hello/a b.txt</Key>");
    }

    @Test
    void fetchOwnerAddsOwnersOnlyWhenAsked() {
        ListObjectsV2Response without = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("hello/sub/"));
        ListObjectsV2Response with = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("hello/sub/").fetchOwner(true));

        assertThat(without.contents()).isNotEmpty().allSatisfy(o -> assertThat(o.owner()).isNull());
        assertThat(with.contents()).isNotEmpty().allSatisfy(o -> {
            assertThat(o.owner()).isNotNull();
            assertThat(o.owner().id()).isNotBlank();
        });
    }

    @Test
    void listsObjectSizesAndETagsAsHeadReportsThem() {
        ListObjectsV2Response r = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("hello/"));

        for (S3Object o : r.contents()) {
            HeadObjectResponse head = s3.headObject(b -> b.bucket(ACCOUNT).key(o.key()));
            assertThat(o.size()).as(o.key()).isEqualTo(head.contentLength())
                    .isEqualTo(Fixture.object(HELLO, o.key().substring("hello/".length())).bytes().length);
            assertThat(o.eTag()).as(o.key()).isEqualTo(head.eTag());
            assertThat(o.lastModified().getEpochSecond()).as(o.key()).isEqualTo(head.lastModified().getEpochSecond());
        }
    }

    @Test
    void listsWithVersionOneAndMarkerPaging() {
        assertMarkerPaged("hello/", Optional.empty(), 2);
        assertMarkerPaged("", Optional.empty(), 2);
    }

    @Test
    void listsWithVersionOneAndMarkerPagingOverCommonPrefixes() {
        // NextMarker is then a common prefix; resuming after it must not list it again.
        assertMarkerPaged("hello/", Optional.of("/"), 1);
        assertMarkerPaged("hello/", Optional.of("/"), 2);
        assertMarkerPaged("", Optional.of("/"), 1);
    }

    @Test
    void startAfterACommonPrefixSkipsEverythingUnderIt() {
        ListObjectsV2Response r = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("hello/").delimiter("/").startAfter("hello/nested/"));
        Fixture.Listing all = expected("hello/", Optional.of("/"));

        assertThat(prefixesOf(r)).containsExactlyElementsOf(all.commonPrefixes().stream()
                .filter(p -> Fixture.S3_ORDER.compare(p, "hello/nested/") > 0).toList());
        assertThat(keysOf(r)).containsExactlyElementsOf(all.contents().stream()
                .filter(k -> Fixture.S3_ORDER.compare(k, "hello/nested/") > 0).toList());
    }

    private void assertMarkerPaged(String prefix, Optional<String> delimiter, int maxKeys) {
        String what = "prefix '" + prefix + "', delimiter " + delimiter + ", max-keys " + maxKeys;
        List<String> contents = new ArrayList<>();
        List<String> prefixes = new ArrayList<>();
        String marker = null;
        int pages = 0;
        while (true) {
            String m = marker;
            ListObjectsResponse page = s3.listObjects(b -> b.bucket(ACCOUNT).prefix(prefix).delimiter(delimiter.orElse(null))
                    .maxKeys(maxKeys).marker(m));
            pages++;
            assertThat(pages).as("pages for %s", what).isLessThan(100);
            assertThat(page.contents().size() + page.commonPrefixes().size()).as(what).isLessThanOrEqualTo(maxKeys);
            page.contents().forEach(o -> contents.add(o.key()));
            page.commonPrefixes().forEach(p -> prefixes.add(p.prefix()));
            assertThat(page.marker()).isEqualTo(m == null ? "" : m);
            if (!page.isTruncated()) {
                break;
            }
            // As S3 clients do: NextMarker when given, else the last key of the page.
            marker = page.nextMarker() != null ? page.nextMarker() : page.contents().get(page.contents().size() - 1).key();
        }
        Fixture.Listing expected = expected(prefix, delimiter);
        assertThat(contents).as(what).containsExactlyElementsOf(expected.contents());
        assertThat(prefixes).as(what).containsExactlyElementsOf(expected.commonPrefixes());
    }

    @Test
    void listsWithVersionOneAndADelimiter() {
        ListObjectsResponse r = s3.listObjects(b -> b.bucket(ACCOUNT).prefix("hello/").delimiter("/"));
        Fixture.Listing expected = expected("hello/", Optional.of("/"));

        assertThat(r.contents().stream().map(S3Object::key)).containsExactlyElementsOf(expected.contents());
        assertThat(r.commonPrefixes().stream().map(CommonPrefix::prefix)).containsExactlyElementsOf(expected.commonPrefixes());
        assertThat(r.isTruncated()).isFalse();
    }

    @Test
    void continuationTokenThatDoesNotDecodeIsInvalidArgument() {
        RawResponse r = sluice.send("GET", "/acme?list-type=2&continuation-token=not-a-token");

        assertS3Error(r, 400, "InvalidArgument", "/acme");
    }

    @Test
    void unsupportedListTypeIsInvalidArgument() {
        assertS3Error(sluice.send("GET", "/acme?list-type=3"), 400, "InvalidArgument", "/acme");
    }

    @Test
    void listingAnUnknownAccountIsNoSuchBucket() {
        assertThatThrownBy(() -> s3.listObjectsV2(b -> b.bucket("no-such-account")))
                .isInstanceOf(NoSuchBucketException.class);
        assertS3Error(sluice.send("GET", "/no-such-account?list-type=2"), 404, "NoSuchBucket", "/no-such-account");
    }

    // ---------------------------------------------------------------- GetObject

    Stream<String> everyHelloKey() {
        return Fixture.objects(HELLO).stream().map(Fixture.Object::key);
    }

    @ParameterizedTest
    @MethodSource("everyHelloKey")
    void servesEveryObjectByteForByte(String key) {
        ResponseBytes<GetObjectResponse> r = s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("hello/" + key));

        assertThat(r.asByteArray()).isEqualTo(Fixture.bytes(key));
        assertThat(r.response().contentLength()).isEqualTo(Fixture.bytes(key).length);
    }

    @Test
    void servesAnotherProductOfTheAccount() {
        ResponseBytes<GetObjectResponse> r = s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("world/data/x.csv"));

        assertThat(r.asUtf8String()).isEqualTo("x\n1\n");
    }

    @Test
    void getCarriesTheObjectsHeaders() {
        RawResponse r = sluice.send("GET", "/acme/hello/greeting.txt");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(Fixture.bytes("greeting.txt"));
        assertThat(r.header("ETag")).hasValueSatisfying(e -> assertThat(e).matches("\"[^\"]+\""));
        assertThat(r.header("Last-Modified")).hasValueSatisfying(d -> assertThat(Instant.from(HTTP_DATE.parse(d))).isBefore(Instant.now()));
        assertThat(r.header("Content-Length")).hasValue(Integer.toString(Fixture.bytes("greeting.txt").length));
        assertThat(r.header("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
        assertThat(r.header("Accept-Ranges")).hasValue("bytes");
        assertThat(r.header("x-amz-request-id")).hasValueSatisfying(id -> assertThat(id).matches("[0-9A-F]{16}"));
    }

    /**
     * S3 refuses {@code response-*} overrides on anonymous GETs; honouring them would let anyone
     * serve a public object holding markup as {@code text/html} from sluice's origin with a link.
     */
    @ParameterizedTest
    @ValueSource(strings = {"response-content-type=text%2Fhtml", "response-content-encoding=gzip",
            "response-content-disposition=inline", "response-content-language=en", "response-cache-control=no-cache",
            "response-expires=0"})
    void anonymousCallersMayNotOverrideResponseHeaders(String override) {
        String path = "/acme/hello/greeting.txt";

        S3ErrorAssert.ErrorDocument error = assertS3Error(sluice.send("GET", path + "?" + override), 400, "InvalidRequest", path);

        assertThat(error.message()).isEqualTo("Request specific response headers cannot be used for anonymous GET requests.");
        assertThat(sluice.send("HEAD", path + "?" + override).status()).isEqualTo(400);
        assertThatThrownBy(() -> sluice.unknownKeyClient().getObjectAsBytes(b -> b.bucket(ACCOUNT).key("hello/greeting.txt")
                .responseContentType("text/html")))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(400);
                    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InvalidRequest");
                });
    }

    @Test
    void objectResponsesForbidContentSniffing() {
        assertThat(sluice.send("GET", "/acme/hello/greeting.txt").header("X-Content-Type-Options")).hasValue("nosniff");
        assertThat(sluice.send("HEAD", "/acme/hello/greeting.txt").header("X-Content-Type-Options")).hasValue("nosniff");
        assertThat(sluice.send("GET", "/acme/hello/big.bin", "Range", "bytes=0-9").header("X-Content-Type-Options"))
                .hasValue("nosniff");
    }

    @Test
    void servesAnEmptyObject() {
        ResponseBytes<GetObjectResponse> r = s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("hello/" + EMPTY));

        assertThat(r.asByteArray()).isEmpty();
        assertThat(r.response().contentLength()).isZero();
        assertThat(r.response().eTag()).isNotBlank();
    }

    @Test
    void servesAClosedRange() {
        assertRange("bytes=1000-1999", 1000, 1999);
    }

    @Test
    void servesARangeFromAnOffsetToTheEnd() {
        int size = BIG_BYTES.length;
        assertRange("bytes=" + (size - 777) + "-", size - 777, size - 1);
    }

    @Test
    void servesASuffixRange() {
        int size = BIG_BYTES.length;
        assertRange("bytes=-4096", size - 4096, size - 1);
    }

    @Test
    void clipsARangeThatRunsPastTheEnd() {
        int size = BIG_BYTES.length;
        assertRange("bytes=" + (size - 10) + "-" + (size + 1000), size - 10, size - 1);
    }

    @Test
    void servesASingleByteRange() {
        assertRange("bytes=0-0", 0, 0);
    }

    @Test
    void unsatisfiableRangeIsInvalidRange() {
        int size = BIG_BYTES.length;
        assertThatThrownBy(() -> s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("hello/" + BIG).range("bytes=" + size + "-")))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(416);
                    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InvalidRange");
                });
        assertS3Error(sluice.send("GET", "/acme/hello/big.bin", "Range", "bytes=" + (size + 5) + "-" + (size + 10)),
                416, "InvalidRange", "/acme/hello/big.bin");
    }

    @Test
    void anyRangeOfAnEmptyObjectIsInvalidRange() {
        assertS3Error(sluice.send("GET", "/acme/hello/empty.txt", "Range", "bytes=0-"), 416, "InvalidRange",
                "/acme/hello/empty.txt");
    }

    @ParameterizedTest
    @ValueSource(strings = {"bytes=abc", "bytes=5-2", "bytes=0-1,5-6", "items=0-10", "bytes=-", "bytes=1-x"})
    void ignoresARangeHeaderThatDoesNotParseAndServesTheWholeObject(String range) {
        // S3 itself ignores a Range it cannot parse (RFC 9110 §14.2) rather than failing the read.
        RawResponse r = sluice.send("GET", "/acme/hello/greeting.txt", "Range", range);

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(Fixture.bytes("greeting.txt"));
        assertThat(r.header("Content-Range")).isEmpty();
    }

    @Test
    void ifMatchWithTheObjectsETagServesIt() {
        String etag = head("greeting.txt").eTag();

        ResponseBytes<GetObjectResponse> r = s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("hello/greeting.txt").ifMatch(etag));

        assertThat(r.asByteArray()).isEqualTo(Fixture.bytes("greeting.txt"));
    }

    @Test
    void ifMatchWithAnotherETagIsPreconditionFailed() {
        assertThatThrownBy(() -> s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("hello/greeting.txt").ifMatch("\"0123456789abcdef\"")))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(412);
                    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("PreconditionFailed");
                });
        assertS3Error(sluice.send("GET", "/acme/hello/greeting.txt", "If-Match", "\"nope\""), 412, "PreconditionFailed",
                "/acme/hello/greeting.txt");
    }

    @Test
    void anIfMatchOverTheLengthLimitIsInvalidArgumentNotABackendFailure() {
        String huge = ("\"" + "0123456789abcdef".repeat(2) + "\", ").repeat(300);
        List<String> warnings = backendWarnings(() -> assertS3Error(
                sluice.send("GET", "/acme/hello/greeting.txt", "If-Match", huge), 400, "InvalidArgument", "/acme/hello/greeting.txt"));

        assertThat(warnings).isEmpty();
    }

    @Test
    void anIfMatchThatIsNotAListOfEntityTagsIsInvalidArgument() {
        for (String value : List.of("\"unterminated", "\"a\" \"b\"", "\"a\"b\"", "W/\"open", ",")) {
            assertS3Error(sluice.send("GET", "/acme/hello/greeting.txt", "If-Match", value), 400, "InvalidArgument",
                    "/acme/hello/greeting.txt");
        }
    }

    @Test
    void anIfNoneMatchThatIsNotAListOfEntityTagsIsInvalidArgument() {
        assertS3Error(sluice.send("GET", "/acme/hello/greeting.txt", "If-None-Match", "\"open"), 400, "InvalidArgument",
                "/acme/hello/greeting.txt");
    }

    @Test
    void anIfMatchListSeparatedByTabsIsJudgedAsAPreconditionNotRefusedAsCredentials() {
        // Sent on as it came, a list with tabs failed the S3 backend's signature check: 403 and a
        // WARN that sluice's own credentials were refused.
        List<String> warnings = backendWarnings(() -> assertS3Error(
                sluice.send("GET", "/acme/hello/greeting.txt", "If-Match", "\"nope\",\t\"other\"\t,\tW/\"weak\""), 412,
                "PreconditionFailed", "/acme/hello/greeting.txt"));

        assertThat(warnings).isEmpty();
    }

    /** The WARN lines sluice's backends log while {@code action} runs (a refused signature is one). */
    private static List<String> backendWarnings(Runnable action) {
        ch.qos.logback.classic.Logger backends = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.sluice.backend");
        List<String> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
        ch.qos.logback.core.AppenderBase<ch.qos.logback.classic.spi.ILoggingEvent> capture = new ch.qos.logback.core.AppenderBase<>() {
            @Override
            protected void append(ch.qos.logback.classic.spi.ILoggingEvent e) {
                if (e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN)) {
                    warnings.add(e.getFormattedMessage());
                }
            }
        };
        capture.start();
        backends.addAppender(capture);
        try {
            action.run();
        } finally {
            backends.detachAppender(capture);
        }
        return warnings;
    }

    @Test
    void ifNoneMatchWithTheObjectsETagIsNotModified() {
        String etag = head("greeting.txt").eTag();

        RawResponse r = sluice.send("GET", "/acme/hello/greeting.txt", "If-None-Match", etag);

        assertThat(r.status()).isEqualTo(304);
        assertThat(r.body()).isEmpty();
        assertThat(r.header("ETag")).hasValue(etag);
        assertThatThrownBy(() -> s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("hello/greeting.txt").ifNoneMatch(etag)))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(304));
    }

    @Test
    void ifNoneMatchWithAnotherETagServesTheObject() {
        ResponseBytes<GetObjectResponse> r = s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("hello/greeting.txt")
                .ifNoneMatch("\"0123456789abcdef\""));

        assertThat(r.asByteArray()).isEqualTo(Fixture.bytes("greeting.txt"));
    }

    /**
     * {@code If-None-Match: *} is false for any object that exists (RFC 9110 §13.1.2), so a GET
     * or HEAD of one is 304, as AWS S3 answers; {@code If-Match: *} holds for it. Some
     * S3-compatible servers (S3Proxy) ignore the {@code *}; sluice answers alike on every backend.
     */
    @Test
    void ifNoneMatchAnyIsNotModifiedForAnExistingObject() {
        String etag = head("greeting.txt").eTag();

        RawResponse get = sluice.send("GET", "/acme/hello/greeting.txt", "If-None-Match", "*");
        RawResponse head = sluice.send("HEAD", "/acme/hello/greeting.txt", "If-None-Match", "*");
        RawResponse both = sluice.send("GET", "/acme/hello/greeting.txt", "If-Match", "*", "If-None-Match", "*");

        assertThat(get.status()).isEqualTo(304);
        assertThat(get.body()).isEmpty();
        assertThat(get.header("ETag")).hasValue(etag);
        assertThat(head.status()).isEqualTo(304);
        assertThat(both.status()).isEqualTo(304);
        assertThatThrownBy(() -> s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("hello/greeting.txt").ifNoneMatch("*")))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(304));
        assertS3Error(sluice.send("GET", "/acme/hello/no-such-key", "If-None-Match", "*"), 404, "NoSuchKey",
                "/acme/hello/no-such-key");
    }

    @Test
    void ifMatchAnyServesAnExistingObject() {
        RawResponse r = sluice.send("GET", "/acme/hello/greeting.txt", "If-Match", "*");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(Fixture.bytes("greeting.txt"));
    }

    @Test
    void ifModifiedSinceTheLastModificationIsNotModified() {
        Instant modified = head("greeting.txt").lastModified();

        RawResponse r = sluice.send("GET", "/acme/hello/greeting.txt", "If-Modified-Since", HTTP_DATE.format(modified));

        assertThat(r.status()).isEqualTo(304);
        assertThat(r.body()).isEmpty();
        RawResponse later = sluice.send("GET", "/acme/hello/greeting.txt", "If-Modified-Since",
                HTTP_DATE.format(modified.plus(Duration.ofDays(1))));
        assertThat(later.status()).isEqualTo(304);
    }

    @Test
    void ifModifiedSinceAnEarlierTimeServesTheObject() {
        Instant modified = head("greeting.txt").lastModified();

        ResponseBytes<GetObjectResponse> r = s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("hello/greeting.txt")
                .ifModifiedSince(modified.minus(Duration.ofDays(1))));

        assertThat(r.asByteArray()).isEqualTo(Fixture.bytes("greeting.txt"));
    }

    @Test
    void ifUnmodifiedSinceAnEarlierTimeIsPreconditionFailed() {
        Instant modified = head("greeting.txt").lastModified();

        assertThatThrownBy(() -> s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("hello/greeting.txt")
                .ifUnmodifiedSince(modified.minus(Duration.ofDays(1)))))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(412);
                    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("PreconditionFailed");
                });
    }

    @Test
    void ifUnmodifiedSinceTheLastModificationServesTheObject() {
        Instant modified = head("greeting.txt").lastModified();

        RawResponse r = sluice.send("GET", "/acme/hello/greeting.txt", "If-Unmodified-Since", HTTP_DATE.format(modified));

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(Fixture.bytes("greeting.txt"));
    }

    // ---------------------------------------------------------------- HeadObject

    @Test
    void headReportsWhatGetServesWithoutABody() {
        ResponseBytes<GetObjectResponse> get = s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("hello/" + BIG));
        HeadObjectResponse head = head(BIG);

        assertThat(head.contentLength()).isEqualTo(BIG_BYTES.length);
        assertThat(head.eTag()).isEqualTo(get.response().eTag());
        assertThat(head.lastModified()).isEqualTo(get.response().lastModified());
        assertThat(head.contentType()).isEqualTo(get.response().contentType());
        assertThat(head.acceptRanges()).isEqualTo("bytes");

        RawResponse raw = sluice.send("HEAD", "/acme/hello/big.bin");
        assertThat(raw.status()).isEqualTo(200);
        assertThat(raw.body()).isEmpty();
        assertThat(raw.header("Content-Length")).hasValue(Integer.toString(BIG_BYTES.length));
    }

    @Test
    void headWithARangeIsPartialWithTheRangesLength() {
        HeadObjectResponse head = s3.headObject(b -> b.bucket(ACCOUNT).key("hello/" + BIG).range("bytes=10-19"));

        assertThat(head.contentLength()).isEqualTo(10);
        assertThat(head.contentRange()).isEqualTo("bytes 10-19/" + BIG_BYTES.length);

        RawResponse raw = sluice.send("HEAD", "/acme/hello/big.bin", "Range", "bytes=-100");
        assertThat(raw.status()).isEqualTo(206);
        assertThat(raw.header("Content-Length")).hasValue("100");
        assertThat(raw.header("Content-Range")).hasValue("bytes " + (BIG_BYTES.length - 100) + "-" + (BIG_BYTES.length - 1) + "/" + BIG_BYTES.length);
        assertThat(raw.body()).isEmpty();
    }

    @Test
    void partOneIsTheWholeObjectAsARangeAndNoOtherPartExists() {
        ResponseBytes<GetObjectResponse> part = s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("hello/" + BIG).partNumber(1));

        assertThat(part.asByteArray()).isEqualTo(BIG_BYTES);
        assertThat(part.response().contentRange()).isEqualTo("bytes 0-" + (BIG_BYTES.length - 1) + "/" + BIG_BYTES.length);
        assertThat(part.response().partsCount()).isNull();
        assertThat(s3.headObject(b -> b.bucket(ACCOUNT).key("hello/" + BIG).partNumber(1)).contentLength())
                .isEqualTo(BIG_BYTES.length);
        RawResponse empty = sluice.send("GET", "/acme/hello/" + EMPTY + "?partNumber=1");
        assertThat(empty.status()).isEqualTo(200);
        assertThat(empty.body()).isEmpty();
        assertS3Error(sluice.send("GET", "/acme/hello/greeting.txt?partNumber=2"), 416, "InvalidPartNumber",
                "/acme/hello/greeting.txt");
        assertS3Error(sluice.send("GET", "/acme/hello/no-such-key?partNumber=2"), 404, "NoSuchKey", "/acme/hello/no-such-key");
    }

    @Test
    void versionIdNullIsTheCurrentObject() {
        assertThat(s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("hello/greeting.txt").versionId("null")).asByteArray())
                .isEqualTo(Fixture.bytes("greeting.txt"));
        assertS3Error(sluice.send("GET", "/acme/hello/greeting.txt?versionId=abc"), 400, "InvalidArgument",
                "/acme/hello/greeting.txt");
    }

    @Test
    void headOfAnUnknownKeyIsNotFoundWithoutABody() {
        assertThatThrownBy(() -> s3.headObject(b -> b.bucket(ACCOUNT).key("hello/no-such-key")))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(404));

        RawResponse raw = sluice.send("HEAD", "/acme/hello/no-such-key");
        assertThat(raw.status()).isEqualTo(404);
        assertThat(raw.body()).isEmpty();
        assertThat(raw.header("x-amz-request-id")).isPresent();
    }

    // ---------------------------------------------------------------- special keys

    Stream<String> specialKeys() {
        return Fixture.SPECIAL_KEYS.stream();
    }

    @ParameterizedTest
    @MethodSource("specialKeys")
    void specialKeyRoundTripsThroughGetHeadAndList(String key) {
        byte[] expected = Fixture.bytes(key);
        String fullKey = "hello/" + key;

        ResponseBytes<GetObjectResponse> get = s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key(fullKey));
        assertThat(get.asByteArray()).isEqualTo(expected);

        HeadObjectResponse head = s3.headObject(b -> b.bucket(ACCOUNT).key(fullKey));
        assertThat(head.contentLength()).isEqualTo(expected.length);
        assertThat(head.eTag()).isEqualTo(get.response().eTag());

        ListObjectsV2Response list = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix(fullKey));
        assertThat(list.contents()).singleElement().satisfies(o -> {
            assertThat(o.key()).isEqualTo(fullKey);
            assertThat(o.size()).isEqualTo(expected.length);
            assertThat(o.eTag()).isEqualTo(head.eTag());
        });

        ListObjectsV2Response encoded = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix(fullKey).encodingType(EncodingType.URL));
        assertThat(keysOf(encoded)).containsExactly(fullKey);
        assertThat(encoded.prefix()).isEqualTo(fullKey);

        ListObjectsResponse v1 = s3.listObjects(b -> b.bucket(ACCOUNT).prefix("hello/").marker(fullKey).encodingType(EncodingType.URL));
        assertThat(v1.marker()).isEqualTo(fullKey);
        assertThat(v1.contents()).extracting(S3Object::key).noneMatch(k -> Fixture.S3_ORDER.compare(k, fullKey) <= 0);

        RawResponse raw = sluice.send("GET", "/acme/" + encodePath(fullKey));
        assertThat(raw.status()).isEqualTo(200);
        assertThat(raw.body()).isEqualTo(expected);
    }

    @Test
    void percentInAKeyIsNotDecodedTwice() {
        assertThat(s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("hello/100%.txt")).asUtf8String())
                .isEqualTo("contents of 100%.txt\n");
        assertThat(s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("hello/100%25.txt")).asUtf8String())
                .isEqualTo("contents of 100%25.txt\n");
    }

    @Test
    void plusInAPathIsAPlusNotASpace() {
        RawResponse plus = sluice.send("GET", "/acme/hello/a+b.txt");
        RawResponse space = sluice.send("GET", "/acme/hello/a%20b.txt");

        assertThat(plus.text()).isEqualTo("contents of a+b.txt\n");
        assertThat(space.text()).isEqualTo("contents of a b.txt\n");
    }

    // ---------------------------------------------------------------- errors

    @Test
    void unknownKeyIsNoSuchKey() {
        assertThatThrownBy(() -> s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("hello/no-such-key.txt")))
                .isInstanceOf(NoSuchKeyException.class);
        assertS3Error(sluice.send("GET", "/acme/hello/no-such-key.txt"), 404, "NoSuchKey", "/acme/hello/no-such-key.txt");
        assertS3Error(sluice.send("GET", "/acme/hello/nested"), 404, "NoSuchKey", "/acme/hello/nested");
    }

    @Test
    void productWithoutAKeyIsNoSuchKey() {
        assertS3Error(sluice.send("GET", "/acme/hello"), 404, "NoSuchKey", "/acme/hello");
        assertS3Error(sluice.send("GET", "/acme/hello/"), 404, "NoSuchKey", "/acme/hello/");
    }

    @Test
    void unknownProductIsNoSuchBucket() {
        assertThatThrownBy(() -> s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("no-such-product/greeting.txt")))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(404);
                    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("NoSuchBucket");
                });
        assertS3Error(sluice.send("GET", "/acme/no-such-product/greeting.txt"), 404, "NoSuchBucket",
                "/acme/no-such-product/greeting.txt");
    }

    @Test
    void restrictedProductIsNoSuchBucketToAnonymousCallers() {
        assertS3Error(sluice.send("GET", "/acme/secret/hidden.txt"), 404, "NoSuchBucket", "/acme/secret/hidden.txt");
        assertS3Error(sluice.send("GET", "/acme/secret/no-such-key"), 404, "NoSuchBucket", "/acme/secret/no-such-key");
    }

    @Test
    void unknownAccountIsNoSuchBucket() {
        assertThatThrownBy(() -> s3.getObjectAsBytes(b -> b.bucket("no-such-account").key("hello/greeting.txt")))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(404);
                    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("NoSuchBucket");
                });
        assertS3Error(sluice.send("GET", "/no-such-account/hello/greeting.txt"), 404, "NoSuchBucket",
                "/no-such-account/hello/greeting.txt");
        assertThat(sluice.send("HEAD", "/no-such-account").status()).isEqualTo(404);
        assertThat(sluice.send("HEAD", "/acme").status()).isEqualTo(200);
    }

    @Test
    void writesThroughTheSdkAreRefusedToAnAnonymousCaller() {
        Consumer<S3Exception> accessDenied = e -> {
            assertThat(e.statusCode()).isEqualTo(403);
            assertThat(e.awsErrorDetails().errorCode()).isEqualTo("AccessDenied");
        };
        // The SDK sends PutObject with "Expect: 100-continue", and its URLConnection client cannot
        // read the body of a final answer to that (it says so in its message), so only the status
        // is checked here; anonymousWritesAreAccessDenied checks the document.
        assertThatThrownBy(() -> s3.putObject(b -> b.bucket(ACCOUNT).key("hello/new.txt"), RequestBody.fromString("new")))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(403));
        assertThatThrownBy(() -> s3.deleteObject(b -> b.bucket(ACCOUNT).key("hello/greeting.txt")))
                .isInstanceOfSatisfying(S3Exception.class, accessDenied);
        assertThatThrownBy(() -> s3.createBucket(b -> b.bucket("new-account")))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(501);
                    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("NotImplemented");
                });
        assertThat(s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("hello/greeting.txt")).asByteArray())
                .isEqualTo(Fixture.bytes("greeting.txt"));
    }

    Stream<Arguments> anonymousWrites() {
        return Stream.of(
                Arguments.of("PUT", "/acme/hello/new.txt"),
                Arguments.of("PUT", "/acme/hello/greeting.txt"),
                Arguments.of("DELETE", "/acme/hello/greeting.txt"),
                Arguments.of("DELETE", "/acme/hello/big.bin?uploadId=x"));
    }

    @ParameterizedTest
    @MethodSource("anonymousWrites")
    void anonymousWritesAreAccessDenied(String method, String target) {
        String path = target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
        assertS3Error(sluice.send(method, target), 403, "AccessDenied", path);
        assertThat(s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("hello/greeting.txt")).asByteArray())
                .isEqualTo(Fixture.bytes("greeting.txt"));
    }

    Stream<Arguments> unsupportedWrites() {
        return Stream.of(
                Arguments.of("POST", "/acme/hello/greeting.txt"),
                Arguments.of("PUT", "/acme"),
                Arguments.of("DELETE", "/acme"),
                Arguments.of("PUT", "/"));
    }

    @ParameterizedTest
    @MethodSource("unsupportedWrites")
    void writesSluiceDoesNotServeAreNotImplemented(String method, String path) {
        assertS3Error(sluice.send(method, path), 501, "NotImplemented", path);
    }

    @Test
    void unknownMethodIsMethodNotAllowed() {
        assertS3Error(sluice.send("PATCH", "/acme/hello/greeting.txt"), 405, "MethodNotAllowed", "/acme/hello/greeting.txt");
    }

    Stream<String> degenerateKeyPaths() {
        return Stream.of(
                "/acme/hello/../world/readme.txt",
                "/acme/hello/nested/../greeting.txt",
                "/acme/hello/%2e%2e/world/readme.txt",
                "/acme/hello/nested/%2e%2e/greeting.txt",
                "/acme/hello/nested%2F..%2Fgreeting.txt",
                "/acme/hello/./greeting.txt",
                "/acme/hello/%2e/greeting.txt",
                "/acme/hello/nested/.",
                "/acme/hello/nested/..",
                "/acme/hello//greeting.txt",
                "/acme/hello/nested//note.txt",
                "/acme//hello/greeting.txt",
                "/acme/hello/nested%2F%2Fnote.txt",
                "/acme/hello/line%0Abreak.txt");
    }

    @ParameterizedTest
    @MethodSource("degenerateKeyPaths")
    void degenerateKeyIsInvalidRequest(String path) {
        assertS3Error(sluice.send("GET", path), 400, "InvalidRequest", path);
        RawResponse head = sluice.send("HEAD", path);
        assertThat(head.status()).isEqualTo(400);
        assertThat(head.body()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/acme/hello/%C3%28.txt", "/acme/hello/%FF.txt", "/acme/%C3%28/x.txt"})
    void pathThatIsNotUtf8IsInvalidRequest(String path) {
        assertS3Error(sluice.send("GET", path), 400, "InvalidRequest", path);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/acme/hello/%zz.txt", "/acme/hello/100%.txt", "/acme/hello/a%00b.txt",
            "/acme/hello/%2E%2E/%2E%2E/%2E%2E/etc/passwd"})
    void pathJettyCannotParseIsInvalidRequest(String path) {
        // java.net.URI refuses some of these, so they go out over a bare socket. Jetty refuses
        // them before sluice sees the request line, so the document names no resource.
        RawResponse r = rawSocketGet(path);

        assertS3Error(r, 400, "InvalidRequest", "");
    }

    @Test
    void errorBodiesNameNoInternals() {
        List<RawResponse> errors = List.of(
                sluice.send("GET", "/acme/hello/no-such-key"),
                sluice.send("GET", "/acme/nope/x"),
                sluice.send("GET", "/acme/hello/%2e%2e/x"),
                sluice.send("GET", "/acme?list-type=2&max-keys=lots"),
                sluice.send("GET", "/acme?list-type=2&continuation-token=%FF%FE"),
                sluice.send("GET", "/acme/hello/big.bin", "Range", "bytes=99999999-"),
                sluice.send("PUT", "/acme/hello/x"),
                sluice.send("GET", "/acme?encoding-type=base64"));
        for (RawResponse r : errors) {
            assertThat(r.status()).as(r.text()).isBetween(400, 599);
            assertThat(r.text()).as("error body").startsWith("<?xml").contains("<Error>")
                    .doesNotContainIgnoringCase("exception").doesNotContain("java.").doesNotContain("dev.sluice")
                    .doesNotContainPattern("\\sat [\\w$.]+\\(");
            assertThat(r.header("x-amz-request-id")).hasValue(S3ErrorAssert.parse(r.body()).requestId());
        }
    }

    @Test
    void everyResponseHasItsOwnRequestId() {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            ids.add(sluice.send("GET", "/acme/hello/greeting.txt").header("x-amz-request-id").orElseThrow());
        }
        assertThat(ids).hasSize(5);
    }

    // ---------------------------------------------------------------- CORS

    @Test
    void preflightIsAnsweredWithCorsHeaders() {
        RawResponse r = sluice.send("OPTIONS", "/acme/hello/big.bin",
                "Origin", "https://app.example",
                "Access-Control-Request-Method", "GET",
                "Access-Control-Request-Headers", "range, if-none-match");

        assertThat(r.status()).isEqualTo(204);
        assertThat(r.body()).isEmpty();
        assertThat(r.header("Access-Control-Allow-Origin")).hasValue("*");
        assertThat(tokens(r.header("Access-Control-Allow-Methods"))).contains("get", "head");
        assertThat(tokens(r.header("Access-Control-Allow-Headers"))).contains("range", "if-none-match");
        assertCorsExposure(r);
    }

    Stream<Arguments> assortedRequests() {
        return Stream.of(
                Arguments.of("GET", "/", new String[0]),
                Arguments.of("GET", "/acme/hello/greeting.txt", new String[0]),
                Arguments.of("HEAD", "/acme/hello/greeting.txt", new String[0]),
                Arguments.of("GET", "/acme/hello/big.bin", new String[]{"Range", "bytes=0-9"}),
                Arguments.of("GET", "/acme/hello/greeting.txt", new String[]{"If-None-Match", "*"}),
                Arguments.of("GET", "/acme?list-type=2&prefix=hello%2F", new String[0]),
                Arguments.of("GET", "/acme?prefix=hello%2F", new String[0]),
                Arguments.of("GET", "/acme/hello/no-such-key", new String[0]),
                Arguments.of("GET", "/acme/hello/big.bin", new String[]{"Range", "bytes=99999999-"}),
                Arguments.of("GET", "/acme/hello/greeting.txt", new String[]{"If-Match", "\"other\""}),
                Arguments.of("GET", "/acme/hello/%2e%2e/x", new String[0]),
                Arguments.of("GET", "/acme/hello/%2E%2E/%2E%2E/%2E%2E/etc/passwd", new String[0]),
                Arguments.of("PUT", "/acme/hello/x", new String[0]),
                Arguments.of("GET", "/no-such-account?list-type=2", new String[0]));
    }

    @ParameterizedTest
    @MethodSource("assortedRequests")
    void everyResponseAllowsAnyOriginAndExposesReadHeaders(String method, String path, String[] headers) {
        String[] withOrigin = Stream.concat(Arrays.stream(headers), Stream.of("Origin", "https://app.example"))
                .toArray(String[]::new);
        RawResponse r = sluice.send(method, path, withOrigin);

        assertThat(r.header("Access-Control-Allow-Origin")).as("%s %s -> %d", method, path, r.status()).hasValue("*");
        assertCorsExposure(r);
    }

    // ---------------------------------------------------------------- callers with keys sluice does not know

    @Test
    void readsSignedWithAnUnknownKeyAreServedAsAnonymous() {
        S3Client signed = sluice.unknownKeyClient();

        assertThat(signed.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("hello/" + BIG)).asByteArray()).isEqualTo(BIG_BYTES);
        assertThat(signed.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("hello/a+b.txt")).asByteArray())
                .isEqualTo(Fixture.bytes("a+b.txt"));
        assertThat(signed.headObject(b -> b.bucket(ACCOUNT).key("hello/" + Fixture.UNICODE)).contentLength())
                .isEqualTo(Fixture.bytes(Fixture.UNICODE).length);
        assertThat(keysOf(signed.listObjectsV2(b -> b.bucket(ACCOUNT).prefix("hello/"))))
                .containsExactlyElementsOf(expected("hello/", Optional.empty()).contents());
        // Where anonymous callers are not served, a stray key is told so (whether or not the
        // product exists, so nothing is revealed) rather than being answered as anonymous.
        assertThatThrownBy(() -> signed.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("secret/hidden.txt")))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InvalidAccessKeyId"));
        assertThatThrownBy(() -> signed.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("no-such-product/x.txt")))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InvalidAccessKeyId"));
    }

    // ---------------------------------------------------------------- admin

    @Test
    void healthAndReadinessAreOk() {
        assertThat(sluice.admin("/healthz").status()).isEqualTo(200);
        assertThat(sluice.admin("/readyz").status()).isEqualTo(200);
        assertThat(sluice.admin("/no-such-page").status()).isEqualTo(404);
    }

    @Test
    void adminEndpointsAreNotServedOnTheS3Listener() {
        assertThat(sluice.send("GET", "/healthz").header("Content-Type")).hasValueSatisfying(t -> assertThat(t).contains("xml"));
    }

    @Test
    void metricsCountRequestsByOperationAndStatusAndResponseBytes() {
        s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("hello/greeting.txt"));

        RawResponse r = sluice.admin("/metrics");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text())
                .containsPattern("(?m)^sluice_requests_seconds_count\\{operation=\"GetObject\",status=\"200\"} [1-9]")
                .containsPattern("(?m)^sluice_response_bytes_total [1-9]");
        assertThat(r.text()).doesNotContain("greeting.txt");
    }

    // ---------------------------------------------------------------- helpers

    private HeadObjectResponse head(String key) {
        return s3.headObject(b -> b.bucket(ACCOUNT).key("hello/" + key));
    }

    private void assertRange(String range, int first, int last) {
        ResponseBytes<GetObjectResponse> r = s3.getObjectAsBytes(b -> b.bucket(ACCOUNT).key("hello/" + BIG).range(range));

        assertThat(r.asByteArray()).isEqualTo(Arrays.copyOfRange(BIG_BYTES, first, last + 1));
        assertThat(r.response().contentLength()).isEqualTo(last - first + 1);
        assertThat(r.response().contentRange()).isEqualTo("bytes " + first + "-" + last + "/" + BIG_BYTES.length);

        RawResponse raw = sluice.send("GET", "/acme/hello/big.bin", "Range", range);
        assertThat(raw.status()).isEqualTo(206);
        assertThat(raw.header("Content-Range")).hasValue("bytes " + first + "-" + last + "/" + BIG_BYTES.length);
        assertThat(raw.header("Content-Length")).hasValue(Integer.toString(last - first + 1));
    }

    protected Fixture.Listing expected(String prefix, Optional<String> delimiter) {
        return Fixture.expectedListing(Fixture.publicAccountKeys(), directoryMarkers(), prefix, delimiter);
    }

    /** One unpaginated listing, compared in full with the model. */
    protected Fixture.Listing assertListing(String prefix, Optional<String> delimiter) {
        ListObjectsV2Response r = s3.listObjectsV2(b -> b.bucket(ACCOUNT).prefix(prefix).delimiter(delimiter.orElse(null)));
        Fixture.Listing expected = expected(prefix, delimiter);

        assertThat(keysOf(r)).as("contents").containsExactlyElementsOf(expected.contents());
        assertThat(prefixesOf(r)).as("common prefixes").containsExactlyElementsOf(expected.commonPrefixes());
        assertThat(r.keyCount()).isEqualTo(expected.keyCount());
        assertThat(r.isTruncated()).isFalse();
        assertThat(r.prefix()).isEqualTo(prefix);
        assertThat(r.delimiter()).isEqualTo(delimiter.orElse(null));
        assertThat(r.maxKeys()).isEqualTo(1000);
        return expected;
    }

    /** Walks every page with the SDK's paginator; every entry must appear exactly once, in order. */
    protected void assertPaginated(String prefix, Optional<String> delimiter, int maxKeys) {
        List<String> contents = new ArrayList<>();
        List<String> prefixes = new ArrayList<>();
        List<ListObjectsV2Response> pages = new ArrayList<>();
        for (ListObjectsV2Response page : s3.listObjectsV2Paginator(b -> b.bucket(ACCOUNT).prefix(prefix)
                .delimiter(delimiter.orElse(null)).maxKeys(maxKeys))) {
            pages.add(page);
            assertThat(pages.size()).as("pages").isLessThan(200);
            contents.addAll(keysOf(page));
            prefixes.addAll(prefixesOf(page));
        }
        Fixture.Listing expected = expected(prefix, delimiter);
        String what = "prefix '" + prefix + "', delimiter " + delimiter + ", max-keys " + maxKeys;

        assertThat(contents).as(what).containsExactlyElementsOf(expected.contents());
        assertThat(prefixes).as(what).containsExactlyElementsOf(expected.commonPrefixes());
        for (int i = 0; i < pages.size(); i++) {
            ListObjectsV2Response page = pages.get(i);
            boolean last = i == pages.size() - 1;
            assertThat(page.keyCount()).as(what + ", page " + i).isEqualTo(page.contents().size() + page.commonPrefixes().size())
                    .isLessThanOrEqualTo(maxKeys);
            assertThat(page.isTruncated()).as(what + ", page " + i + " truncated").isEqualTo(!last);
            assertThat(page.nextContinuationToken() != null).as(what + ", page " + i + " token").isEqualTo(!last);
            if (i > 0) {
                assertThat(page.continuationToken()).isEqualTo(pages.get(i - 1).nextContinuationToken());
            }
        }
        assertThat(pages.size()).as(what + ": pages").isGreaterThanOrEqualTo((expected.keyCount() + maxKeys - 1) / maxKeys);
    }

    protected List<String> allKeys(ListObjectsV2Request request) {
        List<String> keys = new ArrayList<>();
        s3.listObjectsV2Paginator(request).forEach(p -> keys.addAll(keysOf(p)));
        return keys;
    }

    protected static List<String> keysOf(ListObjectsV2Response r) {
        return r.contents().stream().map(S3Object::key).toList();
    }

    protected static List<String> prefixesOf(ListObjectsV2Response r) {
        return r.commonPrefixes().stream().map(CommonPrefix::prefix).toList();
    }

    private static void assertCorsExposure(RawResponse r) {
        assertThat(tokens(r.header("Access-Control-Expose-Headers")))
                .containsAll(EXPOSED.stream().map(h -> h.toLowerCase(Locale.ROOT)).toList());
    }

    private static List<String> tokens(Optional<String> header) {
        assertThat(header).isPresent();
        return Arrays.stream(header.get().split(",")).map(s -> s.trim().toLowerCase(Locale.ROOT)).toList();
    }

    /** Percent-encodes a key as S3 clients do: every byte but the unreserved ones and {@code /}. */
    static String encodePath(String key) {
        return URLEncoder.encode(key, StandardCharsets.UTF_8)
                .replace("+", "%20").replace("*", "%2A").replace("%7E", "~").replace("%2F", "/");
    }

    /** A GET written by hand onto a socket, for request lines java.net.URI would refuse to build. */
    private RawResponse rawSocketGet(String rawPath) {
        URI endpoint = sluice.s3Endpoint();
        try (Socket socket = new Socket(endpoint.getHost(), endpoint.getPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + rawPath + " HTTP/1.1\r\nHost: " + endpoint.getAuthority() + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            return RawHttp.parse(all.toByteArray());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
