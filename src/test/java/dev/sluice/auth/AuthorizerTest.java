package dev.sluice.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.registry.Product;
import dev.sluice.registry.ProductRef;
import dev.sluice.registry.Visibility;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.testing.StubBackend;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class AuthorizerTest {

    private static final ProductRef PUBLIC_REF = new ProductRef("demo", "hello");
    private static final ProductRef RESTRICTED_REF = new ProductRef("demo", "private");
    private static final ProductRef OTHER_ACCOUNT_REF = new ProductRef("other", "private");
    private static final Product PUBLIC = new Product(PUBLIC_REF, Visibility.PUBLIC, new StubBackend<>("public"));
    private static final Product RESTRICTED = new Product(RESTRICTED_REF, Visibility.RESTRICTED, new StubBackend<>("restricted"));
    private static final Product OTHER = new Product(OTHER_ACCOUNT_REF, Visibility.RESTRICTED, new StubBackend<>("other"));

    private static Principal key(Scope... scopes) {
        return new Principal.AccessKey("AKIASLUICE0001", "reader", List.of(scopes));
    }

    private static Principal session(Scope... scopes) {
        return new Principal.Session("ASIASLUICE0001", "repo:org/x", "ci", List.of(scopes), Instant.parse("2030-01-01T00:00:00Z"));
    }

    private static S3Error denial(Principal p, Action a, ProductRef ref, Optional<Product> product, String key) {
        try {
            Authorizer.authorize(p, a, ref, product, key);
            return null;
        } catch (S3Exception e) {
            return e.error();
        }
    }

    // --- anonymous ------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(value = Action.class, names = {"GET_OBJECT", "HEAD_OBJECT", "LIST_BUCKET"})
    void anonymousReadsOfPublicProductsAreAllowed(Action read) {
        assertThat(Authorizer.authorize(Principal.Anonymous.UNSIGNED, read, PUBLIC_REF, Optional.of(PUBLIC), "a/b"))
                .isSameAs(PUBLIC);
    }

    @ParameterizedTest
    @EnumSource(value = Action.class, names = {"PUT_OBJECT", "DELETE_OBJECT", "UPLOAD_PART"})
    void anonymousWritesAreDeniedEvenOnPublicProducts(Action write) {
        assertThat(denial(Principal.Anonymous.UNSIGNED, write, PUBLIC_REF, Optional.of(PUBLIC), "a")).isEqualTo(S3Error.ACCESS_DENIED);
    }

    @ParameterizedTest
    @EnumSource(Action.class)
    void anonymousCallersCannotTellARestrictedProductFromAMissingOne(Action action) {
        assertThat(denial(Principal.Anonymous.UNSIGNED, action, RESTRICTED_REF, Optional.of(RESTRICTED), "a"))
                .isEqualTo(S3Error.NO_SUCH_BUCKET)
                .isEqualTo(denial(Principal.Anonymous.UNSIGNED, action, RESTRICTED_REF, Optional.empty(), "a"));
    }

    // --- unknown access keys --------------------------------------------------------------------

    @Test
    void anUnknownKeyIsServedAsAnonymousForPublicReads() {
        Principal stray = new Principal.Anonymous(Optional.of("AKIAUNRELATED0000"));
        assertThat(Authorizer.authorize(stray, Action.GET_OBJECT, PUBLIC_REF, Optional.of(PUBLIC), "k")).isSameAs(PUBLIC);
    }

    @Test
    void anUnknownKeyGetsInvalidAccessKeyIdWhereAnonymousIsNotAllowedWhetherOrNotTheProductExists() {
        Principal stray = new Principal.Anonymous(Optional.of("AKIAUNRELATED0000"));
        assertThat(denial(stray, Action.GET_OBJECT, RESTRICTED_REF, Optional.of(RESTRICTED), "k")).isEqualTo(S3Error.INVALID_ACCESS_KEY_ID);
        assertThat(denial(stray, Action.GET_OBJECT, RESTRICTED_REF, Optional.empty(), "k")).isEqualTo(S3Error.INVALID_ACCESS_KEY_ID);
        assertThat(denial(stray, Action.PUT_OBJECT, PUBLIC_REF, Optional.of(PUBLIC), "k")).isEqualTo(S3Error.INVALID_ACCESS_KEY_ID);
    }

    // --- authenticated: the scope matrix ----------------------------------------------------------

    @Test
    void authenticatedCallersReadPublicProductsWithoutAScope() {
        assertThat(Authorizer.authorize(key(), Action.GET_OBJECT, PUBLIC_REF, Optional.of(PUBLIC), "k")).isSameAs(PUBLIC);
        assertThat(Authorizer.authorize(session(), Action.LIST_BUCKET, PUBLIC_REF, Optional.of(PUBLIC), "")).isSameAs(PUBLIC);
    }

    @Test
    void authenticatedWithoutAScopeIsDeniedOnARestrictedProductAndToldNoSuchBucketForAMissingOne() {
        assertThat(denial(key(), Action.GET_OBJECT, RESTRICTED_REF, Optional.of(RESTRICTED), "k")).isEqualTo(S3Error.ACCESS_DENIED);
        assertThat(denial(session(), Action.GET_OBJECT, RESTRICTED_REF, Optional.of(RESTRICTED), "k")).isEqualTo(S3Error.ACCESS_DENIED);
        assertThat(denial(key(), Action.GET_OBJECT, RESTRICTED_REF, Optional.empty(), "k")).isEqualTo(S3Error.NO_SUCH_BUCKET);
    }

    /** product pattern | prefixes (space separated, '-' none) | actions | action asked | product | key | allowed */
    @ParameterizedTest(name = "[{index}] scope {0} {1} {2}: {3} {4} {5} -> {6}")
    @CsvSource(delimiter = '|', value = {
            // product patterns
            "demo/private | - | get_object | get_object | demo/private | x | true",
            "demo/*       | - | get_object | get_object | demo/private | x | true",
            "demo/hello   | - | get_object | get_object | demo/private | x | false",
            "other/*      | - | get_object | get_object | demo/private | x | false",
            "demo/*       | - | get_object | get_object | other/private | x | false",
            // actions
            "demo/private | - | get_object | head_object | demo/private | x | false",
            "demo/private | - | get_object head_object | head_object | demo/private | x | true",
            "demo/private | - | list_bucket | get_object | demo/private | x | false",
            "demo/private | - | get_object | put_object | demo/private | x | false",
            "demo/private | - | put_object | put_object | demo/private | x | true",
            // prefix ending in '/': keys that start with it
            "demo/private | a/ | get_object | get_object | demo/private | a/x | true",
            "demo/private | a/ | get_object | get_object | demo/private | a/ | true",
            "demo/private | a/ | get_object | get_object | demo/private | a | false",
            "demo/private | a/ | get_object | get_object | demo/private | ab | false",
            "demo/private | a/ | get_object | get_object | demo/private | b/a/x | false",
            // prefix without '/': the key itself and keys under it, never 'ab'
            "demo/private | a | get_object | get_object | demo/private | a | true",
            "demo/private | a | get_object | get_object | demo/private | a/x | true",
            "demo/private | a | get_object | get_object | demo/private | ab | false",
            "demo/private | a | get_object | get_object | demo/private | ab/x | false",
            // several prefixes: any one suffices
            "demo/private | a/ b | get_object | get_object | demo/private | b/y | true",
            "demo/private | a/ b | get_object | get_object | demo/private | c | false",
            // listings check the prefix parameter
            "demo/private | a/ | list_bucket | list_bucket | demo/private | a/ | true",
            "demo/private | a/ | list_bucket | list_bucket | demo/private | a/sub | true",
            "demo/private | a/ | list_bucket | list_bucket | demo/private | '' | false",
            "demo/private | a/ | list_bucket | list_bucket | demo/private | a | false",
            "demo/private | - | list_bucket | list_bucket | demo/private | '' | true",
    })
    void scopeMatrix(String product, String prefixes, String actions, String asked, String target, String key, boolean allowed) {
        Scope scope = new Scope(product,
                prefixes.equals("-") ? List.of() : List.of(prefixes.split(" ")),
                EnumSet.copyOf(java.util.Arrays.stream(actions.split(" ")).map(a -> Action.fromConfigName(a).orElseThrow()).toList()));
        String[] parts = target.split("/");
        ProductRef ref = new ProductRef(parts[0], parts[1]);
        Product restricted = new Product(ref, Visibility.RESTRICTED, new StubBackend<>(target));
        Action action = Action.fromConfigName(asked).orElseThrow();

        for (Principal p : List.of(key(scope), session(scope))) {
            if (allowed) {
                assertThat(Authorizer.authorize(p, action, ref, Optional.of(restricted), key)).isSameAs(restricted);
            } else {
                assertThatThrownBy(() -> Authorizer.authorize(p, action, ref, Optional.of(restricted), key))
                        .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.ACCESS_DENIED));
            }
        }
    }

    @Test
    void visibilityOfRestrictedProductsFollowsScopes() {
        Scope readPrivate = new Scope("demo/private", List.of("a/"), Set.of(Action.GET_OBJECT, Action.LIST_BUCKET));
        Scope listAll = new Scope("demo/*", List.of(), Set.of(Action.LIST_BUCKET));

        assertThat(Authorizer.canSee(Principal.Anonymous.UNSIGNED, RESTRICTED)).isFalse();
        assertThat(Authorizer.canSee(Principal.Anonymous.UNSIGNED, PUBLIC)).isTrue();
        assertThat(Authorizer.canSee(key(readPrivate), RESTRICTED)).isTrue();
        assertThat(Authorizer.canSee(key(readPrivate), OTHER)).isFalse();
        assertThat(Authorizer.canListWhole(key(readPrivate), RESTRICTED)).isFalse();
        assertThat(Authorizer.canListWhole(key(listAll), RESTRICTED)).isTrue();
        assertThat(Authorizer.canListWhole(key(listAll), OTHER)).isFalse();
    }

    @Test
    void aScopeProductMustBeAccountSlashProduct() {
        for (String bad : List.of("demo", "/x", "demo/", "a/b/c", "")) {
            assertThatThrownBy(() -> new Scope(bad, List.of(), Set.of(Action.GET_OBJECT))).isInstanceOf(IllegalArgumentException.class);
        }
    }

    // --- writes ---------------------------------------------------------------------------------

    private static final ProductRef UPLOADS_REF = new ProductRef("demo", "uploads");
    private static final Product WRITABLE = new Product(UPLOADS_REF, Visibility.RESTRICTED, new StubBackend<>("uploads"), true);
    private static final Product READ_ONLY = new Product(UPLOADS_REF, Visibility.RESTRICTED, new StubBackend<>("uploads"), false);
    private static final Product WRITABLE_PUBLIC = new Product(PUBLIC_REF, Visibility.PUBLIC, new StubBackend<>("public"), true);

    private static S3Error writeDenial(Principal p, Action a, ProductRef ref, Optional<Product> product, String key) {
        try {
            Authorizer.authorizeWrite(p, a, ref, product, key);
            return null;
        } catch (S3Exception e) {
            return e.error();
        }
    }

    @ParameterizedTest
    @EnumSource(value = Action.class, names = {"PUT_OBJECT", "CREATE_MULTIPART_UPLOAD", "UPLOAD_PART", "COMPLETE_MULTIPART_UPLOAD"})
    void putObjectGrantsEveryStepOfAMultipartUploadAsInAws(Action step) {
        Principal p = key(new Scope("demo/uploads", List.of(), Set.of(Action.PUT_OBJECT)));

        assertThat(writeDenial(p, step, UPLOADS_REF, Optional.of(WRITABLE), "a.bin")).isNull();
    }

    @ParameterizedTest
    @EnumSource(value = Action.class, names = {"ABORT_MULTIPART_UPLOAD", "LIST_MULTIPART_UPLOADS", "DELETE_OBJECT", "GET_OBJECT"})
    void putObjectGrantsNothingElse(Action other) {
        Principal p = key(new Scope("demo/uploads", List.of(), Set.of(Action.PUT_OBJECT)));

        assertThat(denial(p, other, UPLOADS_REF, Optional.of(WRITABLE), "a.bin")).isEqualTo(S3Error.ACCESS_DENIED);
    }

    @Test
    void aMultipartStepNamedAloneGrantsOnlyThatStep() {
        Principal p = key(new Scope("demo/uploads", List.of(), Set.of(Action.UPLOAD_PART)));

        assertThat(writeDenial(p, Action.UPLOAD_PART, UPLOADS_REF, Optional.of(WRITABLE), "a.bin")).isNull();
        assertThat(writeDenial(p, Action.PUT_OBJECT, UPLOADS_REF, Optional.of(WRITABLE), "a.bin")).isEqualTo(S3Error.ACCESS_DENIED);
        assertThat(writeDenial(p, Action.CREATE_MULTIPART_UPLOAD, UPLOADS_REF, Optional.of(WRITABLE), "a.bin"))
                .isEqualTo(S3Error.ACCESS_DENIED);
    }

    @Test
    void listMultipartUploadsIsAnActionOfItsOwn() {
        assertThat(Action.fromConfigName("list_multipart_uploads")).contains(Action.LIST_MULTIPART_UPLOADS);
        Principal p = key(new Scope("demo/uploads", List.of(), Set.of(Action.LIST_MULTIPART_UPLOADS)));

        assertThat(writeDenial(p, Action.LIST_MULTIPART_UPLOADS, UPLOADS_REF, Optional.of(WRITABLE), "")).isNull();
    }

    @ParameterizedTest
    @EnumSource(value = Action.class, names = {"PUT_OBJECT", "DELETE_OBJECT", "ABORT_MULTIPART_UPLOAD", "LIST_MULTIPART_UPLOADS"})
    void anonymousWritesAreAccessDeniedOnAWritablePublicProductAndNoSuchBucketOnAHiddenOne(Action write) {
        assertThat(writeDenial(Principal.Anonymous.UNSIGNED, write, PUBLIC_REF, Optional.of(WRITABLE_PUBLIC), "a"))
                .isEqualTo(S3Error.ACCESS_DENIED);
        assertThat(writeDenial(Principal.Anonymous.UNSIGNED, write, UPLOADS_REF, Optional.of(WRITABLE), "a"))
                .isEqualTo(S3Error.NO_SUCH_BUCKET);
        assertThat(writeDenial(Principal.Anonymous.UNSIGNED, write, UPLOADS_REF, Optional.empty(), "a"))
                .isEqualTo(S3Error.NO_SUCH_BUCKET);
    }

    @Test
    void aWriteToAReadOnlyProductIsAccessDeniedEvenWithTheGrant() {
        Principal p = key(new Scope("demo/uploads", List.of(), EnumSet.of(Action.PUT_OBJECT, Action.DELETE_OBJECT)));

        assertThatThrownBy(() -> Authorizer.authorizeWrite(p, Action.PUT_OBJECT, UPLOADS_REF, Optional.of(READ_ONLY), "a"))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.error()).isEqualTo(S3Error.ACCESS_DENIED);
                    assertThat(e.error().status()).isEqualTo(403);
                });
        assertThat(writeDenial(p, Action.DELETE_OBJECT, UPLOADS_REF, Optional.of(READ_ONLY), "a")).isEqualTo(S3Error.ACCESS_DENIED);
    }

    @Test
    void aReadOnlyProductIsNotAskedWhetherItTakesWritesBeforeTheCallerIsAllowed() {
        boolean[] asked = {false};
        Product askedProduct = new Product(UPLOADS_REF, Visibility.RESTRICTED, () -> new StubBackend<>("x"), () -> {
            asked[0] = true;
            return false;
        });

        assertThat(writeDenial(key(), Action.PUT_OBJECT, UPLOADS_REF, Optional.of(askedProduct), "a")).isEqualTo(S3Error.ACCESS_DENIED);
        assertThat(writeDenial(Principal.Anonymous.UNSIGNED, Action.PUT_OBJECT, UPLOADS_REF, Optional.of(askedProduct), "a"))
                .isEqualTo(S3Error.NO_SUCH_BUCKET);
        assertThat(asked[0]).isFalse();
    }

    @Test
    void aWriteOutsideTheScopesPrefixesIsAccessDenied() {
        Principal p = key(new Scope("demo/uploads", List.of("incoming/"), Set.of(Action.PUT_OBJECT)));

        assertThat(writeDenial(p, Action.PUT_OBJECT, UPLOADS_REF, Optional.of(WRITABLE), "incoming/a.bin")).isNull();
        assertThat(writeDenial(p, Action.PUT_OBJECT, UPLOADS_REF, Optional.of(WRITABLE), "published/a.bin"))
                .isEqualTo(S3Error.ACCESS_DENIED);
    }

    @Test
    void aTemplatedRoleScopeGivesEachSubjectItsOwnPrefixForWrites() {
        ScopeTemplate template = new ScopeTemplate("demo/uploads", List.of("{sub}/"),
                Set.of(Action.PUT_OBJECT, Action.DELETE_OBJECT, Action.ABORT_MULTIPART_UPLOAD));
        Principal repoA = session(template.resolve(java.util.Map.of("sub", "repo-a")).orElseThrow());
        Principal repoB = session(template.resolve(java.util.Map.of("sub", "repo-b")).orElseThrow());

        assertThat(writeDenial(repoA, Action.PUT_OBJECT, UPLOADS_REF, Optional.of(WRITABLE), "repo-a/build/1.tar")).isNull();
        assertThat(writeDenial(repoA, Action.UPLOAD_PART, UPLOADS_REF, Optional.of(WRITABLE), "repo-a/build/1.tar")).isNull();
        assertThat(writeDenial(repoA, Action.DELETE_OBJECT, UPLOADS_REF, Optional.of(WRITABLE), "repo-b/build/1.tar"))
                .isEqualTo(S3Error.ACCESS_DENIED);
        assertThat(writeDenial(repoB, Action.PUT_OBJECT, UPLOADS_REF, Optional.of(WRITABLE), "repo-b/x")).isNull();
        assertThat(writeDenial(repoB, Action.PUT_OBJECT, UPLOADS_REF, Optional.of(WRITABLE), "repo-a/x"))
                .isEqualTo(S3Error.ACCESS_DENIED);
    }
}
