package dev.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.backend.FileBackend;
import dev.sluice.backend.KeyOrder;
import dev.sluice.backend.ListPosition;
import dev.sluice.backend.ObjectBody;
import dev.sluice.backend.ObjectResponse;
import dev.sluice.registry.Product;
import dev.sluice.registry.ProductRef;
import dev.sluice.registry.StaticRegistry;
import dev.sluice.registry.Visibility;
import dev.sluice.s3.ListResult;
import dev.sluice.s3.ObjectSummary;
import dev.sluice.s3.Operation;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.s3.S3RequestParser;
import dev.sluice.s3.UriEncoding;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReadsTest {
    private static final dev.sluice.auth.Principal ANON = dev.sluice.auth.Principal.Anonymous.UNSIGNED;

    private static final List<String> DEMO_KEYS = List.of(
            "census/country_iso=ETH/part-0.parquet",
            "census/country_iso=KEN/part-0.parquet",
            "census/households.csv",
            "hello/a b.txt",
            "hello/greeting.txt",
            "hello/nested/deeper/x.txt",
            "hello/nested/note.txt",
            "world/w.txt");

    @TempDir
    Path tmp;
    StaticRegistry registry;
    Reads reads;

    @BeforeEach
    void createProducts() throws IOException {
        registry = new StaticRegistry(List.of(
                // Deliberately not in name order: the registry and Reads must order them.
                product("demo", "world", Visibility.PUBLIC, "w.txt"),
                product("demo", "hello", Visibility.PUBLIC, "a b.txt", "greeting.txt", "nested/note.txt", "nested/deeper/x.txt"),
                product("demo", "hidden", Visibility.RESTRICTED, "secret.txt"),
                product("demo", "census", Visibility.PUBLIC,
                        "country_iso=ETH/part-0.parquet", "country_iso=KEN/part-0.parquet", "households.csv"),
                product("private", "vault", Visibility.RESTRICTED, "secret.txt"),
                // '-' and '.' sort before '/', so these products' keys do not sort like their names.
                product("ver", "data", Visibility.PUBLIC, "a.txt"),
                product("ver", "data-v2", Visibility.PUBLIC, "b.txt"),
                product("ver", "data.old", Visibility.PUBLIC, "c.txt")));
        reads = new Reads(registry);
    }

    @AfterEach
    void closeRegistry() {
        registry.close();
    }

    private Product product(String account, String name, Visibility visibility, String... keys) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(account).resolve(name));
        for (String key : keys) {
            Path file = dir.resolve(key);
            Files.createDirectories(file.getParent());
            Files.writeString(file, account + "/" + name + "/" + key);
        }
        return new Product(new ProductRef(account, name), visibility, new FileBackend(dir, Runnable::run));
    }

    private static Operation parse(String method, String rawPath, String rawQuery) {
        return S3RequestParser.parse(method, rawPath, rawQuery, name -> Optional.empty());
    }

    private ListResult list(String account, String rawQuery) {
        return reads.list((Operation.ListAccount) parse("GET", "/" + account, rawQuery), ANON, "test-request");
    }

    private ObjectResponse read(String rawPath) {
        return reads.read((Operation.ReadObject) parse("GET", rawPath, null), ANON, "req-1");
    }

    private static String text(ObjectResponse response) throws IOException {
        try (ObjectBody body = response.body().orElseThrow()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            body.transferTo(out);
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    private static List<String> keys(ListResult result) {
        return result.contents().stream().map(ObjectSummary::key).toList();
    }

    /** Every key and common prefix of a V2 listing, following continuation tokens. */
    private List<String> walkV2(String account, String query, int maxKeys) {
        List<String> seen = new ArrayList<>();
        Optional<String> token = Optional.empty();
        for (int pages = 0; ; pages++) {
            assertThat(pages).as("pages").isLessThan(1000);
            String q = "list-type=2&max-keys=" + maxKeys + (query.isEmpty() ? "" : "&" + query)
                    + token.map(t -> "&continuation-token=" + UriEncoding.encode(t)).orElse("");
            ListResult page = list(account, q);
            assertThat(page.contents().size() + page.commonPrefixes().size()).isLessThanOrEqualTo(maxKeys);
            List<String> entries = new ArrayList<>(keys(page));
            entries.addAll(page.commonPrefixes());
            entries.sort(KeyOrder.COMPARATOR);
            seen.addAll(entries);
            assertThat(page.truncated()).isEqualTo(page.nextToken().isPresent());
            if (!page.truncated()) {
                return seen;
            }
            token = page.nextToken();
        }
    }

    /** The same through V1 markers: each page's NextMarker is the next page's marker. */
    private List<String> walkV1(String account, String query, int maxKeys) {
        List<String> seen = new ArrayList<>();
        Optional<String> marker = Optional.empty();
        for (int pages = 0; ; pages++) {
            assertThat(pages).as("pages").isLessThan(1000);
            String q = "max-keys=" + maxKeys + (query.isEmpty() ? "" : "&" + query)
                    + marker.map(m -> "&marker=" + UriEncoding.encode(m)).orElse("");
            ListResult page = list(account, q);
            List<String> entries = new ArrayList<>(keys(page));
            entries.addAll(page.commonPrefixes());
            entries.sort(KeyOrder.COMPARATOR);
            seen.addAll(entries);
            if (!page.truncated()) {
                return seen;
            }
            assertThat(page.nextMarker()).as("a truncated V1 page has a NextMarker").isPresent();
            assertThat(page.nextMarker().get()).isEqualTo(entries.get(entries.size() - 1));
            marker = page.nextMarker();
        }
    }

    private static void assertS3Error(Runnable call, S3Error error) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(S3Exception.class, e -> {
            assertThat(e.error()).isEqualTo(error);
            assertThat(e.error().status()).isEqualTo(error.status());
        });
    }

    // --- the account as a bucket with delimiter '/' ----------------------------------------------

    @Test
    void accountListingWithDelimiterGivesProductsAsCommonPrefixes() {
        ListResult result = list("demo", "list-type=2&delimiter=%2F");

        assertThat(result.commonPrefixes()).containsExactly("census/", "hello/", "world/");
        assertThat(result.contents()).isEmpty();
        assertThat(result.truncated()).isFalse();
        assertThat(result.nextToken()).isEmpty();
    }

    @Test
    void productsAsPrefixesPaginateOneAtATimeWithTokens() {
        ListResult first = list("demo", "list-type=2&delimiter=%2F&max-keys=1");
        ListResult second = list("demo", "list-type=2&delimiter=%2F&max-keys=1&continuation-token=" + first.nextToken().orElseThrow());
        ListResult third = list("demo", "list-type=2&delimiter=%2F&max-keys=1&continuation-token=" + second.nextToken().orElseThrow());

        assertThat(first.commonPrefixes()).containsExactly("census/");
        assertThat(first.truncated()).isTrue();
        assertThat(second.commonPrefixes()).containsExactly("hello/");
        assertThat(second.truncated()).isTrue();
        assertThat(third.commonPrefixes()).containsExactly("world/");
        assertThat(third.truncated()).isFalse();
        assertThat(walkV2("demo", "delimiter=%2F", 2)).containsExactly("census/", "hello/", "world/");
    }

    @Test
    void productsAsPrefixesPaginateWithV1Markers() {
        assertThat(walkV1("demo", "delimiter=%2F", 1)).containsExactly("census/", "hello/", "world/");
    }

    @Test
    void productsAsPrefixesFollowKeyOrderNotNameOrder() {
        // S3 sorts "data-v2/" and "data.old/" before "data/": '-' and '.' come before '/'.
        assertThat(list("ver", "list-type=2&delimiter=%2F").commonPrefixes()).containsExactly("data-v2/", "data.old/", "data/");
        assertThat(walkV2("ver", "delimiter=%2F", 1)).containsExactly("data-v2/", "data.old/", "data/");
        assertThat(walkV1("ver", "delimiter=%2F", 1)).containsExactly("data-v2/", "data.old/", "data/");
    }

    @Test
    void aPrefixWithoutSlashFiltersProducts() {
        assertThat(list("demo", "list-type=2&delimiter=%2F&prefix=he").commonPrefixes()).containsExactly("hello/");
        assertThat(list("demo", "list-type=2&delimiter=%2F&prefix=x").commonPrefixes()).isEmpty();
    }

    // --- inside one product ---------------------------------------------------------------------

    @Test
    void aPrefixNamingAProductListsInsideIt() {
        ListResult result = list("demo", "list-type=2&delimiter=%2F&prefix=hello%2F");

        assertThat(keys(result)).containsExactly("hello/a b.txt", "hello/greeting.txt");
        assertThat(result.commonPrefixes()).containsExactly("hello/nested/");
        assertThat(result.truncated()).isFalse();
    }

    @Test
    void aDeeperPrefixListsInsideTheProduct() {
        assertThat(keys(list("demo", "list-type=2&prefix=hello%2Fnested%2F")))
                .containsExactly("hello/nested/deeper/x.txt", "hello/nested/note.txt");
        assertThat(keys(list("demo", "list-type=2&prefix=census%2Fcountry_iso%3DE")))
                .containsExactly("census/country_iso=ETH/part-0.parquet");
    }

    @Test
    void listingInsideAProductPaginatesWithTokensAndMarkers() {
        List<String> expected = List.of("hello/a b.txt", "hello/greeting.txt", "hello/nested/deeper/x.txt", "hello/nested/note.txt");

        assertThat(walkV2("demo", "prefix=hello%2F", 1)).containsExactlyElementsOf(expected);
        assertThat(walkV1("demo", "prefix=hello%2F", 1)).containsExactlyElementsOf(expected);
        assertThat(walkV2("demo", "prefix=hello%2F&delimiter=%2F", 1)).containsExactly("hello/a b.txt", "hello/greeting.txt", "hello/nested/");
        assertThat(walkV1("demo", "prefix=hello%2F&delimiter=%2F", 1)).containsExactly("hello/a b.txt", "hello/greeting.txt", "hello/nested/");
    }

    @Test
    void startAfterInsideAProductResumesThere() {
        assertThat(keys(list("demo", "list-type=2&prefix=hello%2F&start-after=hello%2Fgreeting.txt")))
                .containsExactly("hello/nested/deeper/x.txt", "hello/nested/note.txt");
        assertThat(keys(list("demo", "list-type=2&prefix=hello%2F&start-after=census%2Fz"))).hasSize(4);
        assertThat(keys(list("demo", "list-type=2&prefix=hello%2F&start-after=world%2F"))).isEmpty();
    }

    @Test
    void aTokenFromAnotherProductIsInvalidArgument() {
        String token = ListTokens.encode("census", new ListPosition.Start());

        assertS3Error(() -> list("demo", "list-type=2&prefix=hello%2F&continuation-token=" + token), S3Error.INVALID_ARGUMENT);
    }

    @Test
    void anUnknownProductInThePrefixListsNothing() {
        ListResult result = list("demo", "list-type=2&delimiter=%2F&prefix=nope%2F");

        assertThat(result.contents()).isEmpty();
        assertThat(result.commonPrefixes()).isEmpty();
        assertThat(result.truncated()).isFalse();
    }

    // --- across products without a delimiter ----------------------------------------------------

    @Test
    void withoutDelimiterEveryKeyOfEveryProductIsListedInOrder() {
        ListResult result = list("demo", "list-type=2");

        assertThat(keys(result)).containsExactlyElementsOf(DEMO_KEYS);
        assertThat(result.commonPrefixes()).isEmpty();
        assertThat(result.truncated()).isFalse();
    }

    @Test
    void withoutDelimiterPagesWalkAllProductsReturningEveryKeyOnce() {
        for (int maxKeys : new int[] {1, 2, 3, 7, 8, 9}) {
            List<String> seen = walkV2("demo", "", maxKeys);
            assertThat(seen).as("max-keys %d", maxKeys).containsExactlyElementsOf(DEMO_KEYS);
            assertThat(new HashSet<>(seen)).hasSameSizeAs(seen);
        }
    }

    @Test
    void withoutDelimiterPagesOfTwoCrossProductBoundaries() {
        ListResult first = list("demo", "list-type=2&max-keys=2");
        ListResult second = list("demo", "list-type=2&max-keys=2&continuation-token=" + first.nextToken().orElseThrow());

        assertThat(keys(first)).containsExactly(DEMO_KEYS.get(0), DEMO_KEYS.get(1));
        assertThat(keys(second)).containsExactly(DEMO_KEYS.get(2), DEMO_KEYS.get(3));
        assertThat(second.truncated()).isTrue();
    }

    @Test
    void withoutDelimiterV1MarkersWalkAllProducts() {
        for (int maxKeys : new int[] {1, 2, 3}) {
            assertThat(walkV1("demo", "", maxKeys)).as("max-keys %d", maxKeys).containsExactlyElementsOf(DEMO_KEYS);
        }
    }

    @Test
    void withoutDelimiterKeysFollowKeyOrderAcrossProducts() {
        List<String> expected = List.of("data-v2/b.txt", "data.old/c.txt", "data/a.txt");

        assertThat(keys(list("ver", "list-type=2"))).containsExactlyElementsOf(expected);
        assertThat(walkV2("ver", "", 1)).containsExactlyElementsOf(expected);
        assertThat(walkV1("ver", "", 1)).containsExactlyElementsOf(expected);
    }

    @Test
    void startAfterAcrossProductsResumesInTheRightProduct() {
        assertThat(keys(list("demo", "list-type=2&start-after=hello%2Fgreeting.txt")))
                .containsExactly("hello/nested/deeper/x.txt", "hello/nested/note.txt", "world/w.txt");
        assertThat(keys(list("demo", "list-type=2&start-after=hello"))).startsWith("hello/a b.txt");
        assertThat(keys(list("demo", "list-type=2&start-after=zzz"))).isEmpty();
    }

    @Test
    void aPrefixWithoutSlashAndNoDelimiterListsMatchingProducts() {
        assertThat(keys(list("demo", "list-type=2&prefix=wor"))).containsExactly("world/w.txt");
    }

    // --- max-keys 0 -------------------------------------------------------------------------------

    // --- max-keys 0 -------------------------------------------------------------------------------

    @Test
    void maxKeysZeroListsNothingAndIsTruncatedWhenSomethingWouldBeListed() {
        // docs/behaviour.md: no entries, and IsTruncated=true when anything would have been listed.
        for (String query : List.of("list-type=2&max-keys=0", "list-type=2&max-keys=0&delimiter=%2F",
                "list-type=2&max-keys=0&prefix=hello%2F")) {
            ListResult result = list("demo", query);
            assertThat(result.contents()).as(query).isEmpty();
            assertThat(result.commonPrefixes()).as(query).isEmpty();
            assertThat(result.truncated()).as(query).isTrue();
            assertThat(result.nextToken()).as(query).isPresent();
        }
        assertThat(list("demo", "list-type=2&max-keys=0&prefix=nope%2F").truncated()).isFalse();
        assertThat(list("demo", "list-type=2&max-keys=0&prefix=hello%2F&start-after=hello%2Fz").truncated()).isFalse();
    }

    @Test
    void aMaxKeysZeroTokenResumesWhereTheClientWas() {
        ListResult inside = list("demo", "list-type=2&max-keys=0&prefix=hello%2F&start-after=hello%2Fgreeting.txt");
        ListResult across = list("demo", "list-type=2&max-keys=0&start-after=hello%2Fgreeting.txt");

        assertThat(keys(list("demo", "list-type=2&prefix=hello%2F&continuation-token=" + inside.nextToken().orElseThrow())))
                .containsExactly("hello/nested/deeper/x.txt", "hello/nested/note.txt");
        assertThat(keys(list("demo", "list-type=2&continuation-token=" + across.nextToken().orElseThrow())))
                .containsExactly("hello/nested/deeper/x.txt", "hello/nested/note.txt", "world/w.txt");
    }

    @Test
    void maxKeysZeroStillChecksTheAccountAndTheToken() {
        assertS3Error(() -> list("nobody", "list-type=2&max-keys=0"), S3Error.NO_SUCH_BUCKET);
        assertS3Error(() -> list("demo", "list-type=2&max-keys=0&continuation-token=garbage"), S3Error.INVALID_ARGUMENT);
    }

    // --- visibility and unknown names ---------------------------------------------------------------

    @Test
    void restrictedProductsAreNeverListed() {
        assertThat(list("demo", "list-type=2&delimiter=%2F").commonPrefixes()).doesNotContain("hidden/");
        assertThat(walkV2("demo", "", 1)).noneMatch(k -> k.startsWith("hidden/"));
        assertThat(walkV2("demo", "delimiter=%2F", 1)).doesNotContain("hidden/");
        ListResult inside = list("demo", "list-type=2&prefix=hidden%2F");
        assertThat(inside.contents()).isEmpty();
        assertThat(inside.truncated()).isFalse();
    }

    @Test
    void restrictedProductsAreNotReadableAndAnswerAsIfAbsent() {
        assertS3Error(() -> read("/demo/hidden/secret.txt"), S3Error.NO_SUCH_BUCKET);
        assertS3Error(() -> read("/demo/hidden/absent.txt"), S3Error.NO_SUCH_BUCKET);
        assertS3Error(() -> read("/demo/nope/secret.txt"), S3Error.NO_SUCH_BUCKET);
    }

    @Test
    void anAccountWithOnlyRestrictedProductsDoesNotExist() {
        assertS3Error(() -> reads.requireAccount("private", ANON, "test-request"), S3Error.NO_SUCH_BUCKET);
        assertS3Error(() -> list("private", "list-type=2"), S3Error.NO_SUCH_BUCKET);
        assertS3Error(() -> read("/private/vault/secret.txt"), S3Error.NO_SUCH_BUCKET);
    }

    @Test
    void anUnknownAccountIsNoSuchBucket() {
        assertS3Error(() -> reads.requireAccount("nobody", ANON, "test-request"), S3Error.NO_SUCH_BUCKET);
        reads.requireAccount("demo", ANON, "test-request");
        assertS3Error(() -> list("nobody", "list-type=2"), S3Error.NO_SUCH_BUCKET);
        assertS3Error(() -> list("nobody", "list-type=2&delimiter=%2F"), S3Error.NO_SUCH_BUCKET);
        assertS3Error(() -> read("/nobody/hello/greeting.txt"), S3Error.NO_SUCH_BUCKET);
    }

    @Test
    void aGarbageTokenIsInvalidArgument() {
        assertS3Error(() -> list("demo", "list-type=2&continuation-token=garbage"), S3Error.INVALID_ARGUMENT);
        assertS3Error(() -> list("demo", "list-type=2&delimiter=%2F&continuation-token=%21%21"), S3Error.INVALID_ARGUMENT);
    }

    // --- reads ------------------------------------------------------------------------------------

    @Test
    void readsAnObjectOfAPublicProduct() throws IOException {
        assertThat(text(read("/demo/hello/greeting.txt"))).isEqualTo("demo/hello/greeting.txt");
        assertThat(text(read("/demo/hello/a%20b.txt"))).isEqualTo("demo/hello/a b.txt");
        assertThat(text(read("/demo/census/country_iso%3DETH/part-0.parquet"))).isEqualTo("demo/census/country_iso=ETH/part-0.parquet");
    }

    @Test
    void headAndRangeReachTheBackend() throws IOException {
        ObjectResponse head = reads.read((Operation.ReadObject) parse("HEAD", "/demo/hello/greeting.txt", null), ANON, "r");
        Operation.ReadObject ranged = (Operation.ReadObject) S3RequestParser.parse("GET", "/demo/hello/greeting.txt", null,
                name -> name.equals("Range") ? Optional.of("bytes=5-9") : Optional.empty());
        ObjectResponse part = reads.read(ranged, ANON, "r");

        assertThat(head.body()).isEmpty();
        assertThat(head.headers()).contains(Map.entry("Content-Length", "23"));
        assertThat(part.status()).isEqualTo(206);
        assertThat(text(part)).isEqualTo("hello");
    }

    @Test
    void aProductWithoutKeyIsNoSuchKey() {
        assertS3Error(() -> read("/demo/hello"), S3Error.NO_SUCH_KEY);
        assertS3Error(() -> read("/demo/hello/"), S3Error.NO_SUCH_KEY);
    }

    @Test
    void aMissingKeyIsNoSuchKey() {
        assertS3Error(() -> read("/demo/hello/absent.txt"), S3Error.NO_SUCH_KEY);
        assertS3Error(() -> read("/demo/hello/nested"), S3Error.NO_SUCH_KEY);
    }
}
