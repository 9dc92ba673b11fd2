package dev.sluice.backend;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A successful read: 200, 206 or 304, the headers to send, and the body for a GET.
 * Failures are not responses; they are thrown as S3 errors.
 */
public record ObjectResponse(int status, List<Map.Entry<String, String>> headers, Optional<ObjectBody> body) {
}
