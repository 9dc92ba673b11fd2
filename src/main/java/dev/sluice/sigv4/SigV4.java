package dev.sluice.sigv4;

import dev.sluice.s3.QueryString;
import dev.sluice.s3.UriEncoding;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.StringJoiner;
import java.util.TreeSet;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The steps of AWS Signature Version 4 as pure functions: canonical request, string to sign,
 * signing key and signature. Signing and verifying both build on these, so that a request
 * sluice signs and a request sluice checks are canonicalised by the same code.
 *
 * <p>Follows the S3 variant of the algorithm: the canonical URI is taken as sent, never
 * normalised or encoded a second time.
 */
public final class SigV4 {

    public static final String ALGORITHM = "AWS4-HMAC-SHA256";
    /** Payload hash value for requests whose body is not covered by the signature. */
    public static final String UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
    /**
     * Payload hash of an aws-chunked body whose chunks are signed one by one, the request's own
     * signature seeding the chain ({@link ChunkSigning}).
     */
    public static final String STREAMING_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
    /** As {@link #STREAMING_PAYLOAD}, with trailing headers (a checksum) signed after the last chunk. */
    public static final String STREAMING_PAYLOAD_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
    /** Payload hash of an aws-chunked body without chunk signatures, with trailing headers. */
    public static final String STREAMING_UNSIGNED_PAYLOAD_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
    /** SHA-256 of the empty byte string: the payload hash of a request without a body. */
    public static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private static final String TERMINATOR = "aws4_request";
    private static final String HMAC_SHA256 = "HmacSHA256";
    private static final DateTimeFormatter AMZ_DATE =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter SCOPE_DATE = DateTimeFormatter.BASIC_ISO_DATE;
    private static final HexFormat HEX = HexFormat.of();

    private SigV4() {
    }

    /**
     * The canonical request: method, URI, query, headers, signed header names and payload hash,
     * one per line.
     *
     * @param canonicalUri the path exactly as on the wire, already percent-encoded; S3 neither
     *     normalises nor re-encodes it. An empty path stands for {@code /}.
     * @param rawQuery the query string as on the wire, without {@code ?}; may be empty
     * @param headers every header of the request in wire order; names in any case, repeats allowed
     * @param signedHeaders the (lowercase) names of the headers to sign; each must be present in
     *     {@code headers}
     * @param payloadHash hex SHA-256 of the body, or {@link #UNSIGNED_PAYLOAD}
     * @throws IllegalArgumentException if a signed header is missing, the query holds a malformed
     *     percent-escape, or a line-structured field contains a line break
     */
    public static String canonicalRequest(String method, String canonicalUri, String rawQuery,
            List<Map.Entry<String, String>> headers, List<String> signedHeaders, String payloadHash) {
        // Each of these fills exactly one line; a line break inside would let one request pose as
        // another with different lines, so refuse rather than sign something ambiguous.
        requireSingleLine(method, "method");
        requireSingleLine(canonicalUri, "canonical URI");
        requireSingleLine(payloadHash, "payload hash");

        List<String> names = signedHeaderNames(signedHeaders);
        Map<String, String> values = canonicalHeaderValues(headers);
        StringBuilder out = new StringBuilder(256);
        out.append(method).append('\n');
        out.append(canonicalUri.isEmpty() ? "/" : canonicalUri).append('\n');
        out.append(canonicalQueryString(rawQuery)).append('\n');
        for (String name : names) {
            String value = values.get(name);
            if (value == null) {
                throw new IllegalArgumentException("signed header '" + name + "' is not in the request");
            }
            out.append(name).append(':').append(value).append('\n');
        }
        out.append('\n');
        out.append(String.join(";", names)).append('\n');
        out.append(payloadHash);
        return out.toString();
    }

    /**
     * The canonical query string: each parameter decoded and re-encoded with
     * {@link UriEncoding#encode}, sorted by name and then value. Parameters are split on the first
     * {@code =}; a bare flag such as {@code ?acl} gets an empty value ({@code acl=}). Empty
     * segments ({@code a=1&&b=2}, a trailing {@code &}) carry no parameter and are dropped.
     *
     * <p>Re-encoding makes equivalent spellings ({@code %7E} and {@code ~}, {@code %2b} and
     * {@code %2B}) sign alike; a literal {@code +} is a plus sign and becomes {@code %2B}.
     *
     * @throws IllegalArgumentException on a malformed percent-escape or invalid UTF-8
     */
    public static String canonicalQueryString(String rawQuery) {
        if (rawQuery.isEmpty()) {
            return "";
        }
        record Parameter(String name, String value) {
        }
        List<Parameter> parameters = new ArrayList<>();
        for (QueryString.Parameter p : QueryString.split(rawQuery)) {
            parameters.add(new Parameter(
                    UriEncoding.encode(UriEncoding.decode(p.rawName())),
                    UriEncoding.encode(UriEncoding.decode(p.rawValue()))));
        }
        // Encoded strings are pure ASCII, so String order is the byte order the spec asks for.
        parameters.sort(Comparator.comparing(Parameter::name).thenComparing(Parameter::value));
        StringJoiner joined = new StringJoiner("&");
        for (Parameter p : parameters) {
            joined.add(p.name() + "=" + p.value());
        }
        return joined.toString();
    }

    /** {@code <yyyyMMdd>/<region>/<service>/aws4_request}: the scope a signing key is valid for. */
    public static String credentialScope(LocalDate date, String region, String service) {
        return date.format(SCOPE_DATE) + "/" + region + "/" + service + "/" + TERMINATOR;
    }

    /** The string to sign: algorithm, request time, credential scope and the hash of the canonical request. */
    public static String stringToSign(Instant requestTime, String region, String service, String canonicalRequest) {
        return ALGORITHM + "\n"
                + amzDate(requestTime) + "\n"
                + credentialScope(scopeDate(requestTime), region, service) + "\n"
                + sha256Hex(canonicalRequest.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The key derived from the secret for one day, region and service. Deriving it costs four
     * HMACs, cheap enough to do per request; it is also what a verifier would cache per day.
     */
    public static byte[] signingKey(String secretAccessKey, LocalDate date, String region, String service) {
        byte[] key = ("AWS4" + secretAccessKey).getBytes(StandardCharsets.UTF_8);
        key = hmacSha256(key, date.format(SCOPE_DATE));
        key = hmacSha256(key, region);
        key = hmacSha256(key, service);
        return hmacSha256(key, TERMINATOR);
    }

    /** The signature: lowercase hex HMAC-SHA256 of the string to sign under the signing key. */
    public static String signature(byte[] signingKey, String stringToSign) {
        return HEX.formatHex(hmacSha256(signingKey, stringToSign));
    }

    /**
     * The {@code Authorization} header value, in the layout the AWS test suite and SDKs use
     * ({@code ", "} between the three parts).
     */
    public static String authorization(String accessKeyId, String credentialScope, List<String> signedHeaders,
            String signature) {
        return ALGORITHM
                + " Credential=" + accessKeyId + "/" + credentialScope
                + ", SignedHeaders=" + String.join(";", signedHeaderNames(signedHeaders))
                + ", Signature=" + signature;
    }

    /** Lowercase hex SHA-256. */
    public static String sha256Hex(byte[] data) {
        try {
            return HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform must provide SHA-256", e);
        }
    }

    /** The {@code x-amz-date} form of an instant, in UTC to the second: {@code 20150830T123600Z}. */
    public static String amzDate(Instant t) {
        return AMZ_DATE.format(t);
    }

    /** The UTC calendar day of an instant, which is the day its credential scope names. */
    public static LocalDate scopeDate(Instant t) {
        return LocalDate.ofInstant(t, ZoneOffset.UTC);
    }

    /**
     * Compares two signatures in time independent of where they first differ, so a verifier
     * does not tell an attacker how many leading characters of a forged signature were right.
     */
    public static boolean constantTimeEquals(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    /** Signed header names as the spec lists them: lowercase, sorted, each once. */
    private static List<String> signedHeaderNames(List<String> signedHeaders) {
        TreeSet<String> names = new TreeSet<>();
        for (String name : signedHeaders) {
            names.add(name.toLowerCase(Locale.ROOT));
        }
        return List.copyOf(names);
    }

    /**
     * Lowercase name to canonical value. Each occurrence's value is trimmed and its whitespace
     * runs collapsed; repeated headers are joined with {@code ,} in wire order (the order is
     * significant, so it is never sorted).
     */
    private static Map<String, String> canonicalHeaderValues(List<Map.Entry<String, String>> headers) {
        Map<String, String> values = new LinkedHashMap<>();
        for (Map.Entry<String, String> header : headers) {
            String name = header.getKey().toLowerCase(Locale.ROOT);
            String value = collapseWhitespace(header.getValue());
            values.merge(name, value, (earlier, later) -> earlier + "," + later);
        }
        return values;
    }

    /**
     * Trims and turns every run of whitespace into one space. Tabs and line breaks count as
     * whitespace too (as in the AWS SDKs), which also keeps a folded value from adding lines to
     * the canonical request.
     */
    private static String collapseWhitespace(String value) {
        StringBuilder out = new StringBuilder(value.length());
        boolean pendingSpace = false;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\u000B' || c == '\f') {
                pendingSpace = out.length() > 0;
            } else {
                if (pendingSpace) {
                    out.append(' ');
                    pendingSpace = false;
                }
                out.append(c);
            }
        }
        return out.toString();
    }

    private static void requireSingleLine(String field, String what) {
        Objects.requireNonNull(field, what);
        if (field.indexOf('\n') >= 0 || field.indexOf('\r') >= 0) {
            throw new IllegalArgumentException(what + " contains a line break");
        }
    }

    private static byte[] hmacSha256(byte[] key, String data) {
        try {
            // A Mac instance is stateful and not thread-safe; a fresh one per use is cheap.
            Mac mac = Mac.getInstance(HMAC_SHA256);
            mac.init(new SecretKeySpec(key, HMAC_SHA256));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every Java platform must provide HmacSHA256", e);
        }
    }
}
