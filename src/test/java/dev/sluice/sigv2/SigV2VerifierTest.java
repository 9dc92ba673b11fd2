package dev.sluice.sigv2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.s3.HttpDate;
import dev.sluice.s3.S3Exception;
import dev.sluice.sigv4.SignableRequest;
import dev.sluice.testing.MutableClock;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Signature Version 2 against botocore's own signer: {@code src/test/resources/sigv2/vectors.json}
 * was written by {@code make_vectors.py} there with {@code HmacV1Auth} and {@code HmacV1QueryAuth}.
 * Every vector must verify, reproduce botocore's string to sign, and be refused with any single
 * character of anything it signs changed; then each rule of the string to sign, each malformed
 * form and each time limit on its own.
 */
class SigV2VerifierTest {

    private static final String ID = "AKIDEXAMPLE";
    private static final String SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    private static final Instant NOW = Instant.parse("2026-11-18T11:06:40Z");

    // --- botocore's vectors ------------------------------------------------------------------------

    record Vector(String name, boolean presigned, String method, String path, String query,
            List<Map.Entry<String, String>> headers, String accessKeyId, String secret, Optional<String> token,
            String stringToSign, Instant now) {

        SignableRequest request() {
            return new SignableRequest(method, path, query, headers);
        }
    }

    static List<Vector> vectors() throws IOException {
        try (InputStream in = SigV2VerifierTest.class.getResourceAsStream("/sigv2/vectors.json")) {
            JsonNode root = new ObjectMapper().readTree(in);
            List<Vector> vectors = new ArrayList<>();
            for (JsonNode v : root.get("vectors")) {
                List<Map.Entry<String, String>> headers = new ArrayList<>();
                v.get("headers").forEach(h -> headers.add(Map.entry(h.get(0).asText(), h.get(1).asText())));
                vectors.add(new Vector(v.get("name").asText(), v.get("presigned").asBoolean(), v.get("method").asText(),
                        v.get("path").asText(), v.get("query").asText(), List.copyOf(headers),
                        v.get("accessKeyId").asText(), v.get("secretAccessKey").asText(),
                        v.get("securityToken").isNull() ? Optional.empty() : Optional.of(v.get("securityToken").asText()),
                        v.get("stringToSign").asText(), Instant.ofEpochSecond(v.get("now").asLong())));
            }
            assertThat(vectors).hasSizeGreaterThanOrEqualTo(14);
            return vectors;
        }
    }

    @Test
    void everyBotocoreVectorVerifiesWithBotocoresStringToSign() throws IOException {
        for (Vector v : vectors()) {
            SigV2Verifier verifier = new SigV2Verifier(new MutableClock(v.now()));
            SigV2Request signed = verifier.parse(v.request()).orElseThrow(() -> new AssertionError(v.name() + ": not SigV2"));

            assertThat(signed.presigned()).as(v.name()).isEqualTo(v.presigned());
            assertThat(signed.accessKeyId()).as(v.name()).isEqualTo(v.accessKeyId());
            assertThat(signed.securityToken()).as(v.name()).isEqualTo(v.token());
            assertThat(verifier.stringToSign(v.request(), signed)).as(v.name()).isEqualTo(v.stringToSign());
            verifier.verify(v.request(), signed, v.secret());
        }
    }

    @Test
    void everySingleCharacterChangeOfASignedElementIsRefused() throws IOException {
        int mutations = 0;
        for (Vector v : vectors()) {
            List<SignableRequest> variants = new ArrayList<>();
            SignableRequest r = v.request();
            for (String method : changedOnce(r.method())) {
                variants.add(new SignableRequest(method, r.rawPath(), r.rawQuery(), r.headers()));
            }
            for (String path : changedOnce(r.rawPath())) {
                variants.add(new SignableRequest(r.method(), path, r.rawQuery(), r.headers()));
            }
            String[] segments = r.rawQuery().isEmpty() ? new String[0] : r.rawQuery().split("&", -1);
            for (int i = 0; i < segments.length; i++) {
                String name = segments[i].split("=", 2)[0];
                boolean signed = SigV2.SIGNED_SUBRESOURCES.contains(name) || name.equals("Signature")
                        || name.equals("Expires") || name.toLowerCase(Locale.ROOT).startsWith("x-amz-");
                // AWSAccessKeyId's value is not signed (only the secret it names proves anything),
                // but its name is what makes the request presigned.
                String changeable = name.equals("AWSAccessKeyId") ? name : signed ? segments[i] : "";
                for (String changed : changedOnce(changeable)) {
                    String[] copy = segments.clone();
                    copy[i] = changed + segments[i].substring(changeable.length());
                    variants.add(new SignableRequest(r.method(), r.rawPath(), String.join("&", copy), r.headers()));
                }
            }
            for (int i = 0; i < r.headers().size(); i++) {
                Map.Entry<String, String> h = r.headers().get(i);
                String lower = h.getKey().toLowerCase(Locale.ROOT);
                if (lower.equals("host")) {
                    continue; // SigV2 does not sign the host
                }
                String value = h.getValue();
                UnaryOperator<String> prefix = lower.equals("authorization")
                        ? s -> s.substring(s.indexOf(':') + 1) : UnaryOperator.identity();
                String unchanged = value.substring(0, value.length() - prefix.apply(value).length());
                for (String changed : changedOnce(prefix.apply(value))) {
                    variants.add(withHeader(r, i, h.getKey(), unchanged + changed));
                }
                if (lower.startsWith("x-amz-")) {
                    for (String name : changedOnce(h.getKey())) {
                        variants.add(withHeader(r, i, name, value));
                    }
                }
            }
            for (SignableRequest variant : variants) {
                SigV2Verifier verifier = new SigV2Verifier(new MutableClock(v.now()));
                assertThatThrownBy(() -> verifier.parse(variant)
                        .ifPresent(signed -> verifier.verify(variant, signed, v.secret())))
                        .as("%s changed to %s", v.name(), variant)
                        .isInstanceOfSatisfying(S3Exception.class,
                                e -> assertThat(e.error().status()).isBetween(400, 403));
                mutations++;
            }
        }
        assertThat(mutations).isGreaterThan(1500);
    }

    private static SignableRequest withHeader(SignableRequest r, int index, String name, String value) {
        List<Map.Entry<String, String>> headers = new ArrayList<>(r.headers());
        headers.set(index, Map.entry(name, value));
        return new SignableRequest(r.method(), r.rawPath(), r.rawQuery(), headers);
    }

    /** The text with one character replaced, at every position, never by an equivalent spelling. */
    private static List<String> changedOnce(String text) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            char replacement = c == 'x' ? 'y' : c == 'X' ? 'Y' : 'x';
            out.add(text.substring(0, i) + replacement + text.substring(i + 1));
        }
        return out;
    }

    // --- the string to sign, rule by rule ----------------------------------------------------------

    private static SignableRequest request(String method, String path, String query, String... headers) {
        List<Map.Entry<String, String>> list = new ArrayList<>();
        list.add(Map.entry("Host", "127.0.0.1:9000"));
        for (int i = 0; i < headers.length; i += 2) {
            list.add(Map.entry(headers[i], headers[i + 1]));
        }
        return new SignableRequest(method, path, query, list);
    }

    private static String stringToSign(SignableRequest request) {
        SigV2Verifier verifier = new SigV2Verifier(new MutableClock(NOW));
        return verifier.stringToSign(request, verifier.parse(request).orElseThrow());
    }

    private static String date(Instant t) {
        return HttpDate.format(t);
    }

    @Test
    void withXAmzDateTheDateLineIsEmptyAndXAmzDateIsSignedAmongTheAmzHeaders() {
        SignableRequest r = request("GET", "/demo/a.txt", "", "Date", "Thu, 01 Jan 2015 00:00:00 GMT",
                "x-amz-date", date(NOW), "Authorization", "AWS " + ID + ":sig=");
        assertThat(stringToSign(r)).isEqualTo("GET\n\n\n\nx-amz-date:" + date(NOW) + "\n/demo/a.txt");
    }

    @Test
    void amzHeadersAreLowercasedSortedJoinedTrimmedAndUnfolded() {
        SignableRequest r = request("GET", "/demo/a.txt", "", "Date", date(NOW),
                "X-Amz-Meta-B", " two ", "x-amz-meta-a", "x\r\n   y", "x-amz-meta-b", "one  and  a half",
                "Content-Type", " text/plain ", "Content-MD5", "md5", "X-Other", "ignored",
                "Authorization", "AWS " + ID + ":sig=");
        assertThat(stringToSign(r)).isEqualTo("GET\nmd5\ntext/plain\n" + date(NOW) + "\n"
                + "x-amz-meta-a:x y\nx-amz-meta-b:two,one  and  a half\n/demo/a.txt");
    }

    @Test
    void theResourceSignsOnlySubResourcesDecodedAndSortedByNameAsSent() {
        SignableRequest r = request("GET", "/demo/a%20b.txt",
                "versionId=v%2B1+2&prefix=p&acl&uploads=&list-type=2&response-content-type=a%2Fb&tagging"
                        + "&partNumber=3&partNumber=1&VersionId=ignored",
                "Date", date(NOW), "Authorization", "AWS " + ID + ":sig=");
        assertThat(stringToSign(r)).isEqualTo("GET\n\n\n" + date(NOW) + "\n/demo/a%20b.txt"
                + "?acl&partNumber=3&partNumber=1&response-content-type=a/b&tagging&uploads=&versionId=v+1+2");
    }

    @Test
    void aPresignedRequestSignsExpiresAndItsAmzQueryParametersAsHeaders() {
        SignableRequest r = request("GET", "/demo/a.txt",
                "AWSAccessKeyId=" + ID + "&Expires=1795003600&Signature=abc%3D&x-amz-security-token=t%2Bk&x-id=GetObject");
        assertThat(stringToSign(r)).isEqualTo("GET\n\n\n1795003600\nx-amz-security-token:t+k\n/demo/a.txt");
    }

    @Test
    void theResourcePathHookPutsTheBucketFromTheHostFirst() {
        SignableRequest r = new SignableRequest("GET", "/a.txt", "",
                List.of(Map.entry("Host", "demo.s3.example"), Map.entry("Date", date(NOW)),
                        Map.entry("Authorization", "AWS " + ID + ":sig=")));
        SigV2Verifier.ResourcePath virtualHost = req -> "/" + req.header("host").orElseThrow().split("\\.")[0] + req.rawPath();
        SigV2Verifier verifier = new SigV2Verifier(new MutableClock(NOW), virtualHost);

        assertThat(verifier.stringToSign(r, verifier.parse(r).orElseThrow())).endsWith("\n/demo/a.txt");
    }

    @Test
    void theSignatureIsBase64HmacSha1OfTheStringToSign() {
        // The example of the S3 documentation ("Signing and authenticating REST requests", Object GET).
        String sts = "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg";
        assertThat(SigV2.signature(SECRET, sts)).isEqualTo("qgk2+6Sv9/oM7G3qLEjTH1a1l1g=");
    }

    // --- accepted and refused forms ----------------------------------------------------------------

    private static SignableRequest signedHeaderRequest(Instant at, String secret) {
        String signature = SigV2.signature(secret, "GET\n\n\n" + date(at) + "\n/demo/a.txt");
        return request("GET", "/demo/a.txt", "", "Date", date(at), "Authorization", "AWS " + ID + ":" + signature);
    }

    private static void assertRefused(SigV2Verifier verifier, SignableRequest r, int status, String code) {
        assertThatThrownBy(() -> verifier.parse(r).ifPresent(signed -> verifier.verify(r, signed, SECRET)))
                .as(r.toString())
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.error().status()).isEqualTo(status);
                    assertThat(e.error().code()).isEqualTo(code);
                });
    }

    @Test
    void headerAuthIsAcceptedWithinFifteenMinutesEitherWayAndRefusedBeyond() {
        MutableClock clock = new MutableClock(NOW);
        SigV2Verifier verifier = new SigV2Verifier(clock);
        for (Duration skew : List.of(Duration.ofMinutes(15), Duration.ofMinutes(-15), Duration.ZERO)) {
            SignableRequest r = signedHeaderRequest(NOW.plus(skew), SECRET);
            verifier.verify(r, verifier.parse(r).orElseThrow(), SECRET);
        }
        for (Duration skew : List.of(Duration.ofMinutes(15).plusSeconds(1), Duration.ofMinutes(-16))) {
            assertRefused(verifier, signedHeaderRequest(NOW.plus(skew), SECRET), 403, "RequestTimeTooSkewed");
        }
        assertRefused(verifier, signedHeaderRequest(NOW, "another secret"), 403, "SignatureDoesNotMatch");
    }

    @Test
    void aDateWithItsZoneSpeltUtcIsAcceptedAsRcloneSendsIt() {
        String date = "Wed, 18 Nov 2026 11:06:40 UTC"; // Go's time.RFC1123 for a UTC time
        String signature = SigV2.signature(SECRET, "GET\n\n\n" + date + "\n/demo/a.txt");
        SignableRequest r = request("GET", "/demo/a.txt", "", "Date", date, "Authorization", "AWS " + ID + ":" + signature);
        SigV2Verifier verifier = new SigV2Verifier(new MutableClock(NOW));

        SigV2Request signed = verifier.parse(r).orElseThrow();

        assertThat(signed.time()).isEqualTo(NOW);
        verifier.verify(r, signed, SECRET);
    }

    @Test
    void aPresignedUrlIsAcceptedUntilItsExpiresAndThenAccessDenied() {
        long expires = NOW.getEpochSecond() + 60;
        String signature = SigV2.signature(SECRET, "GET\n\n\n" + expires + "\n/demo/a.txt");
        SignableRequest r = request("GET", "/demo/a.txt", "AWSAccessKeyId=" + ID + "&Expires=" + expires
                + "&Signature=" + signature.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D"));
        MutableClock clock = new MutableClock(NOW);
        SigV2Verifier verifier = new SigV2Verifier(clock);

        clock.set(Instant.ofEpochSecond(expires));
        verifier.verify(r, verifier.parse(r).orElseThrow(), SECRET);
        clock.set(Instant.ofEpochSecond(expires).plusMillis(1));
        assertThatThrownBy(() -> verifier.verify(r, verifier.parse(r).orElseThrow(), SECRET))
                .isInstanceOfSatisfying(S3Exception.class, e -> {
                    assertThat(e.error().code()).isEqualTo("AccessDenied");
                    assertThat(e.clientMessage()).isEqualTo("Request has expired");
                });
    }

    @Test
    void malformedSigV2MaterialIsRefusedWithItsS3Error() {
        SigV2Verifier verifier = new SigV2Verifier(new MutableClock(NOW));
        String d = date(NOW);
        for (String auth : List.of("AWS", "AWS ", "AWS " + ID, "AWS :c2ln", "AWS " + ID + ":", "AWS a:b:c",
                "AWS " + ID + ": c2ln", "AWS  " + ID + " : c2ln")) {
            assertRefused(verifier, request("GET", "/demo/a.txt", "", "Date", d, "Authorization", auth),
                    400, "InvalidArgument");
        }
        assertRefused(verifier, request("GET", "/demo/a.txt", "", "Date", d, "Authorization", "AWS a:b",
                "Authorization", "AWS a:b"), 400, "InvalidArgument");
        // No date, two dates, or one that is not a date.
        assertRefused(verifier, request("GET", "/demo/a.txt", "", "Authorization", "AWS a:b"), 403, "AccessDenied");
        assertRefused(verifier, request("GET", "/demo/a.txt", "", "Date", d, "Date", d, "Authorization", "AWS a:b"),
                403, "AccessDenied");
        assertRefused(verifier, request("GET", "/demo/a.txt", "", "x-amz-date", "yesterday", "Authorization", "AWS a:b"),
                403, "AccessDenied");

        for (String query : List.of("Signature=c2ln", "AWSAccessKeyId=" + ID, "Expires=1795003600",
                "AWSAccessKeyId=" + ID + "&Signature=c2ln", "AWSAccessKeyId=" + ID + "&Expires=1795003600",
                "Signature=c2ln&Expires=1795003600", "AWSAccessKeyId=&Signature=c2ln&Expires=1795003600",
                "awsaccesskeyid=" + ID + "&Signature=c2ln&Expires=1795003600",
                "AWSAccessKeyId=" + ID + "&signature=c2ln&Expires=1795003600")) {
            assertRefused(verifier, request("GET", "/demo/a.txt", query), 403, "AccessDenied");
        }
        assertRefused(verifier, request("GET", "/demo/a.txt", "AWSAccessKeyId=" + ID + "&Signature=c2ln&Expires=soon"),
                403, "AccessDenied");
        assertRefused(verifier, request("GET", "/demo/a.txt",
                "AWSAccessKeyId=" + ID + "&Signature=c2ln&Signature=c2ln&Expires=1795003600"), 400, "InvalidArgument");
        assertRefused(verifier, request("GET", "/demo/a.txt",
                "AWSAccessKeyId=" + ID + "&Signature=c2%zz&Expires=1795003600"), 400, "InvalidArgument");
    }

    @Test
    void sigV2WithAnotherMechanismIsInvalidArgument() {
        SigV2Verifier verifier = new SigV2Verifier(new MutableClock(NOW));
        String presigned = "AWSAccessKeyId=" + ID + "&Signature=c2ln&Expires=1795003600";
        assertRefused(verifier, request("GET", "/demo/a.txt", presigned, "Authorization", "AWS a:b"),
                400, "InvalidArgument");
        assertRefused(verifier, request("GET", "/demo/a.txt", presigned, "Authorization", "AWS4-HMAC-SHA256 x"),
                400, "InvalidArgument");
        assertRefused(verifier, request("GET", "/demo/a.txt", presigned + "&X-Amz-Algorithm=AWS4-HMAC-SHA256"),
                400, "InvalidArgument");
        assertRefused(verifier, request("GET", "/demo/a.txt", "X-Amz-Signature=00", "Date", date(NOW),
                "Authorization", "AWS a:b"), 400, "InvalidArgument");
        assertRefused(verifier, request("GET", "/demo/a.txt", presigned, "x-amz-security-token", "one",
                "Authorization", "AWS a:b"), 400, "InvalidArgument");
    }

    @Test
    void otherSchemesAndUnsignedRequestsAreLeftToSigV4() {
        SigV2Verifier verifier = new SigV2Verifier(new MutableClock(NOW));
        for (String auth : List.of("AWS4-HMAC-SHA256 Credential=x", "Bearer x", "AWSfoo:bar", "Basic YTpi")) {
            assertThat(verifier.parse(request("GET", "/demo/a.txt", "", "Authorization", auth))).as(auth).isEmpty();
        }
        assertThat(verifier.parse(request("GET", "/demo/a.txt", "list-type=2&response-expires=x"))).isEmpty();
    }

    @Test
    void aSessionTokenInHeaderAndQueryMustAgree() {
        SigV2Verifier verifier = new SigV2Verifier(new MutableClock(NOW));
        String presigned = "AWSAccessKeyId=" + ID + "&Signature=c2ln&Expires=1795003600&x-amz-security-token=";
        assertThat(verifier.parse(request("GET", "/a", presigned + "tok", "X-Amz-Security-Token", "tok"))
                .orElseThrow().securityToken()).hasValue("tok");
        assertRefused(verifier, request("GET", "/a", presigned + "tok", "X-Amz-Security-Token", "other"),
                400, "InvalidArgument");
    }
}
