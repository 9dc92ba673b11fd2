package dev.sluice.backend;

import dev.sluice.s3.ReadDecision;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

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
        return answer(backend.open(read.key(), Fetch.of(read.request())), read);
    }

    /**
     * {@link #read} for a backend that {@link Backend#opensWithoutWaiting}: the caller does not
     * wait, the answer is decided on the thread that reads the store's response, and a body of
     * at most {@code bodyMax} bytes is in memory by then.
     */
    public static CompletableFuture<ObjectResponse> readWithoutWaiting(Backend backend, ObjectRead read, int bodyMax) {
        return backend.openWithoutWaiting(read.key(), Fetch.of(read.request()), bodyMax).thenApply(object -> answer(object, read));
    }

    private static ObjectResponse answer(StoredObject opened, ObjectRead read) {
        try (StoredObject object = opened) {
            ReadDecision.Answer answer = ReadDecision.decide(read.request(), object.meta());
            return new ObjectResponse(answer.status(), answer.headers(), answer.bytes().map(object::body));
        }
    }
}
