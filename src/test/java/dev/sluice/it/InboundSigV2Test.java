package dev.sluice.it;

import static dev.sluice.it.S3ErrorAssert.assertS3Error;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.auth.Action;
import dev.sluice.auth.Scope;
import dev.sluice.auth.SessionClaims;
import dev.sluice.auth.SessionTokens;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * AWS Signature Version 2 end to end, with requests signed by hand here (HMAC-SHA1 over the
 * string to sign as the S3 documentation spells it, independently of sluice's own code): the
 * {@code Authorization: AWS id:signature} header and presigned URLs, with access keys and with
 * session tokens, and every way such a request can be wrong. The rule under test throughout: a
 * request carrying signature material is never served as if it carried none, except when the
 * access key id is one sluice does not know.
 */
class InboundSigV2Test {

    private static final String KEY_ID = "AKIASLUICESIGV20001";
    private static final String SECRET = "sigv2-secret/with+plus/0123456789abcdefg";
    private static final String UNKNOWN_ID = "AKIAUNKNOWNSIGV2009";
    private static final String PRIVATE = "/demo/private/a/x.csv";
    private static final String PUBLIC = "/demo/hello/greeting.txt";
    private static final byte[] SESSION_KEY = new byte[32];
    private static final DateTimeFormatter HTTP_DATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.ROOT).withZone(ZoneOffset.UTC);

    @TempDir
    static Path dir;
    static SluiceUnderTest sluice;
    static SessionTokens tokens;

    @BeforeAll
    static void start() throws Exception {
        new Random(11).nextBytes(SESSION_KEY);
        write("hello/greeting.txt", "hello, world\n");
        write("private/a/x.csv", "a,x\n");
        write("private/key with space=1.txt", "spaced\n");
        String yaml = """
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
                registry:
                  products:
                    - { account: demo, product: hello, backend: { type: file, path: ./hello } }
                    - { account: demo, product: private, visibility: restricted, backend: { type: file, path: ./private } }
                inbound:
                  access_keys:
                    - access_key_id: %s
                      secret_access_key_env: SIGV2_SECRET
                      name: sigv2-reader
                      scopes: [ { product: demo/private, actions: [get_object, head_object, list_bucket] } ]
                  sts:
                    session_key_env: SESSION_KEY
                    trusted_issuers: ["https://issuer.invalid"]
                    audiences: [sluice]
                """.formatted(KEY_ID);
        sluice = SluiceUnderTest.start(yaml, Map.of("SIGV2_SECRET", SECRET,
                "SESSION_KEY", Base64.getEncoder().encodeToString(SESSION_KEY)), dir);
        tokens = new SessionTokens(SESSION_KEY, Optional.empty(), new SecureRandom());
    }

    @AfterAll
    static void stop() throws Exception {
        if (sluice != null) {
            sluice.close();
        }
    }

    private static void write(String path, String content) throws IOException {
        Path p = dir.resolve(path);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
    }

    // --- signing, by the S3 documentation ----------------------------------------------------------

    private static String hmacSha1Base64(String secret, String stringToSign) {
        try {
            Mac mac = Mac.getInstance("HmacSHA1");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
            return Base64.getEncoder().encodeToString(mac.doFinal(stringToSign.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** A presigned query: {@code Expires} seconds since the epoch, {@code amzLines} the signed x-amz-* lines. */
    private static String presigned(String id, String secret, String resource, long expires, String extraQuery,
            String amzLines) {
        String signature = hmacSha1Base64(secret, "GET\n\n\n" + expires + "\n" + amzLines + resource);
        return "AWSAccessKeyId=" + id + "&Expires=" + expires + "&Signature=" + encode(signature) + extraQuery;
    }

    private static long inFiveMinutes() {
        return Instant.now().plus(Duration.ofMinutes(5)).getEpochSecond();
    }

    /** Header authentication dated by x-amz-date (the Date line of the string to sign is then empty). */
    private static String[] amzDated(String id, String secret, String path, Instant at, String... moreHeaders) {
        String date = HTTP_DATE.format(at);
        StringBuilder amz = new StringBuilder("x-amz-date:" + date + "\n");
        for (int i = 0; i < moreHeaders.length; i += 2) {
            amz.append(moreHeaders[i].toLowerCase(Locale.ROOT)).append(':').append(moreHeaders[i + 1]).append('\n');
        }
        String signature = hmacSha1Base64(secret, "GET\n\n\n\n" + amz + path);
        String[] headers = new String[4 + moreHeaders.length];
        headers[0] = "x-amz-date";
        headers[1] = date;
        headers[2] = "Authorization";
        headers[3] = "AWS " + id + ":" + signature;
        System.arraycopy(moreHeaders, 0, headers, 4, moreHeaders.length);
        return headers;
    }

    /**
     * A GET with a {@code Date} header, which the JDK's HTTP client refuses to set, written to a
     * socket by hand.
     */
    private static SluiceUnderTest.RawResponse getWithDate(String path, String date, String authorization) {
        URI endpoint = sluice.s3Endpoint();
        String head = "GET " + path + " HTTP/1.1\r\nHost: " + endpoint.getAuthority() + "\r\nDate: " + date
                + "\r\nAuthorization: " + authorization + "\r\nConnection: close\r\n\r\n";
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(endpoint.getHost(), endpoint.getPort()), 5_000);
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            return RawHttp.parse(all.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Two GETs of {@link #PRIVATE} on one connection, the first kept alive, each with its own
     * {@code x-amz-date} and {@code Authorization}; returns the second response.
     */
    private static SluiceUnderTest.RawResponse secondOnOneConnection(String[] first, String[] second) {
        URI endpoint = sluice.s3Endpoint();
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(endpoint.getHost(), endpoint.getPort()), 5_000);
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            out.write(head(endpoint, first, "keep-alive").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            SluiceUnderTest.RawResponse firstResponse = readOne(in);
            assertThat(firstResponse.status()).as(firstResponse.text()).isEqualTo(200);
            out.write(head(endpoint, second, "close").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            ByteArrayOutputStream rest = new ByteArrayOutputStream();
            in.transferTo(rest);
            return RawHttp.parse(rest.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String head(URI endpoint, String[] headers, String connection) {
        StringBuilder head = new StringBuilder("GET " + PRIVATE + " HTTP/1.1\r\nHost: " + endpoint.getAuthority() + "\r\n");
        for (int i = 0; i < headers.length; i += 2) {
            head.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        }
        return head.append("Connection: ").append(connection).append("\r\n\r\n").toString();
    }

    /** One response with a Content-Length body, read off a kept-alive connection. */
    private static SluiceUnderTest.RawResponse readOne(InputStream in) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        while (!bytes.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed inside a response head");
            }
            bytes.write(b);
        }
        SluiceUnderTest.RawResponse headOnly = RawHttp.parse(bytes.toByteArray());
        int length = Integer.parseInt(headOnly.header("Content-Length").orElseThrow());
        bytes.write(in.readNBytes(length));
        return RawHttp.parse(bytes.toByteArray());
    }

    private static String sessionToken(String accessKeyId, String secret) {
        return tokens.seal(new SessionClaims(accessKeyId, secret, Instant.now().plus(Duration.ofHours(1)), "repo:x",
                "default", List.of(new Scope("demo/private", List.of(), Set.of(Action.GET_OBJECT)))));
    }

    // --- accepted -----------------------------------------------------------------------------------

    @Test
    void aHeaderSignedWithDateReadsARestrictedObject() {
        String date = HTTP_DATE.format(Instant.now());
        String signature = hmacSha1Base64(SECRET, "GET\n\n\n" + date + "\n" + PRIVATE);

        SluiceUnderTest.RawResponse r = getWithDate(PRIVATE, date, "AWS " + KEY_ID + ":" + signature);

        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.text()).isEqualTo("a,x\n");
    }

    @Test
    void aHeaderSignedWithXAmzDateReadsARestrictedObject() {
        SluiceUnderTest.RawResponse r = sluice.send("GET", PRIVATE, amzDated(KEY_ID, SECRET, PRIVATE, Instant.now()));

        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.text()).isEqualTo("a,x\n");
    }

    @Test
    void aPresignedUrlReadsARestrictedObjectWithItsSignedResponseOverride() {
        String path = "/demo/private/key%20with%20space%3D1.txt";
        String override = "&response-content-type=" + encode("text/plain; charset=utf-8");
        String query = presigned(KEY_ID, SECRET, path + "?response-content-type=text/plain; charset=utf-8",
                inFiveMinutes(), override, "");

        SluiceUnderTest.RawResponse r = sluice.send("GET", path + "?" + query);

        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.text()).isEqualTo("spaced\n");
        assertThat(r.header("Content-Type")).hasValue("text/plain; charset=utf-8");
        // The override is signed: changing it breaks the signature.
        assertS3Error(sluice.send("GET", path + "?" + query.replace("utf-8", "utf-16")), 403,
                "SignatureDoesNotMatch", path);
    }

    @Test
    void sessionsSignWithTheTokenInAHeaderOrInThePresignedQuery() {
        String sessionId = "ASIASLUICESIGV2SESS";
        String sessionSecret = "session-secret-0123456789abcdefghijklm";
        String token = sessionToken(sessionId, sessionSecret);

        SluiceUnderTest.RawResponse header = sluice.send("GET", PRIVATE,
                amzDated(sessionId, sessionSecret, PRIVATE, Instant.now(), "x-amz-security-token", token));
        String query = presigned(sessionId, sessionSecret, PRIVATE, inFiveMinutes(),
                "&x-amz-security-token=" + encode(token), "x-amz-security-token:" + token + "\n");
        SluiceUnderTest.RawResponse presigned = sluice.send("GET", PRIVATE + "?" + query);

        assertThat(header.status()).as(header.text()).isEqualTo(200);
        assertThat(presigned.status()).as(presigned.text()).isEqualTo(200);
        assertThat(presigned.text()).isEqualTo("a,x\n");
        // The token is signed: a URL whose token was left out of the signature is refused.
        String unsignedToken = presigned(sessionId, sessionSecret, PRIVATE, inFiveMinutes(),
                "&x-amz-security-token=" + encode(token), "");
        assertS3Error(sluice.send("GET", PRIVATE + "?" + unsignedToken), 403, "SignatureDoesNotMatch", "/demo/private/a/x.csv");
    }

    // --- refused, never served as anonymous ----------------------------------------------------------

    @Test
    void aPresignedUrlWithTheWrongSecretIsSignatureDoesNotMatchNotNoSuchBucket() {
        String query = presigned(KEY_ID, "not-the-secret", PRIVATE, inFiveMinutes(), "", "");

        assertS3Error(sluice.send("GET", PRIVATE + "?" + query), 403, "SignatureDoesNotMatch", "/demo/private/a/x.csv");
        // Where anonymous reading is allowed, too: a known key with a bad signature is an error.
        String onPublic = presigned(KEY_ID, "not-the-secret", PUBLIC, inFiveMinutes(), "", "");
        assertS3Error(sluice.send("GET", PUBLIC + "?" + onPublic), 403, "SignatureDoesNotMatch", "/demo/hello/greeting.txt");
    }

    @Test
    void aTamperedPresignedUrlIsSignatureDoesNotMatch() {
        long expires = inFiveMinutes();
        String query = presigned(KEY_ID, SECRET, PRIVATE, expires, "", "");

        assertThat(sluice.send("GET", PRIVATE + "?" + query).status()).isEqualTo(200);
        assertS3Error(sluice.send("GET", "/demo/private/a/y.csv?" + query), 403, "SignatureDoesNotMatch",
                "/demo/private/a/y.csv");
        assertS3Error(sluice.send("GET", PRIVATE + "?" + query.replace("Expires=" + expires, "Expires=" + (expires + 1))),
                403, "SignatureDoesNotMatch", PRIVATE);
    }

    @Test
    void anExpiredPresignedUrlIsAccessDenied() {
        String query = presigned(KEY_ID, SECRET, PRIVATE, Instant.now().minusSeconds(60).getEpochSecond(), "", "");

        SluiceUnderTest.RawResponse r = sluice.send("GET", PRIVATE + "?" + query);

        assertS3Error(r, 403, "AccessDenied", PRIVATE);
        assertThat(r.text()).contains("Request has expired");
    }

    @Test
    void aHeaderSignedTwentyMinutesAgoIsRequestTimeTooSkewed() {
        assertS3Error(sluice.send("GET", PRIVATE, amzDated(KEY_ID, SECRET, PRIVATE, Instant.now().minus(Duration.ofMinutes(20)))),
                403, "RequestTimeTooSkewed", PRIVATE);
    }

    @Test
    void anAuthorizationDifferingOnlyInCaseFromTheLastOneOnTheConnectionIsReadAsSent() {
        // Jetty's per-connection header cache matched values ignoring case, so this header came
        // out as the earlier one: a key id that exists only in another case was granted.
        String[] valid = amzDated(KEY_ID, SECRET, PRIVATE, Instant.now());
        String[] otherCase = valid.clone();
        otherCase[3] = otherCase[3].replace("AKIA", "AkIA");

        assertS3Error(secondOnOneConnection(valid, otherCase), 403, "InvalidAccessKeyId", PRIVATE);
    }

    @Test
    void anUnknownKeyIsServedAsAnonymousOnlyWhereAnonymousReadingIsAllowed() {
        String onPublic = presigned(UNKNOWN_ID, "whatever", PUBLIC, inFiveMinutes(), "", "");
        String onPrivate = presigned(UNKNOWN_ID, "whatever", PRIVATE, inFiveMinutes(), "", "");

        assertThat(sluice.send("GET", PUBLIC + "?" + onPublic).text()).isEqualTo("hello, world\n");
        assertThat(sluice.send("GET", PUBLIC, amzDated(UNKNOWN_ID, "whatever", PUBLIC, Instant.now())).text())
                .isEqualTo("hello, world\n");
        assertS3Error(sluice.send("GET", PRIVATE + "?" + onPrivate), 403, "InvalidAccessKeyId", PRIVATE);
        assertS3Error(sluice.send("GET", PRIVATE, amzDated(UNKNOWN_ID, "whatever", PRIVATE, Instant.now())),
                403, "InvalidAccessKeyId", PRIVATE);
    }

    @Test
    void malformedSignatureMaterialIsAnErrorEvenOnAPublicObject() {
        String date = HTTP_DATE.format(Instant.now());
        assertS3Error(sluice.send("GET", PUBLIC, "Authorization", "Bearer x"), 400, "AuthorizationHeaderMalformed", PUBLIC);
        assertS3Error(sluice.send("GET", PUBLIC, "Authorization", "AWS " + KEY_ID, "x-amz-date", date), 400,
                "InvalidArgument", PUBLIC);
        assertS3Error(sluice.send("GET", PUBLIC, "Authorization", "AWS " + KEY_ID + ":c2ln"), 403, "AccessDenied", PUBLIC);
        for (String query : List.of("Signature=c2ln", "AWSAccessKeyId=" + KEY_ID + "&Signature=c2ln",
                "Expires=" + inFiveMinutes() + "&Signature=c2ln", "AWSAccessKeyId=" + KEY_ID + "&Expires=soon&Signature=c2ln")) {
            assertS3Error(sluice.send("GET", PUBLIC + "?" + query), 403, "AccessDenied", PUBLIC);
        }
        String presigned = presigned(KEY_ID, SECRET, PUBLIC, inFiveMinutes(), "", "");
        assertS3Error(sluice.send("GET", PUBLIC + "?" + presigned, amzDated(KEY_ID, SECRET, PUBLIC, Instant.now())),
                400, "InvalidArgument", PUBLIC);
    }
}
