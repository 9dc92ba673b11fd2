package dev.sluice.auth;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.sigv2.SigV2Request;
import dev.sluice.sigv2.SigV2Verifier;
import dev.sluice.sigv4.ChunkSigning;
import dev.sluice.sigv4.SigV4;
import dev.sluice.sigv4.SigV4Verifier;
import dev.sluice.sigv4.SignableRequest;
import dev.sluice.sigv4.SignedRequest;

import java.time.Instant;
import java.time.InstantSource;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Step 4 of the request lifecycle: who signed this request? Unsigned requests are anonymous.
 * Signature Version 4 and Version 2 are both accepted (see {@code docs/identity.md}); either way
 * a request carrying signature material is never served as if it carried none.
 * A session token names a session sluice sealed; otherwise the access key id names a
 * configured key. A key sluice does not know is not an error by itself: the request is served
 * as anonymous where anonymous access is allowed (see {@link Authorizer}).
 *
 * <p>Order of checks, each answered with its S3 error: malformed signature material (400; for
 * SigV2 without a usable date or one of its presigned parameters {@code 403 AccessDenied}, as S3);
 * session token unreadable, foreign or tampered ({@code 403 InvalidToken}) or expired
 * ({@code 403 ExpiredToken}); a disabled key ({@code 403 InvalidAccessKeyId}); time and
 * signature ({@code 403 RequestTimeTooSkewed}, {@code 403 AccessDenied} for an expired
 * presigned URL, {@code 403 SignatureDoesNotMatch}); then an expired key
 * ({@code 403 ExpiredToken}), checked only once the signature proves the caller holds it.
 */
public final class Identifier {

    private final SigV4Verifier verifier;
    private final SigV2Verifier sigV2;
    private final AccessKeys keys;
    private final Optional<SessionTokens> sessions;
    private final InstantSource clock;

    /** An identifier for path-style requests, verifying SigV4 and SigV2 with the same clock. */
    public Identifier(SigV4Verifier verifier, AccessKeys keys, Optional<SessionTokens> sessions, InstantSource clock) {
        this(verifier, new SigV2Verifier(clock), keys, sessions, clock);
    }

    public Identifier(SigV4Verifier verifier, SigV2Verifier sigV2, AccessKeys keys, Optional<SessionTokens> sessions,
            InstantSource clock) {
        this.verifier = verifier;
        this.sigV2 = sigV2;
        this.keys = keys;
        this.sessions = sessions;
        this.clock = clock;
    }

    /**
     * The principal of a request whose body has been read in full ({@code body}; empty for
     * every read): a SHA-256 payload hash it declares must be that body's. SigV2 material is
     * looked for first, because the SigV4 parser would call it malformed; a request with
     * neither is anonymous.
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

    /**
     * The caller of a write whose body is read as it streams into a store: the signature is
     * verified over the payload hash the request declares (the {@link dev.sluice.upload.UploadBodies}
     * reading the body then checks the bytes against it), and for the aws-chunked forms signed
     * chunk by chunk ({@code STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]}) the request's
     * signature seeds the chunk signatures.
     *
     * <p>Those chunk-signed forms need a SigV4 {@code Authorization} header from a key sluice knows:
     * with SigV2 or a presigned URL they are {@code 400 InvalidRequest}, unsigned or with an
     * unknown key {@code 403 AccessDenied}. A SigV4 header signature without
     * {@code x-amz-content-sha256} is verified over an empty body, and refused
     * ({@code 400 InvalidRequest}) when the request has one. A presigned PUT declares
     * {@code UNSIGNED-PAYLOAD} unless it says otherwise ({@code docs/writes.md}, "Integrity").
     */
    public Identified identifyUpload(SignableRequest request) {
        Optional<String> declared = request.header("x-amz-content-sha256").map(String::strip);
        boolean chunkSigned = declared.filter(d -> d.equals(SigV4.STREAMING_PAYLOAD)
                || d.equals(SigV4.STREAMING_PAYLOAD_TRAILER)).isPresent();
        Optional<SigV2Request> v2 = sigV2.parse(request);
        if (v2.isPresent()) {
            if (chunkSigned) {
                throw new S3Exception(S3Error.INVALID_REQUEST,
                        declared.get() + " needs a request signed with AWS Signature Version 4.");
            }
            SigV2Request signed = v2.get();
            return new Identified(principal(signed.accessKeyId(), signed.securityToken(),
                    secret -> sigV2.verify(request, signed, secret)), Optional.empty());
        }
        Optional<SignedRequest> parsed = verifier.parse(request);
        if (parsed.isEmpty()) {
            if (chunkSigned) {
                // No signature to seed the chunk signatures with: nothing of the body could be verified.
                throw new S3Exception(S3Error.ACCESS_DENIED, "An upload with chunk signatures must be signed.");
            }
            return new Identified(Principal.Anonymous.UNSIGNED, Optional.empty());
        }
        SignedRequest signed = parsed.get();
        if (chunkSigned && signed.presigned()) {
            throw new S3Exception(S3Error.INVALID_REQUEST,
                    declared.get() + " needs the Authorization header, not a presigned URL.");
        }
        String payloadHash = signed.declaredPayloadHash().orElseGet(() -> emptyBodyHash(request));
        AtomicReference<ChunkSigning> seeded = new AtomicReference<>();
        Principal principal = principal(signed.accessKeyId(), signed.securityToken(), secret -> {
            verifier.verify(request, signed, secret, payloadHash);
            if (chunkSigned) {
                seeded.set(SigV4Verifier.chunkSigning(signed, secret));
            }
        });
        if (chunkSigned && seeded.get() == null) {
            // A key sluice does not know passes as anonymous, but its chunk signatures cannot be checked.
            throw new S3Exception(S3Error.ACCESS_DENIED, "An upload with chunk signatures must be signed by a known key.");
        }
        return new Identified(principal, Optional.ofNullable(seeded.get()));
    }

    /**
     * The payload hash a SigV4 header signature covers when the request declares none: that of an
     * empty body, the only one sluice can know without reading it. A body with bytes needs the
     * header, as in S3.
     */
    private static String emptyBodyHash(SignableRequest request) {
        Optional<String> length = request.header("content-length").map(String::strip);
        boolean empty = length.map("0"::equals).orElseGet(() -> request.header("transfer-encoding").isEmpty());
        if (!empty) {
            throw new S3Exception(S3Error.INVALID_REQUEST, "Missing required header for this request: x-amz-content-sha256");
        }
        return SigV4.EMPTY_SHA256;
    }

    /** A write's caller, and what its body's chunk signatures are verified with, if it has them. */
    public record Identified(Principal principal, Optional<ChunkSigning> chunkSigning) {
    }

    private Principal identify(SignableRequest request, byte[] body, boolean bodyRead) {
        Optional<SigV2Request> v2 = sigV2.parse(request);
        if (v2.isPresent()) {
            SigV2Request signed = v2.get();
            return principal(signed.accessKeyId(), signed.securityToken(),
                    secret -> sigV2.verify(request, signed, secret));
        }
        Optional<SignedRequest> parsed = verifier.parse(request);
        if (parsed.isEmpty()) {
            return Principal.Anonymous.UNSIGNED;
        }
        SignedRequest signed = parsed.get();
        String payloadHash = signed.declaredPayloadHash().orElseGet(() -> SigV4.sha256Hex(body));
        Principal principal = principal(signed.accessKeyId(), signed.securityToken(),
                secret -> verifier.verify(request, signed, secret, payloadHash));
        if (bodyRead && !(principal instanceof Principal.Anonymous)) {
            SigV4Verifier.checkPayloadHash(payloadHash, body);
        }
        return principal;
    }

    /**
     * What both signature versions share once their material is parsed: the session or key the
     * access key id names, its signature checked by {@code verifySignature} with its secret.
     */
    private Principal principal(String accessKeyId, Optional<String> securityToken, Consumer<String> verifySignature) {
        Instant now = clock.instant();
        if (securityToken.isPresent()) {
            SessionClaims claims = sessions
                    .orElseThrow(() -> new S3Exception(S3Error.INVALID_TOKEN))
                    .open(securityToken.get(), now);
            if (!claims.accessKeyId().equals(accessKeyId)) {
                throw new S3Exception(S3Error.INVALID_TOKEN);
            }
            verifySignature.accept(claims.secretAccessKey());
            return new Principal.Session(claims.accessKeyId(), claims.subject(), claims.role(), claims.scopes(), claims.expiry());
        }
        Optional<AccessKeys.Entry> key = keys.find(accessKeyId);
        if (key.isEmpty()) {
            return new Principal.Anonymous(Optional.of(accessKeyId));
        }
        AccessKeys.Entry entry = key.get();
        if (!entry.enabled()) {
            throw new S3Exception(S3Error.INVALID_ACCESS_KEY_ID);
        }
        verifySignature.accept(entry.secretAccessKey());
        if (entry.expiresAt().isPresent() && !now.isBefore(entry.expiresAt().get())) {
            throw new S3Exception(S3Error.EXPIRED_TOKEN, "The access key has expired.");
        }
        return new Principal.AccessKey(entry.accessKeyId(), entry.name(), entry.scopes());
    }
}
