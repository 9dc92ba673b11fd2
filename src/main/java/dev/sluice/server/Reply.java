package dev.sluice.server;

import dev.sluice.backend.ObjectResponse;
import dev.sluice.s3.S3Exception;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * What a route answers a request with, as an immutable value: each route of {@link S3Handler}
 * (preflight, OIDC documents, {@code /.sts}, each S3 operation) returns one, {@link ReplyWriter}
 * is the one place that sends it, and {@link S3Handler} the one place that logs and counts what
 * was sent. Earlier revisions let each route write to the response and fill in the log entry
 * by hand; routes drifted apart, and errors of one route went uncounted.
 */
sealed interface Reply {

    /** What the access log says about the request, whatever the reply. */
    Facts facts();

    /**
     * A reply whose body is small and in memory (S3 XML, JSON, an STS document), or has none.
     *
     * @param errorCode the code of an error answered in a shape other than the S3 error
     *     document (STS errors, which STS clients parse), so that it is counted like any other
     */
    record Small(Facts facts, int status, List<Map.Entry<String, String>> headers, Optional<String> body,
                 Optional<String> errorCode) implements Reply {
        Small(Facts facts, int status, List<Map.Entry<String, String>> headers, Optional<String> body) {
            this(facts, status, headers, body, Optional.empty());
        }
    }

    /** An object read: status, headers and body as the read path answered them, streamed. */
    record Read(Facts facts, ObjectResponse object) implements Reply {
    }

    /** An S3 error, sent as the S3 XML error document. */
    record Failure(Facts facts, S3Exception error) implements Reply {
    }

    /**
     * A CompleteMultipartUpload or CopyObject still being made by its store: {@code outcome} is its reply, a
     * {@link Small} document or a {@link Failure}, when the store is done. Sent as S3 sends it
     * ({@link ReplyWriter}): as that reply when it comes quickly, else a {@code 200} whose body
     * keeps the connection alive until the document or the error follows.
     */
    record Completing(Facts facts, CompletableFuture<Reply> outcome) implements Reply {
    }

    /**
     * A reply a store is still making, for a request started on a thread that may not wait
     * (docs/operations.md, "Threads"): {@code reply} completes with it, on the thread that reads
     * the store's answer, and is sent from there. Only {@link S3Handler}'s start without waiting
     * makes one and settles it; {@link ReplyWriter} never sees one.
     */
    record Pending(Facts facts, CompletableFuture<Reply> reply) implements Reply {
    }

    /** Nothing can be sent: the client's connection failed before the reply was ready. */
    record Abandoned(Facts facts, IOException cause) implements Reply {
    }

    /**
     * The request as the access log names it: the operation, and what is known of the
     * resource and the caller when the reply was made.
     */
    record Facts(String operation, Optional<String> account, Optional<String> product, Optional<String> key,
                 Optional<String> principal) {

        static Facts of(String operation) {
            return new Facts(operation, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
        }

        Facts withPrincipal(String principal) {
            return new Facts(operation, account, product, key, Optional.of(principal));
        }

        Facts withResource(Optional<String> account, Optional<String> product, Optional<String> key) {
            return new Facts(operation, account, product, key, principal);
        }
    }
}
