package dev.sluice.sigv2;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The Signature Version 2 material a request carries, parsed and checked for form by
 * {@link SigV2Verifier#parse} but not yet verified.
 *
 * @param accessKeyId who claims to have signed; the caller resolves its secret. SigV2 does not
 *     sign it: only the secret it names proves anything
 * @param signature the Base64 signature as sent (decoded from the query of a presigned URL)
 * @param presigned true for a presigned URL ({@code AWSAccessKeyId}, {@code Expires},
 *     {@code Signature} in the query)
 * @param time for header authentication when the client signed ({@code x-amz-date}, else
 *     {@code Date}); for a presigned URL the instant it expires
 * @param dateLine the fourth line of the string to sign: the {@code Date} header as sent, empty
 *     when {@code x-amz-date} is sent, or the {@code Expires} parameter
 * @param securityToken the session token of temporary credentials, if any; a secret, so never
 *     printed
 */
public record SigV2Request(String accessKeyId, String signature, boolean presigned, Instant time,
        String dateLine, Optional<String> securityToken) {

    public SigV2Request {
        Objects.requireNonNull(accessKeyId, "accessKeyId");
        Objects.requireNonNull(signature, "signature");
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(dateLine, "dateLine");
        Objects.requireNonNull(securityToken, "securityToken");
    }

    /** Leaves the session token out: it is a bearer secret. The signature is not secret. */
    @Override
    public String toString() {
        return "SigV2Request[accessKeyId=" + accessKeyId
                + ", signature=" + signature
                + ", presigned=" + presigned
                + ", time=" + time
                + ", securityToken=" + (securityToken.isPresent() ? "<redacted>" : "<none>") + "]";
    }
}
