package dev.sluice.sigv4;

import dev.sluice.s3.UriEncoding;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Signs requests sluice sends to an S3 backend: given what the request will carry, computes the
 * headers to add so the backend accepts it. One signer per backend region; it holds no secrets,
 * the credentials are passed per call so they can rotate.
 */
public final class RequestSigner {

    /** Headers this signer writes itself; a caller passing them too would sign two values for one. */
    private static final Set<String> SIGNER_OWNED = Set.of(
            "host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "authorization");

    private final String region;
    private final String service;

    /**
     * @param region the backend's region, e.g. {@code us-east-1} (most S3-compatible servers
     *     accept any region they are configured with)
     * @param service the signing service name; {@code s3} for S3 backends
     */
    public RequestSigner(String region, String service) {
        this.region = requireToken(region, "region");
        this.service = requireToken(service, "service");
    }

    /**
     * Computes the headers to add to an outbound request.
     *
     * @param host the {@code Host} header exactly as it will be sent, port included when it is not
     *     the scheme's default ({@code 127.0.0.1:9000}, {@code s3.us-east-1.amazonaws.com})
     * @param canonicalUri the path exactly as it will be sent, already percent-encoded
     *     (see {@link UriEncoding#encodePath})
     * @param rawQuery the query string as it will be sent, without {@code ?}; may be empty
     * @param extraHeaders other headers the request carries that should be signed ({@code range},
     *     {@code if-match}, ...); names in any case. Must not include the headers this method adds,
     *     nor {@code host}
     * @param payloadHash hex SHA-256 of the body ({@link SigV4#EMPTY_SHA256} for none) or
     *     {@link SigV4#UNSIGNED_PAYLOAD}
     * @return the headers to add, in this order: {@code x-amz-date}, {@code x-amz-content-sha256},
     *     {@code x-amz-security-token} (only with a session token), {@code authorization}
     * @throws IllegalArgumentException if {@code extraHeaders} contains a header this signer owns
     */
    public List<Map.Entry<String, String>> sign(String method, String host, String canonicalUri, String rawQuery,
            List<Map.Entry<String, String>> extraHeaders, String payloadHash, AwsCredentials credentials,
            Instant now) {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(rawQuery, "rawQuery");
        Objects.requireNonNull(credentials, "credentials");
        String amzDate = SigV4.amzDate(now);

        List<Map.Entry<String, String>> added = new ArrayList<>(4);
        added.add(Map.entry("x-amz-date", amzDate));
        // S3 requires this header on every SigV4 request, and signing it binds the body hash.
        added.add(Map.entry("x-amz-content-sha256", payloadHash));
        // Signed rather than appended after signing (the suite's post-sts-header-after style), as
        // the AWS SDKs do for S3: then a token cannot be swapped on an intercepted request.
        credentials.sessionToken().ifPresent(token -> added.add(Map.entry("x-amz-security-token", token)));

        List<Map.Entry<String, String>> signed = new ArrayList<>(extraHeaders.size() + 4);
        signed.add(Map.entry("host", host));
        List<String> signedNames = new ArrayList<>(extraHeaders.size() + 4);
        signedNames.add("host");
        for (Map.Entry<String, String> header : extraHeaders) {
            String name = header.getKey().toLowerCase(Locale.ROOT);
            if (SIGNER_OWNED.contains(name)) {
                throw new IllegalArgumentException("header '" + name + "' is set by the signer; do not pass it");
            }
            signed.add(header);
            signedNames.add(name);
        }
        for (Map.Entry<String, String> header : added) {
            signed.add(header);
            signedNames.add(header.getKey());
        }

        String canonicalRequest =
                SigV4.canonicalRequest(method, canonicalUri, rawQuery, signed, signedNames, payloadHash);
        String stringToSign = SigV4.stringToSign(now, region, service, canonicalRequest);
        byte[] key = SigV4.signingKey(credentials.secretAccessKey(), SigV4.scopeDate(now), region, service);
        String authorization = SigV4.authorization(
                credentials.accessKeyId(),
                SigV4.credentialScope(SigV4.scopeDate(now), region, service),
                signedNames,
                SigV4.signature(key, stringToSign));
        added.add(Map.entry("authorization", authorization));
        return List.copyOf(added);
    }

    /** Region and service are written into the slash-separated credential scope. */
    private static String requireToken(String value, String what) {
        Objects.requireNonNull(value, what);
        if (value.isBlank() || value.contains("/") || value.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException(what + " must be non-blank without '/' or whitespace: '" + value + "'");
        }
        return value;
    }
}
