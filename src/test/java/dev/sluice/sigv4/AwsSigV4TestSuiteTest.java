package dev.sluice.sigv4;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs the official AWS SigV4 test suite (src/test/resources/aws-sig-v4-test-suite) both ways. Signing:
 * for each case the {@code .req} must produce exactly the {@code .creq}, {@code .sts} and
 * {@code .authz}. Verifying: {@link SigV4Verifier} must accept the {@code .sreq}, and reject it,
 * with a 403 or 400 S3 error and never anything else, once any single signed byte is changed
 * (method, path, query, each signed header's value, the body, the date, the credential scope, the
 * signed header list, the signature). A presigned form of {@code get-vanilla}, which the suite does
 * not have, is signed here and checked the same way plus its expiry. Every case runs every check;
 * none is skipped.
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

    /** Signed at TIME: the verifier's clock stands still there. */
    private static final SigV4Verifier VERIFIER = new SigV4Verifier(InstantSource.fixed(TIME), SERVICE);
    /** What a changed signed byte may be answered with; anything else (or acceptance) fails the test. */
    private static final Set<S3Error> REJECTIONS = Set.of(S3Error.SIGNATURE_DOES_NOT_MATCH,
            S3Error.AUTHORIZATION_HEADER_MALFORMED, S3Error.AUTHORIZATION_QUERY_PARAMETERS_ERROR,
            S3Error.REQUEST_TIME_TOO_SKEWED, S3Error.ACCESS_DENIED, S3Error.INVALID_ARGUMENT);

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

        return DynamicContainer.dynamicContainer(vector.name(), Stream.of(
                DynamicTest.dynamicTest("verifies the signed request", () -> {
                    SuiteRequest signed = SuiteRequest.parse(vector.sreq());
                    verify(signable(signed), signed.body());
                }),
                DynamicTest.dynamicTest("rejects every changed signed byte", () -> {
                    SuiteRequest signed = SuiteRequest.parse(vector.sreq());
                    List<Mutation> mutations = headerAuthMutations(signed);
                    assertThat(mutations).hasSizeGreaterThan(100);
                    mutations.forEach(AwsSigV4TestSuiteTest::assertRejected);
                }),
                DynamicTest.dynamicTest("canonical request",
                        () -> assertThat(canonicalRequest).isEqualTo(vector.creq())),
                DynamicTest.dynamicTest("string to sign",
                        () -> assertThat(stringToSign).isEqualTo(vector.sts())),
                DynamicTest.dynamicTest("authorization",
                        () -> assertThat(authorization).isEqualTo(vector.authz()))));
    }

    /**
     * get-vanilla as a presigned URL: the suite has no query-signed case, so it is signed here
     * (canonical request built with {@link SigV4} over the query without the signature, host
     * signed, {@code UNSIGNED-PAYLOAD}), then verified, checked at its expiry, and changed byte by
     * byte.
     */
    @TestFactory
    Stream<DynamicNode> presignedGetVanilla() {
        SignableRequest presigned = SignedRequests.presigned("GET", "/", "", "example.amazonaws.com", REGION, SERVICE,
                TIME, "300", Optional.empty());
        return Stream.of(
                DynamicTest.dynamicTest("verifies", () -> verify(presigned, SigV4.UNSIGNED_PAYLOAD)),
                DynamicTest.dynamicTest("valid until its expiry, not a nanosecond longer", () -> {
                    SigV4Verifier atExpiry = new SigV4Verifier(InstantSource.fixed(TIME.plusSeconds(300)), SERVICE);
                    SigV4Verifier after = new SigV4Verifier(InstantSource.fixed(TIME.plusSeconds(300).plusNanos(1)),
                            SERVICE);
                    SignedRequest signed = atExpiry.parse(presigned).orElseThrow();
                    atExpiry.verify(presigned, signed, SECRET, SigV4.UNSIGNED_PAYLOAD);
                    assertThatThrownBy(() -> after.verify(presigned, signed, SECRET, SigV4.UNSIGNED_PAYLOAD))
                            .isInstanceOfSatisfying(S3Exception.class,
                                    e -> assertThat(e.error()).isEqualTo(S3Error.ACCESS_DENIED))
                            .hasMessage("Request has expired");
                }),
                DynamicTest.dynamicTest("rejects every changed signed byte", () -> {
                    List<Mutation> mutations = new ArrayList<>();
                    mutations.addAll(mutateEach("method", presigned.method(), m -> withMethod(presigned, m)));
                    mutations.addAll(mutateEach("path", presigned.rawPath(), p -> withPath(presigned, p)));
                    // Every byte of the query: X-Amz-Credential (access key id included) and the
                    // others are part of the canonical query; X-Amz-Signature is the signature.
                    mutations.addAll(mutateEach("query", presigned.rawQuery(), q -> withQuery(presigned, q)));
                    mutations.addAll(mutateEach("host", "example.amazonaws.com",
                            h -> new SignableRequest("GET", "/", presigned.rawQuery(), List.of(Map.entry("Host", h)))));
                    assertThat(mutations).hasSizeGreaterThan(250);
                    for (Mutation m : mutations) {
                        assertRejected(new Mutation(m.what(), m.request(), null));
                    }
                }));
    }

    private static void verify(SignableRequest request, byte[] body) {
        verify(request, SigV4.sha256Hex(body));
    }

    private static void verify(SignableRequest request, String payloadHash) {
        SignedRequest signed = VERIFIER.parse(request).orElseThrow();
        VERIFIER.verify(request, signed, SECRET, payloadHash);
    }

    private static SignableRequest signable(SuiteRequest r) {
        return new SignableRequest(r.method(), r.path(), r.rawQuery(), r.headers());
    }

    /** One signed byte changed; {@code body} null for a request whose payload is unsigned. */
    private record Mutation(String what, SignableRequest request, byte[] body) {
    }

    private static void assertRejected(Mutation m) {
        assertThatThrownBy(() -> verify(m.request(), m.body() == null ? SigV4.UNSIGNED_PAYLOAD
                : SigV4.sha256Hex(m.body())))
                .as("%s must be rejected: %s", m.what(), m.request())
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isIn(REJECTIONS));
    }

    /**
     * Changes each signed byte of a header-signed suite request in turn. The access key id is
     * left alone: it is not signed (the caller resolves the secret from it, so another id means
     * another secret).
     */
    private static List<Mutation> headerAuthMutations(SuiteRequest r) {
        SignableRequest base = signable(r);
        byte[] body = r.body();
        List<Mutation> out = new ArrayList<>();
        for (Mutation m : mutateEach("method", base.method(), x -> withMethod(base, x))) {
            out.add(new Mutation(m.what(), m.request(), body));
        }
        for (Mutation m : mutateEach("path", base.rawPath(), x -> withPath(base, x))) {
            out.add(new Mutation(m.what(), m.request(), body));
        }
        for (Mutation m : mutateEach("query", base.rawQuery(), x -> withQuery(base, x))) {
            out.add(new Mutation(m.what(), m.request(), body));
        }

        String authorization = base.header("authorization").orElseThrow();
        List<String> signedHeaders = List.of(between(authorization, "SignedHeaders=", ",").split(";"));
        for (int i = 0; i < base.headers().size(); i++) {
            Map.Entry<String, String> header = base.headers().get(i);
            if (!signedHeaders.contains(header.getKey().toLowerCase(Locale.ROOT))) {
                continue;
            }
            int index = i;
            for (Mutation m : mutateEach("header " + header.getKey(), header.getValue(),
                    v -> withHeaderValue(base, index, v))) {
                out.add(new Mutation(m.what(), m.request(), body));
            }
        }

        byte[] original = body;
        for (int i = 0; i < original.length; i++) {
            byte[] changed = original.clone();
            changed[i] = (byte) mutate((char) changed[i]);
            out.add(new Mutation("body byte " + i, base, changed));
        }

        int authIndex = indexOf(base, "authorization");
        int scopeStart = authorization.indexOf("Credential=") + "Credential=".length();
        scopeStart = authorization.indexOf('/', scopeStart) + 1;
        int scopeEnd = authorization.indexOf(',', scopeStart);
        int headersStart = authorization.indexOf("SignedHeaders=") + "SignedHeaders=".length();
        int headersEnd = authorization.indexOf(',', headersStart);
        int signatureStart = authorization.indexOf("Signature=") + "Signature=".length();
        for (int[] range : new int[][] {{scopeStart, scopeEnd}, {headersStart, headersEnd},
                {signatureStart, authorization.length()}}) {
            for (int at = range[0]; at < range[1]; at++) {
                String changed = authorization.substring(0, at) + mutate(authorization.charAt(at))
                        + authorization.substring(at + 1);
                out.add(new Mutation("authorization byte " + at, withHeaderValue(base, authIndex, changed), body));
            }
        }
        return out;
    }

    /** One mutation per character of {@code value}, each built by {@code rebuild}. */
    private static List<Mutation> mutateEach(String what,
            String value, Function<String, SignableRequest> rebuild) {
        List<Mutation> out = new ArrayList<>();
        for (int at = 0; at < value.length(); at++) {
            String changed = value.substring(0, at) + mutate(value.charAt(at)) + value.substring(at + 1);
            out.add(new Mutation(what + " byte " + at, rebuild.apply(changed), null));
        }
        return out;
    }

    /**
     * A different character that no canonicalisation could take for the original: digits move to
     * the next digit (so dates stay dates and test the signature, not just the parser), anything
     * else becomes {@code x} ({@code y} if it was {@code x}); never whitespace, never a case
     * variant of the original.
     */
    private static char mutate(char c) {
        if (c >= '0' && c <= '9') {
            return (char) ('0' + (c - '0' + 1) % 10);
        }
        return c == 'x' ? 'y' : 'x';
    }

    private static SignableRequest withMethod(SignableRequest r, String method) {
        return new SignableRequest(method, r.rawPath(), r.rawQuery(), r.headers());
    }

    private static SignableRequest withPath(SignableRequest r, String path) {
        return new SignableRequest(r.method(), path, r.rawQuery(), r.headers());
    }

    private static SignableRequest withQuery(SignableRequest r, String query) {
        return new SignableRequest(r.method(), r.rawPath(), query, r.headers());
    }

    private static SignableRequest withHeaderValue(SignableRequest r, int index, String value) {
        List<Map.Entry<String, String>> headers = new ArrayList<>(r.headers());
        headers.set(index, Map.entry(headers.get(index).getKey(), value));
        return new SignableRequest(r.method(), r.rawPath(), r.rawQuery(), headers);
    }

    private static int indexOf(SignableRequest r, String name) {
        for (int i = 0; i < r.headers().size(); i++) {
            if (r.headers().get(i).getKey().equalsIgnoreCase(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException("no " + name + " header");
    }

    private static String between(String s, String start, String end) {
        int from = s.indexOf(start) + start.length();
        return s.substring(from, s.indexOf(end, from));
    }

    /** The expected files of one case, read byte for byte (they end without a newline). */
    private record Vector(String name, String req, String creq, String sts, String authz, String sreq) {

        static Vector load(Path caseDir) {
            String base = caseDir.getFileName().toString();
            String name = suiteRoot().relativize(caseDir).toString().replace('\\', '/');
            return new Vector(name, read(caseDir, base + ".req"), read(caseDir, base + ".creq"),
                    read(caseDir, base + ".sts"), read(caseDir, base + ".authz"), read(caseDir, base + ".sreq"));
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
