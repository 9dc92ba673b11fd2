package dev.sluice.backend;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.s3.XmlReader;
import dev.sluice.sigv4.SigV4;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.http.HttpField;
import org.w3c.dom.Element;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * PutObject, DeleteObject and CopyObject on an {@link S3Backend}'s bucket, each one request to
 * the backend ({@code docs/writes.md}, "S3 backend").
 *
 * <p>An object is whole or absent because the backend makes it so: a PUT's body streams with
 * its {@code Content-Length} and is aborted short of it when a check fails
 * ({@link S3UploadSender}), and a copy happens inside the backend.
 *
 * <p>A {@link WriteCondition} is sent as {@code If-None-Match: *} or {@code If-Match}, which S3
 * applies atomically with the write; it is also checked first with a HEAD, because
 * S3-compatible servers differ: S3Proxy 3.0 honours both on PutObject but ignores them on
 * CopyObject and CompleteMultipartUpload, where without the HEAD a create-only copy would
 * replace an object. Where the backend ignores the header, a write racing this one between
 * the HEAD and the write can still be replaced; where it honours it, as S3 does, the race is
 * the backend's to settle ({@code 412}, or {@code 409 ConditionalRequestConflict}).
 */
final class S3ObjectWrites {
    /** The checksums a PutObject sends the backend as a trailer of its own when they come after the body. */
    private static final Set<String> FORWARDED_TRAILERS = Set.of("x-amz-checksum-crc32", "x-amz-checksum-crc32c");
    private final S3Backend backend;

    S3ObjectWrites(S3Backend backend) {
        this.backend = backend;
    }

    Written put(String key, Upload body, ObjectAttributes attributes, WriteCondition condition) {
        checkCondition(key, condition);
        String path = backend.objectPath(key);
        List<Map.Entry<String, String>> headers = new ArrayList<>(attributes.headers());
        // The backend checks and keeps the client's checksum too: one sent as a header goes as
        // that header; one known only after the body (a trailer's) goes as a trailer of sluice's.
        headers.addAll(body.checksums());
        headers.addAll(conditionHeaders(condition));
        // Only to a store that takes the form, and only the CRCs current SDKs send by default
        // (S3Proxy 3.0 answers a SHA-1, SHA-256 or CRC64NVME trailer 400); S3 computes a
        // CRC64NVME of its own for an object sent without a checksum.
        Optional<Upload.PendingChecksum> trailer = backend.takesChecksumTrailers()
                ? body.pendingChecksum().filter(c -> FORWARDED_TRAILERS.contains(c.headerName()))
                : Optional.empty();
        Request request = trailer.isPresent()
                ? backend.newRequest("PUT", path, "", S3UploadSender.framingHeaders(headers, body.length(), trailer.get()),
                        SigV4.STREAMING_UNSIGNED_PAYLOAD_TRAILER)
                : backend.newRequest("PUT", path, "", headers);
        String what = backend.describe() + ": PUT " + path;
        S3Reply reply = S3UploadSender.send(request, body, trailer, backend.timeout(), what);
        return written(reply, body, "PUT " + path);
    }

    void delete(String key) {
        String path = backend.objectPath(key);
        Request request = backend.newRequest("DELETE", path, "", List.of());
        S3Reply reply = S3Reply.await(S3Reply.send(request, S3Backend.MAX_REPLY_BYTES), request, backend.timeout(),
                backend.describe() + ": DELETE " + path);
        // S3 answers 204 whether or not the key existed; some servers say 404 NoSuchKey instead.
        if (reply.status() / 100 == 2 || (reply.status() == 404 && S3BackendErrors.errorCode(reply.body()).equals(Optional.of("NoSuchKey")))) {
            return;
        }
        throw backend.failure(reply.status(), reply.body(), reply.response().orElseThrow(), "DELETE " + path);
    }

    /**
     * One CopyObject. S3 may answer 200 and then, should the copy fail, an error document
     * instead of the result (it sends the head early to keep a long copy's connection open);
     * that is read as the error it names.
     */
    Written copy(String sourceKey, String targetKey, Optional<ObjectAttributes> replaced, WriteCondition condition) {
        checkCondition(targetKey, condition);
        String path = backend.objectPath(targetKey);
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        headers.add(Map.entry("x-amz-copy-source", backend.copySource(sourceKey)));
        headers.add(Map.entry("x-amz-metadata-directive", replaced.isPresent() ? "REPLACE" : "COPY"));
        replaced.ifPresent(a -> headers.addAll(a.headers()));
        headers.addAll(conditionHeaders(condition));
        Request request = backend.newRequest("PUT", path, "", headers);
        String what = backend.describe() + ": copy to " + path;
        S3Reply reply = S3Reply.await(S3Reply.send(request, S3Backend.MAX_REPLY_BYTES), request, S3Backend.SERVER_SIDE_LIMIT, what);
        Element result = result(reply, "CopyObjectResult", "copy to " + path);
        String etag = XmlReader.text(result, "ETag").map(String::trim).filter(t -> !t.isEmpty())
                .orElseThrow(() -> S3Exception.unavailable(what + ": CopyObjectResult without an ETag", null));
        return new Written(etag);
    }

    /** The document element of a successful answer named {@code expected}; the mapped error otherwise. */
    Element result(S3Reply reply, String expected, String what) {
        if (reply.status() != 200) {
            throw backend.failure(reply.status(), reply.body(), reply.response().orElseThrow(), what);
        }
        if (reply.failure().isPresent()) {
            throw S3Exception.unavailable(backend.describe() + ": " + what + ": answer cut short", reply.failure().get());
        }
        byte[] document = reply.document();
        Element root = XmlReader.parse(document).map(d -> d.getDocumentElement())
                .orElseThrow(() -> S3Exception.unavailable(backend.describe() + ": " + what + ": answer is not XML", null));
        if (root.getLocalName().equals("Error")) {
            // A 200 whose body says the operation failed: judged by its code, as any error.
            throw backend.failure(500, document, reply.response().orElseThrow(), what + " (200 with an error document)");
        }
        if (!root.getLocalName().equals(expected)) {
            throw S3Exception.unavailable(backend.describe() + ": " + what + ": answered " + root.getLocalName()
                    + ", not " + expected, null);
        }
        return root;
    }

    /** A PUT's or an UploadPart's answer: the backend's ETag, and the checksums it says it stored. */
    Written written(S3Reply reply, Upload body, String what) {
        if (reply.status() != 200) {
            throw backend.failure(reply.status(), reply.body(), reply.response().orElseThrow(), what);
        }
        // S3 answers every stored object and part with its ETag, which a client needs to complete
        // a multipart upload; a server that sends none cannot be written through.
        String etag = reply.header("ETag").filter(t -> !t.isBlank())
                .orElseThrow(() -> S3Exception.unavailable(backend.describe() + ": " + what + " answered without an ETag", null));
        List<Map.Entry<String, String>> checksums = new ArrayList<>();
        for (HttpField f : reply.response().orElseThrow().getHeaders()) {
            String name = f.getName().toLowerCase(Locale.ROOT);
            if (name.startsWith("x-amz-checksum-") && !name.equals("x-amz-checksum-type")) {
                checksums.add(Map.entry(name, f.getValue()));
            }
        }
        return new Written(etag, checksums);
    }

    /**
     * Refuses, before anything is sent, a write whose condition the object under {@code key}
     * already fails: an existing object for create-only ({@code 412}), a missing one for
     * {@code If-Match} ({@code 404 NoSuchKey}, as S3 answers), another ETag ({@code 412}).
     */
    void checkCondition(String key, WriteCondition condition) {
        if (!condition.createOnly() && condition.ifMatch().isEmpty()) {
            return;
        }
        String path = backend.objectPath(key);
        Request request = backend.newRequest("HEAD", path, "", List.of());
        S3Reply reply = S3Reply.await(S3Reply.send(request, S3Backend.MAX_REPLY_BYTES), request, backend.timeout(),
                backend.describe() + ": HEAD " + path);
        Optional<String> etag;
        if (reply.status() == 200) {
            etag = reply.header("ETag");
        } else if (reply.status() == 404) {
            etag = Optional.empty();
        } else {
            throw backend.failure(reply.status(), reply.body(), reply.response().orElseThrow(), "HEAD " + path);
        }
        if (condition.createOnly() && etag.isPresent()) {
            throw new S3Exception(S3Error.PRECONDITION_FAILED);
        }
        if (condition.ifMatch().isPresent()) {
            if (etag.isEmpty()) {
                throw new S3Exception(S3Error.NO_SUCH_KEY);
            }
            if (!sameTag(condition.ifMatch().get(), etag.get())) {
                throw new S3Exception(S3Error.PRECONDITION_FAILED);
            }
        }
    }

    static List<Map.Entry<String, String>> conditionHeaders(WriteCondition condition) {
        List<Map.Entry<String, String>> headers = new ArrayList<>(1);
        if (condition.createOnly()) {
            headers.add(Map.entry("if-none-match", "*"));
        }
        condition.ifMatch().ifPresent(tag -> headers.add(Map.entry("if-match", tag)));
        return headers;
    }

    /** Whether an {@code If-Match} value names {@code etag}: one tag, quoted or not, or {@code *} for any. */
    private static boolean sameTag(String ifMatch, String etag) {
        String bare = unquote(etag);
        for (String candidate : ifMatch.split(",")) {
            String c = candidate.trim();
            if (c.equals("*") || unquote(c).equals(bare)) {
                return true;
            }
        }
        return false;
    }

    private static String unquote(String tag) {
        String t = tag.trim();
        if (t.startsWith("W/")) {
            t = t.substring(2);
        }
        return t.length() >= 2 && t.startsWith("\"") && t.endsWith("\"") ? t.substring(1, t.length() - 1) : t;
    }
}
