package dev.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.auth.Action;
import dev.sluice.auth.Principal;
import dev.sluice.auth.Scope;
import dev.sluice.backend.FileBackend;
import dev.sluice.registry.Product;
import dev.sluice.registry.ProductRef;
import dev.sluice.registry.StaticRegistry;
import dev.sluice.registry.Visibility;
import dev.sluice.s3.Operation;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.s3.S3RequestParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who may write and what a write is refused with before any store is asked, over a static
 * registry of real file backends: every refusal here happens before a body is read, so the
 * bodies given are streams that fail if touched. What the stores do with a write is their own
 * tests' and the write-path contract's.
 */
class WritesTest {
    private static final String ACCOUNT = "demo";

    @TempDir
    Path dir;

    private ExecutorService hashing;
    private Writes writes;
    private UploadIds ids;

    /** Readers of it fail: a refused write must not touch its body. */
    private static final InputStream UNTOUCHABLE = new InputStream() {
        @Override
        public int read() throws IOException {
            throw new AssertionError("the body of a refused write was read");
        }
    };

    @BeforeEach
    void products() throws IOException {
        hashing = FileBackend.hashWorker();
        for (String p : List.of("drop", "fixed", "open", "hidden")) {
            Files.createDirectories(dir.resolve(p));
        }
        Files.writeString(dir.resolve("fixed/source.txt"), "source bytes");
        Files.writeString(dir.resolve("hidden/secret.txt"), "hidden bytes");
        StaticRegistry registry = new StaticRegistry(List.of(
                new Product(new ProductRef(ACCOUNT, "drop"), Visibility.RESTRICTED, new FileBackend(dir.resolve("drop"), hashing), true),
                new Product(new ProductRef(ACCOUNT, "fixed"), Visibility.PUBLIC, new FileBackend(dir.resolve("fixed"), hashing), false),
                new Product(new ProductRef(ACCOUNT, "open"), Visibility.PUBLIC, new FileBackend(dir.resolve("open"), hashing), true),
                new Product(new ProductRef(ACCOUNT, "hidden"), Visibility.RESTRICTED, new FileBackend(dir.resolve("hidden"), hashing), true)));
        ids = new UploadIds(new byte[32]);
        writes = new Writes(registry, ids, InstantSource.fixed(Instant.parse("2026-01-01T00:00:00Z")), "http://127.0.0.1:8080/");
    }

    @AfterEach
    void stop() {
        hashing.shutdownNow();
    }

    private static Principal publisher(Scope... scopes) {
        return new Principal.AccessKey("AKIAPUBLISHER001", "publisher", List.of(scopes));
    }

    /** Allowed everything on drop, fixed and open; nothing on hidden. */
    private static final Principal PUBLISHER = publisher(
            new Scope("demo/drop", List.of(), Set.of(Action.values())),
            new Scope("demo/fixed", List.of(), Set.of(Action.values())),
            new Scope("demo/open", List.of(), Set.of(Action.values())));

    private static Operation op(String method, String target, String... headers) {
        int q = target.indexOf('?');
        List<Map.Entry<String, String>> list = new ArrayList<>();
        for (int i = 0; i < headers.length; i += 2) {
            list.add(Map.entry(headers[i], headers[i + 1]));
        }
        return S3RequestParser.parse(method, q < 0 ? target : target.substring(0, q), q < 0 ? null : target.substring(q + 1), list);
    }

    private static Function<String, Optional<String>> headers(String... pairs) {
        return name -> {
            for (int i = 0; i < pairs.length; i += 2) {
                if (pairs[i].equalsIgnoreCase(name)) {
                    return Optional.of(pairs[i + 1]);
                }
            }
            return Optional.empty();
        };
    }

    private static void assertRefused(Runnable write, S3Error error) {
        assertThatThrownBy(write::run).isInstanceOfSatisfying(S3Exception.class, e -> {
            assertThat(e.error()).isEqualTo(error);
            assertThat(e.error().status()).isEqualTo(error.status());
        });
    }

    private Writes.Answer put(Principal who, String target) {
        return writes.put((Operation.PutObject) op("PUT", target), who, headers(), UNTOUCHABLE, Optional.empty(), "req");
    }

    private List<Path> files() throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            return all.filter(Files::isRegularFile).sorted().toList();
        }
    }

    // --- who may write ---------------------------------------------------------------------------

    @Test
    void anAnonymousWriteIsAccessDeniedOnAPublicProductAndNoSuchBucketOnAHiddenOrUnknownOne() throws IOException {
        List<Path> before = files();

        assertRefused(() -> put(Principal.Anonymous.UNSIGNED, "/demo/open/a.txt"), S3Error.ACCESS_DENIED);
        assertRefused(() -> put(Principal.Anonymous.UNSIGNED, "/demo/drop/a.txt"), S3Error.NO_SUCH_BUCKET);
        assertRefused(() -> put(Principal.Anonymous.UNSIGNED, "/demo/nope/a.txt"), S3Error.NO_SUCH_BUCKET);
        assertRefused(() -> put(new Principal.Anonymous(Optional.of("AKIASTRANGER")), "/demo/open/a.txt"),
                S3Error.INVALID_ACCESS_KEY_ID);
        assertThat(files()).isEqualTo(before);
    }

    @Test
    void aWriteToAReadOnlyProductIsAccessDeniedAndStoresNothing() throws IOException {
        List<Path> before = files();

        assertRefused(() -> put(PUBLISHER, "/demo/fixed/new.txt"), S3Error.ACCESS_DENIED);
        assertRefused(() -> writes.delete((Operation.DeleteObject) op("DELETE", "/demo/fixed/source.txt"), PUBLISHER, "req"),
                S3Error.ACCESS_DENIED);
        assertRefused(() -> writes.createUpload((Operation.CreateMultipartUpload) op("POST", "/demo/fixed/big.bin?uploads"),
                PUBLISHER, "req"), S3Error.ACCESS_DENIED);
        assertThat(files()).isEqualTo(before);
    }

    @Test
    void aWriteWithoutTheGrantIsAccessDeniedOnAProductTheCallerSeesAndNoSuchBucketOnOneItDoesNot() {
        Principal reader = publisher(new Scope("demo/drop", List.of(), Set.of(Action.GET_OBJECT, Action.LIST_BUCKET)));

        assertRefused(() -> put(reader, "/demo/drop/a.txt"), S3Error.ACCESS_DENIED);
        assertRefused(() -> writes.delete((Operation.DeleteObject) op("DELETE", "/demo/drop/a.txt"), reader, "req"),
                S3Error.ACCESS_DENIED);
        assertRefused(() -> put(PUBLISHER, "/demo/hidden/a.txt"), S3Error.ACCESS_DENIED);
        assertRefused(() -> put(PUBLISHER, "/demo/nope/a.txt"), S3Error.NO_SUCH_BUCKET);
    }

    @Test
    void aWriteOutsideTheScopesPrefixIsAccessDenied() {
        Principal ci = publisher(new Scope("demo/drop", List.of("ci/"), Set.of(Action.PUT_OBJECT)));

        assertRefused(() -> put(ci, "/demo/drop/release/a.txt"), S3Error.ACCESS_DENIED);
    }

    // --- upload ids ------------------------------------------------------------------------------

    @Test
    void aForgedOrAnotherKeysUploadIdIsNoSuchUploadBeforeTheBodyIsRead() {
        String otherKeys = ids.seal(new ProductRef(ACCOUNT, "drop"), "other.bin", "store-id");
        String otherProducts = ids.seal(new ProductRef(ACCOUNT, "open"), "big.bin", "store-id");

        for (String id : List.of("forged", otherKeys, otherProducts)) {
            Operation.UploadPart part = (Operation.UploadPart) op("PUT", "/demo/drop/big.bin?partNumber=1&uploadId=" + id);
            assertRefused(() -> writes.uploadPart(part, PUBLISHER, headers(), UNTOUCHABLE, Optional.empty(), "req"),
                    S3Error.NO_SUCH_UPLOAD);
            assertRefused(() -> writes.abortUpload((Operation.AbortMultipartUpload) op("DELETE", "/demo/drop/big.bin?uploadId=" + id),
                    PUBLISHER, "req"), S3Error.NO_SUCH_UPLOAD);
            assertRefused(() -> writes.listParts((Operation.ListParts) op("GET", "/demo/drop/big.bin?uploadId=" + id),
                    PUBLISHER, "req"), S3Error.NO_SUCH_UPLOAD);
        }
    }

    @Test
    void aCompletionIsAuthorizedThenItsUploadIdOpenedThenItsDocumentRead() {
        String id = ids.seal(new ProductRef(ACCOUNT, "drop"), "big.bin", "store-id");
        Operation.CompleteMultipartUpload complete = (Operation.CompleteMultipartUpload) op("POST", "/demo/drop/big.bin?uploadId=" + id);
        byte[] outOfOrder = ("<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>a</ETag></Part>"
                + "<Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>").getBytes(StandardCharsets.UTF_8);

        assertRefused(() -> writes.completeUpload(complete, Principal.Anonymous.UNSIGNED, headers(), outOfOrder, "req"),
                S3Error.NO_SUCH_BUCKET);
        assertRefused(() -> writes.completeUpload((Operation.CompleteMultipartUpload) op("POST", "/demo/drop/big.bin?uploadId=x"),
                PUBLISHER, headers(), outOfOrder, "req"), S3Error.NO_SUCH_UPLOAD);
        assertRefused(() -> writes.completeUpload(complete, PUBLISHER, headers(), outOfOrder, "req"), S3Error.INVALID_PART_ORDER);
        assertRefused(() -> writes.completeUpload(complete, PUBLISHER, headers(), "<x/>".getBytes(StandardCharsets.UTF_8), "req"),
                S3Error.MALFORMED_XML);
        assertRefused(() -> writes.completeUpload(complete, PUBLISHER, headers("Content-MD5", "AAAAAAAAAAAAAAAAAAAAAA=="),
                outOfOrder, "req"), S3Error.BAD_DIGEST);
    }

    // --- ListMultipartUploads ---------------------------------------------------------------------

    @Test
    void listingUploadsWithAPrefixThatNamesNoProductListsNone() {
        for (String query : List.of("uploads", "uploads&prefix=dr", "uploads&prefix=drop")) {
            Writes.Answer answer = writes.listUploads((Operation.ListMultipartUploads) op("GET", "/demo?" + query), PUBLISHER, "req");

            assertThat(answer.status()).isEqualTo(200);
            assertThat(answer.xml().orElseThrow()).contains("<IsTruncated>false</IsTruncated>").doesNotContain("<Upload>");
        }
    }

    @Test
    void listingAProductsUploadsNeedsTheGrant() {
        Principal writer = publisher(new Scope("demo/drop", List.of(), Set.of(Action.PUT_OBJECT)));

        assertRefused(() -> writes.listUploads((Operation.ListMultipartUploads) op("GET", "/demo?uploads&prefix=drop%2F"), writer,
                "req"), S3Error.ACCESS_DENIED);
        assertRefused(() -> writes.listUploads((Operation.ListMultipartUploads) op("GET", "/demo?uploads&prefix=hidden%2F"),
                Principal.Anonymous.UNSIGNED, "req"), S3Error.NO_SUCH_BUCKET);
    }

    // --- DeleteObjects ------------------------------------------------------------------------------

    private static Function<String, Optional<String>> withMd5(byte[] body) throws Exception {
        return headers("Content-MD5", Base64.getEncoder().encodeToString(MessageDigest.getInstance("MD5").digest(body)));
    }

    @Test
    void deleteObjectsIsRefusedWholeToAnAnonymousCallerAndWithoutAnIntegrityHeader() throws Exception {
        byte[] body = "<Delete><Object><Key>open/a</Key></Object></Delete>".getBytes(StandardCharsets.UTF_8);
        Operation.DeleteObjects delete = (Operation.DeleteObjects) op("POST", "/demo?delete");

        assertRefused(() -> writes.deleteObjects(delete, Principal.Anonymous.UNSIGNED, headers(), body, "req"), S3Error.ACCESS_DENIED);
        assertRefused(() -> writes.deleteObjects(delete, PUBLISHER, headers(), body, "req"), S3Error.INVALID_REQUEST);
        assertRefused(() -> writes.deleteObjects(delete, PUBLISHER, headers("Content-MD5", "AAAAAAAAAAAAAAAAAAAAAA=="), body, "req"),
                S3Error.BAD_DIGEST);
    }

    @Test
    void deleteObjectsAuthorizesEachKeyAndAnswersEachRefusalWithItsCode() throws Exception {
        byte[] body = ("<Delete><Quiet>true</Quiet>"
                + "<Object><Key>fixed/source.txt</Key></Object>"
                + "<Object><Key>hidden/secret.txt</Key></Object>"
                + "<Object><Key>nope/x</Key></Object>"
                + "<Object><Key>no-key</Key></Object>"
                + "<Object><Key>fixed/a/../b</Key></Object>"
                + "<Object><Key>fixed/source.txt</Key><VersionId>v2</VersionId></Object>"
                + "</Delete>").getBytes(StandardCharsets.UTF_8);

        String xml = writes.deleteObjects((Operation.DeleteObjects) op("POST", "/demo?delete"), PUBLISHER, withMd5(body), body, "req")
                .xml().orElseThrow();

        assertThat(xml).contains("<Error><Key>fixed/source.txt</Key><Code>AccessDenied</Code>",
                "<Error><Key>hidden/secret.txt</Key><Code>AccessDenied</Code>",
                "<Error><Key>nope/x</Key><Code>NoSuchBucket</Code>",
                "<Error><Key>no-key</Key><Code>InvalidArgument</Code>",
                "<Error><Key>fixed/a/../b</Key><Code>InvalidRequest</Code>",
                "<Error><Key>fixed/source.txt</Key><Code>InvalidArgument</Code>");
        assertThat(Files.readString(dir.resolve("fixed/source.txt"))).isEqualTo("source bytes");
        assertThat(Files.readString(dir.resolve("hidden/secret.txt"))).isEqualTo("hidden bytes");
    }

    // --- CopyObject ------------------------------------------------------------------------------

    @Test
    void aCopyNeedsGetOnTheSourceAndPutOnTheTargetEachOnItsOwn() {
        Principal putOnly = publisher(new Scope("demo/drop", List.of(), Set.of(Action.PUT_OBJECT)));
        Principal getOnly = publisher(new Scope("demo/drop", List.of(), Set.of(Action.GET_OBJECT)),
                new Scope("demo/hidden", List.of(), Set.of(Action.GET_OBJECT)));

        assertRefused(() -> writes.copy((Operation.CopyObject) op("PUT", "/demo/drop/copy.txt", "x-amz-copy-source", "demo/hidden/secret.txt"),
                putOnly, "req"), S3Error.ACCESS_DENIED);
        assertRefused(() -> writes.copy((Operation.CopyObject) op("PUT", "/demo/drop/copy.txt", "x-amz-copy-source", "demo/nope/x"),
                putOnly, "req"), S3Error.NO_SUCH_BUCKET);
        assertRefused(() -> writes.copy((Operation.CopyObject) op("PUT", "/demo/drop/copy.txt", "x-amz-copy-source", "demo/hidden/secret.txt"),
                getOnly, "req"), S3Error.ACCESS_DENIED);
        assertRefused(() -> writes.copy((Operation.CopyObject) op("PUT", "/demo/fixed/copy.txt", "x-amz-copy-source", "demo/fixed/source.txt"),
                PUBLISHER, "req"), S3Error.ACCESS_DENIED);
        assertThat(dir.resolve("drop/copy.txt")).doesNotExist();
    }

    @Test
    void aCopyWhoseSourceConditionFailsIsPreconditionFailed() {
        assertRefused(() -> writes.copy((Operation.CopyObject) op("PUT", "/demo/drop/copy.txt", "x-amz-copy-source", "demo/fixed/source.txt",
                "x-amz-copy-source-if-match", "\"not-its-etag\""), PUBLISHER, "req"), S3Error.PRECONDITION_FAILED);
        assertRefused(() -> writes.copy((Operation.CopyObject) op("PUT", "/demo/drop/copy.txt", "x-amz-copy-source", "demo/fixed/source.txt",
                "x-amz-copy-source-if-none-match", "*"), PUBLISHER, "req"), S3Error.PRECONDITION_FAILED);
        assertRefused(() -> writes.copy((Operation.CopyObject) op("PUT", "/demo/drop/copy.txt", "x-amz-copy-source", "demo/fixed/source.txt",
                "x-amz-copy-source-if-unmodified-since", "Mon, 01 Jan 2001 00:00:00 GMT"), PUBLISHER, "req"), S3Error.PRECONDITION_FAILED);
        assertRefused(() -> writes.copy((Operation.CopyObject) op("PUT", "/demo/drop/copy.txt", "x-amz-copy-source", "demo/fixed/missing.txt"),
                PUBLISHER, "req"), S3Error.NO_SUCH_KEY);
        assertThat(dir.resolve("drop/copy.txt")).doesNotExist();
    }
}
