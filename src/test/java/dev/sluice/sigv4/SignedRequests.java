package dev.sluice.sigv4;

import dev.sluice.s3.UriEncoding;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Correctly signed inbound requests for the verifier tests, made the way clients make them:
 * header authentication through {@link RequestSigner} (as the AWS SDKs sign for S3), presigned
 * URLs by building the canonical request over the query without the signature and appending
 * {@code X-Amz-Signature} last.
 */
final class SignedRequests {

    static final String ACCESS_KEY_ID = "AKIDEXAMPLE";
    static final String SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    static final String HOST = "bucket.sluice.example:8443";
    static final String REGION = "us-east-1";
    static final String TOKEN = "FQoGZXIvYXdzEXAMPLE//token+with/slashes==";

    private SignedRequests() {
    }

    /** Header authentication, {@code host}, {@code x-amz-date}, {@code x-amz-content-sha256} and extras signed. */
    static SignableRequest headerSigned(String method, String path, String rawQuery,
            List<Map.Entry<String, String>> extraHeaders, String payloadHash, AwsCredentials credentials,
            String region, String service, Instant time) {
        List<Map.Entry<String, String>> added = new RequestSigner(region, service).sign(method, HOST, path, rawQuery,
                extraHeaders, payloadHash, credentials, time);
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        headers.add(Map.entry("Host", HOST));
        headers.addAll(extraHeaders);
        headers.addAll(added);
        return new SignableRequest(method, path, rawQuery, headers);
    }

    static SignableRequest headerSigned(String method, String path, String rawQuery, String payloadHash, Instant time) {
        return headerSigned(method, path, rawQuery, List.of(), payloadHash, AwsCredentials.of(ACCESS_KEY_ID, SECRET),
                REGION, "s3", time);
    }

    /**
     * A presigned URL signing only {@code host}, with {@code UNSIGNED-PAYLOAD}.
     *
     * @param rawQuery the request's own query (may be empty); the authentication parameters follow
     */
    static SignableRequest presigned(String method, String path, String rawQuery, String host, String region,
            String service, Instant time, String expires, Optional<String> token) {
        String scope = SigV4.credentialScope(SigV4.scopeDate(time), region, service);
        StringBuilder query = new StringBuilder(rawQuery);
        if (!rawQuery.isEmpty()) {
            query.append('&');
        }
        query.append("X-Amz-Algorithm=AWS4-HMAC-SHA256")
                .append("&X-Amz-Credential=").append(UriEncoding.encode(ACCESS_KEY_ID + "/" + scope))
                .append("&X-Amz-Date=").append(SigV4.amzDate(time))
                .append("&X-Amz-Expires=").append(expires);
        token.ifPresent(t -> query.append("&X-Amz-Security-Token=").append(UriEncoding.encode(t)));
        query.append("&X-Amz-SignedHeaders=host");
        List<Map.Entry<String, String>> headers = List.of(Map.entry("Host", host));
        String canonicalRequest = SigV4.canonicalRequest(method, path, query.toString(), headers, List.of("host"),
                SigV4.UNSIGNED_PAYLOAD);
        String signature = SigV4.signature(SigV4.signingKey(SECRET, SigV4.scopeDate(time), region, service),
                SigV4.stringToSign(time, region, service, canonicalRequest));
        query.append("&X-Amz-Signature=").append(signature);
        return new SignableRequest(method, path, query.toString(), headers);
    }

    static SignableRequest presigned(Instant time, String expires) {
        return presigned("GET", "/bucket/key.txt", "", HOST, REGION, "s3", time, expires, Optional.empty());
    }

    static SignableRequest withHeader(SignableRequest r, String name, String value) {
        List<Map.Entry<String, String>> headers = new ArrayList<>(r.headers());
        headers.add(Map.entry(name, value));
        return new SignableRequest(r.method(), r.rawPath(), r.rawQuery(), headers);
    }

    /** Replaces the first header of that name (any case), keeping its place. */
    static SignableRequest replacingHeader(SignableRequest r, String name, String value) {
        List<Map.Entry<String, String>> headers = new ArrayList<>(r.headers());
        for (int i = 0; i < headers.size(); i++) {
            if (headers.get(i).getKey().equalsIgnoreCase(name)) {
                headers.set(i, Map.entry(headers.get(i).getKey(), value));
                return new SignableRequest(r.method(), r.rawPath(), r.rawQuery(), headers);
            }
        }
        throw new IllegalArgumentException("no header " + name);
    }

    static SignableRequest withoutHeader(SignableRequest r, String name) {
        return new SignableRequest(r.method(), r.rawPath(), r.rawQuery(),
                r.headers().stream().filter(h -> !h.getKey().equalsIgnoreCase(name)).toList());
    }

    static SignableRequest withQuery(SignableRequest r, String rawQuery) {
        return new SignableRequest(r.method(), r.rawPath(), rawQuery, r.headers());
    }
}
