package dev.sluice.auth;

import java.util.Optional;

/**
 * What the STS endpoint answers: an HTTP status, a content type and an XML body, and for an
 * error its STS error code, which the front end counts and logs as it does an S3 error's.
 */
public record StsReply(int status, String contentType, String body, Optional<String> errorCode) {
}
