package dev.sluice.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.backend.Upload;
import dev.sluice.s3.HttpDate;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.s3.UriEncoding;
import dev.sluice.sigv2.SigV2;
import dev.sluice.sigv2.SigV2Request;
import dev.sluice.sigv2.SigV2Verifier;
import dev.sluice.sigv4.AwsCredentials;
import dev.sluice.sigv4.ChunkSigning;
import dev.sluice.sigv4.RequestSigner;
import dev.sluice.sigv4.SigV4;
import dev.sluice.sigv4.SigV4Verifier;
import dev.sluice.sigv4.SignableRequest;
import dev.sluice.upload.UploadBodies;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * {@link Identifier#identifyUpload}: the request signature verified over the payload hash it
 * declares, and for the chunk-signed forms the {@link ChunkSigning} its body is then checked with,
 * starting from AWS's own chunked-upload examples, whose request signatures seed the chunk
 * signatures AWS lists.
 */
class IdentifierUploadTest {
    static final String DOC_KEY_ID = "AKIAIOSFODNN7EXAMPLE";
    static final String DOC_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    static final Instant DOC_TIME = Instant.parse("2013-05-24T00:00:00Z");

    static final String KEY_ID = "AKIDUPLOADER";
    static final String SECRET = "uploader-secret";
    static final Instant NOW = Instant.parse("2026-12-07T02:40:00Z");
    static final String HOST = "127.0.0.1:9000";

    static Identifier identifier(Instant now, String keyId, String secret) {
        InstantSource clock = InstantSource.fixed(now);
        AccessKeys keys = new AccessKeys(List.of(new AccessKeys.Entry(keyId, secret, "uploader", Optional.empty(), true, List.of())));
        return new Identifier(new SigV4Verifier(clock), keys, Optional.empty(), clock);
    }

    @Test
    void theDocumentedStreamingPutSeedsTheChunkSignaturesAwsLists() throws IOException {
        SignableRequest request = new SignableRequest("PUT", "/examplebucket/chunkObject.txt", "", List.of(
                Map.entry("Host", "s3.amazonaws.com"),
                Map.entry("x-amz-date", "20130524T000000Z"),
                Map.entry("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                Map.entry("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                        + "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
                        + "x-amz-decoded-content-length;x-amz-storage-class,"
                        + "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"),
                Map.entry("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
                Map.entry("Content-Encoding", "aws-chunked"),
                Map.entry("x-amz-decoded-content-length", "66560"),
                Map.entry("Content-Length", "66824")));

        Identifier.Identified identified = identifier(DOC_TIME, DOC_KEY_ID, DOC_SECRET).identifyUpload(request);

        assertThat(identified.principal()).isInstanceOf(Principal.AccessKey.class);
        ChunkSigning signing = identified.chunkSigning().orElseThrow();
        assertThat(signing.seedSignature()).isEqualTo("4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
        assertThat(signing.amzDate()).isEqualTo("20130524T000000Z");
        assertThat(signing.credentialScope()).isEqualTo("20130524/us-east-1/s3/aws4_request");

        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        docChunk(wire, 65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648");
        docChunk(wire, 1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497");
        wire.writeBytes("0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
        Upload upload = UploadBodies.open(new ByteArrayInputStream(wire.toByteArray()),
                request::header, identified.chunkSigning(), 5L << 30);
        byte[] expected = new byte[66560];
        Arrays.fill(expected, (byte) 'a');
        assertThat(upload.stream().readAllBytes()).isEqualTo(expected);
    }

    @Test
    void theDocumentedTrailerPutVerifiesAndSeedsItsChain() {
        SignableRequest request = new SignableRequest("PUT", "/examplebucket/chunkObject.txt", "", List.of(
                Map.entry("Host", "s3.amazonaws.com"),
                Map.entry("x-amz-date", "20130524T000000Z"),
                Map.entry("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                Map.entry("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                        + "SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;"
                        + "x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer,"
                        + "Signature=106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"),
                Map.entry("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"),
                Map.entry("Content-Encoding", "aws-chunked"),
                Map.entry("x-amz-decoded-content-length", "66560"),
                Map.entry("x-amz-trailer", "x-amz-checksum-crc32c"),
                Map.entry("Content-Length", "66946")));

        Identifier.Identified identified = identifier(DOC_TIME, DOC_KEY_ID, DOC_SECRET).identifyUpload(request);

        assertThat(identified.chunkSigning().orElseThrow().seedSignature())
                .isEqualTo("106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e");
    }

    @Test
    void aChunkSignedRequestWithAWrongSignatureIsRefused() {
        SignableRequest request = replaceSignature(signed(SigV4.STREAMING_PAYLOAD), SigV4.EMPTY_SHA256);
        assertRefused(() -> identifier(NOW, KEY_ID, SECRET).identifyUpload(request), S3Error.SIGNATURE_DOES_NOT_MATCH);
    }

    @Test
    void everyChunkSignedFormGetsItsSeedAndEveryOtherFormNone() {
        Identifier identifier = identifier(NOW, KEY_ID, SECRET);
        for (String form : List.of(SigV4.STREAMING_PAYLOAD, SigV4.STREAMING_PAYLOAD_TRAILER)) {
            SignableRequest request = signed(form);
            ChunkSigning signing = identifier.identifyUpload(request).chunkSigning().orElseThrow();
            String authorization = request.header("authorization").orElseThrow();
            assertThat(signing.seedSignature()).isEqualTo(authorization.substring(authorization.indexOf("Signature=") + 10));
            assertThat(signing.amzDate()).isEqualTo("20261207T024000Z");
            assertThat(signing.credentialScope()).isEqualTo("20261207/eu-west-1/s3/aws4_request");
            assertThat(signing.signingKey()).isEqualTo(SigV4.signingKey(SECRET, SigV4.scopeDate(NOW), "eu-west-1", "s3"));
        }
        for (String form : List.of(SigV4.UNSIGNED_PAYLOAD, SigV4.STREAMING_UNSIGNED_PAYLOAD_TRAILER, SigV4.sha256Hex(new byte[5]))) {
            Identifier.Identified identified = identifier.identifyUpload(signed(form));
            assertThat(identified.principal()).isInstanceOf(Principal.AccessKey.class);
            assertThat(identified.chunkSigning()).isEmpty();
        }
    }

    @Test
    void sessionCredentialsSeedChunkSignaturesWithTheSessionsSecret() {
        byte[] sealKey = new byte[32];
        Arrays.fill(sealKey, (byte) 7);
        SessionTokens sessions = new SessionTokens(sealKey, Optional.empty(), new SecureRandom());
        String token = sessions.seal(new SessionClaims("ASIAUPLOADSESSION", "session-secret", NOW.plus(Duration.ofHours(1)),
                "repo:acme/data", "ci-writer", List.of()));
        InstantSource clock = InstantSource.fixed(NOW);
        Identifier identifier = new Identifier(new SigV4Verifier(clock), new AccessKeys(List.of()), Optional.of(sessions), clock);
        List<Map.Entry<String, String>> extra = List.of(Map.entry("content-encoding", "aws-chunked"),
                Map.entry("x-amz-decoded-content-length", "5"));
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        headers.add(Map.entry("Host", HOST));
        headers.addAll(extra);
        headers.addAll(new RequestSigner("eu-west-1", "s3").sign("PUT", HOST, "/acct/product/key", "", extra,
                SigV4.STREAMING_PAYLOAD_TRAILER, AwsCredentials.of("ASIAUPLOADSESSION", "session-secret", token), NOW));

        Identifier.Identified identified = identifier.identifyUpload(new SignableRequest("PUT", "/acct/product/key", "", headers));

        assertThat(identified.principal()).isInstanceOf(Principal.Session.class);
        assertThat(identified.chunkSigning().orElseThrow().signingKey())
                .isEqualTo(SigV4.signingKey("session-secret", SigV4.scopeDate(NOW), "eu-west-1", "s3"));
    }

    @Test
    void aPresignedPutIsUnsignedAndCannotCarryChunkSignatures() {
        Identifier identifier = identifier(NOW, KEY_ID, SECRET);
        SignableRequest presigned = presignedPut(List.of(Map.entry("Host", HOST)));
        Identifier.Identified identified = identifier.identifyUpload(presigned);
        assertThat(identified.principal()).isInstanceOf(Principal.AccessKey.class);
        assertThat(identified.chunkSigning()).isEmpty();

        SignableRequest streaming = presignedPut(List.of(Map.entry("Host", HOST),
                Map.entry("x-amz-content-sha256", SigV4.STREAMING_PAYLOAD)));
        assertRefused(() -> identifier.identifyUpload(streaming), S3Error.INVALID_REQUEST);
    }

    @Test
    void chunkSignaturesFromAnUnsignedRequestOrAnUnknownKeyAreAccessDenied() {
        SignableRequest anonymous = new SignableRequest("PUT", "/acct/product/key", "", List.of(Map.entry("Host", HOST),
                Map.entry("x-amz-content-sha256", SigV4.STREAMING_PAYLOAD), Map.entry("x-amz-decoded-content-length", "5")));
        assertRefused(() -> identifier(NOW, KEY_ID, SECRET).identifyUpload(anonymous), S3Error.ACCESS_DENIED);
        assertRefused(() -> identifier(NOW, "AKIDSOMEONEELSE", SECRET).identifyUpload(signed(SigV4.STREAMING_PAYLOAD_TRAILER)),
                S3Error.ACCESS_DENIED);

        SignableRequest plain = new SignableRequest("PUT", "/acct/product/key", "", List.of(Map.entry("Host", HOST),
                Map.entry("Content-Length", "5")));
        assertThat(identifier(NOW, KEY_ID, SECRET).identifyUpload(plain).principal()).isEqualTo(Principal.Anonymous.UNSIGNED);
    }

    @Test
    void sigV2SignsPlainUploadsButNotChunkSignedOnes() {
        Identifier identifier = identifier(NOW, KEY_ID, SECRET);
        assertThat(identifier.identifyUpload(sigV2(List.of())).principal()).isInstanceOf(Principal.AccessKey.class);
        SignableRequest streaming = sigV2(List.of(Map.entry("x-amz-content-sha256", SigV4.STREAMING_PAYLOAD)));
        assertRefused(() -> identifier.identifyUpload(streaming), S3Error.INVALID_REQUEST);
    }

    @Test
    void aHeaderSignatureWithoutAPayloadHashCoversOnlyAnEmptyBody() {
        Identifier identifier = identifier(NOW, KEY_ID, SECRET);
        SignableRequest empty = withoutPayloadHash("0");
        assertThat(identifier.identifyUpload(empty).principal()).isInstanceOf(Principal.AccessKey.class);
        assertRefused(() -> identifier.identifyUpload(withoutPayloadHash("10")), S3Error.INVALID_REQUEST);
    }

    // ------------------------------------------------------------ helpers ----

    /** A PUT signed in the header as the AWS SDKs sign one, declaring {@code payloadHash}. */
    static SignableRequest signed(String payloadHash) {
        List<Map.Entry<String, String>> extra = new ArrayList<>();
        if (payloadHash.startsWith("STREAMING-")) {
            extra.add(Map.entry("content-encoding", "aws-chunked"));
            extra.add(Map.entry("x-amz-decoded-content-length", "5"));
        } else {
            extra.add(Map.entry("content-length", "5"));
        }
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        headers.add(Map.entry("Host", HOST));
        headers.addAll(extra);
        headers.addAll(new RequestSigner("eu-west-1", "s3").sign("PUT", HOST, "/acct/product/key", "", extra, payloadHash,
                AwsCredentials.of(KEY_ID, SECRET), NOW));
        return new SignableRequest("PUT", "/acct/product/key", "", headers);
    }

    private static SignableRequest replaceSignature(SignableRequest request, String signature) {
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        for (Map.Entry<String, String> h : request.headers()) {
            String value = h.getValue();
            if (h.getKey().equalsIgnoreCase("authorization")) {
                value = value.substring(0, value.indexOf("Signature=") + 10) + signature;
            }
            headers.add(Map.entry(h.getKey(), value));
        }
        return new SignableRequest(request.method(), request.rawPath(), request.rawQuery(), headers);
    }

    private static SignableRequest presignedPut(List<Map.Entry<String, String>> headers) {
        String scope = SigV4.credentialScope(SigV4.scopeDate(NOW), "eu-west-1", "s3");
        String query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + UriEncoding.encode(KEY_ID + "/" + scope)
                + "&X-Amz-Date=" + SigV4.amzDate(NOW) + "&X-Amz-Expires=300&X-Amz-SignedHeaders=host";
        String payload = headers.stream().filter(h -> h.getKey().equalsIgnoreCase("x-amz-content-sha256"))
                .map(Map.Entry::getValue).findFirst().orElse(SigV4.UNSIGNED_PAYLOAD);
        String canonical = SigV4.canonicalRequest("PUT", "/acct/product/key", query, headers, List.of("host"), payload);
        String signature = SigV4.signature(SigV4.signingKey(SECRET, SigV4.scopeDate(NOW), "eu-west-1", "s3"),
                SigV4.stringToSign(NOW, "eu-west-1", "s3", canonical));
        return new SignableRequest("PUT", "/acct/product/key", query + "&X-Amz-Signature=" + signature, headers);
    }

    private static SignableRequest sigV2(List<Map.Entry<String, String>> extra) {
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        headers.add(Map.entry("Host", HOST));
        headers.add(Map.entry("Date", HttpDate.format(NOW)));
        headers.add(Map.entry("Content-Length", "5"));
        headers.addAll(extra);
        List<Map.Entry<String, String>> unsigned = new ArrayList<>(headers);
        unsigned.add(Map.entry("Authorization", "AWS " + KEY_ID + ":placeholder"));
        SignableRequest draft = new SignableRequest("PUT", "/acct/product/key", "", unsigned);
        SigV2Verifier verifier = new SigV2Verifier(InstantSource.fixed(NOW));
        SigV2Request parsed = verifier.parse(draft).orElseThrow();
        String signature = SigV2.signature(SECRET, verifier.stringToSign(draft, parsed));
        headers.add(Map.entry("Authorization", "AWS " + KEY_ID + ":" + signature));
        return new SignableRequest("PUT", "/acct/product/key", "", headers);
    }

    private static SignableRequest withoutPayloadHash(String contentLength) {
        List<Map.Entry<String, String>> headers = List.of(Map.entry("Host", HOST), Map.entry("Content-Length", contentLength),
                Map.entry("x-amz-date", SigV4.amzDate(NOW)));
        List<String> signedHeaders = List.of("host", "x-amz-date");
        String canonical = SigV4.canonicalRequest("PUT", "/acct/product/key", "", headers, signedHeaders, SigV4.EMPTY_SHA256);
        String signature = SigV4.signature(SigV4.signingKey(SECRET, SigV4.scopeDate(NOW), "eu-west-1", "s3"),
                SigV4.stringToSign(NOW, "eu-west-1", "s3", canonical));
        List<Map.Entry<String, String>> all = new ArrayList<>(headers);
        all.add(Map.entry("Authorization", SigV4.authorization(KEY_ID,
                SigV4.credentialScope(SigV4.scopeDate(NOW), "eu-west-1", "s3"), signedHeaders, signature)));
        return new SignableRequest("PUT", "/acct/product/key", "", all);
    }

    private static void assertRefused(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, S3Error error) {
        assertThatThrownBy(call).isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(error));
    }

    private static void docChunk(ByteArrayOutputStream out, int size, String signature) {
        out.writeBytes((Integer.toHexString(size) + ";chunk-signature=" + signature + "\r\n").getBytes(StandardCharsets.US_ASCII));
        byte[] data = new byte[size];
        Arrays.fill(data, (byte) 'a');
        out.writeBytes(data);
        out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
    }
}
