package dev.sluice.backend;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import org.eclipse.jetty.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Locale;
import java.util.Optional;

/**
 * Where a GCS JSON API error becomes the client's S3 error ({@code docs/gcs.md}, "Errors"), as
 * {@link S3BackendErrors} does for an S3 store: a missing object is {@code NoSuchKey}, a missing
 * bucket {@code NoSuchBucket}, a refusal of sluice's own authorization (401 or 403)
 * {@code AccessDenied}, throttling (429) {@code SlowDown}, anything else {@code 503} with
 * {@code Retry-After}. GCS's message, reason and request id go to the log only.
 */
final class GcsBackendErrors {
    /** The backend's failures are logged under {@link GcsBackend}, where operators look for them. */
    private static final Logger LOG = LoggerFactory.getLogger(GcsBackend.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Whether the request named one object (a 404 may then be the object's) or the bucket (a listing). */
    enum Target { OBJECT, BUCKET }

    private GcsBackendErrors() {
    }

    static S3Exception failure(String backend, int status, byte[] body, Response response, String what, Target target) {
        Optional<JsonNode> error = errorDocument(body);
        String reason = error.map(e -> e.path("errors").path(0).path("reason").asText("")).orElse("");
        String message = error.map(e -> e.path("message").asText("")).orElse("");
        String requestId = Optional.ofNullable(response.getHeaders().get("X-GUploader-UploadID")).orElse("-");
        String detail = backend + ": " + what + " answered " + status + " " + reason + " '" + message + "' (backend request id "
                + requestId + ")";
        return switch (status) {
            case 404 -> {
                LOG.debug("{}", detail);
                boolean bucket = target == Target.BUCKET || message.toLowerCase(Locale.ROOT).contains("bucket does not exist");
                yield new S3Exception(bucket ? S3Error.NO_SUCH_BUCKET : S3Error.NO_SUCH_KEY);
            }
            case 401, 403 -> {
                LOG.warn("{}", detail);
                yield new S3Exception(S3Error.ACCESS_DENIED);
            }
            case 429 -> {
                LOG.warn("{}", detail);
                yield new S3Exception(S3Error.SLOW_DOWN);
            }
            default -> {
                LOG.warn("{}", detail);
                yield S3Exception.unavailable(detail, null);
            }
        };
    }

    /** The {@code error} member of a GCS error document, if {@code body} is one. */
    private static Optional<JsonNode> errorDocument(byte[] body) {
        if (body.length == 0) {
            return Optional.empty();
        }
        try {
            JsonNode error = JSON.readTree(body).path("error");
            return error.isObject() ? Optional.of(error) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
