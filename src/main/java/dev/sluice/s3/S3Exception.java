package dev.sluice.s3;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A failure that becomes an S3 XML error response. The message is what the client sees; for
 * server-side errors it is the generic one of {@link S3Error}, and the cause (if any) is for
 * the log only.
 */
public final class S3Exception extends RuntimeException {
    private final S3Error error;
    private final List<Map.Entry<String, String>> extraHeaders;

    public S3Exception(S3Error error) {
        this(error, error.defaultMessage(), null, List.of());
    }

    public S3Exception(S3Error error, String clientMessage) {
        this(error, clientMessage, null, List.of());
    }

    public S3Exception(S3Error error, String clientMessage, Throwable cause) {
        this(error, clientMessage, cause, List.of());
    }

    public S3Exception(S3Error error, String clientMessage, Throwable cause, List<Map.Entry<String, String>> extraHeaders) {
        super(clientMessage, cause, false, false);
        this.error = error;
        this.extraHeaders = List.copyOf(extraHeaders);
    }

    /** A 503 whose client message is generic; {@code logDetail} explains it in the log. */
    public static S3Exception unavailable(String logDetail, Throwable cause) {
        return new S3Exception(S3Error.SERVICE_UNAVAILABLE, S3Error.SERVICE_UNAVAILABLE.defaultMessage(),
                new DependencyFailure(logDetail, cause));
    }

    public S3Error error() {
        return error;
    }

    public String clientMessage() {
        return getMessage();
    }

    /** Headers the error response must carry besides the standard ones (e.g. Content-Range on 416). */
    public List<Map.Entry<String, String>> extraHeaders() {
        return extraHeaders;
    }

    public Optional<Throwable> logCause() {
        return Optional.ofNullable(getCause());
    }

    /** Explains, for the log, which dependency failed and how. */
    public static final class DependencyFailure extends RuntimeException {
        public DependencyFailure(String detail, Throwable cause) {
            super(detail, cause);
        }
    }
}
