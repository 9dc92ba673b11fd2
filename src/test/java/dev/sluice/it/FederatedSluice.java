package dev.sluice.it;

import dev.sluice.testing.S3ProxyProcess;
import dev.sluice.testing.TestKeys;
import dev.sluice.testing.TestSts;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A sluice whose products reach S3Proxy with federated credentials, and the {@link TestSts}
 * that issues them: sluice mints a JWT for each product's subject, the test STS fetches
 * sluice's discovery document and JWKS over HTTP, verifies the token, checks the role's trust
 * on {@code sub}, and hands out S3Proxy's identity with a session token.
 *
 * <p>Order matters and is why this fixture exists: sluice is configured with the STS's
 * endpoint, and its issuer (its own URL) is known only once it has bound its port, so the STS
 * starts first and is told whom to trust afterwards. No exchange can happen before that:
 * exchanges are made on request.
 *
 * <p>Each product is {@code acme/<name>}, stored in S3Proxy's bucket {@link #BUCKET} under
 * {@code <name>/}, with its own subject {@code sluice:it:<name>} so that no product's
 * credential, failure or backoff is shared with another's.
 */
final class FederatedSluice implements AutoCloseable {
    static final String ACCOUNT = "acme";
    static final String BUCKET = "federated";
    static final String ROLE = "arn:aws:iam::123456789012:role/reader";
    static final String SUBJECT_PREFIX = "sluice:it:";
    static final String GREETING = "greeting.txt";
    static final List<String> DATA_KEYS = List.of("data/a.csv", "data/b.csv");

    final TestSts sts;
    final SluiceUnderTest sluice;

    private FederatedSluice(TestSts sts, SluiceUnderTest sluice) {
        this.sts = sts;
        this.sluice = sluice;
    }

    static Builder builder(S3ProxyProcess s3proxy) {
        return new Builder(s3proxy.endpoint());
    }

    static String subject(String product) {
        return SUBJECT_PREFIX + product;
    }

    /** {@code /acme/<product>/<key>}. */
    static String path(String product, String key) {
        return "/" + ACCOUNT + "/" + product + "/" + key;
    }

    static String greeting(String product) {
        return "hello from " + product + "\n";
    }

    /** Creates {@link #BUCKET} in S3Proxy; once per S3Proxy. */
    static void createBucket(S3Client admin) {
        admin.createBucket(b -> b.bucket(BUCKET));
    }

    /** Puts a product's objects: its greeting and the data keys. */
    static void putProduct(S3Client admin, String product) {
        admin.putObject(b -> b.bucket(BUCKET).key(product + "/" + GREETING).contentType("text/plain"),
                RequestBody.fromString(greeting(product), StandardCharsets.UTF_8));
        for (String key : DATA_KEYS) {
            admin.putObject(b -> b.bucket(BUCKET).key(product + "/" + key).contentType("text/csv"),
                    RequestBody.fromString(key + "\n", StandardCharsets.UTF_8));
        }
    }

    /** Successful exchanges the STS made for {@code product}'s subject. */
    int exchanges(String product) {
        return sts.exchanges(ROLE, subject(product));
    }

    /** The credentials the STS issued for {@code product}'s subject, in order. */
    List<TestSts.Issued> issued(String product) {
        return sts.issued().stream().filter(i -> i.subject().equals(subject(product))).toList();
    }

    @Override
    public void close() throws Exception {
        try {
            sluice.close();
        } finally {
            sts.close();
        }
    }

    static final class Builder {
        private final URI s3proxy;
        private final Map<String, URI> products = new LinkedHashMap<>();
        private String credentialsCache = "{}";
        private Duration stsTimeout = Duration.ofSeconds(1);
        private String audience = "sts.amazonaws.com";
        private String signingKey = "test-rsa-a";
        private String signingKid = "key-a";
        private Optional<String> previousKey = Optional.empty();
        private String previousKid = "";

        private Builder(URI s3proxy) {
            this.s3proxy = s3proxy;
        }

        /** A product read straight from S3Proxy. */
        Builder product(String name) {
            return product(name, s3proxy);
        }

        /** A product whose backend requests go to {@code endpoint} (a proxy in front of S3Proxy). */
        Builder product(String name, URI endpoint) {
            products.put(name, endpoint);
            return this;
        }

        /** {@code cache.credentials}, as a YAML flow mapping. */
        Builder credentialsCache(String yamlMapping) {
            this.credentialsCache = yamlMapping;
            return this;
        }

        Builder stsTimeout(Duration timeout) {
            this.stsTimeout = timeout;
            return this;
        }

        /** The audience the test STS accepts; sluice always mints for {@code sts.amazonaws.com}. */
        Builder stsAudience(String audience) {
            this.audience = audience;
            return this;
        }

        /** {@code oidc.signing_key}: a test key by name ({@code test-rsa-a|b|c}) and its kid. */
        Builder signingKey(String name, String kid) {
            this.signingKey = name;
            this.signingKid = kid;
            return this;
        }

        /** {@code oidc.previous_key}, as during a rotation. */
        Builder previousKey(String name, String kid) {
            this.previousKey = Optional.of(name);
            this.previousKid = kid;
            return this;
        }

        FederatedSluice start(Path base) throws Exception {
            TestSts sts = new TestSts("http://issuer-not-yet-known.invalid", audience, S3ProxyProcess.IDENTITY,
                    S3ProxyProcess.CREDENTIAL);
            try {
                sts.role(ROLE, subject -> subject.startsWith(SUBJECT_PREFIX));
                Map<String, String> env = new HashMap<>();
                env.put("OIDC_KEY", TestKeys.pem(signingKey));
                previousKey.ifPresent(k -> env.put("OIDC_PREVIOUS_KEY", TestKeys.pem(k)));
                SluiceUnderTest sluice = SluiceUnderTest.start(yaml(sts.endpoint()), env, base);
                sts.trustIssuer(sluice.s3Endpoint().toString());
                return new FederatedSluice(sts, sluice);
            } catch (Exception | Error e) {
                sts.close();
                throw e;
            }
        }

        private String yaml(URI stsEndpoint) {
            StringBuilder y = new StringBuilder();
            y.append("""
                    server:
                      listen: "127.0.0.1:0"
                      admin_listen: "127.0.0.1:0"
                    oidc:
                      signing_key: { pem_env: OIDC_KEY, kid: "%s" }
                    """.formatted(signingKid));
            previousKey.ifPresent(k -> y.append("  previous_key: { pem_env: OIDC_PREVIOUS_KEY, kid: \"%s\" }\n".formatted(previousKid)));
            y.append("""
                    sts:
                      endpoint: "%s"
                      timeout: %dms
                      session_duration: 15m
                    cache:
                      credentials: %s
                    registry:
                      type: static
                      products:
                    """.formatted(stsEndpoint, stsTimeout.toMillis(), credentialsCache));
            List<String> entries = new ArrayList<>();
            for (var p : products.entrySet()) {
                entries.add("""
                            - account: %s
                              product: %s
                              backend:
                                type: s3
                                endpoint: "%s"
                                region: us-east-1
                                bucket: %s
                                prefix: %s/
                                timeout: 10s
                                auth: { type: web_identity_role, role_arn: "%s", subject: "%s" }
                        """.formatted(ACCOUNT, p.getKey(), p.getValue(), BUCKET, p.getKey(), ROLE, subject(p.getKey())));
            }
            entries.forEach(y::append);
            return y.toString();
        }
    }
}
