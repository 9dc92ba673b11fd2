package dev.sluice.auth;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.sigv4.SigV4;
import dev.sluice.sigv4.SigV4Verifier;
import dev.sluice.sigv4.SignableRequest;
import dev.sluice.sigv4.SignedRequest;

import java.time.Instant;
import java.time.InstantSource;
import java.util.Optional;

/**
 * Step 4 of the request lifecycle: who signed this request? Unsigned requests are anonymous.
 * A session token names a session sluice sealed; otherwise the access key id names a
 * configured key. A key sluice does not know is not an error by itself: the request is served
 * as anonymous where anonymous access is allowed (see {@link Authorizer}).
 *
 * <p>Order of checks, each answered with its S3 error: malformed signature material (400);
 * session token unreadable, foreign or tampered ({@code 403 InvalidToken}) or expired
 * ({@code 403 ExpiredToken}); a disabled key ({@code 403 InvalidAccessKeyId}); time and
 * signature ({@code 403 RequestTimeTooSkewed}, {@code 403 AccessDenied} for an expired
 * presigned URL, {@code 403 SignatureDoesNotMatch}); then an expired key
 * ({@code 403 ExpiredToken}), checked only once the signature proves the caller holds it.
 */
public final class Identifier {

    private final SigV4Verifier verifier;
    private final AccessKeys keys;
    private final Optional<SessionTokens> sessions;
    private final InstantSource clock;

    public Identifier(SigV4Verifier verifier, AccessKeys keys, Optional<SessionTokens> sessions, InstantSource clock) {
        this.verifier = verifier;
        this.keys = keys;
        this.sessions = sessions;
        this.clock = clock;
    }

    /**
     * The principal of a request whose body has been read in full ({@code body}; empty for
     * every read): a SHA-256 payload hash it declares must be that body's.
     */
    public Principal identify(SignableRequest request, byte[] body) {
        return identify(request, body, true);
    }

    /**
     * The principal of a request whose body is not read at all: one sluice refuses whatever its
     * body holds (a write, an S3 API it does not serve). The signature is verified over the
     * payload hash the request declares ({@code x-amz-content-sha256}), which is not compared
     * with the body, or over an empty body when it declares none; so a wrong signature is still
     * {@code 403 SignatureDoesNotMatch} and the refusal is logged with who asked, yet a large
     * body is never buffered to find out.
     */
    public Principal identifyWithoutBody(SignableRequest request) {
        return identify(request, new byte[0], false);
    }

    private Principal identify(SignableRequest request, byte[] body, boolean bodyRead) {
        Optional<SignedRequest> parsed = verifier.parse(request);
        if (parsed.isEmpty()) {
            return Principal.Anonymous.UNSIGNED;
        }
        SignedRequest signed = parsed.get();
        String payloadHash = signed.declaredPayloadHash().orElseGet(() -> SigV4.sha256Hex(body));
        Instant now = clock.instant();
        if (signed.securityToken().isPresent()) {
            SessionClaims claims = sessions
                    .orElseThrow(() -> new S3Exception(S3Error.INVALID_TOKEN))
                    .open(signed.securityToken().get(), now);
            if (!claims.accessKeyId().equals(signed.accessKeyId())) {
                throw new S3Exception(S3Error.INVALID_TOKEN);
            }
            verifier.verify(request, signed, claims.secretAccessKey(), payloadHash);
            if (bodyRead) {
                SigV4Verifier.checkPayloadHash(payloadHash, body);
            }
            return new Principal.Session(claims.accessKeyId(), claims.subject(), claims.role(), claims.scopes(), claims.expiry());
        }
        Optional<AccessKeys.Entry> key = keys.find(signed.accessKeyId());
        if (key.isEmpty()) {
            return new Principal.Anonymous(Optional.of(signed.accessKeyId()));
        }
        AccessKeys.Entry entry = key.get();
        if (!entry.enabled()) {
            throw new S3Exception(S3Error.INVALID_ACCESS_KEY_ID);
        }
        verifier.verify(request, signed, entry.secretAccessKey(), payloadHash);
        if (entry.expiresAt().isPresent() && !now.isBefore(entry.expiresAt().get())) {
            throw new S3Exception(S3Error.EXPIRED_TOKEN, "The access key has expired.");
        }
        if (bodyRead) {
            SigV4Verifier.checkPayloadHash(payloadHash, body);
        }
        return new Principal.AccessKey(entry.accessKeyId(), entry.name(), entry.scopes());
    }
}
