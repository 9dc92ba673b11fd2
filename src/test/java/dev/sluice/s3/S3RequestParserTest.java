package dev.sluice.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class S3RequestParserTest {

    private static Operation parse(String method, String rawPath, String rawQuery, Map<String, String> headers) {
        TreeMap<String, String> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        h.putAll(headers);
        return S3RequestParser.parse(method, rawPath, rawQuery, name -> Optional.ofNullable(h.get(name)));
    }

    private static Operation get(String rawPath, String rawQuery) {
        return parse("GET", rawPath, rawQuery, Map.of());
    }

    private static Operation.ReadObject getObject(String rawPath) {
        return (Operation.ReadObject) get(rawPath, null);
    }

    private static ListRequest list(String rawQuery) {
        Operation op = get("/demo", rawQuery);
        assertThat(op).isInstanceOf(Operation.ListAccount.class);
        return ((Operation.ListAccount) op).list();
    }

    private static void assertRejected(Runnable parse, S3Error error) {
        assertThatThrownBy(parse::run).isInstanceOfSatisfying(S3Exception.class, e -> {
            assertThat(e.error()).isEqualTo(error);
            assertThat(e.error().code()).isEqualTo(error.code());
            assertThat(e.error().status()).isEqualTo(error.status());
        });
    }

    // --- operations ----------------------------------------------------------------------------

    @Test
    void rootIsListBuckets() {
        assertThat(get("/", null)).isEqualTo(new Operation.ListAccounts(""));
        assertThat(get("/", "prefix=de")).isEqualTo(new Operation.ListAccounts("de"));
        assertThat(get("/", "x-id=ListBuckets&max-buckets=1000")).isEqualTo(new Operation.ListAccounts(""));
        assertThat(parse("HEAD", "/", null, Map.of())).isEqualTo(new Operation.ListAccounts(""));
        assertThat(get("/", null).name()).isEqualTo("ListBuckets");
    }

    @Test
    void rootAskedForJsonIsServiceInfo() {
        assertThat(parse("GET", "/", null, Map.of("Accept", "application/json"))).isEqualTo(new Operation.ServiceInfo());
        assertThat(parse("GET", "/", null, Map.of("Accept", "text/html, application/json;q=0.9")))
                .isEqualTo(new Operation.ServiceInfo());
        assertThat(parse("GET", "/", null, Map.of("Accept", "*/*"))).isEqualTo(new Operation.ListAccounts(""));
    }

    @Test
    void getObjectSplitsAccountProductAndKey() {
        Operation.ReadObject op = getObject("/demo/hello/nested/deeper/file.txt");

        assertThat(op.account()).isEqualTo("demo");
        assertThat(op.product()).isEqualTo("hello");
        assertThat(op.key()).isEqualTo("nested/deeper/file.txt");
        assertThat(op.headOnly()).isFalse();
        assertThat(op.name()).isEqualTo("GetObject");
        assertThat(op.range()).isEmpty();
        assertThat(op.preconditions()).isEqualTo(Preconditions.NONE);
        assertThat(op.overrides()).isEqualTo(ResponseOverrides.NONE);
    }

    @Test
    void headObjectIsAReadWithoutBody() {
        Operation.ReadObject op = (Operation.ReadObject) parse("HEAD", "/demo/hello/greeting.txt", null, Map.of());

        assertThat(op.headOnly()).isTrue();
        assertThat(op.name()).isEqualTo("HeadObject");
        assertThat(op.key()).isEqualTo("greeting.txt");
    }

    @Test
    void headObjectWithRangeKeepsTheRange() {
        Operation.ReadObject op = (Operation.ReadObject) parse("HEAD", "/demo/hello/greeting.txt", null,
                Map.of("Range", "bytes=0-9"));

        assertThat(op.headOnly()).isTrue();
        assertThat(op.range()).contains(new ByteRange.FromTo(0, Optional.of(9L)));
    }

    @Test
    void getObjectCarriesRangeConditionsAndResponseOverrides() {
        Operation.ReadObject op = (Operation.ReadObject) parse("GET", "/demo/hello/greeting.txt",
                "response-content-type=text%2Fcsv&response-content-disposition=attachment%3B%20filename%3Dx.csv",
                Map.of("range", "bytes=-5", "if-none-match", "\"abc\"",
                        "If-Modified-Since", "Mon, 03 Jun 2024 10:15:30 GMT"));

        assertThat(op.range()).contains(new ByteRange.Suffix(5));
        assertThat(op.preconditions().ifNoneMatch()).contains("\"abc\"");
        assertThat(op.preconditions().ifModifiedSince()).contains(Instant.parse("2024-06-03T10:15:30Z"));
        assertThat(op.overrides().headers()).containsExactlyInAnyOrder(
                Map.entry("Content-Type", "text/csv"),
                Map.entry("Content-Disposition", "attachment; filename=x.csv"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET", "HEAD"})
    void versionIdNullReadsTheCurrentObject(String method) {
        Operation.ReadObject op = (Operation.ReadObject) parse(method, "/demo/hello/greeting.txt", "versionId=null", Map.of());

        assertThat(op.key()).isEqualTo("greeting.txt");
        assertThat(op.range()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"versionId=x", "versionId=3HL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY", "versionId=", "versionId=NULL"})
    void anotherVersionIdIsInvalidArgumentAsOnAnUnversionedBucket(String query) {
        assertRejected(() -> get("/demo/hello/greeting.txt", query), S3Error.INVALID_ARGUMENT);
        assertRejected(() -> parse("HEAD", "/demo/hello/greeting.txt", query, Map.of()), S3Error.INVALID_ARGUMENT);
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET", "HEAD"})
    void partNumberIsReadAsAPart(String method) {
        Operation.ReadObject op = (Operation.ReadObject) parse(method, "/demo/hello/greeting.txt", "partNumber=1", Map.of());

        assertThat(op.partNumber()).contains(1);
        assertThat(op.range()).isEmpty();
        assertThat(((Operation.ReadObject) get("/demo/hello/greeting.txt", "partNumber=10000")).partNumber()).contains(10000);
        assertThat(getObject("/demo/hello/greeting.txt").partNumber()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-1", "10001", "abc", "", "1.0", "99999999999999999999"})
    void partNumberOutsideOneToTenThousandIsInvalidArgument(String value) {
        assertRejected(() -> get("/demo/hello/greeting.txt", "partNumber=" + value), S3Error.INVALID_ARGUMENT);
    }

    @Test
    void partNumberWithARangeIsInvalidRequest() {
        assertRejected(() -> parse("GET", "/demo/hello/greeting.txt", "partNumber=1", Map.of("Range", "bytes=0-9")),
                S3Error.INVALID_REQUEST);
    }

    @Test
    void anIgnoredRangeHeaderLeavesTheReadWhole() {
        Operation.ReadObject op = (Operation.ReadObject) parse("GET", "/demo/hello/greeting.txt", null,
                Map.of("Range", "bytes=0-1,5-6"));

        assertThat(op.range()).isEmpty();
    }

    @Test
    void productWithoutKeyIsAReadWithAnEmptyKey() {
        // Reads answers NoSuchKey for these; the parser only has to keep them apart from listings.
        assertThat(getObject("/demo/hello").key()).isEmpty();
        assertThat(getObject("/demo/hello/").key()).isEmpty();
        assertThat(getObject("/demo/hello/").product()).isEqualTo("hello");
    }

    @Test
    void aKeyMayEndWithASlash() {
        assertThat(getObject("/demo/hello/dir/").key()).isEqualTo("dir/");
    }

    @Test
    void accountAloneIsAListing() {
        Operation op = get("/demo", null);

        assertThat(op).isInstanceOf(Operation.ListAccount.class);
        assertThat(((Operation.ListAccount) op).account()).isEqualTo("demo");
        assertThat(op.name()).isEqualTo("ListObjects");
        assertThat(get("/demo/", "list-type=2")).isInstanceOf(Operation.ListAccount.class);
        assertThat(get("/demo/", "list-type=2").name()).isEqualTo("ListObjectsV2");
    }

    @Test
    void headAccountIsHeadBucket() {
        assertThat(parse("HEAD", "/demo", null, Map.of())).isEqualTo(new Operation.HeadAccount("demo"));
        assertThat(parse("HEAD", "/demo/", null, Map.of())).isEqualTo(new Operation.HeadAccount("demo"));
    }

    @Test
    void locationIsGetBucketLocation() {
        assertThat(get("/demo", "location")).isEqualTo(new Operation.GetAccountLocation("demo"));
        assertThat(get("/demo", "location=")).isEqualTo(new Operation.GetAccountLocation("demo"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"versioning", "acl", "policy", "cors", "lifecycle", "tagging", "versions", "website",
        "delete", "object-lock", "publicAccessBlock"})
    void bucketSubresourcesAreUnsupported(String subresource) {
        Operation op = get("/demo", subresource);

        assertThat(op).isInstanceOf(Operation.Unsupported.class);
        assertThat(((Operation.Unsupported) op).account()).contains("demo");
    }

    @ParameterizedTest
    @ValueSource(strings = {"acl", "tagging", "attributes", "uploads", "torrent", "retention", "legal-hold"})
    void objectSubresourcesAreUnsupported(String query) {
        Operation op = get("/demo/hello/greeting.txt", query);

        assertThat(op).isInstanceOf(Operation.Unsupported.class);
        assertThat(((Operation.Unsupported) op).account()).contains("demo");
        assertThat(op.name()).isEqualTo("Unsupported");
    }

    // --- writes ----------------------------------------------------------------------------------

    /** A request with its headers as sent, in order (name, value, name, value, …). */
    private static Operation write(String method, String rawPath, String rawQuery, String... headers) {
        List<Map.Entry<String, String>> list = new ArrayList<>();
        for (int i = 0; i < headers.length; i += 2) {
            list.add(Map.entry(headers[i], headers[i + 1]));
        }
        return S3RequestParser.parse(method, rawPath, rawQuery, list);
    }

    @Test
    void putIsPutObjectWithTheAttributesToStore() {
        Operation op = write("PUT", "/demo/hello/dir/new%20file.txt", null,
                "Content-Type", "text/plain", "Content-Length", "5", "X-Amz-Meta-Origin", "ci", "Cache-Control", "no-cache",
                "Content-Disposition", "attachment", "Content-Language", "en", "Expires", "Thu, 01 Dec 2044 16:00:00 GMT",
                "x-amz-content-sha256", "UNSIGNED-PAYLOAD", "Authorization", "AWS4-HMAC-SHA256 …");

        assertThat(op).isEqualTo(new Operation.PutObject("demo", "hello", "dir/new file.txt", List.of(
                Map.entry("content-type", "text/plain"), Map.entry("x-amz-meta-origin", "ci"),
                Map.entry("cache-control", "no-cache"), Map.entry("content-disposition", "attachment"),
                Map.entry("content-language", "en"), Map.entry("expires", "Thu, 01 Dec 2044 16:00:00 GMT")),
                Operation.WriteCondition.NONE));
        assertThat(op.name()).isEqualTo("PutObject");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        aws-chunked      |
        aws-chunked,gzip | gzip
        gzip, aws-chunked| gzip
        gzip             | gzip
        """)
    void awsChunkedIsTheWireFramingNotAStoredContentEncoding(String sent, String stored) {
        Operation.PutObject op = (Operation.PutObject) write("PUT", "/demo/hello/x", null, "Content-Encoding", sent);

        assertThat(op.attributes()).isEqualTo(stored == null ? List.of() : List.of(Map.entry("content-encoding", stored)));
    }

    @Test
    void ifNoneMatchStarIsCreateOnlyAndIfMatchReplacesOnlyThatObject() {
        assertThat(((Operation.PutObject) write("PUT", "/demo/hello/x", null, "If-None-Match", "*")).condition())
                .isEqualTo(new Operation.WriteCondition(true, Optional.empty()));
        assertThat(((Operation.PutObject) write("PUT", "/demo/hello/x", null, "If-Match", "\"abc\"")).condition())
                .isEqualTo(new Operation.WriteCondition(false, Optional.of("\"abc\"")));
        assertThat(((Operation.CompleteMultipartUpload) write("POST", "/demo/hello/x", "uploadId=u", "If-None-Match", "*"))
                .condition().createOnly()).isTrue();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        If-None-Match | "abc"
        If-Match      | *
        If-Match      | "a", "b"
        """)
    void otherWriteConditionsAreNotImplementedAsS3Answers(String header, String value) {
        assertRejected(() -> write("PUT", "/demo/hello/x", null, header, value), S3Error.NOT_IMPLEMENTED);
    }

    @Test
    void aMalformedIfMatchOnAWriteIsInvalidArgument() {
        assertRejected(() -> write("PUT", "/demo/hello/x", null, "If-Match", "W/"), S3Error.INVALID_ARGUMENT);
    }

    @Test
    void copySourceMakesCopyObjectWithThePathMappedSource() {
        Operation op = write("PUT", "/demo/hello/copy.txt", null, "x-amz-copy-source", "/other/data/dir/a%20b%2Bc.txt",
                "x-amz-copy-source-if-match", "\"e1\"", "x-amz-copy-source-if-modified-since", "Wed, 21 Oct 2015 07:28:00 GMT");

        Operation.CopyObject copy = (Operation.CopyObject) op;
        assertThat(copy.source()).isEqualTo(new Operation.CopySource("other", "data", "dir/a b+c.txt"));
        assertThat(copy.replaceAttributes()).isFalse();
        assertThat(copy.sourceConditions().ifMatch()).contains("\"e1\"");
        assertThat(copy.sourceConditions().ifModifiedSince()).contains(Instant.parse("2015-10-21T07:28:00Z"));
        assertThat(copy.key()).isEqualTo("copy.txt");
        assertThat(op.name()).isEqualTo("CopyObject");
    }

    @Test
    void copySourceWithoutLeadingSlashAndWithTheNullVersionIsTheSame() {
        Operation.CopyObject copy = (Operation.CopyObject) write("PUT", "/demo/hello/copy.txt", null,
                "x-amz-copy-source", "other/data/a.txt?versionId=null");

        assertThat(copy.source()).isEqualTo(new Operation.CopySource("other", "data", "a.txt"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"other/data/a.txt?versionId=3HL4kqtJ", "other/data/a.txt?partNumber=1", "other/data", "other/data/",
        "other", "/", "//data/a.txt", "other//a.txt", "other/data/a%zz"})
    void aCopySourceThatNamesNoObjectIsInvalidArgument(String source) {
        assertRejected(() -> write("PUT", "/demo/hello/copy.txt", null, "x-amz-copy-source", source), S3Error.INVALID_ARGUMENT);
    }

    @Test
    void aCopySourceKeyWithDotSegmentsIsInvalidRequest() {
        assertRejected(() -> write("PUT", "/demo/hello/copy.txt", null, "x-amz-copy-source", "other/data/a/../b"),
                S3Error.INVALID_REQUEST);
    }

    @Test
    void metadataDirectiveReplaceTakesTheRequestsAttributes() {
        Operation.CopyObject copy = (Operation.CopyObject) write("PUT", "/demo/hello/copy.txt", null,
                "x-amz-copy-source", "demo/hello/copy.txt", "x-amz-metadata-directive", "REPLACE", "Content-Type", "text/csv");

        assertThat(copy.replaceAttributes()).isTrue();
        assertThat(copy.attributes()).containsExactly(Map.entry("content-type", "text/csv"));
    }

    @Test
    void anUnknownMetadataDirectiveIsInvalidArgument() {
        assertRejected(() -> write("PUT", "/demo/hello/copy.txt", null, "x-amz-copy-source", "demo/hello/a",
                "x-amz-metadata-directive", "MERGE"), S3Error.INVALID_ARGUMENT);
    }

    @Test
    void copyingAnObjectOntoItselfWithoutReplacingItsAttributesIsInvalidRequest() {
        assertRejected(() -> write("PUT", "/demo/hello/a.txt", null, "x-amz-copy-source", "/demo/hello/a.txt"),
                S3Error.INVALID_REQUEST);
    }

    @Test
    void aMultipartUploadTakesTheChecksumItIsStartedWith() {
        assertThat(write("POST", "/demo/hello/big.bin", "uploads", "x-amz-checksum-algorithm", "CRC32C",
                "x-amz-checksum-type", "FULL_OBJECT"))
                .isEqualTo(new Operation.CreateMultipartUpload("demo", "hello", "big.bin", List.of(),
                        Optional.of(new MultipartChecksum("crc32c", true))));
        assertRejected(() -> write("POST", "/demo/hello/big.bin", "uploads", "x-amz-checksum-algorithm", "MD5"),
                S3Error.INVALID_REQUEST);
    }

    @Test
    void multipartUploadsAreToldApartBySubresource() {
        assertThat(write("POST", "/demo/hello/big.bin", "uploads", "Content-Type", "application/x-tar"))
                .isEqualTo(new Operation.CreateMultipartUpload("demo", "hello", "big.bin", List.of(Map.entry("content-type", "application/x-tar"))));
        assertThat(write("PUT", "/demo/hello/big.bin", "partNumber=3&uploadId=abc"))
                .isEqualTo(new Operation.UploadPart("demo", "hello", "big.bin", "abc", 3));
        assertThat(write("PUT", "/demo/hello/big.bin", "uploadId=abc&partNumber=10000"))
                .isEqualTo(new Operation.UploadPart("demo", "hello", "big.bin", "abc", 10_000));
        assertThat(write("POST", "/demo/hello/big.bin", "uploadId=abc"))
                .isEqualTo(new Operation.CompleteMultipartUpload("demo", "hello", "big.bin", "abc", Operation.WriteCondition.NONE));
        assertThat(write("DELETE", "/demo/hello/big.bin", "uploadId=abc"))
                .isEqualTo(new Operation.AbortMultipartUpload("demo", "hello", "big.bin", "abc"));
        assertThat(write("GET", "/demo/hello/big.bin", "uploadId=abc"))
                .isEqualTo(new Operation.ListParts("demo", "hello", "big.bin", "abc", 0, 1000));
        assertThat(write("GET", "/demo/hello/big.bin", "uploadId=abc&part-number-marker=7&max-parts=5000"))
                .isEqualTo(new Operation.ListParts("demo", "hello", "big.bin", "abc", 7, 1000));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "10001", "-1", "1.5", "x", ""})
    void anUploadPartNumberOutside1To10000IsInvalidArgument(String n) {
        assertRejected(() -> write("PUT", "/demo/hello/big.bin", "partNumber=" + n + "&uploadId=abc"), S3Error.INVALID_ARGUMENT);
    }

    @Test
    void uploadPartNeedsBothItsParameters() {
        assertRejected(() -> write("PUT", "/demo/hello/big.bin", "partNumber=1"), S3Error.INVALID_REQUEST);
        assertRejected(() -> write("PUT", "/demo/hello/big.bin", "uploadId=abc"), S3Error.INVALID_REQUEST);
    }

    @Test
    void uploadPartCopyIsNotImplementedWithAMessageSayingWhatToDoInstead() {
        Operation op = write("PUT", "/demo/hello/big.bin", "partNumber=1&uploadId=abc", "x-amz-copy-source", "demo/hello/a");

        assertThat(op).isInstanceOfSatisfying(Operation.Unsupported.class, u -> {
            assertThat(u.what()).isEqualTo("UploadPartCopy");
            assertThat(u.message()).contains("UploadPartCopy is not supported").contains("CopyObject");
        });
    }

    @Test
    void aBadListPartsParameterIsInvalidArgument() {
        assertRejected(() -> write("GET", "/demo/hello/big.bin", "uploadId=abc&max-parts=x"), S3Error.INVALID_ARGUMENT);
        assertRejected(() -> write("GET", "/demo/hello/big.bin", "uploadId=abc&part-number-marker=-1"), S3Error.INVALID_ARGUMENT);
    }

    @Test
    void uploadsOnTheAccountIsListMultipartUploads() {
        assertThat(write("GET", "/demo", "uploads&prefix=hello%2Fdir%2F&key-marker=hello%2Fa&upload-id-marker=u1&max-uploads=5"))
                .isEqualTo(new Operation.ListMultipartUploads("demo", "hello/dir/", Optional.of("hello/a"), Optional.of("u1"), 5, false));
        assertThat(write("GET", "/demo", "uploads&encoding-type=url&max-uploads=99999"))
                .isEqualTo(new Operation.ListMultipartUploads("demo", "", Optional.empty(), Optional.empty(), 1000, true));
    }

    @Test
    void listMultipartUploadsWithADelimiterIsNotImplemented() {
        assertThat(write("GET", "/demo", "uploads&delimiter=%2F")).isInstanceOf(Operation.Unsupported.class);
    }

    @Test
    void deleteIsDeleteObjectAndPostDeleteOnTheAccountIsDeleteObjects() {
        assertThat(write("DELETE", "/demo/hello/a.txt", null)).isEqualTo(new Operation.DeleteObject("demo", "hello", "a.txt"));
        assertThat(write("DELETE", "/demo/hello/a.txt", "versionId=null")).isEqualTo(new Operation.DeleteObject("demo", "hello", "a.txt"));
        assertThat(write("POST", "/demo", "delete")).isEqualTo(new Operation.DeleteObjects("demo"));
        assertRejected(() -> write("DELETE", "/demo/hello/a.txt", "versionId=abc"), S3Error.INVALID_ARGUMENT);
    }

    @ParameterizedTest
    @CsvSource(textBlock = """
        PUT,    /demo?acl
        PUT,    /demo?versioning
        DELETE, /demo
        POST,   /demo
        PUT,    /demo/hello/a.txt?tagging
        PUT,    /demo/hello/a.txt?acl
        DELETE, /demo/hello/a.txt?tagging
        POST,   /demo/hello/a.txt
        POST,   /demo/hello/a.txt?restore
        """)
    void writesSluiceDoesNotServeAreUnsupported(String method, String target) {
        int q = target.indexOf('?');
        Operation op = parse(method, q < 0 ? target : target.substring(0, q), q < 0 ? null : target.substring(q + 1), Map.of());

        assertThat(op).isInstanceOf(Operation.Unsupported.class);
        assertThat(((Operation.Unsupported) op).account()).contains("demo");
    }

    @Test
    void aPutOfTheAccountAloneIsCreateBucket() {
        assertThat(parse("PUT", "/demo", null, Map.of())).isEqualTo(new Operation.CreateAccount("demo"));
        assertThat(parse("PUT", "/demo", null, Map.of()).name()).isEqualTo("CreateBucket");
    }

    @Test
    void writesToTheRootAreUnsupported() {
        Operation op = parse("PUT", "/", null, Map.of());

        assertThat(op).isInstanceOf(Operation.Unsupported.class);
        assertThat(((Operation.Unsupported) op).account()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/demo/hello", "/demo/hello/"})
    void aWriteWithoutAKeyIsInvalidRequest(String path) {
        assertRejected(() -> write("PUT", path, null), S3Error.INVALID_REQUEST);
        assertRejected(() -> write("DELETE", path, null), S3Error.INVALID_REQUEST);
    }

    @Test
    void aWriteWithAnInvalidKeyIsInvalidRequest() {
        assertRejected(() -> write("PUT", "/demo/hello/a/../b", null), S3Error.INVALID_REQUEST);
    }

    @Test
    void checksumModeEnabledAsksForStoredChecksums() {
        assertThat(((Operation.ReadObject) write("GET", "/demo/hello/a", null, "x-amz-checksum-mode", "ENABLED")).checksumMode()).isTrue();
        assertThat(((Operation.ReadObject) write("HEAD", "/demo/hello/a", null)).checksumMode()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"PATCH", "CONNECT", "TRACE", "PROPFIND", "get"})
    void otherMethodsAreMethodNotAllowed(String method) {
        assertRejected(() -> parse(method, "/demo/hello/greeting.txt", null, Map.of()), S3Error.METHOD_NOT_ALLOWED);
    }

    @Test
    void pathMustStartWithSlash() {
        assertRejected(() -> get("demo/hello/x", null), S3Error.INVALID_REQUEST);
        assertRejected(() -> get("", null), S3Error.INVALID_REQUEST);
        assertRejected(() -> get(null, null), S3Error.INVALID_REQUEST);
    }

    @Test
    void emptyAccountWithAPathIsInvalid() {
        assertRejected(() -> get("//hello/x", null), S3Error.INVALID_REQUEST);
    }

    @Test
    void emptyProductIsInvalid() {
        assertRejected(() -> get("/demo//x", null), S3Error.INVALID_REQUEST);
    }

    // --- keys: percent-decoded exactly once ---------------------------------------------------

    @ParameterizedTest(name = "{0} -> [{1}]")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
        a%20b.txt                           | a b.txt
        a+b.txt                             | a+b.txt
        a%2Bb.txt                           | a+b.txt
        100%25.txt                          | 100%.txt
        100%2525.txt                        | 100%25.txt
        dir%2Fx                             | dir/x
        country_iso=ETH/part-0.parquet      | country_iso=ETH/part-0.parquet
        country_iso%3DETH/part-0.parquet    | country_iso=ETH/part-0.parquet
        report*.pdf                         | report*.pdf
        tilde~hash%23pipe%7C.bin            | "tilde~hash#pipe|.bin"
        %C3%BCn%C3%AFc%C3%B8d%C3%A9/%E6%96%87%E4%BB%B6.txt | ünïcødé/文件.txt
        ünïcødé/文件.txt                     | ünïcødé/文件.txt
        %F0%9D%84%9E.bin                    | 𝄞.bin
        %e6%96%87                           | 文
        .hidden                             | .hidden
        a.                                  | a.
        ...                                 | ...
        a..b                                | a..b
        """)
    void decodesTheKeyOnce(String rawKey, String key) {
        assertThat(getObject("/demo/hello/" + rawKey).key()).isEqualTo(key);
    }

    @Test
    void accountAndProductAreDecodedToo() {
        Operation.ReadObject op = getObject("/de%6Do/hel%6Co/x");

        assertThat(op.account()).isEqualTo("demo");
        assertThat(op.product()).isEqualTo("hello");
    }

    @Test
    void anEncodedSlashInTheProductSegmentStaysInTheProductName() {
        // The path is split on raw slashes first, so no decoding can move the product boundary.
        Operation.ReadObject op = getObject("/demo/hel%2Flo/x");

        assertThat(op.product()).isEqualTo("hel/lo");
        assertThat(op.key()).isEqualTo("x");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/demo/hello/a%zz", "/demo/hello/a%2", "/demo/hello/a%", "/demo/hello/%C3", "/demo/hello/%FF.txt",
        "/demo/hello/%C0%AF", "/demo/he%zzllo/x", "/de%mo/hello/x", "/de%mo"})
    void malformedPercentEncodingInThePathIsInvalidRequest(String rawPath) {
        assertRejected(() -> get(rawPath, null), S3Error.INVALID_REQUEST);
    }

    @Test
    void malformedPercentEncodingInTheQueryIsInvalidArgument() {
        assertRejected(() -> get("/demo", "list-type=2&prefix=%zz"), S3Error.INVALID_ARGUMENT);
        assertRejected(() -> get("/demo/hello/x", "response-content-type=%"), S3Error.INVALID_ARGUMENT);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        ".", "..", "%2e", "%2E%2E", "%2e%2e", "a/./b", "a/../b", "a/%2e%2e/b", "a/%2E/b", "..%2Fsecret", "a/..",
        "a/.", "%2e%2e%2fsecret", "./a"})
    void dotSegmentsAreInvalidRequest(String rawKey) {
        assertRejected(() -> getObject("/demo/hello/" + rawKey), S3Error.INVALID_REQUEST);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a//b", "/a", "a%2F%2Fb", "a/%2Fb", "%2Fa", "a///", "//"})
    void emptySegmentsAreInvalidRequest(String rawKey) {
        assertRejected(() -> getObject("/demo/hello/" + rawKey), S3Error.INVALID_REQUEST);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a%00b", "a%0Ab", "a%0D", "%09tab", "%1F", "del%7F", "%0a"})
    void controlCharactersAreInvalidRequest(String rawKey) {
        assertRejected(() -> getObject("/demo/hello/" + rawKey), S3Error.INVALID_REQUEST);
    }

    @Test
    void keysUpTo1024Utf8BytesAreAccepted() {
        assertThat(getObject("/demo/hello/" + "k".repeat(1024)).key()).hasSize(1024);
        // 512 two-byte characters are 1024 bytes.
        assertThat(getObject("/demo/hello/" + "%C3%BC".repeat(512)).key()).isEqualTo("ü".repeat(512));
    }

    @Test
    void keysOver1024Utf8BytesAreKeyTooLong() {
        assertRejected(() -> getObject("/demo/hello/" + "k".repeat(1025)), S3Error.KEY_TOO_LONG);
        // 513 characters but 1026 bytes: the limit is on bytes.
        assertRejected(() -> getObject("/demo/hello/" + "%C3%BC".repeat(513)), S3Error.KEY_TOO_LONG);
        assertThat(S3Error.KEY_TOO_LONG.code()).isEqualTo("KeyTooLongError");
        assertThat(S3Error.KEY_TOO_LONG.status()).isEqualTo(400);
    }

    @Test
    void theKeyLimitCountsDecodedBytesNotEncodedOnes() {
        // 400 x "%20" is 1200 characters on the wire but a 400-byte key.
        assertThat(getObject("/demo/hello/" + "%20".repeat(400)).key()).hasSize(400);
    }

    // --- list parameters ------------------------------------------------------------------------

    @Test
    void listV2Defaults() {
        ListRequest req = list("list-type=2");

        assertThat(req.version()).isEqualTo(2);
        assertThat(req.maxKeys()).isEqualTo(1000);
        assertThat(req.prefix()).isEmpty();
        assertThat(req.delimiter()).isEmpty();
        assertThat(req.continuationToken()).isEmpty();
        assertThat(req.startAfter()).isEmpty();
        assertThat(req.urlEncoding()).isFalse();
        assertThat(req.fetchOwner()).isFalse();
    }

    @Test
    void listV2Parameters() {
        ListRequest req = list("list-type=2&prefix=hello%2Fnested%2F&delimiter=%2F&max-keys=7"
                + "&continuation-token=abc&start-after=hello%2Fa&encoding-type=url&fetch-owner=true");

        assertThat(req.prefix()).isEqualTo("hello/nested/");
        assertThat(req.delimiter()).contains("/");
        assertThat(req.maxKeys()).isEqualTo(7);
        assertThat(req.continuationToken()).contains("abc");
        assertThat(req.startAfter()).contains("hello/a");
        assertThat(req.urlEncoding()).isTrue();
        assertThat(req.fetchOwner()).isTrue();
    }

    @Test
    void aPlusInAQueryValueIsASpaceAsS3ReadsIt() {
        assertThat(list("list-type=2&prefix=hello/a+b").prefix()).isEqualTo("hello/a b");
        assertThat(list("list-type=2&prefix=a%20b").prefix()).isEqualTo("a b");
        assertThat(list("list-type=2&prefix=a%2Bb").prefix()).isEqualTo("a+b");
        assertThat(list("list-type=2&start-after=x+y&delimiter=%2F").startAfter()).contains("x y");
        assertThat(list("marker=hello%2Fa+b.txt").startAfter()).contains("hello/a b.txt");
        Operation.ReadObject op = (Operation.ReadObject) get("/demo/hello/a.csv",
                "response-content-disposition=attachment%3B+filename%3D%22a+b.csv%22");
        assertThat(op.overrides().headers()).containsExactly(
                Map.entry("Content-Disposition", "attachment; filename=\"a b.csv\""));
    }

    @Test
    void anEmptyDelimiterMeansNone() {
        assertThat(list("list-type=2&delimiter=").delimiter()).isEmpty();
    }

    @ParameterizedTest(name = "max-keys={0} -> {1}")
    @CsvSource(textBlock = """
        0,    0
        1,    1
        999,  999
        1000, 1000
        1001, 1000
        5000, 1000
        2147483648, 1000
        """)
    void maxKeysIsCappedAt1000(String value, int expected) {
        assertThat(list("list-type=2&max-keys=" + value).maxKeys()).isEqualTo(expected);
        assertThat(list("max-keys=" + value).maxKeys()).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"-1", "abc", "", "1.5", "1e3", "99999999999999999999", "0x10", "%2D1"})
    void maxKeysThatIsNotANonNegativeIntegerIsInvalidArgument(String value) {
        assertRejected(() -> list("list-type=2&max-keys=" + value), S3Error.INVALID_ARGUMENT);
    }

    @ParameterizedTest
    @ValueSource(strings = {"3", "1", "", "two"})
    void listTypeOtherThan2IsInvalidArgument(String value) {
        assertRejected(() -> list("list-type=" + value), S3Error.INVALID_ARGUMENT);
    }

    @Test
    void encodingTypeUrlIsAccepted() {
        assertThat(list("list-type=2&encoding-type=url").urlEncoding()).isTrue();
        assertThat(list("encoding-type=url").urlEncoding()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"base64", "", "urls", "none"})
    void otherEncodingTypesAreInvalidArgument(String value) {
        assertRejected(() -> list("list-type=2&encoding-type=" + value), S3Error.INVALID_ARGUMENT);
    }

    @Test
    void anEmptyContinuationTokenIsInvalidArgument() {
        assertRejected(() -> list("list-type=2&continuation-token="), S3Error.INVALID_ARGUMENT);
    }

    @Test
    void listV1UsesMarkerAndAlwaysIncludesTheOwner() {
        ListRequest req = list("marker=hello%2Fb.txt&prefix=hello%2F&max-keys=2");

        assertThat(req.version()).isEqualTo(1);
        assertThat(req.marker()).contains("hello/b.txt");
        assertThat(req.startAfter()).contains("hello/b.txt");
        assertThat(req.prefix()).isEqualTo("hello/");
        assertThat(req.maxKeys()).isEqualTo(2);
        assertThat(req.fetchOwner()).isTrue();
    }

    @Test
    void listV1IgnoresV2OnlyParameters() {
        ListRequest req = list("start-after=x&continuation-token=t");

        assertThat(req.startAfter()).isEmpty();
        assertThat(req.continuationToken()).isEmpty();
    }

    @Test
    void listV2IgnoresTheV1Marker() {
        assertThat(list("list-type=2&marker=x").startAfter()).isEmpty();
    }

    @Test
    void anEmptyStartAfterOrMarkerMeansNone() {
        assertThat(list("list-type=2&start-after=").startAfter()).isEmpty();
        assertThat(list("marker=").marker()).isEmpty();
    }
}
