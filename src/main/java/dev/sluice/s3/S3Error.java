package dev.sluice.s3;

/**
 * The S3 error codes sluice answers with, each with its HTTP status and the generic message
 * a client sees. 5xx messages are deliberately generic: the detail goes to the log, never to
 * the client (docs/behaviour.md, "Errors").
 */
public enum S3Error {
    NO_SUCH_KEY("NoSuchKey", 404, "The specified key does not exist."),
    NO_SUCH_BUCKET("NoSuchBucket", 404, "The specified bucket does not exist."),
    ACCESS_DENIED("AccessDenied", 403, "Access Denied"),
    SIGNATURE_DOES_NOT_MATCH("SignatureDoesNotMatch", 403,
            "The request signature we calculated does not match the signature you provided."),
    EXPIRED_TOKEN("ExpiredToken", 403, "The provided token has expired."),
    INVALID_TOKEN("InvalidToken", 403, "The provided token is malformed or otherwise invalid."),
    INVALID_ACCESS_KEY_ID("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records."),
    REQUEST_TIME_TOO_SKEWED("RequestTimeTooSkewed", 403,
            "The difference between the request time and the current time is too large."),
    AUTHORIZATION_HEADER_MALFORMED("AuthorizationHeaderMalformed", 400, "The authorization header is malformed."),
    AUTHORIZATION_QUERY_PARAMETERS_ERROR("AuthorizationQueryParametersError", 400,
            "The query parameters that provide authentication information are malformed."),
    CONTENT_SHA256_MISMATCH("XAmzContentSHA256Mismatch", 400,
            "The provided 'x-amz-content-sha256' header does not match what was computed."),
    INVALID_REQUEST("InvalidRequest", 400, "Invalid Request"),
    INVALID_ARGUMENT("InvalidArgument", 400, "Invalid Argument"),
    KEY_TOO_LONG("KeyTooLongError", 400, "Your key is too long."),
    REQUEST_HEADER_SECTION_TOO_LARGE("RequestHeaderSectionTooLarge", 400,
            "Your request header section exceeds the maximum allowed size."),
    MAX_MESSAGE_LENGTH_EXCEEDED("MaxMessageLengthExceeded", 400, "Your request was too big."),
    REQUEST_TIMEOUT("RequestTimeout", 400,
            "Your socket connection to the server was not read from or written to within the timeout period."),
    INVALID_RANGE("InvalidRange", 416, "The requested range is not satisfiable"),
    INVALID_PART_NUMBER("InvalidPartNumber", 416, "The requested partnumber is not satisfiable"),
    PRECONDITION_FAILED("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold"),
    METHOD_NOT_ALLOWED("MethodNotAllowed", 405, "The specified method is not allowed against this resource."),
    NOT_IMPLEMENTED("NotImplemented", 501, "A header or operation you provided implies functionality that is not implemented."),
    // Writes (docs/writes.md): the codes and statuses S3 answers.
    BAD_DIGEST("BadDigest", 400, "The Content-MD5 or checksum you specified did not match what we received."),
    INVALID_DIGEST("InvalidDigest", 400, "The Content-MD5 or checksum you specified is not valid."),
    INCOMPLETE_BODY("IncompleteBody", 400, "You did not provide the number of bytes specified by the Content-Length HTTP header."),
    INVALID_CHUNK_SIZE("InvalidChunkSizeError", 400, "Only the last chunk is allowed to have a size less than 8192 bytes"),
    MALFORMED_TRAILER("MalformedTrailerError", 400,
            "The request contained trailing data that was not well-formed or did not conform to our published schema."),
    MISSING_CONTENT_LENGTH("MissingContentLength", 411, "You must provide the Content-Length HTTP header."),
    ENTITY_TOO_LARGE("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size."),
    ENTITY_TOO_SMALL("EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed object size."),
    NO_SUCH_UPLOAD("NoSuchUpload", 404,
            "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."),
    INVALID_PART("InvalidPart", 400,
            "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag."),
    INVALID_PART_ORDER("InvalidPartOrder", 400, "The list of parts was not in ascending order. Parts must be ordered by part number."),
    MALFORMED_XML("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema."),
    BUCKET_ALREADY_OWNED_BY_YOU("BucketAlreadyOwnedByYou", 409,
            "Your previous request to create the named bucket succeeded and you already own it."),
    OPERATION_ABORTED("OperationAborted", 409, "A conflicting conditional operation is currently in progress against this resource. Try again."),
    CONDITIONAL_REQUEST_CONFLICT("ConditionalRequestConflict", 409,
            "A conflicting operation occurred. If using PutObject you can retry the request."),
    BACKEND_AUTHENTICATION_FAILED("BackendAuthenticationFailed", 502,
            "The proxy could not obtain credentials for the backend storage."),
    SERVICE_UNAVAILABLE("ServiceUnavailable", 503, "Service is unable to handle request, please retry."),
    SLOW_DOWN("SlowDown", 503, "Please reduce your request rate."),
    HTTP_VERSION_NOT_SUPPORTED("HttpVersionNotSupported", 505, "The HTTP version of the request is not supported."),
    INTERNAL_ERROR("InternalError", 500, "We encountered an internal error. Please try again.");

    private final String code;
    private final int status;
    private final String defaultMessage;

    S3Error(String code, int status, String defaultMessage) {
        this.code = code;
        this.status = status;
        this.defaultMessage = defaultMessage;
    }

    public String code() {
        return code;
    }

    public int status() {
        return status;
    }

    public String defaultMessage() {
        return defaultMessage;
    }

    /** Server-side failures whose client message must stay generic and which carry Retry-After. */
    public boolean isRetryable() {
        return status == 503;
    }
}
