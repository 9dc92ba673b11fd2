package dev.sluice.sigv2;

import dev.sluice.s3.HttpDate;
import dev.sluice.s3.QueryString;
import dev.sluice.s3.QueryString.Parameter;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.sigv4.SignableRequest;
import dev.sluice.s3.UriEncoding;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.ResolverStyle;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks the AWS Signature Version 2 of a request, which S3 still accepts and which boto3
 * ({@code signature_version='s3'}), aws-cli v1's {@code s3 presign}, rclone ({@code v2_auth}) and
 * s3cmd ({@code signature_v2}) still produce. Like {@link dev.sluice.sigv4.SigV4Verifier} it works
 * in two steps: {@link #parse} reads the material and rejects anything malformed, the caller looks
 * up the secret of the access key id, {@link #verify} checks time and signature.
 *
 * <p>This exists because a SigV2 presigned URL used to be read as no signature at all: its
 * {@code AWSAccessKeyId}/{@code Signature}/{@code Expires} parameters meant nothing to the SigV4
 * parser, so the request was served as anonymous and a restricted product answered
 * {@code 404 NoSuchBucket}. The rule since: <b>a request that carries signature material is never
 * served as if it carried none</b>; only an access key id sluice does not know is (see
 * {@code docs/identity.md}).
 *
 * <p>Forms and the S3 errors for what is wrong with them:
 *
 * <ul>
 *   <li>Header: {@code Authorization: AWS <access key id>:<signature>}, dated by {@code x-amz-date}
 *       or else {@code Date}, which must be within {@link #MAX_SKEW} of now (403
 *       {@code RequestTimeTooSkewed}); neither, or one that is not a date: 403 {@code AccessDenied}.
 *       {@code AWS} without exactly one {@code :} between two non-empty parts, or more than one
 *       {@code Authorization} header: 400 {@code InvalidArgument}.
 *   <li>Presigned: {@code AWSAccessKeyId}, {@code Expires} (seconds since the epoch) and
 *       {@code Signature} in the query. Any of them (in any case) makes a request presigned; one
 *       missing or misspelt: 403 {@code AccessDenied}, as S3 answers; given twice or badly
 *       percent-encoded: 400 {@code InvalidArgument}; {@code Expires} not a number: 403
 *       {@code AccessDenied}; past: 403 {@code AccessDenied} "Request has expired". The
 *       {@code x-amz-*} query parameters (such as {@code x-amz-security-token}) are signed as if
 *       they were headers, which is how botocore moves them into the URL.
 *   <li>SigV2 together with another mechanism (an {@code Authorization} header and presigned
 *       parameters, or SigV2 and SigV4 presigned parameters): 400 {@code InvalidArgument}.
 *   <li>A signature other than the one computed: 403 {@code SignatureDoesNotMatch}.
 * </ul>
 *
 * <p>Time is checked before the signature, as for SigV4. Signatures are compared in constant
 * time. The verifier holds no secrets and no mutable state; one instance serves all requests.
 */
public final class SigV2Verifier {

    /** How far the time of a header-signed request may be from now, either way, as in S3. */
    public static final Duration MAX_SKEW = Duration.ofMinutes(15);

    /**
     * Where the resource of the string to sign begins: {@code /bucket/key} as sent. SigV2 always
     * signs the bucket as the first path segment, even when the client addressed the bucket by
     * host name ({@code bucket.example.com/key} signs {@code /bucket/key}).
     */
    @FunctionalInterface
    public interface ResourcePath {

        /**
         * Path-style addressing: the path as sent already starts with the bucket. With
         * virtual-host addressing the bucket comes from the {@code Host}
         * ({@code server.VirtualHostStyle.sigV2Resource}).
         */
        ResourcePath PATH_STYLE = SignableRequest::rawPath;

        /** The path, still percent-encoded as sent, with the bucket as its first segment. */
        String of(SignableRequest request);
    }

    private static final String SCHEME = "AWS";
    private static final String Q_ACCESS_KEY_ID = "AWSAccessKeyId";
    private static final String Q_SIGNATURE = "Signature";
    private static final String Q_EXPIRES = "Expires";
    private static final Set<String> QUERY_AUTH = Set.of(Q_ACCESS_KEY_ID, Q_SIGNATURE, Q_EXPIRES);
    /** SigV4's presigned parameters: any of them next to SigV2 material is a second mechanism. */
    private static final Set<String> SIGV4_QUERY_AUTH = Set.of("x-amz-algorithm", "x-amz-credential", "x-amz-signature");
    private static final String SECURITY_TOKEN = "x-amz-security-token";
    private static final String AMZ_PREFIX = "x-amz-";

    private static final String MALFORMED_HEADER =
            "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature";
    private static final String QUERY_PARAMETERS_REQUIRED =
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters";
    private static final String ONE_MECHANISM = "Only one auth mechanism allowed; only the X-Amz-Algorithm "
            + "query parameter, Signature query string parameter or the Authorization header should be specified";
    private static final String DATE_REQUIRED = "AWS authentication requires a valid Date or x-amz-date header";

    private static final Pattern EPOCH_SECONDS = Pattern.compile("[0-9]{1,12}");
    private static final Pattern AMZ_DATE = Pattern.compile("[0-9]{8}T[0-9]{6}Z");
    private static final DateTimeFormatter AMZ_DATE_FORMAT =
            DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmss'Z'", Locale.ROOT).withResolverStyle(ResolverStyle.STRICT);

    private final InstantSource clock;
    private final ResourcePath resourcePath;

    /** A verifier for path-style requests. */
    public SigV2Verifier(InstantSource clock) {
        this(clock, ResourcePath.PATH_STYLE);
    }

    public SigV2Verifier(InstantSource clock, ResourcePath resourcePath) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.resourcePath = Objects.requireNonNull(resourcePath, "resourcePath");
    }

    /**
     * Reads the SigV2 material of a request and checks its form.
     *
     * @return empty when the request carries no SigV2 material (no {@code Authorization: AWS …}
     *     header and none of {@code AWSAccessKeyId}, {@code Signature}, {@code Expires} in the
     *     query): it is then SigV4's to judge, signed or anonymous
     * @throws S3Exception 400 or 403 when the material is malformed or mixed with another mechanism
     */
    public Optional<SigV2Request> parse(SignableRequest request) {
        List<String> authorizations = values(request.headers(), "authorization");
        List<Parameter> query = QueryString.split(request.rawQuery());
        boolean header = !authorizations.isEmpty() && isSigV2Scheme(authorizations.getFirst());
        boolean presigned = query.stream().anyMatch(p -> QUERY_AUTH.stream().anyMatch(p.nameOrRaw()::equalsIgnoreCase));
        if (!header && !presigned) {
            return Optional.empty();
        }
        boolean sigV4Query = query.stream().anyMatch(p -> SIGV4_QUERY_AUTH.contains(p.nameOrRaw().toLowerCase(Locale.ROOT)));
        if ((presigned && !authorizations.isEmpty()) || sigV4Query) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, ONE_MECHANISM);
        }
        return Optional.of(presigned ? parseQuery(request, query) : parseHeader(request, authorizations));
    }

    /**
     * Checks the time of a parsed request and recomputes its signature with the secret.
     *
     * @param signed what {@link #parse} returned for {@code request}
     * @param secretAccessKey the secret of {@code signed.accessKeyId()}
     * @throws S3Exception 403 when the request is out of time or the signature does not match,
     *     400 when a signed sub-resource cannot be decoded
     */
    public void verify(SignableRequest request, SigV2Request signed, String secretAccessKey) {
        Objects.requireNonNull(secretAccessKey, "secretAccessKey");
        Instant now = clock.instant();
        if (signed.presigned()) {
            if (now.isAfter(signed.time())) {
                throw new S3Exception(S3Error.ACCESS_DENIED, "Request has expired");
            }
        } else if (Duration.between(signed.time(), now).abs().compareTo(MAX_SKEW) > 0) {
            throw new S3Exception(S3Error.REQUEST_TIME_TOO_SKEWED);
        }
        String expected = SigV2.signature(secretAccessKey, stringToSign(request, signed));
        if (!SigV2.constantTimeEquals(expected, signed.signature())) {
            throw new S3Exception(S3Error.SIGNATURE_DOES_NOT_MATCH);
        }
    }

    /** The string the client must have signed: what {@link #verify} computes the signature over. */
    public String stringToSign(SignableRequest request, SigV2Request signed) {
        List<Map.Entry<String, String>> amzHeaders = new ArrayList<>(request.headers());
        if (signed.presigned()) {
            for (Parameter p : QueryString.split(request.rawQuery())) {
                String name = p.nameOrRaw().toLowerCase(Locale.ROOT);
                if (name.startsWith(AMZ_PREFIX)) {
                    amzHeaders.add(Map.entry(name, decoded(p.rawValue())));
                }
            }
        }
        String resource;
        try {
            resource = SigV2.canonicalizedResource(resourcePath.of(request), request.rawQuery());
        } catch (IllegalArgumentException e) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT,
                    "A signed query parameter is not percent-encoded UTF-8", e);
        }
        return SigV2.stringToSign(request.method(), standardHeader(request, "content-md5"),
                standardHeader(request, "content-type"), signed.dateLine(), amzHeaders, resource);
    }

    private SigV2Request parseHeader(SignableRequest request, List<String> authorizations) {
        if (authorizations.size() > 1) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, MALFORMED_HEADER);
        }
        String credentials = authorizations.getFirst().strip().substring(SCHEME.length()).strip();
        int colon = credentials.indexOf(':');
        if (colon <= 0 || colon == credentials.length() - 1 || credentials.indexOf(':', colon + 1) >= 0
                || credentials.chars().anyMatch(c -> c <= 0x20 || c >= 0x7F)) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, MALFORMED_HEADER);
        }
        String accessKeyId = credentials.substring(0, colon);
        String signature = credentials.substring(colon + 1);

        List<String> amzDates = values(request.headers(), "x-amz-date");
        List<String> dates = values(request.headers(), "date");
        Instant time;
        String dateLine;
        if (!amzDates.isEmpty()) {
            // S3: with x-amz-date the Date header is ignored and its line signed empty.
            time = single(amzDates).flatMap(SigV2Verifier::parseAmzDate)
                    .orElseThrow(() -> new S3Exception(S3Error.ACCESS_DENIED, DATE_REQUIRED));
            dateLine = "";
        } else {
            time = single(dates).flatMap(SigV2Verifier::parseDate)
                    .orElseThrow(() -> new S3Exception(S3Error.ACCESS_DENIED, DATE_REQUIRED));
            dateLine = SigV2.headerValue(dates.getFirst());
        }
        return new SigV2Request(accessKeyId, signature, false, time, dateLine,
                securityToken(request, List.of()));
    }

    private SigV2Request parseQuery(SignableRequest request, List<Parameter> query) {
        String accessKeyId = required(query, Q_ACCESS_KEY_ID);
        String signature = required(query, Q_SIGNATURE);
        String expires = required(query, Q_EXPIRES);
        if (!EPOCH_SECONDS.matcher(expires).matches()) {
            throw new S3Exception(S3Error.ACCESS_DENIED, "Invalid date (should be seconds since epoch)");
        }
        return new SigV2Request(accessKeyId, signature, true, Instant.ofEpochSecond(Long.parseLong(expires)),
                expires, securityToken(request, query));
    }

    /** {@code Authorization: AWS id:sig}; {@code AWS4-HMAC-SHA256 …} and other schemes are not SigV2. */
    private static boolean isSigV2Scheme(String authorization) {
        String value = authorization.strip();
        return value.equals(SCHEME) || value.startsWith(SCHEME + " ") || value.startsWith(SCHEME + "\t");
    }

    /** Exactly one decoded, non-empty value, spelt exactly so. */
    private static String required(List<Parameter> query, String name) {
        String found = null;
        for (Parameter p : query) {
            if (!p.nameOrRaw().equalsIgnoreCase(name)) {
                continue;
            }
            if (!p.nameOrRaw().equals(name)) {
                throw new S3Exception(S3Error.ACCESS_DENIED, QUERY_PARAMETERS_REQUIRED);
            }
            if (found != null) {
                throw new S3Exception(S3Error.INVALID_ARGUMENT, name + " must appear once");
            }
            found = decoded(p.rawValue());
        }
        if (found == null || found.isEmpty()) {
            throw new S3Exception(S3Error.ACCESS_DENIED, QUERY_PARAMETERS_REQUIRED);
        }
        return found;
    }

    /** The header or the query parameter (any case); both at once only if they agree. */
    private static Optional<String> securityToken(SignableRequest request, List<Parameter> query) {
        List<String> candidates = new ArrayList<>(values(request.headers(), SECURITY_TOKEN).stream()
                .map(String::strip).toList());
        for (Parameter p : query) {
            if (p.nameOrRaw().equalsIgnoreCase(SECURITY_TOKEN)) {
                candidates.add(decoded(p.rawValue()));
            }
        }
        if (candidates.stream().distinct().count() > 1) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "x-amz-security-token must be given once");
        }
        return candidates.stream().findFirst();
    }

    /** Content-MD5 or Content-Type as signed: trimmed, repeats joined with {@code ,}. */
    private static String standardHeader(SignableRequest request, String name) {
        return String.join(",", values(request.headers(), name).stream().map(SigV2::headerValue).toList());
    }

    private static Optional<String> single(List<String> values) {
        return values.size() == 1 ? Optional.of(values.getFirst()) : Optional.empty();
    }

    /** {@code x-amz-date}: an HTTP date as S3 documents it, or the ISO 8601 basic form SigV4 uses. */
    private static Optional<Instant> parseAmzDate(String value) {
        String text = value.strip();
        if (AMZ_DATE.matcher(text).matches()) {
            try {
                return Optional.of(LocalDateTime.parse(text, AMZ_DATE_FORMAT).toInstant(ZoneOffset.UTC));
            } catch (DateTimeException e) {
                return Optional.empty();
            }
        }
        return parseDate(text);
    }

    /**
     * An HTTP date, also with the zone spelt {@code UTC}: Go's {@code time.RFC1123} writes that
     * for a UTC time, rclone's SigV2 signer sends it in {@code Date}, and S3 accepts it.
     */
    private static Optional<Instant> parseDate(String value) {
        String text = value.strip();
        if (text.endsWith(" UTC")) {
            text = text.substring(0, text.length() - "UTC".length()) + "GMT";
        }
        return HttpDate.parse(text);
    }

    private static List<String> values(List<Map.Entry<String, String>> headers, String name) {
        List<String> values = new ArrayList<>(1);
        for (Map.Entry<String, String> header : headers) {
            if (header.getKey().equalsIgnoreCase(name)) {
                values.add(header.getValue());
            }
        }
        return values;
    }

    /**
     * A query value percent-decoded; {@code +} stays {@code +}, as botocore signs it (a Base64
     * signature sent with a literal {@code +} is also read as meant).
     */
    private static String decoded(String raw) {
        try {
            return UriEncoding.decode(raw);
        } catch (IllegalArgumentException e) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "An authentication query parameter is badly percent-encoded");
        }
    }
}
