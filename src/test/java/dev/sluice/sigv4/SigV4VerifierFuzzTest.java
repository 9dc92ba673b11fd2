package dev.sluice.sigv4;

import static dev.sluice.sigv4.SignedRequests.ACCESS_KEY_ID;
import static dev.sluice.sigv4.SignedRequests.HOST;
import static dev.sluice.sigv4.SignedRequests.SECRET;
import static dev.sluice.sigv4.SignedRequests.TOKEN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.s3.UriEncoding;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Throws random and mutated requests at parse and verify with a known secret. Every outcome must
 * be one of: an {@link S3Exception} with status 400 or 403; "anonymous" for a request that really
 * carries no SigV4 material; or acceptance, and acceptance only for a request identical to a
 * correctly signed one (the {@code Authorization} header may differ only in the separator
 * whitespace clients vary, query parameters may come in another order, and headers the signature
 * does not cover may be added: all three are outside what SigV4 signs). Any other exception fails the test.
 *
 * <p>The mutations are chosen so that none can produce a request equivalent to the original
 * under SigV4's own canonicalisation (no whitespace inserted into signed header values, no case
 * variant swapped in, no bare {@code &}), so any acceptance of a changed request is a bug, not a
 * legitimate equivalence.
 */
class SigV4VerifierFuzzTest {

    private static final long SEED = 0x5ec4_f00dL;
    private static final int CASES = 20_000;
    private static final Instant T = Instant.parse("2025-03-14T09:26:53Z");
    private static final byte[] BODY = "hello, fuzz".getBytes(StandardCharsets.UTF_8);

    private static final List<String> TOKENS = List.of("%zz", "%", "%E2%82", "%C3%A9", "%2F", "%00", "é", "☃",
            "\uD83D\uDE00", "\uD83D", "=", ";", ",", "/", "?", "0", "9", "AKID", "AWS4-HMAC-SHA256",
            "&X-Amz-Signature=" + "b".repeat(64),
            "&X-Amz-Credential=AKIDEXAMPLE%2F20250314%2Fus-east-1%2Fs3%2Faws4_request",
            "&X-Amz-Algorithm=AWS4-HMAC-SHA256", "&X-Amz-Expires=0", "&X-Amz-Expires=604801",
            "&X-Amz-Date=20250314T092653Z", "&x-amz-signature=1", "&X-Amz-Security-Token=t",
            "&X-Amz-SignedHeaders=host", "Signature=" + "c".repeat(64), ", SignedHeaders=host",
            "a".repeat(10_000));
    private static final List<String> BLANKS = List.of(" ", "\t", ", ", "  ");
    private static final String POOL = "abcxyzAXZ0189-_.~%/=&;,:+?*'\"\\é☃";

    private final SigV4Verifier verifier = new SigV4Verifier(InstantSource.fixed(T));

    private enum Outcome { ACCEPTED, ANONYMOUS, REJECTED }

    /** A correctly signed request and the body it was signed with. */
    private record Base(String name, SignableRequest request, byte[] body, boolean bodySigned) {
    }

    @Test
    void nothingButACorrectlySignedRequestIsEverGranted() {
        List<Base> bases = List.of(
                new Base("header PUT", SignedRequests.headerSigned("PUT", "/bucket/dir/a%20b~c.txt",
                        "partNumber=1&uploadId=abc%2Fdef", List.of(Map.entry("Content-Type", "text/plain")),
                        SigV4.sha256Hex(BODY), AwsCredentials.of(ACCESS_KEY_ID, SECRET), "us-east-1", "s3", T),
                        BODY, true),
                new Base("header GET with token", SignedRequests.headerSigned("GET", "/bucket/key", "list-type=2",
                        List.of(), SigV4.UNSIGNED_PAYLOAD, AwsCredentials.of(ACCESS_KEY_ID, SECRET, TOKEN),
                        "auto", "s3", T), new byte[0], false),
                new Base("presigned GET", SignedRequests.presigned("GET", "/bucket/k%C3%A9y", "versionId=3", HOST,
                        "us-east-1", "s3", T, "3600", Optional.of(TOKEN)), new byte[0], false));
        for (Base base : bases) {
            assertThat(run(base.request(), base.body())).as(base.name()).isEqualTo(Outcome.ACCEPTED);
        }

        Random random = new Random(SEED);
        int[] counts = new int[Outcome.values().length];
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < CASES && failures.size() < 10; i++) {
            Base base = bases.get(random.nextInt(bases.size()));
            Mutant mutant = new Mutant(base.request(), base.body());
            int steps = 1 + random.nextInt(3);
            for (int s = 0; s < steps; s++) {
                mutant.mutate(random, base.bodySigned());
            }
            SignableRequest request = mutant.request();
            Outcome outcome;
            try {
                outcome = run(request, mutant.body);
            } catch (S3Exception e) {
                if (e.error().status() != 400 && e.error().status() != 403) {
                    failures.add("case " + i + ": status " + e.error().status() + " for " + describe(request));
                }
                counts[Outcome.REJECTED.ordinal()]++;
                continue;
            } catch (RuntimeException | Error e) {
                failures.add("case " + i + ": " + e + " for " + describe(request));
                continue;
            }
            counts[outcome.ordinal()]++;
            if (outcome == Outcome.ACCEPTED && !equivalent(request, mutant.body, base)) {
                failures.add("case " + i + ": granted a changed request " + describe(request));
            }
            if (outcome == Outcome.ANONYMOUS && carriesSigV4Material(request)) {
                failures.add("case " + i + ": SigV4 material ignored in " + describe(request));
            }
        }

        assertThat(failures).isEmpty();
        // The fuzzing must reach the verifier, not only the parser.
        assertThat(counts[Outcome.REJECTED.ordinal()]).isGreaterThan(CASES / 2);
    }

    /** The flow of a caller: parse, resolve the secret, check the declared hash, verify. */
    private Outcome run(SignableRequest request, byte[] body) {
        Optional<SignedRequest> parsed = verifier.parse(request);
        if (parsed.isEmpty()) {
            return Outcome.ANONYMOUS;
        }
        SignedRequest signed = parsed.get();
        if (!signed.accessKeyId().equals(ACCESS_KEY_ID)) {
            throw new S3Exception(S3Error.INVALID_ACCESS_KEY_ID);
        }
        String payloadHash;
        if (signed.declaredPayloadHash().isPresent()) {
            payloadHash = signed.declaredPayloadHash().get();
            SigV4Verifier.checkPayloadHash(payloadHash, body);
        } else {
            payloadHash = SigV4.sha256Hex(body);
        }
        verifier.verify(request, signed, SECRET, payloadHash);
        return Outcome.ACCEPTED;
    }

    /**
     * Identical to the base, except for the order of query parameters, the Authorization
     * separators clients vary, and headers the signature does not cover at all (a renamed header
     * that no longer names anything signed or read by the verifier, added to a presigned URL that
     * signs only {@code host}).
     */
    private boolean equivalent(SignableRequest r, byte[] body, Base base) {
        SignableRequest b = base.request();
        if (!r.method().equals(b.method()) || !r.rawPath().equals(b.rawPath())
                || !querySegments(r.rawQuery()).equals(querySegments(b.rawQuery()))
                || (base.bodySigned() && !Arrays.equals(body, base.body()))) {
            return false;
        }
        List<String> signed = verifier.parse(b).orElseThrow().signedHeaders();
        List<Map.Entry<String, String>> covered = covered(r, signed);
        List<Map.Entry<String, String>> baseCovered = covered(b, signed);
        if (covered.size() != baseCovered.size()) {
            return false;
        }
        for (int i = 0; i < covered.size(); i++) {
            Map.Entry<String, String> h = covered.get(i);
            Map.Entry<String, String> bh = baseCovered.get(i);
            boolean same = h.getKey().equalsIgnoreCase("authorization") && bh.getKey().equalsIgnoreCase("authorization")
                    ? normalizedAuthorization(h.getValue()).equals(normalizedAuthorization(bh.getValue()))
                    : h.equals(bh);
            if (!same) {
                return false;
            }
        }
        return true;
    }

    /** The parameters exactly as written; their order is not signed (the canonical query sorts them). */
    private static List<String> querySegments(String rawQuery) {
        return Arrays.stream(rawQuery.split("&")).filter(p -> !p.isEmpty()).sorted().toList();
    }

    /** Headers that are signed, or that the verifier reads (authorization and x-amz-*). */
    private static List<Map.Entry<String, String>> covered(SignableRequest r, List<String> signed) {
        return r.headers().stream().filter(h -> {
            String name = h.getKey().toLowerCase(Locale.ROOT);
            return signed.contains(name) || name.equals("authorization") || name.startsWith("x-amz-")
                    || name.equals("date");
        }).toList();
    }

    /** The separators clients vary: around commas, after the algorithm, at the ends. */
    private static String normalizedAuthorization(String value) {
        return value.strip().replaceAll("[ \\t]*,[ \\t]*", ",").replaceFirst("^AWS4-HMAC-SHA256[ \\t]+", "AWS4-HMAC-SHA256 ");
    }

    private static boolean carriesSigV4Material(SignableRequest r) {
        if (r.header("authorization").isPresent()) {
            return true;
        }
        for (String segment : r.rawQuery().split("&")) {
            String name = segment.contains("=") ? segment.substring(0, segment.indexOf('=')) : segment;
            String decoded;
            try {
                decoded = UriEncoding.decode(name);
            } catch (IllegalArgumentException e) {
                decoded = name;
            }
            for (String marker : List.of("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature")) {
                if (decoded.equalsIgnoreCase(marker)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static String describe(SignableRequest r) {
        String s = r.toString();
        return s.length() > 600 ? s.substring(0, 600) + "…" : s;
    }

    /** A request being changed, field by field. */
    private static final class Mutant {
        private String method;
        private String path;
        private String query;
        private final List<Map.Entry<String, String>> headers;
        private byte[] body;

        Mutant(SignableRequest r, byte[] body) {
            this.method = r.method();
            this.path = r.rawPath();
            this.query = r.rawQuery();
            this.headers = new ArrayList<>(r.headers());
            this.body = body.clone();
        }

        SignableRequest request() {
            return new SignableRequest(method, path, query, headers);
        }

        void mutate(Random random, boolean bodySigned) {
            switch (random.nextInt(bodySigned ? 9 : 8)) {
                case 0 -> method = change(random, method, false);
                case 1 -> path = change(random, path, false);
                case 2, 3 -> query = change(random, query, false);
                case 4 -> {
                    int i = random.nextInt(headers.size());
                    Map.Entry<String, String> h = headers.get(i);
                    boolean authorization = h.getKey().equalsIgnoreCase("authorization");
                    headers.set(i, Map.entry(h.getKey(), change(random, h.getValue(), authorization)));
                }
                case 5 -> {
                    int i = random.nextInt(headers.size());
                    Map.Entry<String, String> h = headers.get(i);
                    String name = change(random, h.getKey(), false);
                    if (!name.isEmpty()) {
                        headers.set(i, Map.entry(name, h.getValue()));
                    }
                }
                case 6 -> replaceAuthorization(random);
                case 7 -> regenerateQuery(random);
                default -> body = change(random, new String(body, StandardCharsets.ISO_8859_1), false)
                        .getBytes(StandardCharsets.UTF_8);
            }
        }

        /** A random Authorization header, in place of the one there or added to a presigned request. */
        private void replaceAuthorization(Random random) {
            List<String> parts = new ArrayList<>();
            List<String> candidates = List.of("Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request",
                    "Credential=AKIDEXAMPLE/20250314/us-east-1/s3", "Credential=" + pick(random, TOKENS),
                    "SignedHeaders=host;x-amz-date", "SignedHeaders=" + pick(random, TOKENS),
                    "Signature=" + "d".repeat(64), "Signature=" + pick(random, TOKENS), pick(random, TOKENS), "");
            int n = random.nextInt(5);
            for (int i = 0; i < n; i++) {
                parts.add(pick(random, candidates));
            }
            String scheme = pick(random, List.of("AWS4-HMAC-SHA256 ", "AWS ", "AWS4-HMAC-SHA256", "", "Bearer "));
            String value = random.nextInt(10) == 0 ? "AWS AKIDEXAMPLE:" + pick(random, TOKENS)
                    : scheme + String.join(pick(random, List.of(", ", ",", " , ", ";")), parts);
            for (int i = 0; i < headers.size(); i++) {
                if (headers.get(i).getKey().equalsIgnoreCase("authorization")) {
                    headers.set(i, Map.entry(headers.get(i).getKey(), value));
                    return;
                }
            }
            headers.add(Map.entry("Authorization", value));
        }

        /** The query's own parameters shuffled, always with at least one dropped, repeated or added. */
        private void regenerateQuery(Random random) {
            List<String> params = new ArrayList<>(List.of(query.split("&")));
            Collections.shuffle(params, random);
            switch (params.isEmpty() ? 2 : random.nextInt(3)) {
                case 0 -> params.remove(random.nextInt(params.size()));
                case 1 -> params.add(params.get(random.nextInt(params.size())));
                default -> params.add(pick(random, TOKENS).replace("&", "") + "=" + pick(random, TOKENS));
            }
            query = String.join("&", params);
        }

        /** Replaces, deletes or inserts at a random place, never into an equivalent spelling. */
        private static String change(Random random, String value, boolean whitespaceAllowed) {
            int op = value.isEmpty() ? 2 : random.nextInt(3);
            int at = random.nextInt(value.length() + (op == 2 ? 1 : 0));
            return switch (op) {
                case 0 -> {
                    char original = value.charAt(at);
                    char replacement;
                    do {
                        replacement = POOL.charAt(random.nextInt(POOL.length()));
                    } while (Character.toLowerCase(replacement) == Character.toLowerCase(original));
                    yield value.substring(0, at) + replacement + value.substring(at + 1);
                }
                case 1 -> value.substring(0, at) + value.substring(at + 1);
                default -> {
                    String token = whitespaceAllowed && random.nextBoolean() ? pick(random, BLANKS) : pick(random, TOKENS);
                    yield value.substring(0, at) + token + value.substring(at);
                }
            };
        }

        private static String pick(Random random, List<String> from) {
            return from.get(random.nextInt(from.size()));
        }
    }
}
