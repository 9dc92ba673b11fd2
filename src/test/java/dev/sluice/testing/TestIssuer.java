package dev.sluice.testing;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sluice.federation.SigningKey;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An OIDC issuer over real HTTP, as a CI provider or a login service is to sluice's STS
 * endpoint: it serves its discovery document and JWKS, and mints tokens signed with its keys
 * (RS256 with the fixed {@link TestKeys}, ES256 with P-256 keys generated on the spot, which is
 * fast). It can publish and withdraw keys (rotation), fail ({@link Outage}), hold its answers
 * until released (to overlap concurrent fetches), and counts the requests it serves.
 *
 * <p>It starts publishing one RSA key, {@value #DEFAULT_KID}.
 */
public final class TestIssuer implements AutoCloseable {
    public static final String DEFAULT_KID = "rsa-a";
    public static final String DEFAULT_AUDIENCE = "sluice";
    public static final String DEFAULT_SUBJECT = "repo:acme/data:ref:refs/heads/main";
    private static final String JWKS_PATH = "/keys";

    /** How the issuer fails, if it does. */
    public enum Outage {
        NONE,
        /** Discovery and JWKS answer 500. */
        ERROR_500,
        /** Nothing listens on the port any more: connections are refused. */
        REFUSE,
        /**
         * The response head and the first bytes of the body are sent, then nothing more until
         * {@link #release()} or {@link #close()} (for at most 10 s): an issuer that trickles.
         */
        TRICKLE
    }

    private record IssuerKey(JWK publicJwk, JWSAlgorithm alg, JWSSigner signer) {
    }

    private final InstantSource clock;
    private final LoopbackServer server;
    private final Map<String, IssuerKey> keys = new ConcurrentHashMap<>();
    private final List<String> published = new CopyOnWriteArrayList<>();
    private final AtomicInteger discoveryFetches = new AtomicInteger();
    private final AtomicInteger jwksFetches = new AtomicInteger();
    private final AtomicReference<Outage> outage = new AtomicReference<>(Outage.NONE);
    private final AtomicReference<String> claimedIssuer = new AtomicReference<>();
    private final AtomicReference<CountDownLatch> hold = new AtomicReference<>();
    private final CountDownLatch firstRequest = new CountDownLatch(1);
    private final CountDownLatch stopTrickling = new CountDownLatch(1);

    public TestIssuer(InstantSource clock) throws Exception {
        this.clock = clock;
        // no graceful stop: relying parties' pooled keep-alive connections would hold it up
        this.server = new LoopbackServer(this::handle, Duration.ZERO);
        addRsaKey(DEFAULT_KID, "test-rsa-a");
    }

    /** The issuer URL, as it appears in {@code iss} and the discovery document. */
    public String issuer() {
        return server.url();
    }

    /** Adds and publishes an RSA key made from one of the {@link TestKeys}. */
    public TestIssuer addRsaKey(String kid, String testKeyName) {
        SigningKey key = TestKeys.load(testKeyName, kid);
        keys.put(kid, new IssuerKey(key.publicJwk(), JWSAlgorithm.RS256, new RSASSASigner(key.privateKey())));
        published.add(kid);
        return this;
    }

    /** Generates and publishes a P-256 key for ES256. */
    public TestIssuer addEcKey(String kid) throws JOSEException {
        ECKey ec = new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
        keys.put(kid, new IssuerKey(ec.toPublicJWK(), JWSAlgorithm.ES256, new ECDSASigner(ec)));
        published.add(kid);
        return this;
    }

    /** Stops publishing {@code kid}; the issuer can still sign with it. */
    public TestIssuer withdraw(String kid) {
        published.remove(kid);
        return this;
    }

    /** The public JWK of {@code kid}. */
    public JWK publicKey(String kid) {
        return keys.get(kid).publicJwk();
    }

    /** The discovery document names {@code issuer} instead of this issuer's URL. */
    public void claimIssuer(String issuer) {
        claimedIssuer.set(issuer);
    }

    public void outage(Outage o) throws Exception {
        Outage before = outage.getAndSet(o);
        if (o == Outage.REFUSE && before != Outage.REFUSE) {
            server.refuseConnections();
        } else if (o != Outage.REFUSE && before == Outage.REFUSE) {
            server.listenAgain();
        }
    }

    /** Requests wait, once received, until {@link #release()}. */
    public void hold() {
        hold.set(new CountDownLatch(1));
    }

    public void release() {
        stopTrickling.countDown();
        CountDownLatch l = hold.getAndSet(null);
        if (l != null) {
            l.countDown();
        }
    }

    /** Waits until the issuer has received its first request. */
    public boolean awaitFirstRequest(Duration timeout) throws InterruptedException {
        return firstRequest.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public int discoveryFetches() {
        return discoveryFetches.get();
    }

    public int jwksFetches() {
        return jwksFetches.get();
    }

    /** Claims of a token this issuer would give: its {@code iss}, {@link #DEFAULT_SUBJECT}, {@link #DEFAULT_AUDIENCE}, valid for 5 min. */
    public JWTClaimsSet.Builder claims() {
        Instant now = clock.instant();
        return new JWTClaimsSet.Builder()
                .issuer(issuer())
                .subject(DEFAULT_SUBJECT)
                .audience(DEFAULT_AUDIENCE)
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plus(Duration.ofMinutes(5))));
    }

    /** A token with the default claims, signed with {@link #DEFAULT_KID}. */
    public String mint() {
        return mint(DEFAULT_KID, claims().build());
    }

    /** {@code claims} signed with the key {@code kid} (published or not) in that key's algorithm. */
    public String mint(String kid, JWTClaimsSet claims) {
        return mint(kid, kid, claims);
    }

    /** {@code claims} signed with the key {@code signWith}, the header naming {@code headerKid}. */
    public String mint(String signWith, String headerKid, JWTClaimsSet claims) {
        IssuerKey key = keys.get(signWith);
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(key.alg()).keyID(headerKid).type(JOSEObjectType.JWT).build(), claims);
        try {
            jwt.sign(key.signer());
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
        return jwt.serialize();
    }

    private void handle(Request request, Response response, Callback callback) throws Exception {
        firstRequest.countDown();
        CountDownLatch h = hold.get();
        if (h != null) {
            h.await(10, TimeUnit.SECONDS);
        }
        String path = Request.getPathInContext(request);
        if (path.equals("/.well-known/openid-configuration")) {
            discoveryFetches.incrementAndGet();
        } else if (path.equals(JWKS_PATH)) {
            jwksFetches.incrementAndGet();
        }
        if (outage.get() == Outage.ERROR_500) {
            answer(response, callback, 500, "{\"error\":\"down\"}");
            return;
        }
        if (outage.get() == Outage.TRICKLE) {
            response.setStatus(200);
            response.getHeaders().put("Content-Type", "application/json");
            response.getHeaders().put("Content-Length", 4096);
            try (org.eclipse.jetty.util.Blocker.Callback sent = org.eclipse.jetty.util.Blocker.callback()) {
                response.write(false, java.nio.ByteBuffer.wrap("{\"issuer\":".getBytes(java.nio.charset.StandardCharsets.UTF_8)), sent);
                sent.block();
            }
            stopTrickling.await(10, TimeUnit.SECONDS);
            callback.failed(new java.io.IOException("trickled"));
            return;
        }
        switch (path) {
            case "/.well-known/openid-configuration" -> {
                String iss = claimedIssuer.get() != null ? claimedIssuer.get() : issuer();
                answer(response, callback, 200, "{\"issuer\":\"" + iss + "\",\"jwks_uri\":\"" + issuer() + JWKS_PATH
                        + "\",\"id_token_signing_alg_values_supported\":[\"RS256\",\"ES256\"]}");
            }
            case JWKS_PATH -> {
                List<JWK> jwks = new ArrayList<>();
                for (String kid : published) {
                    jwks.add(keys.get(kid).publicJwk());
                }
                answer(response, callback, 200, new JWKSet(jwks).toString(true));
            }
            default -> answer(response, callback, 404, "{}");
        }
    }

    private static void answer(Response response, Callback callback, int status, String json) {
        response.setStatus(status);
        response.getHeaders().put("Content-Type", "application/json");
        Content.Sink.write(response, true, json, callback);
    }

    @Override
    public void close() throws Exception {
        release();
        server.close();
    }
}
