package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.auth.Action;
import dev.sluice.auth.Scope;
import dev.sluice.auth.SessionClaims;
import dev.sluice.auth.SessionTokens;
import dev.sluice.s3.HttpDate;
import dev.sluice.sigv2.SigV2;
import dev.sluice.sigv4.AwsCredentials;
import dev.sluice.sigv4.RequestSigner;
import dev.sluice.sigv4.SigV4;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random and mutated signature material sent to a running sluice for an object of a restricted
 * product: every answer must be a 4xx S3 error document (never a 5xx, never a grant, never a
 * connection dropped by an escaping exception), and the unmutated originals must be granted,
 * so the test would notice a verifier that refuses everything.
 */
class InboundFuzzTest {

    private static final String KEY_ID = "AKIASLUICEFUZZ0001";
    private static final String SECRET = "fuzz-secret-0123456789abcdefghijklmnopqr";
    private static final String PATH = "/demo/private/data.csv";
    private static final byte[] SESSION_KEY = new byte[32];
    private static final int CASES_PER_KIND = 400;
    private static final String ALPHABET =
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789=;,/ %+-_.~&?*\"'\\é€\u0000\u00ff";

    @TempDir
    static Path dir;
    static SluiceUnderTest sluice;
    static SessionTokens tokens;

    @BeforeAll
    static void start() throws Exception {
        new Random(7).nextBytes(SESSION_KEY);
        Files.createDirectories(dir.resolve("private"));
        Files.writeString(dir.resolve("private/data.csv"), "secret,data\n");
        String yaml = """
                registry:
                  products:
                    - { account: demo, product: private, visibility: restricted, backend: { type: file, path: ./private } }
                inbound:
                  access_keys:
                    - access_key_id: %s
                      secret_access_key_env: FUZZ_SECRET
                      scopes: [ { product: demo/private, actions: [get_object, head_object, list_bucket] } ]
                  sts:
                    session_key_env: SESSION_KEY
                    trusted_issuers: ["https://issuer.invalid"]
                    audiences: [sluice]
                """.formatted(KEY_ID);
        sluice = SluiceUnderTest.start(yaml, Map.of("FUZZ_SECRET", SECRET,
                "SESSION_KEY", Base64.getEncoder().encodeToString(SESSION_KEY)), dir);
        tokens = new SessionTokens(SESSION_KEY, Optional.empty(), new SecureRandom());
    }

    @AfterAll
    static void stop() throws Exception {
        if (sluice != null) {
            sluice.close();
        }
    }

    private static Map<String, String> signedHeaders(AwsCredentials credentials) {
        Map<String, String> out = new TreeMap<>();
        for (Map.Entry<String, String> e : new RequestSigner("us-east-1", "s3").sign("GET",
                sluice.s3Endpoint().getAuthority(), PATH, "", List.of(), SigV4.EMPTY_SHA256, credentials, Instant.now())) {
            out.put(e.getKey(), e.getValue());
        }
        return out;
    }

    private static String presignedQuery() {
        Instant at = Instant.now();
        String scope = SigV4.credentialScope(SigV4.scopeDate(at), "us-east-1", "s3");
        String query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + KEY_ID + "%2F" + scope.replace("/", "%2F")
                + "&X-Amz-Date=" + SigV4.amzDate(at) + "&X-Amz-Expires=300&X-Amz-SignedHeaders=host";
        String creq = SigV4.canonicalRequest("GET", PATH, query, List.of(Map.entry("host", sluice.s3Endpoint().getAuthority())),
                List.of("host"), SigV4.UNSIGNED_PAYLOAD);
        return query + "&X-Amz-Signature=" + SigV4.signature(SigV4.signingKey(SECRET, SigV4.scopeDate(at), "us-east-1", "s3"),
                SigV4.stringToSign(at, "us-east-1", "s3", creq));
    }

    /** SigV2 header authentication: {@code x-amz-date} and {@code Authorization: AWS id:signature}. */
    private static Map<String, String> sigV2Headers() {
        String date = HttpDate.format(Instant.now());
        String signature = SigV2.signature(SECRET, "GET\n\n\n\nx-amz-date:" + date + "\n" + PATH);
        Map<String, String> out = new TreeMap<>();
        out.put("x-amz-date", date);
        out.put("authorization", "AWS " + KEY_ID + ":" + signature);
        return out;
    }

    /** A SigV2 presigned query: AWSAccessKeyId, Expires, Signature. */
    private static String sigV2Query() {
        long expires = Instant.now().plusSeconds(300).getEpochSecond();
        String signature = SigV2.signature(SECRET, "GET\n\n\n" + expires + "\n" + PATH);
        return "AWSAccessKeyId=" + KEY_ID + "&Expires=" + expires + "&Signature="
                + signature.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D");
    }

    private static String sessionToken(String accessKeyId, String secret) {
        return tokens.seal(new SessionClaims(accessKeyId, secret, Instant.now().plus(Duration.ofHours(1)), "repo:x", "default",
                List.of(new Scope("demo/private", List.of(), Set.of(Action.GET_OBJECT)))));
    }

    /** Replaces 1–3 characters, each by one that differs from it even ignoring case; sometimes truncates or appends. */
    private static String mutate(String s, Random random) {
        StringBuilder b = new StringBuilder(s);
        switch (random.nextInt(5)) {
            case 0 -> b.setLength(random.nextInt(Math.max(1, s.length())));
            case 1 -> {
                for (int i = 0; i < 1 + random.nextInt(5); i++) {
                    b.insert(random.nextInt(b.length() + 1), ALPHABET.charAt(random.nextInt(ALPHABET.length())));
                }
            }
            default -> {
                for (int i = 0; i < 1 + random.nextInt(3); i++) {
                    int at = random.nextInt(b.length());
                    char original = b.charAt(at);
                    char replacement;
                    do {
                        replacement = ALPHABET.charAt(random.nextInt(ALPHABET.length()));
                    } while (Character.toLowerCase(replacement) == Character.toLowerCase(original));
                    b.setCharAt(at, replacement);
                }
            }
        }
        return b.toString();
    }

    /** Sends one request; empty when the HTTP client itself refuses to send what was built (e.g. a NUL in a header). */
    private static Optional<SluiceUnderTest.RawResponse> trySend(String pathAndQuery, String... headers) {
        try {
            return Optional.of(sluice.send("GET", pathAndQuery, headers));
        } catch (IllegalArgumentException refusedByClient) {
            return Optional.empty();
        }
    }

    private static void assertRefused(SluiceUnderTest.RawResponse r, String what) {
        assertThat(r.status()).as("%s -> %s", what, r.text()).isBetween(400, 499);
        S3ErrorAssert.ErrorDocument doc = S3ErrorAssert.parse(r.body());
        assertThat(doc.code()).as(what).isNotBlank();
        assertThat(r.text()).as(what).doesNotContain("Exception").doesNotContain(SECRET);
    }

    @Test
    void theUnmutatedOriginalsAreGranted() {
        Map<String, String> h = signedHeaders(AwsCredentials.of(KEY_ID, SECRET));
        assertThat(sluice.send("GET", PATH, flatten(h)).status()).isEqualTo(200);
        assertThat(sluice.send("GET", PATH + "?" + presignedQuery()).status()).isEqualTo(200);
        Map<String, String> s = signedHeaders(AwsCredentials.of("ASIAFUZZSESSION001", "session-secret", sessionToken("ASIAFUZZSESSION001", "session-secret")));
        assertThat(sluice.send("GET", PATH, flatten(s)).status()).isEqualTo(200);
        assertThat(sluice.send("GET", PATH, flatten(sigV2Headers())).status()).isEqualTo(200);
        assertThat(sluice.send("GET", PATH + "?" + sigV2Query()).status()).isEqualTo(200);
    }

    @Test
    void mutatedSigV2HeadersAndQueriesAreNeverGrantedNorAnswered5xx() {
        List<Map<String, String>> current = new ArrayList<>(List.of(Map.of()));
        int headers = fuzz(4, () -> {
            current.set(0, sigV2Headers());
            return current.get(0).get("authorization");
        }, InboundFuzzTest::mutate, mutated -> {
            current.get(0).put("authorization", mutated);
            return trySend(PATH, flatten(current.get(0)));
        });
        int queries = fuzz(5, InboundFuzzTest::sigV2Query, InboundFuzzTest::mutate, mutated -> {
            if (!mutated.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != '#')) {
                return Optional.empty(); // a URI cannot carry these unescaped
            }
            try {
                return trySend(PATH + "?" + mutated);
            } catch (RuntimeException badUri) {
                return Optional.empty();
            }
        });
        assertThat(headers).isGreaterThan(CASES_PER_KIND / 2);
        assertThat(queries).isGreaterThan(CASES_PER_KIND / 4);
    }

    @Test
    void mutatedAuthorizationHeadersAreNeverGrantedNorAnswered5xx() {
        List<Map<String, String>> current = new ArrayList<>(List.of(Map.of()));
        int sent = fuzz(1, () -> {
            current.set(0, signedHeaders(AwsCredentials.of(KEY_ID, SECRET)));
            return current.get(0).get("authorization");
        }, InboundFuzzTest::mutate, mutated -> {
            current.get(0).put("authorization", mutated);
            return trySend(PATH, flatten(current.get(0)));
        });
        assertThat(sent).isGreaterThan(CASES_PER_KIND / 2);
    }

    @Test
    void mutatedPresignedQueriesAreNeverGrantedNorAnswered5xx() {
        int sent = fuzz(2, InboundFuzzTest::presignedQuery, InboundFuzzTest::mutate, mutated -> {
            if (!mutated.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != '#')) {
                return Optional.empty(); // a URI cannot carry these unescaped; the raw-header cases cover odd bytes
            }
            try {
                return trySend(PATH + "?" + mutated);
            } catch (RuntimeException badUri) {
                return Optional.empty();
            }
        });
        assertThat(sent).isGreaterThan(CASES_PER_KIND / 4);
    }

    @Test
    void mutatedAndForgedSessionTokensAreNeverGrantedNorAnswered5xx() {
        int sent = fuzz(3, () -> sessionToken("ASIAFUZZSESSION001", "session-secret"), (token, random) -> switch (random.nextInt(3)) {
            case 0 -> mutate(token, random);
            case 1 -> Base64.getUrlEncoder().withoutPadding().encodeToString(randomBytes(random, random.nextInt(200)));
            default -> token.substring(0, random.nextInt(token.length()));
        }, mutated -> mutated.isEmpty()
                ? Optional.empty()
                // Signed correctly with the session's secret, so only the token can make it fail.
                : trySend(PATH, flatten(signedHeaders(AwsCredentials.of("ASIAFUZZSESSION001", "session-secret", mutated)))));
        assertThat(sent).isGreaterThan(CASES_PER_KIND / 2);
    }

    /**
     * {@link #CASES_PER_KIND} rounds of: a fresh valid {@code original}, a mutation of it (skipped
     * when it mutated into itself), sent by {@code send} (empty when it cannot be sent), and the
     * answer asserted to be a refusal. Returns how many were sent.
     */
    private static int fuzz(long seed, java.util.function.Supplier<String> original,
                            java.util.function.BiFunction<String, Random, String> mutation,
                            java.util.function.Function<String, Optional<SluiceUnderTest.RawResponse>> send) {
        Random random = new Random(seed);
        int sent = 0;
        for (int i = 0; i < CASES_PER_KIND; i++) {
            String valid = original.get();
            String mutated = mutation.apply(valid, random);
            if (mutated.equals(valid)) {
                continue;
            }
            Optional<SluiceUnderTest.RawResponse> r = send.apply(mutated);
            if (r.isPresent()) {
                sent++;
                assertRefused(r.get(), mutated);
            }
        }
        return sent;
    }

    @Test
    void aSessionTokenWithAnotherKeysIdentityIsRefused() {
        String token = sessionToken("ASIAFUZZSESSION001", "session-secret");
        Map<String, String> h = signedHeaders(AwsCredentials.of("ASIAFUZZSESSION002", "session-secret", token));
        assertRefused(sluice.send("GET", PATH, flatten(h)), "token for another key id");
    }

    private static byte[] randomBytes(Random random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private static String[] flatten(Map<String, String> headers) {
        List<String> out = new ArrayList<>();
        headers.forEach((k, v) -> {
            out.add(k);
            out.add(v);
        });
        return out.toArray(String[]::new);
    }
}
