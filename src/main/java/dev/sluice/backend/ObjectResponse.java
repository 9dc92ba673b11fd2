package dev.sluice.backend;

import dev.sluice.s3.ReadDecision;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A successful read: 200, 206 or 304, the headers to send, and the body for a GET.
 * Failures are not responses; they are thrown as S3 errors.
 */
public record ObjectResponse(int status, List<Map.Entry<String, String>> headers, Optional<ObjectBody> body) {

    /**
     * Reads an object from {@code backend}, the same way for every backend: open it (one
     * request to a remote store), let {@link ReadDecision} decide the answer from its metadata,
     * and take the decided bytes; an object whose bytes are not sent is closed unread.
     */
    public static ObjectResponse read(Backend backend, ObjectRead read) {
        try (StoredObject object = backend.open(read.key(), Fetch.of(read.request()))) {
            ReadDecision.Answer answer = ReadDecision.decide(read.request(), object.meta());
            return new ObjectResponse(answer.status(), answer.headers(), answer.bytes().map(object::body));
        }
    }
}
