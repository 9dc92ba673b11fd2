package dev.sluice.sigv4;

import dev.sluice.s3.HttpDate;
import dev.sluice.s3.QueryString;
import dev.sluice.s3.QueryString.Parameter;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.ResolverStyle;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;
import java.util.regex.Pattern;

/**
 * Checks the AWS Signature Version 4 of a request a client sent to sluice, in two steps:
 * {@link #parse} reads the signature material from the {@code Authorization} header or from the
 * query string of a presigned URL and rejects anything malformed; the caller then looks up the
 * secret of the access key id and {@link #verify} recomputes the signature over the request as it
 * arrived.
 *
 * <p>Rules, each with the S3 error a client sees when it is broken:
 *
 * <ul>
 *   <li>Malformed material (another algorithm such as SigV2's {@code AWS AKID:sig}, a missing or
 *       repeated part, a credential other than {@code AKID/yyyyMMdd/region/service/aws4_request},
 *       a service other than the configured one, a scope date other than the UTC day of the request
 *       time, a bad date, a signature that is not 64 lowercase hex digits, signed headers that are
 *       empty, not lowercase-sorted-unique, without {@code host}, or naming a header the request
 *       does not carry): 400 {@code AuthorizationHeaderMalformed} for header authentication, 400
 *       {@code AuthorizationQueryParametersError} for a presigned URL.
 *   <li>Both mechanisms on one request: 400 {@code InvalidArgument}.
 *   <li>Header authentication dated more than {@link #MAX_SKEW} from now, either way: 403
 *       {@code RequestTimeTooSkewed}.
 *   <li>A presigned URL past {@code X-Amz-Date + X-Amz-Expires} (at most {@link
 *       #MAX_PRESIGNED_EXPIRY}): 403 {@code AccessDenied} "Request has expired"; dated more than
 *       {@link #MAX_SKEW} in the future: 403 {@code AccessDenied} "Request is not yet valid".
 *   <li>A signature other than the one computed: 403 {@code SignatureDoesNotMatch}.
 * </ul>
 *
 * <p><b>Any region is accepted.</b> Clients are configured with whatever region their tooling
 * wants ({@code us-east-1}, {@code auto}, a made-up name) and sluice is not regional; the region
 * only has to be the one the client signed with, which the signature itself proves.
 *
 * <p>The request is verified as it arrived: the raw path (S3 never normalises it), the raw query
 * (for a presigned URL with only the {@code X-Amz-Signature} parameter cut out of the text, so
 * every other byte stays as sent), every header. Time is checked before the signature so that a
 * stale request is reported as stale even when its signature is also wrong. Signatures are
 * compared in constant time. The signing key is derived per request (four HMACs, a few
 * microseconds); caching it per secret and day is an optimisation left for when a profile asks.
 *
 * <p>The verifier holds no secrets and no mutable state; one instance serves all requests.
 */
public final class SigV4Verifier {

    /** How far the time of a header-signed request may be from now, either way, as in S3. */
    public static final Duration MAX_SKEW = Duration.ofMinutes(15);
    /** The longest validity a presigned URL may ask for, as in S3: seven days. */
    public static final Duration MAX_PRESIGNED_EXPIRY = Duration.ofSeconds(604_800);

    private static final String CREDENTIAL = "Credential";
    private static final String SIGNED_HEADERS = "SignedHeaders";
    private static final String SIGNATURE = "Signature";
    private static final String TERMINATOR = "aws4_request";

    private static final String Q_ALGORITHM = "X-Amz-Algorithm";
    private static final String Q_CREDENTIAL = "X-Amz-Credential";
    private static final String Q_DATE = "X-Amz-Date";
    private static final String Q_EXPIRES = "X-Amz-Expires";
    private static final String Q_SIGNED_HEADERS = "X-Amz-SignedHeaders";
    private static final String Q_SIGNATURE = "X-Amz-Signature";
    private static final String Q_SECURITY_TOKEN = "X-Amz-Security-Token";
    /** Any of these makes a request presigned; the rest are only meaningful alongside them. */
    private static final Set<String> QUERY_AUTH_MARKERS = Set.of(Q_ALGORITHM, Q_CREDENTIAL, Q_SIGNATURE);

    private static final String STREAMING_PREFIX = "STREAMING-";

    private static final Pattern AMZ_DATE = Pattern.compile("[0-9]{8}T[0-9]{6}Z");
    private static final Pattern SCOPE_DATE = Pattern.compile("[0-9]{8}");
    private static final Pattern SIGNATURE_HEX = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-fA-F]{64}");
    private static final Pattern EXPIRES = Pattern.compile("[0-9]{1,7}");
    private static final DateTimeFormatter AMZ_DATE_FORMAT =
            DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmss'Z'", Locale.ROOT).withResolverStyle(ResolverStyle.STRICT);

    private final InstantSource clock;
    private final String service;

    /** A verifier for S3 requests: the credential scope must name service {@code s3}. */
    public SigV4Verifier(InstantSource clock) {
        this(clock, "s3");
    }

    /**
     * @param service the service the credential scope must name; {@code s3} for S3 clients (the
     *     AWS test suite signs for {@code service})
     */
    public SigV4Verifier(InstantSource clock, String service) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.service = Objects.requireNonNull(service, "service");
    }

    /**
     * Reads the SigV4 material of a request and checks its form.
     *
     * @return empty when the request carries no SigV4 material at all (no {@code Authorization}
     *     header and none of {@code X-Amz-Algorithm}, {@code X-Amz-Credential},
     *     {@code X-Amz-Signature} in the query): an anonymous request
     * @throws S3Exception 400 when the material is malformed or both mechanisms are used
     */
    public Optional<SignedRequest> parse(SignableRequest request) {
        List<String> authorizations = request.headerValues("authorization");
        List<Parameter> query = QueryString.split(request.rawQuery());
        boolean presigned = query.stream().anyMatch(p -> QUERY_AUTH_MARKERS.stream().anyMatch(p.nameOrRaw()::equalsIgnoreCase));
        if (!authorizations.isEmpty() && presigned) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "Only one auth mechanism allowed; only the "
                    + "X-Amz-Algorithm query parameter or the Authorization header should be specified");
        }
        if (presigned) {
            return Optional.of(parseQueryAuth(request, query));
        }
        if (!authorizations.isEmpty()) {
            return Optional.of(parseHeaderAuth(request, authorizations, query));
        }
        return Optional.empty();
    }

    /**
     * Checks the time of a parsed request and recomputes its signature with the secret.
     *
     * @param signed what {@link #parse} returned for {@code request}
     * @param secretAccessKey the secret of {@code signed.accessKeyId()}
     * @param payloadHash the payload hash the client signed: the declared
     *     {@code x-amz-content-sha256} (see {@link #checkPayloadHash}), or the SHA-256 hex of the
     *     body when none is declared
     * @throws S3Exception 403 when the request is out of time or the signature does not match,
     *     400 when the request cannot be canonicalised
     */
    public void verify(SignableRequest request, SignedRequest signed, String secretAccessKey, String payloadHash) {
        Objects.requireNonNull(secretAccessKey, "secretAccessKey");
        Objects.requireNonNull(payloadHash, "payloadHash");
        checkTime(signed);

        String rawQuery = signed.presigned() ? withoutSignatureParameter(request.rawQuery()) : request.rawQuery();
        String canonicalRequest;
        try {
            canonicalRequest = SigV4.canonicalRequest(request.method(), request.rawPath(), rawQuery,
                    request.headers(), signed.signedHeaders(), payloadHash);
        } catch (IllegalArgumentException e) {
            // The message of e may quote the request; the client already has it, but keep the
            // answer short and fixed.
            throw new S3Exception(S3Error.INVALID_ARGUMENT,
                    "The request cannot be canonicalised for signature verification", e);
        }
        String stringToSign = SigV4.stringToSign(signed.requestTime(), signed.region(), signed.service(),
                canonicalRequest);
        byte[] key = SigV4.signingKey(secretAccessKey, signed.scopeDate(), signed.region(), signed.service());
        String expected = SigV4.signature(key, stringToSign);
        if (!SigV4.constantTimeEquals(expected, signed.signature())) {
            throw new S3Exception(S3Error.SIGNATURE_DOES_NOT_MATCH);
        }
    }

    /**
     * What the chunk signatures of a request's aws-chunked body ({@link SigV4#STREAMING_PAYLOAD},
     * {@link SigV4#STREAMING_PAYLOAD_TRAILER}) are verified with: the signing key of the request's
     * scope, its signature as the seed of the chain, its time and scope. Only for a request whose
     * signature {@link #verify} has accepted with the same secret.
     */
    public static ChunkSigning chunkSigning(SignedRequest signed, String secretAccessKey) {
        Objects.requireNonNull(secretAccessKey, "secretAccessKey");
        byte[] key = SigV4.signingKey(secretAccessKey, signed.scopeDate(), signed.region(), signed.service());
        return new ChunkSigning(key, signed.signature(), SigV4.amzDate(signed.requestTime()), signed.credentialScope());
    }

    /**
     * Checks a declared {@code x-amz-content-sha256} against a body held in memory.
     * {@code UNSIGNED-PAYLOAD} and {@code STREAMING-*} are accepted unchecked (the latter is for
     * chunk-signed uploads, checked chunk by chunk elsewhere); a SHA-256 hex digest must match.
     *
     * @throws S3Exception 400 {@code XAmzContentSHA256Mismatch} when the digest differs, 400
     *     {@code InvalidArgument} when the value is none of the accepted forms
     */
    public static void checkPayloadHash(String declared, byte[] body) {
        if (!isSha256Hex(declared)) {
            return;
        }
        if (!declared.equalsIgnoreCase(SigV4.sha256Hex(body))) {
            throw new S3Exception(S3Error.CONTENT_SHA256_MISMATCH);
        }
    }

    /**
     * True when a declared {@code x-amz-content-sha256} is a digest the body must match; false for
     * {@code UNSIGNED-PAYLOAD} and {@code STREAMING-*}.
     *
     * @throws S3Exception 400 {@code InvalidArgument} when the value is none of the accepted forms
     */
    static boolean isSha256Hex(String declared) {
        Objects.requireNonNull(declared, "declared");
        if (declared.equals(SigV4.UNSIGNED_PAYLOAD) || declared.startsWith(STREAMING_PREFIX)) {
            return false;
        }
        if (SHA256_HEX.matcher(declared).matches()) {
            return true;
        }
        throw new S3Exception(S3Error.INVALID_ARGUMENT,
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-…, or a SHA-256 hex digest");
    }

    private void checkTime(SignedRequest signed) {
        Instant now = clock.instant();
        Instant requestTime = signed.requestTime();
        if (signed.presigned()) {
            if (requestTime.isAfter(now.plus(MAX_SKEW))) {
                throw new S3Exception(S3Error.ACCESS_DENIED, "Request is not yet valid");
            }
            Duration expires = signed.expires().orElseThrow();
            if (now.isAfter(requestTime.plus(expires))) {
                throw new S3Exception(S3Error.ACCESS_DENIED, "Request has expired");
            }
        } else if (Duration.between(requestTime, now).abs().compareTo(MAX_SKEW) > 0) {
            throw new S3Exception(S3Error.REQUEST_TIME_TOO_SKEWED);
        }
    }

    private SignedRequest parseHeaderAuth(SignableRequest request, List<String> authorizations,
            List<Parameter> query) {
        Malformed malformed = Malformed.HEADER;
        if (authorizations.size() > 1) {
            throw malformed.because("more than one Authorization header");
        }
        String value = authorizations.getFirst().strip();
        if (!value.startsWith(SigV4.ALGORITHM) || value.length() == SigV4.ALGORITHM.length()
                || !isBlank(value.charAt(SigV4.ALGORITHM.length()))) {
            throw malformed.because("the authorization mechanism must be " + SigV4.ALGORITHM);
        }
        String credential = null;
        String signedHeaders = null;
        String signature = null;
        for (String part : value.substring(SigV4.ALGORITHM.length()).split(",", -1)) {
            String trimmed = part.strip();
            int eq = trimmed.indexOf('=');
            if (eq <= 0) {
                throw malformed.because("expected Credential=…, SignedHeaders=…, Signature=…");
            }
            String key = trimmed.substring(0, eq);
            String partValue = trimmed.substring(eq + 1);
            if (partValue.isEmpty() || partValue.chars().anyMatch(c -> isBlank((char) c))) {
                throw malformed.because("empty " + key + " or whitespace within it");
            }
            switch (key) {
                case CREDENTIAL -> credential = once(malformed, key, credential, partValue);
                case SIGNED_HEADERS -> signedHeaders = once(malformed, key, signedHeaders, partValue);
                case SIGNATURE -> signature = once(malformed, key, signature, partValue);
                default -> throw malformed.because("unexpected part '" + key + "'");
            }
        }
        if (credential == null || signedHeaders == null || signature == null) {
            throw malformed.because("Credential, SignedHeaders and Signature are all required");
        }

        Instant requestTime = headerRequestTime(request, malformed);
        Credential scope = Credential.parse(credential, requestTime, service, malformed);
        List<String> headers = signedHeaderList(signedHeaders, request, malformed);
        checkSignature(signature, malformed);
        Optional<String> token = securityToken(request, query);
        return new SignedRequest(scope.accessKeyId(), scope.date(), scope.region(), scope.service(), headers,
                signature, requestTime, false, Optional.empty(), token, declaredPayloadHash(request));
    }

    private SignedRequest parseQueryAuth(SignableRequest request, List<Parameter> query) {
        Malformed malformed = Malformed.QUERY;
        String algorithm = queryValue(query, Q_ALGORITHM, malformed)
                .orElseThrow(() -> malformed.because(Q_ALGORITHM + " is required"));
        if (!algorithm.equals(SigV4.ALGORITHM)) {
            throw malformed.because(Q_ALGORITHM + " only supports " + SigV4.ALGORITHM);
        }
        String credential = required(query, Q_CREDENTIAL, malformed);
        String date = required(query, Q_DATE, malformed);
        String expiresText = required(query, Q_EXPIRES, malformed);
        String signedHeaders = required(query, Q_SIGNED_HEADERS, malformed);
        String signature = required(query, Q_SIGNATURE, malformed);
        // Read (and so checked for repeats and bad escapes) even though only securityToken uses it.
        queryValue(query, Q_SECURITY_TOKEN, malformed);

        Instant requestTime = parseAmzDate(date, malformed);
        if (!EXPIRES.matcher(expiresText).matches()) {
            throw malformed.because(Q_EXPIRES + " must be a number of seconds");
        }
        long expires = Long.parseLong(expiresText);
        if (expires < 1 || expires > MAX_PRESIGNED_EXPIRY.toSeconds()) {
            throw malformed.because(Q_EXPIRES + " must be between 1 and " + MAX_PRESIGNED_EXPIRY.toSeconds());
        }
        Credential scope = Credential.parse(credential, requestTime, service, malformed);
        List<String> headers = signedHeaderList(signedHeaders, request, malformed);
        checkSignature(signature, malformed);
        Optional<String> token = securityToken(request, query);
        Optional<String> payloadHash =
                declaredPayloadHash(request).or(() -> Optional.of(SigV4.UNSIGNED_PAYLOAD));
        return new SignedRequest(scope.accessKeyId(), scope.date(), scope.region(), scope.service(), headers,
                signature, requestTime, true, Optional.of(Duration.ofSeconds(expires)), token, payloadHash);
    }

    /** {@code x-amz-date}, or the {@code Date} header when there is none. */
    private static Instant headerRequestTime(SignableRequest request, Malformed malformed) {
        List<String> amzDates = request.headerValues("x-amz-date");
        if (amzDates.size() > 1) {
            throw malformed.because("more than one x-amz-date header");
        }
        if (amzDates.size() == 1) {
            return parseAmzDate(amzDates.getFirst().strip(), malformed);
        }
        List<String> dates = request.headerValues("date");
        if (dates.size() != 1) {
            throw malformed.because(dates.isEmpty()
                    ? "an x-amz-date or Date header is required" : "more than one Date header");
        }
        return HttpDate.parse(dates.getFirst())
                .orElseThrow(() -> malformed.because("the Date header is not an HTTP date"));
    }

    private static Instant parseAmzDate(String text, Malformed malformed) {
        if (AMZ_DATE.matcher(text).matches()) {
            try {
                return LocalDateTime.parse(text, AMZ_DATE_FORMAT).toInstant(ZoneOffset.UTC);
            } catch (DateTimeException e) {
                // falls through to the common complaint
            }
        }
        throw malformed.because("the request date must be of the form yyyyMMdd'T'HHmmss'Z'");
    }

    /** Lowercase, sorted, unique, {@code host} among them, each carried by the request. */
    private static List<String> signedHeaderList(String text, SignableRequest request, Malformed malformed) {
        List<String> names = List.of(text.split(";", -1));
        String previous = "";
        for (String name : names) {
            if (name.isEmpty() || !name.equals(name.toLowerCase(Locale.ROOT))
                    || name.chars().anyMatch(c -> c <= 0x20 || c >= 0x7F)) {
                throw malformed.because("signed header names must be non-empty lowercase tokens");
            }
            if (name.compareTo(previous) <= 0) {
                throw malformed.because("signed header names must be sorted and unique");
            }
            if (request.header(name).isEmpty()) {
                throw malformed.because("signed header '" + name + "' is not in the request");
            }
            previous = name;
        }
        if (!names.contains("host")) {
            throw malformed.because("the host header must be signed");
        }
        return names;
    }

    private static void checkSignature(String signature, Malformed malformed) {
        if (!SIGNATURE_HEX.matcher(signature).matches()) {
            throw malformed.because("the signature must be 64 lowercase hex digits");
        }
    }

    private static Optional<String> declaredPayloadHash(SignableRequest request) {
        List<String> values = request.headerValues("x-amz-content-sha256");
        if (values.size() > 1) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "x-amz-content-sha256 must appear at most once");
        }
        return values.stream().map(String::strip).findFirst();
    }

    /** The header or the query parameter; both at once only if they agree. */
    private static Optional<String> securityToken(SignableRequest request, List<Parameter> query) {
        List<String> headers = request.headerValues("x-amz-security-token");
        List<String> candidates = new ArrayList<>(headers.stream().map(String::strip).toList());
        for (Parameter p : query) {
            if (p.nameOrRaw().equals(Q_SECURITY_TOKEN)) {
                // A bad escape in it is reported by the query parse or the canonicalisation.
                p.value().ifPresent(candidates::add);
            }
        }
        if (candidates.stream().distinct().count() > 1) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "x-amz-security-token must be given once");
        }
        return candidates.stream().findFirst();
    }

    private static String required(List<Parameter> query, String name, Malformed malformed) {
        return queryValue(query, name, malformed).orElseThrow(() -> malformed.because(name + " is required"));
    }

    /**
     * The decoded value of an authentication parameter. A repeat, a spelling in another case (a
     * request that meant to authenticate must not quietly pass as anonymous or half-parsed) or a
     * bad escape is malformed.
     */
    private static Optional<String> queryValue(List<Parameter> query, String name, Malformed malformed) {
        Optional<String> found = Optional.empty();
        for (Parameter p : query) {
            if (!p.nameOrRaw().equalsIgnoreCase(name)) {
                continue;
            }
            if (!p.nameOrRaw().equals(name)) {
                throw malformed.because("query parameter must be spelled " + name);
            }
            if (found.isPresent()) {
                throw malformed.because(name + " must appear once");
            }
            found = Optional.of(p.value().orElseThrow(() -> malformed.because(name + " is badly encoded")));
        }
        return found;
    }

    /**
     * The query with the {@code X-Amz-Signature} parameter cut out of the text: the presigned
     * URL's canonical query is everything but the signature, byte for byte as sent.
     */
    static String withoutSignatureParameter(String rawQuery) {
        StringJoiner kept = new StringJoiner("&");
        for (Parameter p : QueryString.split(rawQuery)) {
            if (!p.nameOrRaw().equals(Q_SIGNATURE)) {
                kept.add(p.segment());
            }
        }
        return kept.toString();
    }

    private static String once(Malformed malformed, String key, String earlier, String value) {
        if (earlier != null) {
            throw malformed.because(key + " must appear once");
        }
        return value;
    }

    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t';
    }

    /** Which error malformed material is reported with depends only on where it was found. */
    private enum Malformed {
        HEADER(S3Error.AUTHORIZATION_HEADER_MALFORMED),
        QUERY(S3Error.AUTHORIZATION_QUERY_PARAMETERS_ERROR);

        private final S3Error error;

        Malformed(S3Error error) {
            this.error = error;
        }

        S3Exception because(String reason) {
            return new S3Exception(error, error.defaultMessage() + " " + reason);
        }
    }

    /** {@code AKID/yyyyMMdd/region/service/aws4_request}, checked against the request time. */
    private record Credential(String accessKeyId, LocalDate date, String region, String service) {

        static Credential parse(String text, Instant requestTime, String expectedService, Malformed malformed) {
            String[] parts = text.split("/", -1);
            if (parts.length != 5 || !parts[4].equals(TERMINATOR)) {
                throw malformed.because("the credential must be <access key id>/<yyyyMMdd>/<region>/<service>/"
                        + TERMINATOR);
            }
            if (!isToken(parts[0]) || !isToken(parts[2])) {
                throw malformed.because("the credential's access key id and region must be non-empty tokens");
            }
            LocalDate date;
            try {
                if (!SCOPE_DATE.matcher(parts[1]).matches()) {
                    throw new DateTimeException("not 8 digits");
                }
                date = LocalDate.parse(parts[1], DateTimeFormatter.BASIC_ISO_DATE);
            } catch (DateTimeException e) {
                throw malformed.because("the credential's date must be yyyyMMdd");
            }
            if (!date.equals(SigV4.scopeDate(requestTime))) {
                throw malformed.because("the credential's date must be the UTC day of the request date");
            }
            if (!parts[3].equals(expectedService)) {
                throw malformed.because("the credential's service must be " + expectedService);
            }
            return new Credential(parts[0], date, parts[2], parts[3]);
        }

        /** Printable ASCII without spaces: these go into a line of the string to sign. */
        private static boolean isToken(String s) {
            return !s.isEmpty() && s.chars().allMatch(c -> c > 0x20 && c < 0x7F);
        }
    }
}
