package dev.sluice.auth;

import dev.sluice.federation.RoleSessionName;
import dev.sluice.observe.LogText;
import dev.sluice.s3.QueryString;
import dev.sluice.s3.XmlDocuments;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.math.BigInteger;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Sluice's STS endpoint: {@code AssumeRoleWithWebIdentity} in the AWS query protocol, so any
 * AWS SDK's web-identity credential provider can trade an OIDC token from a trusted issuer for
 * temporary S3 credentials. The credentials are not stored anywhere: their secret, expiry,
 * subject, role and resolved scopes are sealed into the session token ({@link SessionTokens}).
 *
 * <p>Parameters come from exactly one place: the form body of a {@code POST} with
 * {@code Content-Type: application/x-www-form-urlencoded} (a charset parameter is allowed and
 * ignored: every parameter that matters is ASCII), or the query string of a {@code GET}. They
 * are never merged, so nothing in a URL (logged by proxies, replayable from a link) can add to
 * or override a form. A parameter given twice is refused rather than resolved either way.
 *
 * <p>Errors, each an STS {@code ErrorResponse} of type {@code Sender} unless noted:
 * <table>
 *   <caption>Error codes</caption>
 *   <tr><th>Condition</th><th>Status</th><th>Code</th></tr>
 *   <tr><td>method other than GET or POST</td><td>405</td><td>MethodNotAllowed (the route should add {@code Allow: GET, POST})</td></tr>
 *   <tr><td>POST whose content type is not a form</td><td>400</td><td>InvalidParameterValue</td></tr>
 *   <tr><td>body over 64 KiB</td><td>413</td><td>RequestEntityTooLarge</td></tr>
 *   <tr><td>malformed percent-encoding, a parameter given twice</td><td>400</td><td>MalformedQueryString</td></tr>
 *   <tr><td>no Action</td><td>400</td><td>MissingAction</td></tr>
 *   <tr><td>Action other than AssumeRoleWithWebIdentity, Version other than 2011-06-15</td><td>400</td><td>InvalidAction</td></tr>
 *   <tr><td>no RoleArn or WebIdentityToken</td><td>400</td><td>MissingParameter</td></tr>
 *   <tr><td>DurationSeconds not an integer</td><td>400</td><td>InvalidParameterValue</td></tr>
 *   <tr><td>RoleSessionName not 2–64 of {@code [\w+=,.@-]}</td><td>400</td><td>ValidationError</td></tr>
 *   <tr><td>token malformed, badly signed, issuer or audience no role trusts, not yet valid,
 *       control characters in sub, iss or aud</td><td>400</td><td>InvalidIdentityToken</td></tr>
 *   <tr><td>token expired</td><td>400</td><td>ExpiredTokenException</td></tr>
 *   <tr><td>token genuine but RoleArn names no role, or a role that does not trust its issuer or
 *       audience or admit its subject</td><td>403</td><td>AccessDenied</td></tr>
 *   <tr><td>token genuine and admitted, but valid for longer than the role's
 *       max token lifetime</td><td>400</td><td>InvalidIdentityToken</td></tr>
 *   <tr><td>issuer's keys cannot be fetched</td><td>400</td><td>IDPCommunicationError</td></tr>
 *   <tr><td>anything unexpected (logged)</td><td>500</td><td>InternalFailure, type Receiver</td></tr>
 * </table>
 * The token is verified before the role is looked up (see {@link WebIdentityVerifier}): an
 * unknown role and a refused subject answer alike, as AWS does, and a bad token is refused the
 * same way whatever role it names, so the endpoint does not tell a caller which roles exist.
 *
 * <p>{@code DurationSeconds} is clamped to [900 s, the role's maximum] rather than refused;
 * absent, it is 3600 s (clamped the same way). {@code RoleSessionName} is optional; absent, it
 * is the token's subject with every character outside {@code [\w+=,.@-]} replaced by
 * {@code -}, cut to 64 characters. Role grants whose placeholders do not resolve for the token
 * are dropped (see {@link ScopeTemplate}); credentials are issued even if none remain, and then
 * allow nothing.
 */
public final class StsService {
    public static final String NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";
    public static final String VERSION = "2011-06-15";
    public static final int MAX_BODY_BYTES = 64 * 1024;
    public static final Duration DEFAULT_DURATION = Duration.ofHours(1);
    static final String CONTENT_TYPE = "text/xml";
    /** The account in the ARNs sluice answers with; sluice has no accounts. */
    static final String ACCOUNT = "000000000000";

    private static final Logger LOG = LoggerFactory.getLogger(StsService.class);
    private static final Pattern INTEGER = Pattern.compile("-?[0-9]{1,30}");
    private static final char[] KEY_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".toCharArray();
    private static final char[] SECRET_ALPHABET =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".toCharArray();

    private final List<Role> roles;
    private final WebIdentityVerifier verifier;
    private final SessionTokens tokens;
    private final InstantSource clock;
    private final SecureRandom random;

    public StsService(List<Role> roles, WebIdentityVerifier verifier, SessionTokens tokens, InstantSource clock,
                      SecureRandom random) {
        this.roles = List.copyOf(roles);
        Set<String> ids = new HashSet<>();
        for (Role r : this.roles) {
            if (!ids.add(r.id())) {
                throw new IllegalArgumentException("two roles have the id " + r.id());
            }
        }
        this.verifier = verifier;
        this.tokens = tokens;
        this.clock = clock;
        this.random = random;
    }

    /** An STS error to answer with; its message is what the client reads. */
    private static final class StsError extends Exception {
        final int status;
        final String code;

        StsError(int status, String code, String message) {
            super(message, null, false, false);
            this.status = status;
            this.code = code;
        }
    }

    /**
     * Answers one request to the endpoint. Never throws.
     *
     * @param rawQuery    the query string as received (still percent-encoded), empty if none
     * @param contentType the request's Content-Type header
     * @param body        the request body (the server has already limited it to 64 KiB)
     * @param requestId   the id this request is logged under, echoed in the reply
     */
    public StsReply handle(String method, String rawQuery, Optional<String> contentType, byte[] body, String requestId) {
        if (requestId == null) {
            requestId = "";
        }
        try {
            return assume(parameters(method, rawQuery, contentType, body), requestId);
        } catch (StsError e) {
            LOG.debug("sts request {} refused: {} {}", requestId, e.code, LogText.escape(e.getMessage()));
            return error(e.status, "Sender", e.code, e.getMessage(), requestId);
        } catch (RuntimeException e) {
            LOG.error("sts request {} failed", requestId, e);
            return error(500, "Receiver", "InternalFailure",
                    "The request processing has failed because of an unknown error.", requestId);
        }
    }

    private static Map<String, String> parameters(String method, String rawQuery, Optional<String> contentType, byte[] body)
            throws StsError {
        switch (method) {
            case "GET" -> {
                return parseForm(rawQuery == null ? "" : rawQuery);
            }
            case "POST" -> {
                if (contentType.isEmpty() || !isForm(contentType.get())) {
                    throw new StsError(400, "InvalidParameterValue",
                            "POST requests must send their parameters as application/x-www-form-urlencoded");
                }
                if (body.length > MAX_BODY_BYTES) {
                    throw new StsError(413, "RequestEntityTooLarge", "The request body exceeds " + MAX_BODY_BYTES + " bytes.");
                }
                return parseForm(new String(body, StandardCharsets.UTF_8));
            }
            default -> throw new StsError(405, "MethodNotAllowed", "The STS endpoint accepts GET and POST only.");
        }
    }

    private static boolean isForm(String contentType) {
        int semicolon = contentType.indexOf(';');
        String mediaType = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim().toLowerCase(Locale.ROOT);
        if (!mediaType.equals("application/x-www-form-urlencoded")) {
            return false;
        }
        if (semicolon < 0) {
            return true;
        }
        for (String param : contentType.substring(semicolon + 1).split(";")) {
            if (!param.trim().toLowerCase(Locale.ROOT).startsWith("charset=")) {
                return false;
            }
        }
        return true;
    }

    private static Map<String, String> parseForm(String form) throws StsError {
        Map<String, String> out = new HashMap<>();
        for (QueryString.Parameter p : QueryString.split(form)) {
            String name;
            String value;
            try {
                // Form decoding: + is a space, a malformed escape fails, bytes that are not UTF-8 become U+FFFD.
                name = URLDecoder.decode(p.rawName(), StandardCharsets.UTF_8);
                value = URLDecoder.decode(p.rawValue(), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new StsError(400, "MalformedQueryString", "The parameters contain a malformed percent-encoding.");
            }
            if (out.putIfAbsent(name, value) != null) {
                throw new StsError(400, "MalformedQueryString", "The parameter " + printable(name) + " is given more than once.");
            }
        }
        return out;
    }

    private StsReply assume(Map<String, String> params, String requestId) throws StsError {
        String action = params.get("Action");
        if (action == null || action.isEmpty()) {
            throw new StsError(400, "MissingAction", "The request must contain the parameter Action.");
        }
        if (!action.equals("AssumeRoleWithWebIdentity")) {
            throw new StsError(400, "InvalidAction", "Could not find operation " + printable(action) + ".");
        }
        String version = params.get("Version");
        if (version != null && !version.equals(VERSION)) {
            throw new StsError(400, "InvalidAction",
                    "Could not find operation AssumeRoleWithWebIdentity for version " + printable(version) + ".");
        }
        String token = params.get("WebIdentityToken");
        if (token == null || token.isEmpty()) {
            throw new StsError(400, "MissingParameter", "The request must contain the parameter WebIdentityToken.");
        }
        String roleArn = params.get("RoleArn");
        if (roleArn == null || roleArn.isEmpty()) {
            throw new StsError(400, "MissingParameter", "The request must contain the parameter RoleArn.");
        }
        Optional<Duration> asked = duration(params.get("DurationSeconds"));
        String sessionName = params.get("RoleSessionName");
        if (sessionName != null && !RoleSessionName.VALID.matcher(sessionName).matches()) {
            throw new StsError(400, "ValidationError",
                    "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: "
                            + "Member must have length 2-64 and match the pattern [\\w+=,.@-]*");
        }
        // The token is verified before the role is looked at, and an unknown role is refused
        // only where a known one refusing the subject would be: the answer, and the work done
        // to reach it, never tell whether a role exists.
        Optional<Role> wanted = Role.byArn(roles, roleArn);
        VerifiedToken verified;
        try {
            verified = verifier.verify(token, roles, wanted);
        } catch (WebIdentityVerifier.Rejected e) {
            throw switch (e.reason()) {
                case INVALID -> new StsError(400, "InvalidIdentityToken", "The web identity token could not be validated: "
                        + e.getMessage() + ".");
                case EXPIRED -> new StsError(400, "ExpiredTokenException", "Token expired.");
                case NOT_AUTHORIZED -> notAuthorized();
                case ISSUER_UNREACHABLE -> new StsError(400, "IDPCommunicationError",
                        "Could not reach the identity provider of the token; retry later.");
            };
        }
        Role role = wanted.orElseThrow(StsService::notAuthorized); // verified for no role only when there is one
        if (sessionName == null) {
            sessionName = RoleSessionName.of(verified.subject());
        }
        Duration duration = role.clampSession(asked.orElse(DEFAULT_DURATION));
        Instant expiry = clock.instant().truncatedTo(ChronoUnit.SECONDS).plus(duration);
        List<Scope> scopes = role.scopes().stream().flatMap(t -> t.resolve(verified.claims()).stream()).toList();
        SessionClaims claims = new SessionClaims(accessKeyId(), secret(), expiry, verified.subject(), role.id(), scopes);
        String sessionToken = tokens.seal(claims);
        LOG.info("sts request {}: issued {} to subject {} of {} for role {} until {} with {} of {} grants", requestId,
                claims.accessKeyId(), LogText.escape(verified.subject()), LogText.escape(verified.issuer()), role.id(), expiry, scopes.size(),
                role.scopes().size());
        return success(claims, sessionToken, verified, role, sessionName, requestId);
    }

    private static StsError notAuthorized() {
        return new StsError(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity");
    }

    private static Optional<Duration> duration(String value) throws StsError {
        if (value == null) {
            return Optional.empty();
        }
        if (!INTEGER.matcher(value).matches()) {
            throw new StsError(400, "InvalidParameterValue", "DurationSeconds must be an integer number of seconds.");
        }
        BigInteger seconds = new BigInteger(value);
        // clamped later to the role's range; only keep it inside what Duration holds
        BigInteger bounded = seconds.max(BigInteger.ZERO).min(BigInteger.valueOf(Integer.MAX_VALUE));
        return Optional.of(Duration.ofSeconds(bounded.longValueExact()));
    }

    private String accessKeyId() {
        return "ASIA" + randomChars(KEY_ID_ALPHABET, 16);
    }

    private String secret() {
        return randomChars(SECRET_ALPHABET, 40);
    }

    private String randomChars(char[] alphabet, int n) {
        char[] out = new char[n];
        for (int i = 0; i < n; i++) {
            out[i] = alphabet[random.nextInt(alphabet.length)];
        }
        return new String(out);
    }

    /** A stable AWS-looking role id ({@code AROA…}) derived from the role's id. */
    static String roleUniqueId(String roleId) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(roleId.getBytes(StandardCharsets.UTF_8));
            StringBuilder out = new StringBuilder("AROA");
            for (int i = 0; i < 16; i++) {
                out.append(KEY_ID_ALPHABET[(digest[i] & 0xff) % KEY_ID_ALPHABET.length]);
            }
            return out.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }

    private static StsReply success(SessionClaims c, String sessionToken, VerifiedToken t, Role role, String session,
                                    String requestId) {
        String body = XmlDocuments.write(w -> {
            w.writeStartElement("AssumeRoleWithWebIdentityResponse");
            w.writeDefaultNamespace(NAMESPACE);
            w.writeStartElement("AssumeRoleWithWebIdentityResult");
            w.writeStartElement("Credentials");
            XmlDocuments.element(w, "AccessKeyId", c.accessKeyId());
            XmlDocuments.element(w, "SecretAccessKey", c.secretAccessKey());
            XmlDocuments.element(w, "SessionToken", sessionToken);
            XmlDocuments.element(w, "Expiration", c.expiry().toString());
            w.writeEndElement();
            XmlDocuments.element(w, "SubjectFromWebIdentityToken", t.subject());
            w.writeStartElement("AssumedRoleUser");
            XmlDocuments.element(w, "Arn", "arn:aws:sts::" + ACCOUNT + ":assumed-role/" + role.id() + "/" + session);
            XmlDocuments.element(w, "AssumedRoleId", roleUniqueId(role.id()) + ":" + session);
            w.writeEndElement();
            XmlDocuments.element(w, "Provider", t.issuer());
            XmlDocuments.element(w, "Audience", t.audience());
            w.writeEndElement();
            w.writeStartElement("ResponseMetadata");
            XmlDocuments.element(w, "RequestId", requestId);
            w.writeEndElement();
            w.writeEndElement();
        });
        return new StsReply(200, CONTENT_TYPE, body, Optional.empty());
    }

    /**
     * The answer, in the shape {@link #handle} gives, to a request whose body the server could
     * not read: over {@link #MAX_BODY_BYTES} ({@code tooLarge}), or not sent in time.
     */
    public static StsReply unreadableBody(boolean tooLarge, String requestId) {
        String id = requestId == null ? "" : requestId;
        return tooLarge
                ? error(413, "Sender", "RequestEntityTooLarge", "The request body exceeds " + MAX_BODY_BYTES + " bytes.", id)
                : error(400, "Sender", "RequestTimeout", "The request body was not received in time.", id);
    }

    /**
     * The answer to a caller refused for its rate (docs/protection.md, "Failed identification"):
     * STS's own, {@code 400 Throttling} "Rate exceeded", which the AWS SDKs back off and retry on.
     */
    public static StsReply throttled(String requestId) {
        return error(400, "Sender", "Throttling", "Rate exceeded", requestId == null ? "" : requestId);
    }

    private static StsReply error(int status, String type, String code, String message, String requestId) {
        String body = XmlDocuments.write(w -> {
            w.writeStartElement("ErrorResponse");
            w.writeDefaultNamespace(NAMESPACE);
            w.writeStartElement("Error");
            XmlDocuments.element(w, "Type", type);
            XmlDocuments.element(w, "Code", code);
            XmlDocuments.element(w, "Message", message);
            w.writeEndElement();
            XmlDocuments.element(w, "RequestId", requestId);
            w.writeEndElement();
        });
        return new StsReply(status, CONTENT_TYPE, body, Optional.of(code));
    }

    /** A client-supplied value fit to quote in a message: bounded, and only printable ASCII. */
    private static String printable(String s) {
        String cut = s.length() > 64 ? s.substring(0, 64) + "..." : s;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }

    @Override
    public String toString() {
        return "StsService" + roles.stream().map(Role::id).toList();
    }
}
