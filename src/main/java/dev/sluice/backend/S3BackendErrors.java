package dev.sluice.backend;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.s3.XmlReader;
import org.eclipse.jetty.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.w3c.dom.NodeList;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Where an S3 server's error becomes the client's S3 error, for reads and writes alike
 * ({@code docs/behaviour.md}, the backend outcome table; {@code docs/writes.md}, "S3 backend").
 * The detail (backend, request, status, code, the backend's request id) goes to the log
 * only; 5xx answers are generic.
 */
final class S3BackendErrors {
    /** The backend's failures are logged under {@link S3Backend}, where operators look for them. */
    private static final Logger LOG = LoggerFactory.getLogger(S3Backend.class);

    /**
     * Backend error codes passed to the client as they are: they describe the request (its
     * upload id, parts, condition or body), the same whichever store answered. Any other code is
     * the backend's own trouble, mapped by status.
     */
    private static final Map<String, S3Error> CLIENT_CODES = Stream.of(
                    S3Error.NO_SUCH_KEY, S3Error.NO_SUCH_UPLOAD, S3Error.INVALID_PART, S3Error.INVALID_PART_ORDER,
                    S3Error.ENTITY_TOO_SMALL, S3Error.ENTITY_TOO_LARGE, S3Error.BAD_DIGEST, S3Error.INVALID_DIGEST,
                    S3Error.PRECONDITION_FAILED, S3Error.CONDITIONAL_REQUEST_CONFLICT)
            .collect(Collectors.toUnmodifiableMap(S3Error::code, e -> e));

    private S3BackendErrors() {
    }

    /**
     * Maps a backend error to the client's S3 error: by the error document's code when it names
     * something about the client's request the client can act on ({@link #CLIENT_CODES}), by
     * status otherwise. {@code backend} and {@code what} name the store and the request in the log.
     */
    static S3Exception failure(String backend, int status, byte[] body, Response response, String what) {
        String code = errorCode(body).orElse("");
        String backendRequestId = Optional.ofNullable(response.getHeaders().get("x-amz-request-id")).orElse("-");
        String detail = backend + ": " + what + " answered " + status + " " + code + " (backend request id " + backendRequestId + ")";
        if (code.equals("NoSuchBucket")) {
            // The product's bucket is not there: a store misconfigured, not a missing key. Answered
            // as the azure and gcs stores answer a missing container or bucket, and logged.
            LOG.warn("{}: the product's bucket does not exist", detail);
            return new S3Exception(S3Error.NO_SUCH_BUCKET);
        }
        S3Error named = CLIENT_CODES.get(code);
        if (named != null) {
            LOG.debug("{}", detail);
            return new S3Exception(named);
        }
        return switch (status) {
            case 404 -> {
                LOG.debug("{}", detail);
                yield new S3Exception(S3Error.NO_SUCH_KEY);
            }
            case 412 -> new S3Exception(S3Error.PRECONDITION_FAILED);
            case 416 -> {
                String contentRange = response.getHeaders().get("Content-Range");
                yield new S3Exception(S3Error.INVALID_RANGE, S3Error.INVALID_RANGE.defaultMessage(), null,
                        contentRange == null ? List.of() : List.of(Map.entry("Content-Range", contentRange)));
            }
            case 403 -> {
                LOG.warn("{}", detail);
                yield new S3Exception(S3Error.ACCESS_DENIED);
            }
            case 501 -> {
                // The backend does not do what was asked of it (an S3-compatible server's gap): retrying will not help.
                LOG.warn("{}", detail);
                yield new S3Exception(S3Error.NOT_IMPLEMENTED, "The product's store does not implement this request.");
            }
            case 503 -> {
                LOG.warn("{}", detail);
                yield code.equals("SlowDown") ? new S3Exception(S3Error.SLOW_DOWN) : S3Exception.unavailable(detail, null);
            }
            default -> {
                LOG.warn("{}", detail);
                yield S3Exception.unavailable(detail, null);
            }
        };
    }

    /** The {@code Code} of an S3 error document, if {@code body} is one. */
    static Optional<String> errorCode(byte[] body) {
        if (body.length == 0) {
            return Optional.empty();
        }
        return XmlReader.parse(body).flatMap(doc -> {
            NodeList codes = doc.getElementsByTagNameNS("*", "Code");
            return codes.getLength() == 0 ? Optional.<String>empty() : Optional.of(codes.item(0).getTextContent().trim());
        });
    }
}
