package dev.sluice.bench;

import dev.sluice.auth.AccessKeys;
import dev.sluice.auth.Action;
import dev.sluice.auth.Identifier;
import dev.sluice.auth.Principal;
import dev.sluice.auth.SessionClaims;
import dev.sluice.auth.SessionTokens;
import dev.sluice.sigv4.AwsCredentials;
import dev.sluice.sigv4.RequestSigner;
import dev.sluice.sigv4.SigV4;
import dev.sluice.sigv4.SigV4Verifier;
import dev.sluice.sigv4.SignableRequest;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * What identifying a request costs on the hot path (docs/architecture.md, step 4): an unsigned request
 * (the public-data case, a header lookup), a header-signed request with a configured access
 * key, a presigned URL, and a request with temporary credentials (which also opens the
 * AES-GCM sealed session token). Each signed case recomputes the canonical request, derives
 * the signing key (four HMACs) and computes the signature. The clock is fixed at the signing
 * time so every iteration verifies the same, valid request.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class IdentifyBenchmark {
    private static final String KEY_ID = "AKIASLUICEBENCH001";
    private static final String SECRET = "bench-secret-0123456789abcdefghijklmnop";
    private static final String HOST = "127.0.0.1:8080";
    private static final String PATH = "/demo/private/2024/data%20file.parquet";
    private static final byte[] NO_BODY = new byte[0];
    private static final Instant NOW = Instant.parse("2026-11-26T12:00:00Z");

    private Identifier identifier;
    private SignableRequest unsigned;
    private SignableRequest headerSigned;
    private SignableRequest presigned;
    private SignableRequest session;

    @Setup
    public void setup() {
        InstantSource clock = InstantSource.fixed(NOW);
        byte[] sessionKey = new byte[32];
        new SecureRandom().nextBytes(sessionKey);
        SessionTokens tokens = new SessionTokens(sessionKey, Optional.empty(), new SecureRandom());
        dev.sluice.auth.Scope scope = new dev.sluice.auth.Scope("demo/private", List.of(), Set.of(Action.GET_OBJECT));
        identifier = new Identifier(new SigV4Verifier(clock),
                new AccessKeys(List.of(new AccessKeys.Entry(KEY_ID, SECRET, "bench", Optional.empty(), true, List.of(scope)))),
                Optional.of(tokens), clock);
        List<Map.Entry<String, String>> base = List.of(Map.entry("Host", HOST), Map.entry("User-Agent", "bench"),
                Map.entry("Accept-Encoding", "identity"));
        unsigned = new SignableRequest("GET", PATH, "", base);
        headerSigned = signed(base, AwsCredentials.of(KEY_ID, SECRET));
        String token = tokens.seal(new SessionClaims("ASIASLUICEBENCH001", "session-secret", NOW.plus(Duration.ofHours(1)),
                "repo:x", "default", List.of(scope)));
        session = signed(base, AwsCredentials.of("ASIASLUICEBENCH001", "session-secret", token));
        String scopeText = SigV4.credentialScope(SigV4.scopeDate(NOW), "us-east-1", "s3");
        String query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + KEY_ID + "%2F" + scopeText.replace("/", "%2F")
                + "&X-Amz-Date=" + SigV4.amzDate(NOW) + "&X-Amz-Expires=300&X-Amz-SignedHeaders=host";
        String creq = SigV4.canonicalRequest("GET", PATH, query, base, List.of("host"), SigV4.UNSIGNED_PAYLOAD);
        presigned = new SignableRequest("GET", PATH, query + "&X-Amz-Signature=" + SigV4.signature(
                SigV4.signingKey(SECRET, SigV4.scopeDate(NOW), "us-east-1", "s3"), SigV4.stringToSign(NOW, "us-east-1", "s3", creq)),
                base);
        for (SignableRequest r : List.of(headerSigned, presigned, session)) {
            if (identifier.identify(r, NO_BODY) instanceof Principal.Anonymous) {
                throw new IllegalStateException("the benchmark's signed requests must verify");
            }
        }
    }

    private static SignableRequest signed(List<Map.Entry<String, String>> base, AwsCredentials credentials) {
        List<Map.Entry<String, String>> headers = new ArrayList<>(base);
        headers.addAll(new RequestSigner("us-east-1", "s3").sign("GET", HOST, PATH, "", List.of(), SigV4.EMPTY_SHA256,
                credentials, NOW));
        return new SignableRequest("GET", PATH, "", headers);
    }

    @Benchmark
    public Principal unsigned() {
        return identifier.identify(unsigned, NO_BODY);
    }

    @Benchmark
    public Principal accessKeyHeader() {
        return identifier.identify(headerSigned, NO_BODY);
    }

    @Benchmark
    public Principal accessKeyPresigned() {
        return identifier.identify(presigned, NO_BODY);
    }

    @Benchmark
    public Principal sessionHeader() {
        return identifier.identify(session, NO_BODY);
    }
}
