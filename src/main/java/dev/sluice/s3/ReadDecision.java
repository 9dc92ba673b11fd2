package dev.sluice.s3;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What a GET or HEAD of an object answers, decided from the request (conditions, range, part
 * number, overrides) and what the store says about the object ({@link ObjectMeta}): 200, 206
 * or 304 with the exact headers and the bytes to send, or 412 {@code PreconditionFailed},
 * 416 {@code InvalidRange} or 416 {@code InvalidPartNumber} thrown as {@link S3Exception}.
 * Pure: no I/O, no clock. Every backend's reads go through it, so a backend only fetches
 * metadata and bytes and S3's read semantics exist once (docs/architecture.md).
 *
 * <p>The order, as S3 and RFC 9110 §13.2.2 evaluate it:
 * <ol>
 *   <li>the conditions ({@link Preconditions}): a failed {@code If-Match} or
 *       {@code If-Unmodified-Since} is 412;</li>
 *   <li>a part number other than 1 is {@code 416 InvalidPartNumber}: every object is served as
 *       one part, and the object is known to exist by now;</li>
 *   <li>a matching {@code If-None-Match} or an {@code If-Modified-Since} the object was not
 *       modified after is 304, with only the validators and caching headers (RFC 9110
 *       §15.4.5); so is an object whose store already answered 304 (size unknown);</li>
 *   <li>a range is resolved against the size: 206 with {@code Content-Range}, or
 *       {@code 416 InvalidRange} with {@code Content-Range: bytes *}{@code /size}; a HEAD
 *       answers the same status and headers as the GET would, without bytes;
 *       {@code partNumber=1} is the whole object as 206 ({@code bytes 0-(size-1)/size}), or
 *       200 for an empty object, which has no byte range;</li>
 *   <li>{@code response-*} overrides replace the stored headers of a 200 or 206.</li>
 * </ol>
 * Stored checksums ({@code x-amz-checksum-*}) are sent only as S3 sends them: to a request with
 * {@code x-amz-checksum-mode: ENABLED} for the whole object (no range, no part number), since
 * they describe the whole object and a client that did not ask may not expect them.
 * A store that does not give both an ETag and a Last-Modified cannot have conditions judged
 * against it: its own answer stands.
 */
public final class ReadDecision {
    /** Stored checksums, sent only when asked for (see the class doc). */
    private static final String CHECKSUM_PREFIX = "x-amz-checksum-";
    /** The headers a 304 keeps of the stored ones (RFC 9110 §15.4.5): caching, nothing about a body. */
    private static final Set<String> KEPT_BY_NOT_MODIFIED = Set.of("cache-control", "expires");

    private ReadDecision() {
    }

    /**
     * What a GetObject or HeadObject asks of an object, apart from which one.
     *
     * @param partNumber   present for {@code ?partNumber=n}, never together with a range
     * @param checksumMode {@code x-amz-checksum-mode: ENABLED}: send the stored checksums of a whole object
     */
    public record Request(Optional<ByteRange.Spec> range, Optional<Integer> partNumber, Preconditions preconditions,
                          boolean headOnly, ResponseOverrides overrides, boolean checksumMode) {

        public Request(Optional<ByteRange.Spec> range, Optional<Integer> partNumber, Preconditions preconditions,
                       boolean headOnly, ResponseOverrides overrides) {
            this(range, partNumber, preconditions, headOnly, overrides, false);
        }

        public static Request of(Operation.ReadObject op) {
            return new Request(op.range(), op.partNumber(), op.preconditions(), op.headOnly(), op.overrides(), op.checksumMode());
        }

        /** Whether the answer can carry no bytes whatever the object: a HEAD, or a part that does not exist. */
        public boolean wantsNoBytes() {
            return headOnly || partNumber.filter(n -> n != 1).isPresent();
        }
    }

    /**
     * The decided answer: status 200, 206 or 304, the headers in the order to send them, and
     * for a GET that sends bytes the range of the object to send (all of it for a 200: for an
     * empty object {@code 0..-1}, which has length 0).
     */
    public record Answer(int status, List<Map.Entry<String, String>> headers, Optional<ByteRange> bytes) {
        public Answer {
            headers = List.copyOf(headers);
        }
    }

    /** The answer to {@code request} for the object {@code object} describes; throws the S3 errors listed above. */
    public static Answer decide(Request request, ObjectMeta object) {
        Preconditions.Outcome outcome = object.etag().isPresent() && object.lastModified().isPresent()
                ? request.preconditions().evaluate(object.etags(), object.lastModified().get())
                : Preconditions.Outcome.PROCEED;
        Preconditions.throwIfFailed(outcome);
        if (request.partNumber().filter(n -> n != 1).isPresent()) {
            throw new S3Exception(S3Error.INVALID_PART_NUMBER);
        }
        if (outcome == Preconditions.Outcome.NOT_MODIFIED || object.size().isEmpty()) {
            return new Answer(304, notModifiedHeaders(object), Optional.empty());
        }
        long size = object.size().getAsLong();
        Optional<ByteRange> range;
        if (request.partNumber().isPresent()) {
            range = size == 0 ? Optional.empty() : Optional.of(new ByteRange(0, size - 1));
        } else {
            range = request.range().map(spec -> spec.resolve(size));
        }
        ByteRange sent = range.orElse(new ByteRange(0, size - 1));

        List<Map.Entry<String, String>> headers = validators(object);
        headers.add(Map.entry("Accept-Ranges", "bytes"));
        headers.add(Map.entry("Content-Length", Long.toString(sent.length())));
        range.ifPresent(r -> headers.add(Map.entry("Content-Range", r.contentRange(size))));
        boolean checksums = request.checksumMode() && request.range().isEmpty() && request.partNumber().isEmpty();
        for (Map.Entry<String, String> h : object.stored()) {
            boolean checksum = h.getKey().regionMatches(true, 0, CHECKSUM_PREFIX, 0, CHECKSUM_PREFIX.length());
            if (!overridden(h.getKey(), request.overrides()) && (!checksum || checksums)) {
                headers.add(h);
            }
        }
        headers.addAll(request.overrides().headers());
        return new Answer(range.isPresent() ? 206 : 200, headers, request.headOnly() ? Optional.empty() : Optional.of(sent));
    }

    private static List<Map.Entry<String, String>> notModifiedHeaders(ObjectMeta object) {
        List<Map.Entry<String, String>> headers = validators(object);
        for (Map.Entry<String, String> h : object.stored()) {
            if (KEPT_BY_NOT_MODIFIED.contains(h.getKey().toLowerCase(Locale.ROOT))) {
                headers.add(h);
            }
        }
        return headers;
    }

    private static List<Map.Entry<String, String>> validators(ObjectMeta object) {
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        object.etag().ifPresent(etag -> headers.add(Map.entry("ETag", etag)));
        object.lastModified().ifPresent(modified -> headers.add(Map.entry("Last-Modified", HttpDate.format(modified))));
        return headers;
    }

    private static boolean overridden(String header, ResponseOverrides overrides) {
        for (Map.Entry<String, String> o : overrides.headers()) { // almost always none: a loop, not a stream per header
            if (o.getKey().equalsIgnoreCase(header)) {
                return true;
            }
        }
        return false;
    }
}
