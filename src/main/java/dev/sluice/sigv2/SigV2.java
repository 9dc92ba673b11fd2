package dev.sluice.sigv2;

import dev.sluice.s3.QueryString;
import dev.sluice.s3.UriEncoding;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.StringJoiner;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The steps of AWS Signature Version 2 for S3 ("REST authentication") as pure functions:
 *
 * <pre>
 * StringToSign = HTTP-Verb \n Content-MD5 \n Content-Type \n Date \n
 *                CanonicalizedAmzHeaders CanonicalizedResource
 * Signature    = Base64(HMAC-SHA1(secret, UTF-8(StringToSign)))
 * </pre>
 *
 * <p>Every rule here is the one botocore's {@code HmacV1Auth} signs with (checked by the vectors
 * under {@code src/test/resources/sigv2/}), which is what S3 accepts: the sub-resources in the
 * resource are matched by their name as sent, their values percent-decoded and nothing else
 * ({@code +} stays {@code +}), sorted by name only, a bare flag stays bare ({@code ?acl}) and
 * {@code acl=} keeps its {@code =}. See {@code docs/identity.md}.
 */
public final class SigV2 {

    /**
     * The query parameters the resource includes: botocore's {@code HmacV1Auth.QSAOfInterest},
     * a superset of the list in the S3 documentation ("Constructing the CanonicalizedResource
     * element") and of rclone's and s3cmd's. Any other parameter ({@code list-type},
     * {@code prefix}, {@code x-id}) is not signed.
     */
    public static final Set<String> SIGNED_SUBRESOURCES = Set.of(
            "accelerate", "acl", "analytics", "cors", "defaultObjectAcl", "delete", "inventory", "lifecycle",
            "location", "logging", "metrics", "notification", "object-lock", "partNumber", "policy",
            "replication", "requestPayment", "response-cache-control", "response-content-disposition",
            "response-content-encoding", "response-content-language", "response-content-type",
            "response-expires", "restore", "select", "select-type", "storageClass", "tagging", "torrent",
            "uploadId", "uploads", "versionId", "versioning", "versions", "website");

    private static final String AMZ_PREFIX = "x-amz-";
    private static final String HMAC_SHA1 = "HmacSHA1";

    private SigV2() {
    }

    /**
     * The string to sign, from its parts.
     *
     * @param date the {@code Date} header, empty when {@code x-amz-date} is sent (it is then
     *     signed among the amz headers), or the {@code Expires} parameter of a presigned URL
     * @param amzHeaders every {@code x-amz-*} header (and, for a presigned URL, every
     *     {@code x-amz-*} query parameter, decoded) in the order sent; other names are ignored
     * @param resource what {@link #canonicalizedResource} returned
     */
    public static String stringToSign(String method, String contentMd5, String contentType, String date,
            List<Map.Entry<String, String>> amzHeaders, String resource) {
        return method + "\n" + contentMd5 + "\n" + contentType + "\n" + date + "\n"
                + canonicalizedAmzHeaders(amzHeaders) + resource;
    }

    /**
     * {@code name:value\n} for each {@code x-amz-*} header: names lowercased and sorted, the
     * values of a repeated name joined with {@code ,} in the order sent, each value trimmed and a
     * folded value (a line break with the whitespace around it) unfolded to one space.
     */
    public static String canonicalizedAmzHeaders(List<Map.Entry<String, String>> headers) {
        TreeMap<String, List<String>> byName = new TreeMap<>();
        for (Map.Entry<String, String> header : headers) {
            String name = header.getKey().toLowerCase(Locale.ROOT);
            if (name.startsWith(AMZ_PREFIX)) {
                byName.computeIfAbsent(name, n -> new ArrayList<>()).add(headerValue(header.getValue()));
            }
        }
        StringBuilder out = new StringBuilder();
        byName.forEach((name, values) -> out.append(name).append(':').append(String.join(",", values)).append('\n'));
        return out.toString();
    }

    /**
     * A header value as signed: trimmed, and each line break with the whitespace around it
     * (an obsolete folded line) replaced by one space. Inner runs of spaces are kept, as
     * botocore keeps them.
     */
    static String headerValue(String value) {
        String trimmed = value.strip();
        if (trimmed.indexOf('\n') < 0 && trimmed.indexOf('\r') < 0) {
            return trimmed;
        }
        return trimmed.replaceAll("[ \\t]*[\\r\\n]+[ \\t]*", " ");
    }

    /**
     * The resource: the path as sent (for path-style requests it begins with the bucket) and, after
     * {@code ?}, the {@link #SIGNED_SUBRESOURCES} of the query as sent, sorted by name (a stable
     * sort: repeats keep their order), each {@code name} or {@code name=decoded value}.
     *
     * @param resourcePath the path with the bucket first, still percent-encoded as sent
     * @param rawQuery the query as sent, without {@code ?}
     * @throws IllegalArgumentException when a signed sub-resource's value has a malformed
     *     percent-escape or is not UTF-8
     */
    public static String canonicalizedResource(String resourcePath, String rawQuery) {
        record SubResource(String name, String text) {
        }
        List<SubResource> signed = new ArrayList<>();
        for (QueryString.Parameter p : QueryString.split(rawQuery)) {
            String name = p.rawName();
            if (SIGNED_SUBRESOURCES.contains(name)) {
                signed.add(new SubResource(name, p.hasValue() ? name + "=" + UriEncoding.decode(p.rawValue()) : name));
            }
        }
        if (signed.isEmpty()) {
            return resourcePath;
        }
        signed.sort(Comparator.comparing(SubResource::name));
        StringJoiner joined = new StringJoiner("&", resourcePath + "?", "");
        signed.forEach(s -> joined.add(s.text()));
        return joined.toString();
    }

    /** Base64 of the HMAC-SHA1 of the string to sign (UTF-8) under the secret (UTF-8). */
    public static String signature(String secretAccessKey, String stringToSign) {
        Objects.requireNonNull(secretAccessKey, "secretAccessKey");
        try {
            // A Mac instance is stateful and not thread-safe; a fresh one per use is cheap.
            Mac mac = Mac.getInstance(HMAC_SHA1);
            mac.init(new SecretKeySpec(secretAccessKey.getBytes(StandardCharsets.UTF_8), HMAC_SHA1));
            return Base64.getEncoder().encodeToString(mac.doFinal(stringToSign.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every Java platform must provide HmacSHA1", e);
        }
    }

    /** Compares two signatures in time independent of where they first differ. */
    public static boolean constantTimeEquals(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }
}
