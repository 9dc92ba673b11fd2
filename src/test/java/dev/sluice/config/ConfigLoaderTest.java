package dev.sluice.config;

import dev.sluice.backend.BackendAuth;
import dev.sluice.backend.BackendSpec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigLoaderTest {

    @TempDir
    Path dir;

    private final Map<String, String> env = new HashMap<>();
    private final ConfigLoader loader = new ConfigLoader(name -> Optional.ofNullable(env.get(name)));

    @BeforeEach
    void createDataDirectories() throws IOException {
        Files.createDirectories(dir.resolve("data/hello"));
        Files.createDirectories(dir.resolve("data/census"));
    }

    private SluiceConfig parse(String yaml) {
        return loader.parse(yaml, dir);
    }

    private AbstractThrowableAssert<?, ? extends Throwable> assertConfigError(String yaml, String keyPath) {
        return assertThatThrownBy(() -> parse(yaml))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(keyPath);
    }

    /** One product with the given backend lines (indented under {@code backend:}). */
    private static BackendSpec.S3 s3(SluiceConfig config) {
        return (BackendSpec.S3) config.registry().products().get(0).backend();
    }

    private static java.nio.file.Path directory(SluiceConfig.Product p) {
        return ((BackendSpec.File) p.backend()).directory();
    }

    private static dev.sluice.sigv4.AwsCredentials staticKey(BackendAuth auth) {
        return ((BackendAuth.Static) auth).credentials();
    }

    private static String withBackend(String backendLines) {
        return """
                registry:
                  products:
                    - account: demo
                      product: hello
                      backend:
                """ + backendLines.indent(8);
    }

    private static String s3Backend(String extraLines) {
        return withBackend("""
                type: s3
                bucket: my-bucket
                """ + extraLines);
    }

    private static String staticAuth(String authLines) {
        return s3Backend("""
                auth:
                  type: static
                  access_key_id: AKIAEXAMPLE
                """ + authLines.indent(2));
    }

    private static final String FILE_PRODUCT = withBackend("""
            type: file
            path: data/hello
            """);

    // --- the quickstart ------------------------------------------------------------------------

    @Test
    void loadsTheQuickstart() throws IOException {
        Path file = Path.of("examples/quickstart.yaml");

        SluiceConfig config = loader.parse(Files.readString(file), file.toAbsolutePath().getParent());

        assertThat(config.server().listen()).isEqualTo(new SluiceConfig.HostPort("127.0.0.1", 8080));
        assertThat(config.server().adminListen()).isEqualTo(new SluiceConfig.HostPort("127.0.0.1", 9090));
        assertThat(config.server().effectivePublicUrl()).isEqualTo("http://127.0.0.1:8080");
        assertThat(config.registry().controlPlane()).as("a static registry").isEmpty();
        assertThat(config.registry().products())
                .extracting(p -> p.account() + "/" + p.product() + " " + p.visibility() + " " + p.backend().getClass().getSimpleName())
                .containsExactly("demo/hello PUBLIC File", "demo/census PUBLIC File");
        assertThat(config.registry().products()).allSatisfy(p -> {
            assertThat(p.backend()).isInstanceOf(BackendSpec.File.class);
            assertThat(directory(p)).isDirectory().isAbsolute();
        });
    }

    @Test
    void loadsTheQuickstartFromItsFileWithListenersFromTheEnvironment() {
        env.put("SLUICE_LISTEN", "127.0.0.1:18080");
        env.put("SLUICE_ADMIN_LISTEN", "127.0.0.1:19090");

        SluiceConfig config = loader.load(Path.of("examples/quickstart.yaml"));

        assertThat(config.server().listen().port()).isEqualTo(18080);
        assertThat(config.server().adminListen().port()).isEqualTo(19090);
        assertThat(directory(config.registry().products().get(0)))
                .isEqualTo(Path.of("examples/data/hello").toAbsolutePath().normalize());
    }

    @Test
    void aMissingFileIsReportedByName() {
        assertThatThrownBy(() -> loader.load(dir.resolve("nope.yaml")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("nope.yaml")
                .hasMessageContaining("does not exist");
    }

    @Test
    void invalidYamlIsAConfigException() {
        assertThatThrownBy(() -> parse("registry: [unclosed"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("not valid YAML");
    }

    @Test
    void aDocumentThatIsNotAMappingIsRefused() {
        assertThatThrownBy(() -> parse("- a\n- b\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("mapping");
    }

    // --- interpolation -------------------------------------------------------------------------

    @Test
    void interpolatesVariables() {
        env.put("DATA", "data");
        env.put("NAME", "hello");

        SluiceConfig config = parse("""
                registry:
                  products:
                    - account: demo
                      product: ${NAME}
                      backend:
                        type: file
                        path: ${DATA}/${NAME}
                """);

        assertThat(config.registry().products().get(0).product()).isEqualTo("hello");
        assertThat(directory(config.registry().products().get(0))).isEqualTo(dir.resolve("data/hello"));
    }

    @Test
    void usesTheDefaultWhenTheVariableIsUnsetOrEmpty() {
        String yaml = "server:\n  listen: \"${LISTEN:-127.0.0.1:18080}\"\n" + FILE_PRODUCT;

        assertThat(parse(yaml).server().listen().port()).isEqualTo(18080);
        env.put("LISTEN", "");
        assertThat(parse(yaml).server().listen().port()).isEqualTo(18080);
        env.put("LISTEN", "0.0.0.0:28080");
        assertThat(parse(yaml).server().listen()).isEqualTo(new SluiceConfig.HostPort("0.0.0.0", 28080));
    }

    @Test
    void anEmptyDefaultIsAllowed() {
        SluiceConfig config = parse(s3Backend("prefix: \"${PREFIX:-}\""));

        assertThat(s3(config).prefix()).isEmpty();
    }

    @Test
    void anUnsetVariableWithoutDefaultNamesTheKeyPathAndTheVariable() {
        assertConfigError("server:\n  listen: \"${SLUICE_LISTEN}\"\n" + FILE_PRODUCT, "server.listen")
                .hasMessageContaining("SLUICE_LISTEN");
    }

    @Test
    void anUnsetVariableInsideAListNamesTheIndexedPath() {
        assertConfigError(withBackend("type: file\npath: ${DATA_DIR}/hello"), "registry.products[0].backend.path")
                .hasMessageContaining("DATA_DIR");
    }

    @Test
    void anInterpolatedValueIsNotInterpolatedAgain() {
        env.put("PREFIX", "${NOT_A_VARIABLE}");

        SluiceConfig config = parse(s3Backend("prefix: \"${PREFIX}\""));

        assertThat(s3(config).prefix()).isEqualTo("${NOT_A_VARIABLE}");
    }

    // --- every problem in one run -------------------------------------------------------------

    /** The problems a config error lists, one per line after the count. */
    private List<String> problemsOf(String yaml) {
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, () -> parse(yaml));
        assertThat(e.problems()).as(e.getMessage()).isNotEmpty();
        return e.problems();
    }

    @Test
    void aFileBackendKeepsAbandonedUploadsSevenDaysUnlessConfigured() {
        BackendSpec.File byDefault = (BackendSpec.File) parse(FILE_PRODUCT).registry().products().get(0).backend();
        assertThat(byDefault.abandonedUploadAge()).isEqualTo(java.time.Duration.ofDays(7));

        BackendSpec.File configured = (BackendSpec.File) parse(withBackend("""
                type: file
                path: data/hello
                abandoned_upload_age: 36h
                """)).registry().products().get(0).backend();
        assertThat(configured.abandonedUploadAge()).isEqualTo(java.time.Duration.ofHours(36));

        assertThat(problemsOf(withBackend("""
                type: file
                path: data/hello
                abandoned_upload_age: 0s
                """))).containsExactly("registry.products[0].backend.abandoned_upload_age: must be positive");
    }

    @Test
    void threeTyposInThreeSectionsAreReportedTogether() {
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, () -> parse("""
                server:
                  listn: "127.0.0.1:8080"
                registry:
                  products:
                    - account: demo
                      product: hello
                      visibilty: public
                      backend: { type: file, path: data/hello }
                inbound:
                  access_keys:
                    - access_key_id: AKIASLUICE0001
                      secret_access_key_env: NOT_SET_ANYWHERE
                """));

        assertThat(e.problems()).hasSize(3);
        assertThat(e.problems().get(0)).startsWith("server.listn: unknown key");
        assertThat(e.problems().get(1)).startsWith("registry.products[0].visibilty: unknown key");
        assertThat(e.problems().get(2)).startsWith("inbound.access_keys[0].secret_access_key_env: environment variable NOT_SET_ANYWHERE");
        assertThat(e.getMessage().lines().toList()).containsExactly("3 problems:",
                "  " + e.problems().get(0), "  " + e.problems().get(1), "  " + e.problems().get(2));
    }

    @Test
    void aSingleProblemIsTheWholeMessage() {
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> parse("server: { listn: x }\n" + FILE_PRODUCT));

        assertThat(e.problems()).hasSize(1);
        assertThat(e.getMessage()).isEqualTo(e.problems().get(0));
    }

    @Test
    void everyBadProductIsReportedNotOnlyTheFirst() {
        List<String> problems = problemsOf("""
                registry:
                  products:
                    - { account: demo, product: hello, visibility: secret, backend: { type: file, path: data/hello } }
                    - { account: demo, product: census, backend: { type: file, path: data/census } }
                    - { account: Demo, product: other, backend: { type: file, path: data/missing } }
                    - { account: demo, product: hello, backend: { type: file, path: data/hello } }
                """);

        assertThat(problems).hasSize(2);
        assertThat(problems.get(0)).startsWith("registry.products[0].visibility:");
        assertThat(problems.get(1)).startsWith("registry.products[2].account:");
    }

    @Test
    void severalUnknownKeysInOneMappingAreEachReported() {
        List<String> problems = problemsOf("server: { listn: x, admin_lisen: y }\n" + FILE_PRODUCT);

        assertThat(problems).containsExactly(
                "server.listn: unknown key (allowed here: " + allowedServerKeys(problems.get(0)) + ")",
                "server.admin_lisen: unknown key (allowed here: " + allowedServerKeys(problems.get(0)) + ")");
    }

    private static String allowedServerKeys(String problem) {
        return problem.substring(problem.indexOf("allowed here: ") + "allowed here: ".length(), problem.length() - 1);
    }

    @Test
    void everyBadAccessKeyAndRoleIsReported() {
        env.put("SESSION_KEY", SESSION_KEY);
        env.put("K_SECRET", "s");
        List<String> problems = problemsOf("""
                inbound:
                  access_keys:
                    - { access_key_id: short, secret_access_key_env: K_SECRET }
                    - { access_key_id: AKIASLUICE0002, secret_access_key_env: K_SECRET, enabled: maybe }
                  sts:
                    session_key_env: SESSION_KEY
                    roles:
                      - { id: "bad id", trusted_issuers: ["https://issuer.example"], audiences: [sluice] }
                      - { id: ok, trusted_issuers: ["not a url"], audiences: [sluice] }
                """ + FILE_PRODUCT);

        assertThat(problems).hasSize(4);
        assertThat(problems.get(0)).startsWith("inbound.access_keys[0].access_key_id:");
        assertThat(problems.get(1)).startsWith("inbound.access_keys[1].enabled:");
        assertThat(problems.get(2)).startsWith("inbound.sts.roles[0].id:");
        assertThat(problems.get(3)).startsWith("inbound.sts.roles[1].trusted_issuers[0]:");
    }

    @Test
    void everyUnsetVariableIsReportedTogether() {
        List<String> problems = problemsOf("""
                server: { listen: "${NO_LISTEN}", admin_listen: "${NO_ADMIN}" }
                """ + FILE_PRODUCT);

        assertThat(problems).containsExactly("server.listen: environment variable NO_LISTEN is not set",
                "server.admin_listen: environment variable NO_ADMIN is not set");
    }

    // --- unknown and missing keys --------------------------------------------------------------

    @Test
    void theBenchmarkOnlyComparisonModeIsNoLongerAKeyOfTheConfiguration() {
        List<String> problems = problemsOf("cache: { credentials: { comparison_mode: per_request } }\n" + FILE_PRODUCT);

        assertThat(problems).containsExactly("cache.credentials.comparison_mode: unknown key (allowed here: "
                + "refresh_lead, min_serve, claim_timeout, failure_backoff, max_wait)");
    }

    @Test
    void anUnknownKeyIsReportedWithItsFullPath() {
        assertConfigError(withBackend("type: file\npathh: data/hello"), "registry.products[0].backend.pathh")
                .hasMessageContaining("unknown key");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        serverr: {}                               | serverr
        server: { listn: '127.0.0.1:1' }          | server.listn
        registry: { type: static, productz: [] }  | registry.productz
        """)
    void unknownKeysAnywhereAreReportedWithTheirPath(String yaml, String keyPath) {
        assertConfigError(yaml + "\n" + (yaml.startsWith("registry") ? "" : FILE_PRODUCT), keyPath)
                .hasMessageContaining("unknown key");
    }

    @Test
    void anUnknownProductKeyIsReportedWithItsPath() {
        assertConfigError("""
                registry:
                  products:
                    - account: demo
                      product: hello
                      visibilty: public
                      backend: { type: file, path: data/hello }
                """, "registry.products[0].visibilty");
    }

    @Test
    void anUnknownAuthKeyIsReportedWithItsPath() {
        assertConfigError(s3Backend("auth: { type: anonymous, access_key_id: x }"), "registry.products[0].backend.auth.access_key_id");
    }

    @Test
    void registryIsRequired() {
        assertConfigError("server: {}\n", "registry").hasMessageContaining("required");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        account    | registry.products[0].account
        product    | registry.products[0].product
        backend    | registry.products[0].backend
        """)
    void productKeysAreRequired(String missing, String keyPath) {
        Map<String, String> lines = new java.util.LinkedHashMap<>();
        lines.put("account", "account: demo");
        lines.put("product", "product: hello");
        lines.put("backend", "backend: { type: file, path: data/hello }");
        lines.remove(missing);
        String yaml = "registry:\n  products:\n    - " + String.join("\n      ", lines.values()) + "\n";

        assertConfigError(yaml, keyPath).hasMessageContaining("required");
    }

    @Test
    void aBlankRequiredValueCountsAsMissing() {
        assertConfigError("""
                registry:
                  products:
                    - account: ""
                      product: hello
                      backend: { type: file, path: data/hello }
                """, "registry.products[0].account").hasMessageContaining("required");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        path: data/hello  | registry.products[0].backend.type
        type: file        | registry.products[0].backend.path
        type: s3          | registry.products[0].backend.bucket
        """)
    void backendKeysAreRequired(String onlyLine, String keyPath) {
        assertConfigError(withBackend(onlyLine), keyPath).hasMessageContaining("required");
    }

    @Test
    void staticAuthNeedsAnAccessKeyId() {
        env.put("SECRET", "s");
        assertConfigError(s3Backend("auth: { type: static, secret_access_key_env: SECRET }"),
                "registry.products[0].backend.auth.access_key_id").hasMessageContaining("required");
    }

    @Test
    void authNeedsAType() {
        assertConfigError(s3Backend("auth: {}"), "registry.products[0].backend.auth.type").hasMessageContaining("required");
    }

    @Test
    void aSectionThatIsNotAMappingIsRefused() {
        assertConfigError("server: 8080\n" + FILE_PRODUCT, "server").hasMessageContaining("mapping");
        assertConfigError("registry:\n  products: hello\n", "registry.products").hasMessageContaining("list");
        assertConfigError("registry:\n  products: [hello]\n", "registry.products[0]").hasMessageContaining("mapping");
    }

    @Test
    void anUnknownRegistryTypeIsRefused() {
        assertConfigError("registry: { type: consul }\n", "registry.type").hasMessageContaining("control-plane");
    }

    @Test
    void theControlPlaneRegistryTakesItsUrlAndDefaults() {
        SluiceConfig.ControlPlane cp = parse("""
                registry:
                  type: control-plane
                  control_plane: { url: "https://api.example.org/" }
                """).registry().controlPlane().orElseThrow();
        assertThat(cp.url()).isEqualTo("https://api.example.org");
        assertThat(cp.s3Endpoint()).isEmpty();
        assertThat(cp.productTtl()).isEqualTo(java.time.Duration.ofSeconds(300));
        assertThat(cp.dataConnectionTtl()).isEqualTo(java.time.Duration.ofSeconds(300));
        assertThat(cp.productListTtl()).isEqualTo(java.time.Duration.ofSeconds(60));
        assertThat(cp.permissionsTtl()).isEqualTo(java.time.Duration.ofSeconds(60));
        assertThat(cp.timeout()).isEqualTo(java.time.Duration.ofSeconds(3));
        assertThat(cp.staleIfError()).isEqualTo(java.time.Duration.ofMinutes(10));
    }

    @Test
    void theControlPlaneRegistryTakesEveryKey() {
        SluiceConfig.ControlPlane cp = parse("""
                registry:
                  type: control-plane
                  control_plane:
                    url: "http://127.0.0.1:9000"
                    s3_endpoint: "http://127.0.0.1:9100/"
                    ttl: { product: 10s, data_connection: 20s, product_list: 5s, permissions: 1m }
                    timeout: 500ms
                    stale_if_error: 0s
                """).registry().controlPlane().orElseThrow();
        assertThat(cp.s3Endpoint()).hasValue("http://127.0.0.1:9100");
        assertThat(cp.productTtl()).isEqualTo(java.time.Duration.ofSeconds(10));
        assertThat(cp.dataConnectionTtl()).isEqualTo(java.time.Duration.ofSeconds(20));
        assertThat(cp.productListTtl()).isEqualTo(java.time.Duration.ofSeconds(5));
        assertThat(cp.permissionsTtl()).isEqualTo(java.time.Duration.ofMinutes(1));
        assertThat(cp.timeout()).isEqualTo(java.time.Duration.ofMillis(500));
        assertThat(cp.staleIfError()).isZero();
    }

    @Test
    void theControlPlaneRegistryIsValidated() {
        assertConfigError("registry: { type: control-plane }\n", "registry.control_plane").hasMessageContaining("required");
        assertConfigError("registry: { type: control-plane, control_plane: {} }\n", "registry.control_plane.url");
        assertConfigError("registry: { type: control-plane, control_plane: { url: ftp://x } }\n", "registry.control_plane.url");
        assertConfigError("registry: { type: control-plane, control_plane: { url: http://x, s3_endpoint: nope } }\n",
                "registry.control_plane.s3_endpoint");
        assertConfigError("registry: { type: control-plane, control_plane: { url: http://x, ttl: { product: 0s } } }\n",
                "registry.control_plane.ttl.product").hasMessageContaining("positive");
        assertConfigError("registry: { type: control-plane, control_plane: { url: http://x, ttl: { products: 1s } } }\n",
                "registry.control_plane.ttl.products").hasMessageContaining("unknown key");
        assertConfigError("registry: { type: control-plane, control_plane: { url: http://x, timeout: 0s } }\n",
                "registry.control_plane.timeout");
        assertConfigError("registry: { type: control-plane, control_plane: { url: http://x }, products: [{account: a}] }\n",
                "registry.products");
        assertConfigError("registry: { control_plane: { url: http://x } }\n", "registry.control_plane")
                .hasMessageContaining("control-plane");
    }

    // --- values --------------------------------------------------------------------------------

    @Test
    void visibilityDefaultsToPublicAndAcceptsRestricted() {
        assertThat(parse(FILE_PRODUCT).registry().products().get(0).visibility()).isEqualTo(dev.sluice.registry.Visibility.PUBLIC);
        SluiceConfig restricted = parse("""
                registry:
                  products:
                    - { account: demo, product: hello, visibility: restricted, backend: { type: file, path: data/hello } }
                """);
        assertThat(restricted.registry().products().get(0).visibility()).isEqualTo(dev.sluice.registry.Visibility.RESTRICTED);
    }

    @ParameterizedTest
    @ValueSource(strings = {"private", "Public", "\"\"", "yes"})
    void anUnknownVisibilityIsRefused(String visibility) {
        assertConfigError("""
                registry:
                  products:
                    - { account: demo, product: hello, visibility: %s, backend: { type: file, path: data/hello } }
                """.formatted(visibility), "registry.products[0].visibility");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Demo", "-demo", "_demo", "de mo", "de/mo", "démo", "a234567890123456789012345678901234567890123456789012345678901234"})
    void invalidAccountNamesAreRefused(String account) {
        assertConfigError("""
                registry:
                  products:
                    - { account: "%s", product: hello, backend: { type: file, path: data/hello } }
                """.formatted(account), "registry.products[0].account").hasMessageContaining("not a valid account name");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Hello", ".hello", "hel/lo", "hel lo", "hello!"})
    void invalidProductNamesAreRefused(String product) {
        assertConfigError("""
                registry:
                  products:
                    - { account: demo, product: "%s", backend: { type: file, path: data/hello } }
                """.formatted(product), "registry.products[0].product").hasMessageContaining("not a valid product name");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "demo", "0day", "my-data.v2_x", "a23456789012345678901234567890123456789012345678901234567890123"})
    void validNamesAreAccepted(String name) {
        SluiceConfig config = parse("""
                registry:
                  products:
                    - { account: "%s", product: "%s", backend: { type: file, path: data/hello } }
                """.formatted(name, name));

        assertThat(config.registry().products().get(0).account()).isEqualTo(name);
    }

    @Test
    void aDuplicateProductNamesTheSecondEntry() {
        assertConfigError("""
                registry:
                  products:
                    - { account: demo, product: hello, backend: { type: file, path: data/hello } }
                    - { account: demo, product: census, backend: { type: file, path: data/census } }
                    - { account: demo, product: hello, backend: { type: file, path: data/census } }
                """, "registry.products[2]").hasMessageContaining("demo/hello").hasMessageContaining("twice");
    }

    @Test
    void theSameProductNameInAnotherAccountIsNotADuplicate() {
        SluiceConfig config = parse("""
                registry:
                  products:
                    - { account: demo, product: hello, backend: { type: file, path: data/hello } }
                    - { account: other, product: hello, backend: { type: file, path: data/hello } }
                """);

        assertThat(config.registry().products()).hasSize(2);
    }

    @Test
    void aFileBackendDirectoryThatDoesNotExistIsReported() {
        assertConfigError(withBackend("type: file\npath: data/missing"), "registry.products[0].backend.path")
                .hasMessageContaining("does not exist");
    }

    @Test
    void aFileBackendPathThatIsAFileIsReported() throws IOException {
        Files.writeString(dir.resolve("data/plain.txt"), "x");

        assertConfigError(withBackend("type: file\npath: data/plain.txt"), "registry.products[0].backend.path")
                .hasMessageContaining(dir.resolve("data/plain.txt") + " is not a directory");
    }

    @Test
    void fileBackendPathsResolveAgainstTheConfigDirectory() {
        SluiceConfig config = parse(FILE_PRODUCT);

        assertThat(directory(config.registry().products().get(0))).isEqualTo(dir.resolve("data/hello"));
        assertThat(config.baseDirectory()).isEqualTo(dir);
    }

    @Test
    void anUnknownBackendTypeIsRefused() {
        assertConfigError(withBackend("type: hdfs"), "registry.products[0].backend.type").hasMessageContaining("hdfs")
                .hasMessageContaining("supported: file, s3, azure, gcs");
    }

    // --- s3 backend ----------------------------------------------------------------------------

    @Test
    void s3BackendDefaultsToUsEast1AndItsEndpoint() {
        BackendSpec.S3 b = s3(parse(s3Backend("")));

        assertThat(b.region()).isEqualTo("us-east-1");
        assertThat(b.endpoint()).hasToString("https://s3.us-east-1.amazonaws.com");
        assertThat(b.bucket()).isEqualTo("my-bucket");
        assertThat(b.prefix()).isEmpty();
        assertThat(b.auth()).isEqualTo(new BackendAuth.Anonymous());
        assertThat(b.timeout()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void s3BackendDefaultEndpointFollowsTheRegion() {
        BackendSpec.S3 b = s3(parse(s3Backend("region: eu-west-1")));

        assertThat(b.endpoint()).hasToString("https://s3.eu-west-1.amazonaws.com");
        assertThat(b.region()).isEqualTo("eu-west-1");
    }

    @Test
    void s3BackendExplicitEndpointLosesItsTrailingSlash() {
        BackendSpec.S3 b = s3(parse(s3Backend("endpoint: \"http://127.0.0.1:9000/\"\nprefix: some/prefix/")));

        assertThat(b.endpoint()).hasToString("http://127.0.0.1:9000");
        assertThat(b.prefix()).isEqualTo("some/prefix/");
    }

    @Test
    void checksumTrailersGoToS3ItselfUnlessTheOperatorSaysOtherwise() {
        assertThat(s3(parse(s3Backend(""))).checksumTrailers()).isTrue();
        assertThat(s3(parse(s3Backend("endpoint: \"http://127.0.0.1:9000\""))).checksumTrailers()).isFalse();
        assertThat(s3(parse(s3Backend("endpoint: \"http://127.0.0.1:9000\"\nchecksum_trailers: true"))).checksumTrailers()).isTrue();
        assertThat(s3(parse(s3Backend("checksum_trailers: false"))).checksumTrailers()).isFalse();
        assertConfigError(s3Backend("checksum_trailers: sometimes"), "registry.products[0].backend.checksum_trailers");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ftp://host", "127.0.0.1:9000", "http://", "http://host with space"})
    void s3BackendEndpointMustBeAnHttpUrl(String endpoint) {
        assertConfigError(s3Backend("endpoint: \"" + endpoint + "\""), "registry.products[0].backend.endpoint");
    }

    @Test
    void s3BackendPrefixMustNotStartWithSlash() {
        assertConfigError(s3Backend("prefix: /abs/"), "registry.products[0].backend.prefix");
    }

    @Test
    void anonymousAuthIsExplicitlyAllowed() {
        assertThat(s3(parse(s3Backend("auth: { type: anonymous }"))).auth()).isEqualTo(new BackendAuth.Anonymous());
    }

    @Test
    void staticAuthReadsTheSecretFromTheEnvironment() {
        env.put("BACKEND_SECRET", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");

        BackendAuth auth = s3(parse(staticAuth("secret_access_key_env: BACKEND_SECRET"))).auth();

        assertThat(auth).isInstanceOf(BackendAuth.Static.class);
        assertThat(staticKey(auth).accessKeyId()).isEqualTo("AKIAEXAMPLE");
        assertThat(staticKey(auth).secretAccessKey()).isEqualTo("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    }

    @Test
    void staticAuthWithAnUnsetSecretVariableNamesTheKeyAndTheVariable() {
        assertConfigError(staticAuth("secret_access_key_env: BACKEND_SECRET"),
                "registry.products[0].backend.auth.secret_access_key_env").hasMessageContaining("BACKEND_SECRET");
        env.put("BACKEND_SECRET", "");
        assertConfigError(staticAuth("secret_access_key_env: BACKEND_SECRET"),
                "registry.products[0].backend.auth.secret_access_key_env");
    }

    @Test
    void staticAuthReadsTheSecretFromAFileTrimmed() throws IOException {
        Path secret = dir.resolve("secret.txt");
        Files.writeString(secret, "from-a-file\n");

        BackendAuth auth = s3(parse(staticAuth("secret_access_key_file: \"" + secret + "\""))).auth();

        assertThat(staticKey(auth).secretAccessKey()).isEqualTo("from-a-file");
    }

    @Test
    void aRelativeSecretFileResolvesAgainstTheConfigDirectory() throws IOException {
        // The loader's contract: relative paths resolve against the config file's directory, not
        // the working directory the service happens to be started from.
        Files.createDirectories(dir.resolve("secrets"));
        Files.writeString(dir.resolve("secrets/backend.key"), "relative-secret\n");

        BackendAuth auth = s3(parse(staticAuth("secret_access_key_file: secrets/backend.key"))).auth();

        assertThat(staticKey(auth).secretAccessKey()).isEqualTo("relative-secret");
    }

    @Test
    void aRelativeSealKeyFileResolvesAgainstTheConfigDirectory() throws IOException {
        String key = java.util.Base64.getEncoder().encodeToString(new byte[32]);
        Files.createDirectories(dir.resolve("secrets"));
        Files.writeString(dir.resolve("secrets/seal.key"), key + "\n");

        SluiceConfig config = parse("cache: { shared: { type: redis, seal_key_file: secrets/seal.key } }\n" + FILE_PRODUCT);

        assertThat(config.cache().shared()).isInstanceOfSatisfying(SluiceConfig.Shared.Redis.class,
                r -> assertThat(r.sealKey().bytes()).isEqualTo(java.util.Base64.getDecoder().decode(key)));
    }

    @Test
    void staticAuthWithAMissingOrEmptySecretFileNamesTheKey() throws IOException {
        assertConfigError(staticAuth("secret_access_key_file: \"" + dir.resolve("absent.txt") + "\""),
                "registry.products[0].backend.auth.secret_access_key_file");
        Files.writeString(dir.resolve("empty.txt"), "\n");
        assertConfigError(staticAuth("secret_access_key_file: \"" + dir.resolve("empty.txt") + "\""),
                "registry.products[0].backend.auth.secret_access_key_file").hasMessageContaining("empty");
    }

    @Test
    void staticAuthWithBothSecretSourcesIsRefused() throws IOException {
        env.put("BACKEND_SECRET", "s");
        Files.writeString(dir.resolve("secret.txt"), "s");

        assertConfigError(staticAuth("secret_access_key_env: BACKEND_SECRET\nsecret_access_key_file: secret.txt"),
                "registry.products[0].backend.auth").hasMessageContaining("exactly one of secret_access_key_env or secret_access_key_file");
    }

    @Test
    void staticAuthWithNeitherSecretSourceIsRefused() {
        assertConfigError(staticAuth(""), "registry.products[0].backend.auth")
                .hasMessageContaining("exactly one of secret_access_key_env or secret_access_key_file");
    }

    @Test
    void webIdentityRoleWithoutAnOidcProviderNamesTheAuthKey() {
        assertConfigError(s3Backend("""
                auth:
                  type: web_identity_role
                  role_arn: arn:aws:iam::123456789012:role/reader
                """), "registry.products[0].backend.auth")
                .hasMessageContaining("web_identity_role")
                .hasMessageContaining("oidc.signing_key");
    }

    @Test
    void webIdentityRoleNeedsAnIamRoleArn() {
        assertConfigError(s3Backend("auth: { type: web_identity_role }"), "registry.products[0].backend.auth.role_arn")
                .hasMessageContaining("required");
        assertConfigError(s3Backend("auth: { type: web_identity_role, role_arn: \"arn:aws:s3:::bucket\" }"),
                "registry.products[0].backend.auth.role_arn").hasMessageContaining("not an IAM role ARN");
    }

    @Test
    void anUnknownAuthTypeIsRefused() {
        assertConfigError(s3Backend("auth: { type: kerberos }"), "registry.products[0].backend.auth.type")
                .hasMessageContaining("kerberos");
    }

    // --- durations -----------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(textBlock = """
        100ms, PT0.1S
        5s,    PT5S
        2m,    PT2M
        1h,    PT1H
        1d,    PT24H
        30,    PT30S
        0s,    PT0S
        """)
    void parsesDurations(String text, Duration expected) {
        assertThat(s3(parse(s3Backend("timeout: " + text))).timeout()).isEqualTo(expected);
        assertThat(ConfigLoader.parseDuration(text, "x")).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"5 s", "5S", "1.5s", "-1s", "s", "ms", "5sec", "1h30m", "PT5S", "five"})
    void refusesMalformedDurationsNamingTheKey(String text) {
        assertConfigError(s3Backend("timeout: \"" + text + "\""), "registry.products[0].backend.timeout")
                .hasMessageContaining("not a duration");
    }

    @ParameterizedTest
    @ValueSource(strings = {"99999999999999999999s", "9223372036854775807h", "9223372036854775807d"})
    void refusesDurationsTooLargeToRepresentNamingTheKey(String text) {
        assertConfigError(s3Backend("timeout: \"" + text + "\""), "registry.products[0].backend.timeout")
                .hasMessageContaining(text);
    }

    @Test
    void shutdownTimeoutIsADuration() {
        assertThat(parse("server: { shutdown_timeout: 2m }\n" + FILE_PRODUCT).server().shutdownTimeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(parse(FILE_PRODUCT).server().shutdownTimeout()).isEqualTo(Duration.ofSeconds(20));
        assertConfigError("server: { shutdown_timeout: soon }\n" + FILE_PRODUCT, "server.shutdown_timeout");
    }

    @Test
    void theShutdownGraceIsPartOfTheShutdownTimeout() {
        assertThat(parse(FILE_PRODUCT).server().shutdownGrace()).isEqualTo(Duration.ofSeconds(5));
        assertThat(parse("server: { shutdown_grace: 0 }\n" + FILE_PRODUCT).server().shutdownGrace()).isZero();
        assertThat(parse("server: { shutdown_grace: 10s, shutdown_timeout: 30s }\n" + FILE_PRODUCT).server().shutdownGrace())
                .isEqualTo(Duration.ofSeconds(10));
        // Unset, it fits inside a short timeout written before the grace existed.
        assertThat(parse("server: { shutdown_timeout: 1s }\n" + FILE_PRODUCT).server().shutdownGrace()).isEqualTo(Duration.ofMillis(500));
        assertConfigError("server: { shutdown_grace: 20s }\n" + FILE_PRODUCT, "server.shutdown_grace: must be shorter");
        assertConfigError("server: { shutdown_grace: 5s, shutdown_timeout: 3s }\n" + FILE_PRODUCT, "server.shutdown_grace");
        assertConfigError("server: { shutdown_grace: soon }\n" + FILE_PRODUCT, "server.shutdown_grace");
    }

    // --- listeners -----------------------------------------------------------------------------

    @Test
    void listenersDefaultToLoopback() {
        SluiceConfig.Server server = parse(FILE_PRODUCT).server();

        assertThat(server.listen()).isEqualTo(new SluiceConfig.HostPort("127.0.0.1", 8080));
        assertThat(server.adminListen()).isEqualTo(new SluiceConfig.HostPort("127.0.0.1", 9090));
        assertThat(server.publicUrl()).isEmpty();
    }

    @Test
    void listenAcceptsBracketedIpv6() {
        SluiceConfig.Server server = parse("server: { listen: \"[::1]:8443\" }\n" + FILE_PRODUCT).server();

        assertThat(server.listen()).isEqualTo(new SluiceConfig.HostPort("::1", 8443));
        assertThat(server.listen().toString()).isEqualTo("[::1]:8443");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        :8080         | ''        | :8080
        0.0.0.0:8080  | 0.0.0.0   | 0.0.0.0:8080
        [::]:8080     | ::        | [::]:8080
        """)
    void aListenAddressWithoutAHostOrWithAWildcardMeansAllInterfaces(String value, String host, String shown) {
        SluiceConfig.HostPort listen = parse("server: { listen: \"" + value + "\" }\n" + FILE_PRODUCT).server().listen();

        assertThat(listen).isEqualTo(new SluiceConfig.HostPort(host, 8080));
        assertThat(listen.allInterfaces()).isTrue();
        assertThat(listen.toString()).isEqualTo(shown);
    }

    @Test
    void aNamedHostIsNotAllInterfaces() {
        assertThat(parse(FILE_PRODUCT).server().listen().allInterfaces()).isFalse();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        listen       | 127.0.0.1:99999
        listen       | 127.0.0.1:-1
        listen       | 127.0.0.1:http
        listen       | 127.0.0.1:
        listen       | localhost
        listen       | :
        listen       | []:8080
        admin_listen | 127.0.0.1:65536
        admin_listen | nohostport
        """)
    void refusesBadListenAddressesNamingTheKey(String key, String value) {
        assertConfigError("server: { " + key + ": \"" + value + "\" }\n" + FILE_PRODUCT, "server." + key);
    }

    @Test
    void refusesTheSameAddressForBothListeners() {
        assertConfigError("server: { listen: \"127.0.0.1:8080\", admin_listen: \"127.0.0.1:8080\" }\n" + FILE_PRODUCT,
                "server.admin_listen").hasMessageContaining("must differ");
    }

    @Test
    void allowsPortZeroForBothListeners() {
        SluiceConfig.Server server = parse("server: { listen: \"127.0.0.1:0\", admin_listen: \"127.0.0.1:0\" }\n" + FILE_PRODUCT).server();

        assertThat(server.listen().port()).isZero();
        assertThat(server.adminListen().port()).isZero();
    }

    @Test
    void theBodyTimeoutDefaultsToThirtySecondsAndMustBePositive() {
        assertThat(parse(FILE_PRODUCT).server().bodyTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(parse("server: { body_timeout: 2s }\n" + FILE_PRODUCT).server().bodyTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertConfigError("server: { body_timeout: 0s }\n" + FILE_PRODUCT, "server.body_timeout");
    }

    @Test
    void theVirtualHostDomainIsOptionalLowerCasedAndMustBeAHostName() {
        assertThat(parse(FILE_PRODUCT).server().virtualHostDomain()).isEmpty();
        assertThat(parse("server: { virtual_host_domain: S3.Example.TEST }\n" + FILE_PRODUCT).server().virtualHostDomain())
                .contains("s3.example.test");
        assertThat(parse("server: { virtual_host_domain: localhost }\n" + FILE_PRODUCT).server().virtualHostDomain())
                .contains("localhost");
        for (String bad : List.of("\"s3.example.test:8080\"", "\"http://s3.example.test\"", "\".s3.example.test\"",
                "\"s3..example\"", "\"s3.example.test/\"", "\"\"", "\"s3_example\"")) {
            assertConfigError("server: { virtual_host_domain: " + bad + " }\n" + FILE_PRODUCT, "server.virtual_host_domain");
        }
    }

    @Test
    void connectionLimitsHaveDefaultsAndRefuseNonsense() {
        SluiceConfig.Limits defaults = parse(FILE_PRODUCT).server().limits();
        assertThat(defaults.headerTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(defaults.maxConnections()).isEmpty();
        assertThat(defaults.acceptBacklog()).isEqualTo(1024);
        assertThat(defaults.bodyBudget()).isEqualTo(32L * 1024 * 1024);

        assertThat(defaults.idleTimeout()).isEqualTo(Duration.ofSeconds(60));

        SluiceConfig.Limits set = parse("server: { header_timeout: 2s, max_connections: 500, accept_backlog: 64, body_budget: 256KiB, "
                + "idle_timeout: 15s }\n" + FILE_PRODUCT).server().limits();
        assertThat(set).isEqualTo(new SluiceConfig.Limits(Duration.ofSeconds(2), java.util.Optional.of(500), 64, 256 * 1024,
                Duration.ofSeconds(15)));
        assertThat(parse("server: { body_budget: 65536 }\n" + FILE_PRODUCT).server().limits().bodyBudget()).isEqualTo(65536);

        assertConfigError("server: { header_timeout: 0s }\n" + FILE_PRODUCT, "server.header_timeout");
        assertConfigError("server: { max_connections: 0 }\n" + FILE_PRODUCT, "server.max_connections");
        assertConfigError("server: { max_connections: lots }\n" + FILE_PRODUCT, "server.max_connections");
        assertConfigError("server: { accept_backlog: -1 }\n" + FILE_PRODUCT, "server.accept_backlog");
        assertConfigError("server: { body_budget: 1KiB }\n" + FILE_PRODUCT, "server.body_budget");
        assertConfigError("server: { body_budget: 2GiB }\n" + FILE_PRODUCT, "server.body_budget");
        assertConfigError("server: { body_budget: 32MB }\n" + FILE_PRODUCT, "server.body_budget");
    }

    @Test
    void publicUrlLosesItsTrailingSlashAndMustBeHttp() {
        assertThat(parse("server: { public_url: \"https://data.example.org/\" }\n" + FILE_PRODUCT).server().effectivePublicUrl())
                .isEqualTo("https://data.example.org");
        assertConfigError("server: { public_url: \"data.example.org\" }\n" + FILE_PRODUCT, "server.public_url");
    }

    // --- inbound identity -----------------------------------------------------------------------

    private static final String SESSION_KEY = java.util.Base64.getEncoder().encodeToString(new byte[32]);

    @Test
    void withoutInboundEveryCallerIsAnonymous() {
        assertThat(parse(FILE_PRODUCT).inbound()).isEqualTo(SluiceConfig.Inbound.NONE);
    }

    @Test
    void accessKeysAreTypedWithTheirDefaults() {
        env.put("K1_SECRET", "s3cr3t");
        SluiceConfig.Inbound in = parse("""
                inbound:
                  access_keys:
                    - access_key_id: AKIASLUICE0001
                      secret_access_key_env: K1_SECRET
                      scopes: [ { product: "demo/*", actions: [get_object, list_bucket] } ]
                    - access_key_id: AKIASLUICE0002
                      secret_access_key_env: K1_SECRET
                      name: ci-uploader
                      enabled: false
                      expires_at: "2027-01-31T00:00:00Z"
                      scopes: [ { product: demo/hello, prefixes: [a/, b], actions: [put_object] } ]
                """ + FILE_PRODUCT).inbound();

        assertThat(in.accessKeys()).hasSize(2);
        SluiceConfig.AccessKey first = in.accessKeys().get(0);
        assertThat(first.name()).isEqualTo("AKIASLUICE0001");
        assertThat(first.enabled()).isTrue();
        assertThat(first.expiresAt()).isEmpty();
        assertThat(first.secretAccessKey().value()).isEqualTo("s3cr3t");
        assertThat(first.scopes()).containsExactly(new SluiceConfig.ScopeSpec("demo/*", List.of(), Set.of(dev.sluice.auth.Action.GET_OBJECT, dev.sluice.auth.Action.LIST_BUCKET)));
        SluiceConfig.AccessKey second = in.accessKeys().get(1);
        assertThat(second.name()).isEqualTo("ci-uploader");
        assertThat(second.enabled()).isFalse();
        assertThat(second.expiresAt()).contains(java.time.Instant.parse("2027-01-31T00:00:00Z"));
        assertThat(second.scopes().get(0).prefixes()).containsExactly("a/", "b");
        assertThat(in.sts()).isEmpty();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "access_key_id: short|inbound.access_keys[0].access_key_id",
            "access_key_id: AKIA/SLASHED00|inbound.access_keys[0].access_key_id",
            "access_key_id: AKIASLUICE0001, expires_at: tomorrow|inbound.access_keys[0].expires_at",
            "access_key_id: AKIASLUICE0001, enabled: maybe|inbound.access_keys[0].enabled",
            "access_key_id: AKIASLUICE0001, scopes: [ { product: demo, actions: [get_object] } ]|inbound.access_keys[0].scopes[0].product",
            "access_key_id: AKIASLUICE0001, scopes: [ { product: demo/hello, actions: [] } ]|inbound.access_keys[0].scopes[0].actions",
            "access_key_id: AKIASLUICE0001, scopes: [ { product: demo/hello, actions: [read_all] } ]|inbound.access_keys[0].scopes[0].actions[0]",
            "access_key_id: AKIASLUICE0001, scopes: [ { product: 'demo/{sub}', actions: [get_object] } ]|inbound.access_keys[0].scopes[0].product",
            "access_key_id: AKIASLUICE0001, colour: red|inbound.access_keys[0].colour",
    })
    void badAccessKeysAreRefusedWithTheirPath(String fields, String keyPath) {
        env.put("K1_SECRET", "s3cr3t");
        assertConfigError("inbound: { access_keys: [ { secret_access_key_env: K1_SECRET, " + fields + " } ] }\n" + FILE_PRODUCT,
                keyPath);
    }

    @Test
    void anAccessKeyListedTwiceIsRefused() {
        env.put("K1_SECRET", "s3cr3t");
        assertConfigError("""
                inbound:
                  access_keys:
                    - { access_key_id: AKIASLUICE0001, secret_access_key_env: K1_SECRET }
                    - { access_key_id: AKIASLUICE0001, secret_access_key_env: K1_SECRET }
                """ + FILE_PRODUCT, "inbound.access_keys[1].access_key_id").hasMessageContaining("twice");
    }

    @Test
    void theSimpleStsFormIsOneDefaultRole() {
        env.put("SESSION_KEY", SESSION_KEY);
        SluiceConfig.InboundSts sts = parse("""
                inbound:
                  sts:
                    session_key_env: SESSION_KEY
                    trusted_issuers: ["https://token.actions.example.com"]
                    audiences: [sluice]
                    max_session_duration: 2h
                """ + FILE_PRODUCT).inbound().sts().orElseThrow();

        assertThat(sts.sessionKey().bytes()).hasSize(32);
        assertThat(sts.previousSessionKey()).isEmpty();
        assertThat(sts.roles()).containsExactly(new SluiceConfig.Role("default", List.of("https://token.actions.example.com"),
                List.of("sluice"), List.of(), Duration.ofHours(2), Duration.ofHours(24), List.of()));
    }

    @Test
    void stsRolesCapTheTokenLifetimeTheyAccept() {
        env.put("SESSION_KEY", SESSION_KEY);
        SluiceConfig.InboundSts sts = parse("""
                inbound:
                  sts:
                    session_key_env: SESSION_KEY
                    max_token_lifetime: 2h
                    roles:
                      - { id: inherits, trusted_issuers: ["https://i.example"], audiences: [a] }
                      - { id: own, trusted_issuers: ["https://i.example"], audiences: [a], max_token_lifetime: 10m }
                """ + FILE_PRODUCT).inbound().sts().orElseThrow();

        assertThat(sts.roles()).extracting(SluiceConfig.Role::maxTokenLifetime)
                .containsExactly(Duration.ofHours(2), Duration.ofMinutes(10));
    }

    @Test
    void stsRolesInheritTheMaximumDurationAndKeepTheirTemplates() {
        env.put("SESSION_KEY", SESSION_KEY);
        env.put("OLD_SESSION_KEY", SESSION_KEY);
        SluiceConfig.InboundSts sts = parse("""
                inbound:
                  sts:
                    session_key_env: SESSION_KEY
                    previous_session_key_env: OLD_SESSION_KEY
                    max_session_duration: 1h
                    roles:
                      - id: ci-reader
                        trusted_issuers: ["https://token.actions.example.com"]
                        audiences: [sluice]
                        subjects: ["repo:org/*"]
                        scopes: [ { product: "demo/{sub}", prefixes: ["{sub}/"], actions: [get_object] } ]
                """ + FILE_PRODUCT).inbound().sts().orElseThrow();

        assertThat(sts.previousSessionKey()).isPresent();
        SluiceConfig.Role role = sts.roles().get(0);
        assertThat(role.id()).isEqualTo("ci-reader");
        assertThat(role.maxSessionDuration()).isEqualTo(Duration.ofHours(1));
        assertThat(role.subjects()).containsExactly("repo:org/*");
        assertThat(role.scopes().get(0).product()).isEqualTo("demo/{sub}");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "trusted_issuers: [\"https://i.example\"], audiences: [a]|inbound.sts.session_key_env",
            "session_key_env: SESSION_KEY|inbound.sts",
            "session_key_env: SHORT_KEY, trusted_issuers: [\"https://i.example\"], audiences: [a]|32 bytes",
            "session_key_env: SESSION_KEY, trusted_issuers: [\"https://i.example\"]|inbound.sts.audiences",
            "session_key_env: SESSION_KEY, trusted_issuers: [issuer], audiences: [a]|inbound.sts.trusted_issuers[0]",
            "session_key_env: SESSION_KEY, audiences: [a]|inbound.sts.trusted_issuers",
            "session_key_env: SESSION_KEY, trusted_issuers: [\"https://i.example\"], audiences: [a], max_session_duration: 13h|inbound.sts.max_session_duration",
            "session_key_env: SESSION_KEY, trusted_issuers: [\"https://i.example\"], audiences: [a], max_session_duration: 5m|inbound.sts.max_session_duration",
            "session_key_env: SESSION_KEY, roles: [ { id: 'a b', trusted_issuers: [\"https://i.example\"], audiences: [a] } ]|inbound.sts.roles[0].id",
            "session_key_env: SESSION_KEY, roles: [ { id: r, audiences: [a] } ]|inbound.sts.roles[0].trusted_issuers",
            "session_key_env: SESSION_KEY, trusted_issuers: [\"https://i.example\"], audiences: [a], max_token_lifetime: 0s|inbound.sts.max_token_lifetime",
            "session_key_env: SESSION_KEY, roles: [ { id: r, trusted_issuers: [\"https://i.example\"], audiences: [a], max_token_lifetime: -1h } ]|inbound.sts.roles[0].max_token_lifetime",
    })
    void badStsSettingsAreRefusedWithTheirPath(String fields, String expected) {
        env.put("SESSION_KEY", SESSION_KEY);
        env.put("SHORT_KEY", java.util.Base64.getEncoder().encodeToString(new byte[16]));
        assertConfigError("inbound: { sts: { " + fields + " } }\n" + FILE_PRODUCT, expected);
    }

    @Test
    void aDisabledStsNeedsNothingElse() {
        assertThat(parse("inbound: { sts: { enabled: false } }\n" + FILE_PRODUCT).inbound().sts()).isEmpty();
    }

    // --- secrets never print -------------------------------------------------------------------

    @Test
    void secretToStringNeverPrintsTheValue() {
        SluiceConfig.Secret secret = new SluiceConfig.Secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");

        assertThat(secret.toString()).doesNotContain("wJalr").doesNotContain("EXAMPLEKEY");
        assertThat(String.valueOf(Optional.of(secret))).doesNotContain("wJalr");
        assertThat(List.of(secret).toString()).doesNotContain("wJalr");
    }

    @Test
    void theWholeConfigurationNeverPrintsABackendSecret() {
        env.put("BACKEND_SECRET", "super-secret-value-123");

        SluiceConfig config = parse(staticAuth("secret_access_key_env: BACKEND_SECRET"));

        assertThat(config.toString()).doesNotContain("super-secret-value-123").contains("AKIAEXAMPLE");
        assertThat(config.registry().products().get(0).backend().toString()).doesNotContain("super-secret-value-123");
    }

    // --- writes ---------------------------------------------------------------------------------

    private static final String TWO_PRODUCTS_ONE_WRITABLE = """
            registry:
              products:
                - { account: demo, product: hello, backend: { type: file, path: data/hello } }
                - { account: demo, product: census, writable: true, backend: { type: file, path: data/census } }
            """;

    @Test
    void aStaticProductIsReadOnlyUnlessConfiguredWritable() {
        SluiceConfig config = parse(TWO_PRODUCTS_ONE_WRITABLE);

        assertThat(config.registry().products()).extracting(p -> p.product() + " " + p.writable())
                .containsExactly("hello false", "census true");
    }

    @Test
    void writableIsABoolean() {
        assertConfigError(TWO_PRODUCTS_ONE_WRITABLE.replace("writable: true", "writable: sometimes"),
                "registry.products[1].writable");
    }

    @Test
    void theUploadIdKeyComesFromTheEnvironmentOrAFile() throws IOException {
        env.put("UPLOAD_KEY", SESSION_KEY);
        Files.writeString(dir.resolve("upload.key"), SESSION_KEY + "\n");

        assertThat(parse("server: { upload_id_key_env: UPLOAD_KEY }\n" + FILE_PRODUCT).server().uploadIdKey())
                .hasValueSatisfying(k -> assertThat(k.bytes()).hasSize(32));
        assertThat(parse("server: { upload_id_key_file: upload.key }\n" + FILE_PRODUCT).server().uploadIdKey()).isPresent();
        assertThat(parse(FILE_PRODUCT).server().uploadIdKey()).isEmpty();
    }

    @Test
    void anUploadIdKeyThatIsNotThirtyTwoBytesIsRefusedNamingTheKey() {
        env.put("UPLOAD_KEY", java.util.Base64.getEncoder().encodeToString(new byte[16]));

        assertConfigError("server: { upload_id_key_env: UPLOAD_KEY }\n" + FILE_PRODUCT, "server")
                .hasMessageContaining("upload id key must decode to 32 bytes");
        assertConfigError("server: { upload_id_key_env: NOT_SET }\n" + FILE_PRODUCT, "server.upload_id_key_env");
    }
}
