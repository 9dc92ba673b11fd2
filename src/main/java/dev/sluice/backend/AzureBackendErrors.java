package dev.sluice.backend;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.s3.XmlReader;
import org.eclipse.jetty.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;

/**
 * Where an Azure Blob service error becomes the client's S3 error (docs/azure.md, "Errors"),
 * as {@link S3BackendErrors} does for an S3 store: a missing blob is {@code NoSuchKey}, a missing
 * container {@code NoSuchBucket}, a refusal of sluice's credentials {@code 403 AccessDenied},
 * throttling ({@code ServerBusy}) {@code SlowDown}, anything else the store's own trouble, 503.
 * Azure's error code, message and {@code x-ms-request-id} go to the log only, never the request's
 * query (a SAS token is there) or headers.
 */
final class AzureBackendErrors {
    /** Logged under {@link AzureBackend}, where operators look for the backend's failures. */
    private static final Logger LOG = LoggerFactory.getLogger(AzureBackend.class);
    private static final int MAX_MESSAGE = 300;

    private AzureBackendErrors() {
    }

    /** {@code what} names the request without its query; {@code body} may be empty (a HEAD's error has none). */
    static S3Exception failure(String backend, int status, byte[] body, Response response, String what) {
        String code = Optional.ofNullable(response.getHeaders().get("x-ms-error-code"))
                .or(() -> xml(body, "Code")).orElse("");
        String message = xml(body, "Message").map(m -> m.lines().findFirst().orElse(""))
                .map(m -> m.length() > MAX_MESSAGE ? m.substring(0, MAX_MESSAGE) + "…" : m).orElse("");
        String requestId = Optional.ofNullable(response.getHeaders().get("x-ms-request-id")).orElse("-");
        String detail = backend + ": " + what + " answered " + status + " " + code
                + (message.isEmpty() ? "" : " (" + message + ")") + " (x-ms-request-id " + requestId + ")";
        switch (code) {
            case "BlobNotFound" -> {
                LOG.debug("{}", detail);
                return new S3Exception(S3Error.NO_SUCH_KEY);
            }
            case "ContainerNotFound" -> {
                // The product names a container the account does not have: the operator's to fix.
                LOG.warn("{}", detail);
                return new S3Exception(S3Error.NO_SUCH_BUCKET);
            }
            case "ConditionNotMet" -> {
                return new S3Exception(S3Error.PRECONDITION_FAILED);
            }
            case "AuthenticationFailed", "AuthorizationFailure", "AuthorizationPermissionMismatch",
                 "InsufficientAccountPermissions", "InvalidAuthenticationInfo", "NoAuthenticationInformation",
                 "AuthorizationProtocolMismatch", "AuthorizationSourceIPMismatch" -> {
                // Sluice's own credentials were refused (Azure answers some of these 400 or 401):
                // as the s3 backend answers its store's 403.
                LOG.warn("{}", detail);
                return new S3Exception(S3Error.ACCESS_DENIED);
            }
            case "ServerBusy" -> {
                LOG.warn("{}", detail);
                return new S3Exception(S3Error.SLOW_DOWN);
            }
            default -> {
            }
        }
        return switch (status) {
            case 404 -> {
                LOG.debug("{}", detail);
                yield new S3Exception(S3Error.NO_SUCH_KEY);
            }
            case 401, 403 -> {
                // AuthenticationFailed, AuthorizationFailure, InsufficientAccountPermissions, an
                // expired or wrong-audience token: sluice's own credentials were refused.
                LOG.warn("{}", detail);
                yield new S3Exception(S3Error.ACCESS_DENIED);
            }
            case 412 -> new S3Exception(S3Error.PRECONDITION_FAILED);
            case 501 -> {
                LOG.warn("{}", detail);
                yield new S3Exception(S3Error.NOT_IMPLEMENTED, "The product's store does not implement this request.");
            }
            default -> {
                LOG.warn("{}", detail);
                yield S3Exception.unavailable(detail, null);
            }
        };
    }

    private static Optional<String> xml(byte[] body, String element) {
        if (body.length == 0) {
            return Optional.empty();
        }
        return XmlReader.parse(body).flatMap(doc -> {
            var nodes = doc.getElementsByTagNameNS("*", element);
            return nodes.getLength() == 0 ? Optional.<String>empty() : Optional.of(nodes.item(0).getTextContent().trim());
        });
    }
}
