package dev.sluice.sigv4;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The SigV4 material a request carries, parsed and checked for form by
 * {@link SigV4Verifier#parse} but not yet verified: who claims to have signed, for which scope,
 * over which headers, when.
 *
 * @param accessKeyId the access key id of the credential; the caller resolves its secret
 * @param scopeDate the day of the credential scope, always the UTC day of {@code requestTime}
 * @param region the region of the credential scope, whatever the client was configured with
 * @param service the service of the credential scope
 * @param signedHeaders the signed header names: lowercase, sorted, unique, {@code host} among them
 * @param signature the signature, 64 lowercase hex digits
 * @param requestTime when the client signed, from {@code x-amz-date}, {@code Date} or
 *     {@code X-Amz-Date}
 * @param presigned true for query-string (presigned URL) authentication
 * @param expires how long a presigned request stays valid after {@code requestTime}; empty for
 *     header authentication
 * @param securityToken the session token of temporary credentials, if any; a secret, so never
 *     printed
 * @param declaredPayloadHash the {@code x-amz-content-sha256} header; for a presigned request
 *     without it, {@link SigV4#UNSIGNED_PAYLOAD}
 */
public record SignedRequest(String accessKeyId, LocalDate scopeDate, String region, String service,
        List<String> signedHeaders, String signature, Instant requestTime, boolean presigned,
        Optional<Duration> expires, Optional<String> securityToken, Optional<String> declaredPayloadHash) {

    public SignedRequest {
        Objects.requireNonNull(accessKeyId, "accessKeyId");
        Objects.requireNonNull(scopeDate, "scopeDate");
        Objects.requireNonNull(region, "region");
        Objects.requireNonNull(service, "service");
        signedHeaders = List.copyOf(signedHeaders);
        Objects.requireNonNull(signature, "signature");
        Objects.requireNonNull(requestTime, "requestTime");
        Objects.requireNonNull(expires, "expires");
        Objects.requireNonNull(securityToken, "securityToken");
        Objects.requireNonNull(declaredPayloadHash, "declaredPayloadHash");
    }

    /** The credential scope this request was signed for. */
    public String credentialScope() {
        return SigV4.credentialScope(scopeDate, region, service);
    }

    /** Leaves the session token out: it is a bearer secret. The signature is not secret. */
    @Override
    public String toString() {
        return "SignedRequest[accessKeyId=" + accessKeyId
                + ", scope=" + credentialScope()
                + ", signedHeaders=" + String.join(";", signedHeaders)
                + ", signature=" + signature
                + ", requestTime=" + requestTime
                + ", presigned=" + presigned
                + ", expires=" + expires.map(Duration::toString).orElse("<none>")
                + ", securityToken=" + (securityToken.isPresent() ? "<redacted>" : "<none>")
                + ", declaredPayloadHash=" + declaredPayloadHash.orElse("<none>") + "]";
    }
}
