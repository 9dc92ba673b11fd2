package dev.sluice.testing;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.BadJWTException;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

/**
 * A test STS speaking the {@code AssumeRoleWithWebIdentity} query protocol the way AWS does:
 * for the one OIDC provider it trusts, it fetches the issuer's discovery document and then its
 * JWKS over HTTP, verifies the token's RS256 signature and {@code kid}, {@code iss},
 * {@code aud = sts.amazonaws.com} and {@code exp}, checks the role's trust condition on
 * {@code sub}, and answers with temporary credentials (which the test's S3 backend accepts).
 * It counts successful exchanges per (role, subject), records the error code of every refusal,
 * and injects faults on demand.
 *
 * <p>The trusted issuer can be re-pointed ({@link #trustIssuer}) because sluice's issuer is its
 * own URL, known only once sluice has bound its port, and sluice is configured with this STS's
 * endpoint before that.
 */
public final class TestSts implements AutoCloseable {
    private static final String NS = "https://sts.amazonaws.com/doc/2011-06-15/";

    /** What the next exchange(s) do instead of answering normally. */
    public enum Fault {
        NONE, DELAY, HANG, THROTTLING, ACCESS_DENIED, INVALID_IDENTITY_TOKEN, IDP_COMMUNICATION_ERROR,
        INTERNAL_ERROR, GARBAGE, CLOSE_CONNECTION
    }

    public record Issued(String roleArn, String subject, String sessionToken, Instant expiration) {
    }

    private final LoopbackServer server;
    private final OidcTrust trust;
    private final String audience;
    private final String accessKeyId;
    private final String secretAccessKey;
    private final Map<String, Predicate<String>> roles = new ConcurrentHashMap<>();
    private final ExchangeCounts exchanges = new ExchangeCounts();
    private final List<Issued> issued = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AtomicInteger requests = new AtomicInteger();
    private final List<String> refusals = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AtomicReference<Fault> fault = new AtomicReference<>(Fault.NONE);
    private final AtomicInteger faultRemaining = new AtomicInteger(Integer.MAX_VALUE);
    private final AtomicLong delayMillis = new AtomicLong();
    private final AtomicReference<Duration> credentialLifetime = new AtomicReference<>();
    private final CountDownLatch released = new CountDownLatch(1);

    /**
     * @param trustedIssuer   the OIDC provider URL "registered in IAM" (sluice's issuer)
     * @param accessKeyId     the access key id to hand out (the S3 backend's identity)
     * @param secretAccessKey its secret
     */
    public TestSts(String trustedIssuer, String accessKeyId, String secretAccessKey) throws Exception {
        this(trustedIssuer, "sts.amazonaws.com", accessKeyId, secretAccessKey);
    }

    /**
     * @param audience the {@code aud} the IAM OIDC provider is "registered" with; anything but
     *                 {@code sts.amazonaws.com} makes every token sluice mints the wrong audience
     */
    public TestSts(String trustedIssuer, String audience, String accessKeyId, String secretAccessKey) throws Exception {
        this.trust = new OidcTrust(trustedIssuer);
        this.audience = audience;
        this.accessKeyId = accessKeyId;
        this.secretAccessKey = secretAccessKey;
        this.server = new LoopbackServer(this::handle, Duration.ofSeconds(1));
    }

    public URI endpoint() {
        return URI.create(server.url() + "/");
    }

    /** Trusts {@code issuer} from now on (its discovery document and JWKS are fetched afresh). */
    public TestSts trustIssuer(String issuer) {
        trust.trust(issuer);
        return this;
    }

    /** Allows {@code roleArn} for subjects matching {@code trust}. */
    public TestSts role(String roleArn, Predicate<String> trust) {
        roles.put(roleArn, trust);
        return this;
    }

    /** Credentials last this long whatever DurationSeconds asked (null: as asked). */
    public void credentialLifetime(Duration lifetime) {
        credentialLifetime.set(lifetime);
    }

    /** Every following request suffers {@code f}. */
    public void fault(Fault f) {
        fault(f, Integer.MAX_VALUE);
    }

    /** The next {@code times} requests suffer {@code f}, then requests are answered normally. */
    public void fault(Fault f, int times) {
        faultRemaining.set(times);
        fault.set(f);
    }

    public void delay(Duration d) {
        delayMillis.set(d.toMillis());
        fault(Fault.DELAY);
    }

    /** Successful exchanges for (role, subject). */
    public int exchanges(String roleArn, String subject) {
        return exchanges.of(roleArn, subject);
    }

    public int totalExchanges() {
        return exchanges.total();
    }

    public int requests() {
        return requests.get();
    }

    public List<Issued> issued() {
        return List.copyOf(issued);
    }

    /** The error code of every error document answered so far, injected or not, in order. */
    public List<String> refusals() {
        return List.copyOf(refusals);
    }

    private void handle(Request request, Response response, Callback callback) throws Exception {
        requests.incrementAndGet();
        Map<String, String> form = Forms.parse(Content.Source.asString(request, StandardCharsets.UTF_8));
        Fault f = currentFault();
        switch (f) {
            case DELAY -> sleep(delayMillis.get());
            case HANG -> {
                released.await(60, TimeUnit.SECONDS);
                callback.failed(new IOException("hung"));
                return;
            }
            case THROTTLING -> {
                error(response, callback, 400, "Sender", "Throttling", "Rate exceeded");
                return;
            }
            case ACCESS_DENIED -> {
                error(response, callback, 403, "Sender", "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity");
                return;
            }
            case INVALID_IDENTITY_TOKEN -> {
                error(response, callback, 400, "Sender", "InvalidIdentityToken", "Injected: token rejected");
                return;
            }
            case IDP_COMMUNICATION_ERROR -> {
                error(response, callback, 400, "Sender", "IDPCommunicationError", "Injected: could not reach the IdP");
                return;
            }
            case INTERNAL_ERROR -> {
                error(response, callback, 500, "Receiver", "InternalFailure", "Injected failure");
                return;
            }
            case GARBAGE -> {
                response.setStatus(200);
                response.getHeaders().put("Content-Type", "text/xml");
                Content.Sink.write(response, true, "<html><body>upstream said something odd", callback);
                return;
            }
            case CLOSE_CONNECTION -> {
                request.getConnectionMetaData().getConnection().getEndPoint().close();
                callback.failed(new IOException("closed by the test STS"));
                return;
            }
            default -> { }
        }
        if (!"AssumeRoleWithWebIdentity".equals(form.get("Action")) || !"2011-06-15".equals(form.get("Version"))) {
            error(response, callback, 400, "Sender", "InvalidAction", "Could not find operation " + form.get("Action"));
            return;
        }
        String roleArn = form.getOrDefault("RoleArn", "");
        String session = form.getOrDefault("RoleSessionName", "");
        if (!session.matches("[\\w+=,.@-]{2,64}")) {
            error(response, callback, 400, "Sender", "ValidationError", "RoleSessionName fails the pattern");
            return;
        }
        JWTClaimsSet claims;
        try {
            claims = trust.verify(form.getOrDefault("WebIdentityToken", ""), audience);
        } catch (BadJWTException e) {
            String code = e.getMessage().contains("xpired") ? "ExpiredTokenException" : "InvalidIdentityToken";
            error(response, callback, 400, "Sender", code, e.getMessage());
            return;
        } catch (IOException e) {
            error(response, callback, 400, "Sender", "IDPCommunicationError", "Could not fetch the issuer's keys");
            return;
        } catch (Exception e) {
            error(response, callback, 400, "Sender", "InvalidIdentityToken", "Token verification failed: " + e.getMessage());
            return;
        }
        Predicate<String> rolePolicy = roles.get(roleArn);
        if (rolePolicy == null || !rolePolicy.test(claims.getSubject())) {
            error(response, callback, 403, "Sender", "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity");
            return;
        }
        long asked = Long.parseLong(form.getOrDefault("DurationSeconds", "3600"));
        Duration lifetime = credentialLifetime.get() != null ? credentialLifetime.get() : Duration.ofSeconds(asked);
        Instant expiration = Instant.now().plus(lifetime).truncatedTo(ChronoUnit.SECONDS);
        String token = "FwoGZXIvYXdzE" + UUID.randomUUID().toString().replace("-", "");
        exchanges.add(roleArn, claims.getSubject());
        issued.add(new Issued(roleArn, claims.getSubject(), token, expiration));
        String body = "<AssumeRoleWithWebIdentityResponse xmlns=\"" + NS + "\"><AssumeRoleWithWebIdentityResult>"
                + "<Audience>sts.amazonaws.com</Audience>"
                + "<AssumedRoleUser><Arn>" + roleArn + "/" + session + "</Arn><AssumedRoleId>AROATEST:" + session + "</AssumedRoleId></AssumedRoleUser>"
                + "<Provider>" + trust.issuer() + "</Provider>"
                + "<Credentials><AccessKeyId>" + accessKeyId + "</AccessKeyId><SecretAccessKey>" + secretAccessKey
                + "</SecretAccessKey><SessionToken>" + token + "</SessionToken><Expiration>" + expiration + "</Expiration></Credentials>"
                + "<SubjectFromWebIdentityToken>" + claims.getSubject() + "</SubjectFromWebIdentityToken>"
                + "</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>" + UUID.randomUUID()
                + "</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>";
        response.setStatus(200);
        response.getHeaders().put("Content-Type", "text/xml");
        Content.Sink.write(response, true, body, callback);
    }

    private Fault currentFault() {
        Fault f = fault.get();
        if (f == Fault.NONE) {
            return f;
        }
        if (faultRemaining.getAndDecrement() <= 0) {
            fault.compareAndSet(f, Fault.NONE);
            return Fault.NONE;
        }
        return f;
    }

    private void error(Response response, Callback callback, int status, String type, String code, String message) {
        refusals.add(code);
        String body = "<ErrorResponse xmlns=\"" + NS + "\"><Error><Type>" + type + "</Type><Code>" + code + "</Code><Message>"
                + message.replace("&", "&amp;").replace("<", "&lt;") + "</Message></Error><RequestId>" + UUID.randomUUID()
                + "</RequestId></ErrorResponse>";
        response.setStatus(status);
        response.getHeaders().put("Content-Type", "text/xml");
        Content.Sink.write(response, true, body, callback);
    }


    private static void sleep(long millis) throws InterruptedException {
        // the injected STS latency itself, not a synchronisation wait
        TimeUnit.MILLISECONDS.sleep(millis);
    }

    @Override
    public void close() throws Exception {
        released.countDown();
        server.close();
    }
}
