package dev.sluice.sigv4;

import static dev.sluice.sigv4.SignedRequests.ACCESS_KEY_ID;
import static dev.sluice.sigv4.SignedRequests.HOST;
import static dev.sluice.sigv4.SignedRequests.SECRET;
import static dev.sluice.sigv4.SignedRequests.TOKEN;
import static dev.sluice.sigv4.SignedRequests.headerSigned;
import static dev.sluice.sigv4.SignedRequests.presigned;
import static dev.sluice.sigv4.SignedRequests.replacingHeader;
import static dev.sluice.sigv4.SignedRequests.withHeader;
import static dev.sluice.sigv4.SignedRequests.withQuery;
import static dev.sluice.sigv4.SignedRequests.withoutHeader;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.testing.MutableClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SigV4VerifierTest {

    private static final Instant T = Instant.parse("2025-03-14T09:26:53Z");
    private static final String AUTH_PREFIX = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request";
    private static final String SIG = "a".repeat(64);
    private static final byte[] BODY = "hello, sluice".getBytes(StandardCharsets.UTF_8);

    private final MutableClock clock = new MutableClock(T);
    private final SigV4Verifier verifier = new SigV4Verifier(clock);

    // ---- acceptance

    @Test
    void acceptsHeaderSignedRequestAndReportsItsMaterial() {
        SignableRequest request = headerSigned("GET", "/bucket/a%20b+c.txt", "list-type=2&prefix=a%2Fb",
                SigV4.EMPTY_SHA256, T);

        SignedRequest signed = verifier.parse(request).orElseThrow();
        verifier.verify(request, signed, SECRET, signed.declaredPayloadHash().orElseThrow());

        assertThat(signed.accessKeyId()).isEqualTo(ACCESS_KEY_ID);
        assertThat(signed.scopeDate()).isEqualTo(LocalDate.of(2025, 3, 14));
        assertThat(signed.region()).isEqualTo("us-east-1");
        assertThat(signed.service()).isEqualTo("s3");
        assertThat(signed.signedHeaders()).containsExactly("host", "x-amz-content-sha256", "x-amz-date");
        assertThat(signed.requestTime()).isEqualTo(T);
        assertThat(signed.presigned()).isFalse();
        assertThat(signed.expires()).isEmpty();
        assertThat(signed.securityToken()).isEmpty();
        assertThat(signed.declaredPayloadHash()).contains(SigV4.EMPTY_SHA256);
    }

    @Test
    void requestWithoutSigV4MaterialIsAnonymous() {
        SignableRequest request = new SignableRequest("GET", "/bucket/key", "X-Amz-Date=20250314T092653Z&x=1",
                List.of(Map.entry("Host", HOST)));

        assertThat(verifier.parse(request)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"eu-west-3", "auto", "garage", "my-made-up-region"})
    void acceptsAnyRegion(String region) {
        SignableRequest request = headerSigned("GET", "/b/k", "", List.of(), SigV4.EMPTY_SHA256,
                AwsCredentials.of(ACCESS_KEY_ID, SECRET), region, "s3", T);

        assertAccepted(request, SigV4.EMPTY_SHA256);
    }

    @Test
    void toleratesTheSeparatorsClientsUse() {
        SignableRequest request = headerSigned("GET", "/b/k", "", SigV4.EMPTY_SHA256, T);
        String authorization = request.header("authorization").orElseThrow();

        for (String variant : List.of(authorization.replace(", ", ","), authorization.replace(", ", " ,  "),
                authorization.replace("AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256   "), "  " + authorization + " ")) {
            assertAccepted(replacingHeader(request, "authorization", variant), SigV4.EMPTY_SHA256);
        }
    }

    @Test
    void partsMayComeInAnyOrder() {
        SignableRequest request = headerSigned("GET", "/b/k", "", SigV4.EMPTY_SHA256, T);
        String[] parts = request.header("authorization").orElseThrow().substring("AWS4-HMAC-SHA256 ".length())
                .split(", ");

        assertAccepted(replacingHeader(request, "authorization",
                "AWS4-HMAC-SHA256 " + parts[2] + ", " + parts[0] + ", " + parts[1]), SigV4.EMPTY_SHA256);
    }

    @Test
    void signedSessionTokenIsReportedAndRedactedInToString() {
        SignableRequest request = headerSigned("GET", "/b/k", "", List.of(), SigV4.EMPTY_SHA256,
                AwsCredentials.of(ACCESS_KEY_ID, SECRET, TOKEN), "us-east-1", "s3", T);

        SignedRequest signed = verifier.parse(request).orElseThrow();
        verifier.verify(request, signed, SECRET, SigV4.EMPTY_SHA256);

        assertThat(signed.securityToken()).contains(TOKEN);
        assertThat(signed.toString()).doesNotContain(TOKEN).contains("securityToken=<redacted>");
    }

    @Test
    void fallsBackToTheDateHeaderWithoutXAmzDate() {
        // Signed by hand: RequestSigner always sends x-amz-date.
        List<Map.Entry<String, String>> headers = List.of(Map.entry("Host", HOST),
                Map.entry("Date", "Fri, 14 Mar 2025 09:26:53 GMT"));
        String creq = SigV4.canonicalRequest("GET", "/b/k", "", headers, List.of("date", "host"), SigV4.EMPTY_SHA256);
        String signature = SigV4.signature(SigV4.signingKey(SECRET, LocalDate.of(2025, 3, 14), "us-east-1", "s3"),
                SigV4.stringToSign(T, "us-east-1", "s3", creq));
        SignableRequest request = withHeader(new SignableRequest("GET", "/b/k", "", headers), "Authorization",
                AUTH_PREFIX + ", SignedHeaders=date;host, Signature=" + signature);

        assertThat(verifier.parse(request).orElseThrow().requestTime()).isEqualTo(T);
        assertAccepted(request, SigV4.EMPTY_SHA256);
    }

    // ---- malformed header authentication: 400 AuthorizationHeaderMalformed

    @ParameterizedTest
    @ValueSource(strings = {
        "AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=",                       // SigV2
        "AWS4-HMAC-SHA1 Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=",
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-date,Signature=SIG",
        "Bearer abc",
        "",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date",
        "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=SIG",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request, Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=SIG",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=SIG, Signature=SIG",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=SIG, Extra=1",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=SIG,",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date Signature=SIG",
        "AWS4-HMAC-SHA256 credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=SIG",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/s3, SignedHeaders=host;x-amz-date, Signature=SIG",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request/x, SignedHeaders=host;x-amz-date, Signature=SIG",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws5_request, SignedHeaders=host;x-amz-date, Signature=SIG",
        "AWS4-HMAC-SHA256 Credential=/20250314/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=SIG",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314//s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=SIG",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2025-03-14/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=SIG",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250231/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=SIG",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250313/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=SIG",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=SIG",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/S3/aws4_request, SignedHeaders=host;x-amz-date, Signature=SIG",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request, SignedHeaders=, Signature=SIG",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request, SignedHeaders=x-amz-date, Signature=SIG",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request, SignedHeaders=x-amz-date;host, Signature=SIG",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request, SignedHeaders=host;host;x-amz-date, Signature=SIG",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request, SignedHeaders=Host;x-amz-date, Signature=SIG",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request, SignedHeaders=host;;x-amz-date, Signature=SIG",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-date, Signature=SIG",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=SIGUPPER",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=SIGx",
    })
    void rejectsMalformedAuthorizationHeader(String authorization) {
        SignableRequest request = new SignableRequest("GET", "/b/k", "", List.of(Map.entry("Host", HOST),
                Map.entry("X-Amz-Date", "20250314T092653Z"),
                Map.entry("Authorization", authorization.replace("SIGUPPER", SIG.toUpperCase())
                        .replace("SIG", SIG))));

        assertRejected(() -> verifier.parse(request), S3Error.AUTHORIZATION_HEADER_MALFORMED);
    }

    @Test
    void wellFormedHeaderOfTheMalformedCasesParses() {
        SignableRequest request = new SignableRequest("GET", "/b/k", "", List.of(Map.entry("Host", HOST),
                Map.entry("X-Amz-Date", "20250314T092653Z"),
                Map.entry("Authorization", AUTH_PREFIX + ", SignedHeaders=host;x-amz-date, Signature=" + SIG)));

        assertThat(verifier.parse(request)).isPresent();
        assertRejected(() -> verify(request, SigV4.EMPTY_SHA256), S3Error.SIGNATURE_DOES_NOT_MATCH);
    }

    @ParameterizedTest
    @ValueSource(strings = {"20250314T092653", "2025-03-14T09:26:53Z", "20250314T252653Z", "20250230T092653Z",
        "+20250314T092653Z", "Fri, 14 Mar 2025 09:26:53 GMT", ""})
    void rejectsBadXAmzDate(String date) {
        SignableRequest request = replacingHeader(headerSigned("GET", "/b/k", "", SigV4.EMPTY_SHA256, T),
                "x-amz-date", date);

        assertRejected(() -> verifier.parse(request), S3Error.AUTHORIZATION_HEADER_MALFORMED);
    }

    @Test
    void rejectsRequestWithoutAnyDate() {
        SignableRequest request = withoutHeader(headerSigned("GET", "/b/k", "", SigV4.EMPTY_SHA256, T), "x-amz-date");

        assertRejected(() -> verifier.parse(request), S3Error.AUTHORIZATION_HEADER_MALFORMED);
    }

    @Test
    void rejectsBadDateHeader() {
        SignableRequest request = withHeader(
                withoutHeader(headerSigned("GET", "/b/k", "", SigV4.EMPTY_SHA256, T), "x-amz-date"),
                "Date", "yesterday");

        assertRejected(() -> verifier.parse(request), S3Error.AUTHORIZATION_HEADER_MALFORMED);
    }

    @Test
    void rejectsRepeatedAuthorizationOrDateHeaders() {
        SignableRequest request = headerSigned("GET", "/b/k", "", SigV4.EMPTY_SHA256, T);

        assertRejected(() -> verifier.parse(withHeader(request, "Authorization", request.header("authorization")
                .orElseThrow())), S3Error.AUTHORIZATION_HEADER_MALFORMED);
        assertRejected(() -> verifier.parse(withHeader(request, "X-Amz-Date", "20250314T092653Z")),
                S3Error.AUTHORIZATION_HEADER_MALFORMED);
        assertRejected(() -> verifier.parse(withHeader(request, "x-amz-content-sha256", SigV4.EMPTY_SHA256)),
                S3Error.INVALID_ARGUMENT);
    }

    @Test
    void serviceOtherThanS3IsMalformed() {
        SignableRequest request = headerSigned("GET", "/b/k", "", List.of(), SigV4.EMPTY_SHA256,
                AwsCredentials.of(ACCESS_KEY_ID, SECRET), "us-east-1", "execute-api", T);

        assertRejected(() -> verifier.parse(request), S3Error.AUTHORIZATION_HEADER_MALFORMED);
    }

    @Test
    void scopeDateMustBeTheRequestDay() {
        // Signed a second before midnight UTC; the x-amz-date is then moved past midnight.
        Instant late = Instant.parse("2025-03-14T23:59:59Z");
        SignableRequest request = replacingHeader(headerSigned("GET", "/b/k", "", SigV4.EMPTY_SHA256, late),
                "x-amz-date", "20250315T000000Z");

        assertRejected(() -> verifier.parse(request), S3Error.AUTHORIZATION_HEADER_MALFORMED);
    }

    @Test
    void bothMechanismsAreRejected() {
        SignableRequest presigned = presigned(T, "300");
        SignableRequest both = withHeader(presigned, "Authorization",
                AUTH_PREFIX + ", SignedHeaders=host, Signature=" + SIG);

        assertRejected(() -> verifier.parse(both), S3Error.INVALID_ARGUMENT);
        assertThatThrownBy(() -> verifier.parse(both)).hasMessageContaining("Only one auth mechanism allowed");
    }

    // ---- signature

    @Test
    void wrongSecretDoesNotMatch() {
        SignableRequest request = headerSigned("GET", "/b/k", "", SigV4.EMPTY_SHA256, T);
        SignedRequest signed = verifier.parse(request).orElseThrow();

        assertRejected(() -> verifier.verify(request, signed, SECRET + "x", SigV4.EMPTY_SHA256),
                S3Error.SIGNATURE_DOES_NOT_MATCH);
    }

    @Test
    void pathIsVerifiedExactlyAsSent() {
        SignableRequest request = headerSigned("GET", "/b/a%2Fb", "", SigV4.EMPTY_SHA256, T);

        assertAccepted(request, SigV4.EMPTY_SHA256);
        for (String other : List.of("/b/a/b", "/b/a%2fb", "/b//a%2Fb", "/b/./a%2Fb")) {
            SignableRequest moved = new SignableRequest("GET", other, "", request.headers());
            assertRejected(() -> verify(moved, SigV4.EMPTY_SHA256), S3Error.SIGNATURE_DOES_NOT_MATCH);
        }
    }

    @Test
    void payloadHashIsSigned() {
        String hash = SigV4.sha256Hex(BODY);
        SignableRequest request = headerSigned("PUT", "/b/k", "", hash, T);

        assertAccepted(request, hash);
        assertRejected(() -> verify(request, SigV4.EMPTY_SHA256), S3Error.SIGNATURE_DOES_NOT_MATCH);
    }

    @Test
    void badPercentEscapeInTheQueryIsAClientError() {
        SignableRequest request = withQuery(headerSigned("GET", "/b/k", "", SigV4.EMPTY_SHA256, T), "prefix=%zz");

        assertRejected(() -> verify(request, SigV4.EMPTY_SHA256), S3Error.INVALID_ARGUMENT);
    }

    // ---- time, header authentication: ±15 minutes

    @Test
    void skewOfExactlyFifteenMinutesIsAccepted() {
        SignableRequest request = headerSigned("GET", "/b/k", "", SigV4.EMPTY_SHA256, T);

        clock.set(T.plus(SigV4Verifier.MAX_SKEW));
        assertAccepted(request, SigV4.EMPTY_SHA256);
        clock.set(T.minus(SigV4Verifier.MAX_SKEW));
        assertAccepted(request, SigV4.EMPTY_SHA256);
    }

    @Test
    void skewBeyondFifteenMinutesIsRejectedEitherWay() {
        SignableRequest request = headerSigned("GET", "/b/k", "", SigV4.EMPTY_SHA256, T);

        clock.set(T.plus(SigV4Verifier.MAX_SKEW).plusNanos(1));
        assertRejected(() -> verify(request, SigV4.EMPTY_SHA256), S3Error.REQUEST_TIME_TOO_SKEWED);
        clock.set(T.minus(SigV4Verifier.MAX_SKEW).minusSeconds(1));
        assertRejected(() -> verify(request, SigV4.EMPTY_SHA256), S3Error.REQUEST_TIME_TOO_SKEWED);
    }

    @Test
    void timeIsCheckedBeforeTheSignature() {
        SignableRequest request = headerSigned("GET", "/b/k", "", SigV4.EMPTY_SHA256, T);
        SignedRequest signed = verifier.parse(request).orElseThrow();
        clock.set(T.plus(Duration.ofHours(1)));

        assertRejected(() -> verifier.verify(request, signed, "wrong", SigV4.EMPTY_SHA256),
                S3Error.REQUEST_TIME_TOO_SKEWED);
    }

    // ---- presigned URLs

    @Test
    void acceptsPresignedUrlAndReportsItsMaterial() {
        SignableRequest request = presigned("GET", "/bucket/a%20b.txt", "response-content-type=text%2Fplain",
                HOST, "eu-central-1", "s3", T, "300", Optional.of(TOKEN));

        SignedRequest signed = verifier.parse(request).orElseThrow();
        verifier.verify(request, signed, SECRET, signed.declaredPayloadHash().orElseThrow());

        assertThat(signed.presigned()).isTrue();
        assertThat(signed.expires()).contains(Duration.ofSeconds(300));
        assertThat(signed.region()).isEqualTo("eu-central-1");
        assertThat(signed.signedHeaders()).containsExactly("host");
        assertThat(signed.securityToken()).contains(TOKEN);
        assertThat(signed.declaredPayloadHash()).contains(SigV4.UNSIGNED_PAYLOAD);
    }

    @Test
    void presignedUrlIsValidUntilItsExpiryInclusive() {
        SignableRequest request = presigned(T, "300");

        clock.set(T.plusSeconds(300));
        assertAccepted(request, SigV4.UNSIGNED_PAYLOAD);
        clock.set(T.plusSeconds(300).plusNanos(1));
        assertRejected(() -> verify(request, SigV4.UNSIGNED_PAYLOAD), S3Error.ACCESS_DENIED);
        assertThatThrownBy(() -> verify(request, SigV4.UNSIGNED_PAYLOAD)).hasMessage("Request has expired");
    }

    @Test
    void presignedUrlDatedInTheFutureIsValidOnlyWithinTheSkew() {
        SignableRequest request = presigned(T, "60");

        clock.set(T.minus(SigV4Verifier.MAX_SKEW));
        assertAccepted(request, SigV4.UNSIGNED_PAYLOAD);
        clock.set(T.minus(SigV4Verifier.MAX_SKEW).minusNanos(1));
        assertRejected(() -> verify(request, SigV4.UNSIGNED_PAYLOAD), S3Error.ACCESS_DENIED);
        assertThatThrownBy(() -> verify(request, SigV4.UNSIGNED_PAYLOAD)).hasMessage("Request is not yet valid");
    }

    @Test
    void sevenDaysIsTheLongestExpiry() {
        SignableRequest request = presigned(T, "604800");

        clock.set(T.plus(SigV4Verifier.MAX_PRESIGNED_EXPIRY));
        assertAccepted(request, SigV4.UNSIGNED_PAYLOAD);
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "604801", "abc", "-1", "+5", "1e3", "", "99999999999999999999", "%zz"})
    void rejectsBadExpires(String expires) {
        SignableRequest valid = presigned(T, "300");
        SignableRequest request = withQuery(valid, valid.rawQuery().replace("X-Amz-Expires=300", "X-Amz-Expires=" + expires));

        assertRejected(() -> verifier.parse(request), S3Error.AUTHORIZATION_QUERY_PARAMETERS_ERROR);
    }

    @Test
    void percentEncodedExpiresIsDecoded() {
        // "3%30" is "30": the value is percent-decoded like every other parameter (and, as
        // encoded, it was what the client signed).
        assertThat(verifier.parse(presigned(T, "3%30")).orElseThrow().expires()).contains(Duration.ofSeconds(30));
    }

    @Test
    void aPlusInASignedQueryIsVerifiedAsTheClientSentIt() {
        // S3 reads '+' in a query as a space, but the signature covers the query as sent: '+'
        // (canonically %2B) is not the '%20' a form-decoding verifier would make of it.
        SignableRequest plus = headerSigned("GET", "/bucket", "list-type=2&prefix=dir%2Fa+b%2F", SigV4.EMPTY_SHA256, T);
        verify(plus, SigV4.EMPTY_SHA256);

        assertRejected(() -> verify(withQuery(plus, "list-type=2&prefix=dir%2Fa%20b%2F"), SigV4.EMPTY_SHA256),
                S3Error.SIGNATURE_DOES_NOT_MATCH);
        SignableRequest space = headerSigned("GET", "/bucket", "list-type=2&prefix=dir%2Fa%20b%2F", SigV4.EMPTY_SHA256, T);
        verify(space, SigV4.EMPTY_SHA256);
        assertRejected(() -> verify(withQuery(space, "list-type=2&prefix=dir%2Fa+b%2F"), SigV4.EMPTY_SHA256),
                S3Error.SIGNATURE_DOES_NOT_MATCH);
    }

    @Test
    void tamperedPresignedUrlDoesNotMatch() {
        SignableRequest request = presigned("GET", "/bucket/key.txt", "versionId=1", HOST, "us-east-1", "s3", T, "300",
                Optional.empty());

        assertRejected(() -> verify(withQuery(request, request.rawQuery().replace("versionId=1", "versionId=2")),
                SigV4.UNSIGNED_PAYLOAD), S3Error.SIGNATURE_DOES_NOT_MATCH);
        assertRejected(() -> verify(withQuery(request, request.rawQuery().replace("X-Amz-Expires=300",
                "X-Amz-Expires=3000")), SigV4.UNSIGNED_PAYLOAD), S3Error.SIGNATURE_DOES_NOT_MATCH);
        assertRejected(() -> verify(replacingHeader(request, "host", "evil.example"), SigV4.UNSIGNED_PAYLOAD),
                S3Error.SIGNATURE_DOES_NOT_MATCH);
    }

    @Test
    void signatureParameterIsCutOutWhereverItStands() {
        SignableRequest request = presigned(T, "300");
        String query = request.rawQuery();
        int at = query.indexOf("&X-Amz-Signature=");
        String moved = query.substring(at + 1) + "&" + query.substring(0, at);

        assertAccepted(withQuery(request, moved), SigV4.UNSIGNED_PAYLOAD);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",                                   // nothing else
        "X-Amz-Algorithm=AWS4-HMAC-SHA1&REST",
        "X-Amz-Algorithm=AWS&REST",
        "REST&X-Amz-Algorithm=AWS4-HMAC-SHA256",                              // repeated
        "REST&X-Amz-Signature=" + "b",                                        // repeated signature
        "REST&x-amz-signature=" + "b",                                        // other spelling
        "REST&X-Amz-Expires=300",
        "REST_NO_DATE",
        "REST_NO_SIGNED_HEADERS",
        "REST_NO_SIGNATURE",
        "REST_NO_EXPIRES",
        "REST_NO_ALGORITHM",
        "REST_BAD_CREDENTIAL",
        "REST_SERVICE_STS",
        "REST_SIGNED_HEADERS_WITHOUT_HOST",
        "REST_BAD_DATE",
        "REST_BAD_SIGNATURE",
        "REST_BAD_ESCAPE_IN_CREDENTIAL",
        "REST_SCOPE_DAY_MISMATCH",
    })
    void rejectsMalformedPresignedUrl(String shape) {
        String valid = presigned(T, "300").rawQuery();
        String query = switch (shape) {
            case "REST_NO_DATE" -> drop(valid, "X-Amz-Date");
            case "REST_NO_SIGNED_HEADERS" -> drop(valid, "X-Amz-SignedHeaders");
            case "REST_NO_SIGNATURE" -> drop(valid, "X-Amz-Signature");
            case "REST_NO_EXPIRES" -> drop(valid, "X-Amz-Expires");
            case "REST_NO_ALGORITHM" -> drop(valid, "X-Amz-Algorithm");
            case "REST_BAD_CREDENTIAL" -> valid.replace("%2Faws4_request", "");
            case "REST_SERVICE_STS" -> valid.replace("%2Fs3%2F", "%2Fsts%2F");
            case "REST_SIGNED_HEADERS_WITHOUT_HOST" -> valid.replace("X-Amz-SignedHeaders=host",
                    "X-Amz-SignedHeaders=x-amz-date");
            case "REST_BAD_DATE" -> valid.replace("X-Amz-Date=20250314T092653Z", "X-Amz-Date=20250314");
            case "REST_BAD_SIGNATURE" -> valid.replaceFirst("X-Amz-Signature=[0-9a-f]{64}", "X-Amz-Signature=xyz");
            case "REST_BAD_ESCAPE_IN_CREDENTIAL" -> valid.replace("AKIDEXAMPLE%2F", "AKIDEXAMPLE%2");
            case "REST_SCOPE_DAY_MISMATCH" -> valid.replace("X-Amz-Date=20250314T092653Z", "X-Amz-Date=20250315T092653Z");
            default -> shape.replace("REST", valid);
        };
        SignableRequest request = withQuery(presigned(T, "300"), query);

        assertRejected(() -> verifier.parse(request), S3Error.AUTHORIZATION_QUERY_PARAMETERS_ERROR);
    }

    @Test
    void presignedSignedHeaderMissingFromRequestIsMalformed() {
        SignableRequest request = withoutHeader(presigned(T, "300"), "host");

        assertRejected(() -> verifier.parse(request), S3Error.AUTHORIZATION_QUERY_PARAMETERS_ERROR);
    }

    @Test
    void presignedWithDeclaredPayloadHashReportsIt() {
        SignableRequest request = withHeader(presigned(T, "300"), "x-amz-content-sha256", SigV4.EMPTY_SHA256);

        assertThat(verifier.parse(request).orElseThrow().declaredPayloadHash()).contains(SigV4.EMPTY_SHA256);
    }

    @Test
    void conflictingSecurityTokensAreRejected() {
        SignableRequest request = withHeader(
                presigned("GET", "/b/k", "", HOST, "us-east-1", "s3", T, "300", Optional.of(TOKEN)),
                "X-Amz-Security-Token", "other");

        assertRejected(() -> verifier.parse(request), S3Error.INVALID_ARGUMENT);
    }

    // ---- declared payload hash

    @Test
    void unsignedAndStreamingPayloadsAreNotChecked() {
        SigV4Verifier.checkPayloadHash(SigV4.UNSIGNED_PAYLOAD, BODY);
        SigV4Verifier.checkPayloadHash("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", BODY);
        SigV4Verifier.checkPayloadHash("STREAMING-UNSIGNED-PAYLOAD-TRAILER", BODY);
    }

    @Test
    void hexPayloadHashMustMatchTheBody() {
        SigV4Verifier.checkPayloadHash(SigV4.sha256Hex(BODY), BODY);
        SigV4Verifier.checkPayloadHash(SigV4.sha256Hex(BODY).toUpperCase(), BODY);
        SigV4Verifier.checkPayloadHash(SigV4.EMPTY_SHA256, new byte[0]);

        assertRejected(() -> SigV4Verifier.checkPayloadHash(SigV4.EMPTY_SHA256, BODY), S3Error.CONTENT_SHA256_MISMATCH);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "unsigned-payload", "UNSIGNED", "abc",
        "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
        "000000000000000000000000000000000000000000000000000000000000000",
        "00000000000000000000000000000000000000000000000000000000000000000",
        " 0000000000000000000000000000000000000000000000000000000000000000"})
    void otherPayloadHashValuesAreInvalid(String declared) {
        assertRejected(() -> SigV4Verifier.checkPayloadHash(declared, BODY), S3Error.INVALID_ARGUMENT);
    }

    // ---- helpers

    private void verify(SignableRequest request, String payloadHash) {
        verifier.verify(request, verifier.parse(request).orElseThrow(), SECRET, payloadHash);
    }

    private void assertAccepted(SignableRequest request, String payloadHash) {
        verify(request, payloadHash);
    }

    static void assertRejected(ThrowingCallable call, S3Error error) {
        assertThatThrownBy(call).isInstanceOfSatisfying(S3Exception.class, e -> {
            assertThat(e.error()).isEqualTo(error);
            assertThat(e.error().status()).isEqualTo(error.status());
        });
    }

    private static String drop(String query, String name) {
        return String.join("&", java.util.Arrays.stream(query.split("&"))
                .filter(p -> !p.startsWith(name + "=")).toList());
    }
}
