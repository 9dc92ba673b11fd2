package dev.sluice.backend;

import dev.sluice.s3.MultipartChecksum;
import dev.sluice.s3.ObjectClaims;
import dev.sluice.s3.S3Exception;
import dev.sluice.s3.UriEncoding;
import dev.sluice.s3.XmlReader;
import dev.sluice.sigv4.SigV4;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.Request;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Multipart uploads on an {@link S3Backend}'s bucket, each call one request to the backend's
 * own multipart API ({@code docs/writes.md}, "S3 backend"): the backend keeps the parts and
 * the upload's state, so any sluice instance can continue an upload another one started, and
 * the object appears only when the backend completes it. Keys go out under the product's
 * prefix and come back without it.
 *
 * <p>Parts stream like a PutObject ({@link S3UploadSender}). A client's multipart checksum
 * (algorithm and type) is passed on to a backend that takes checksum trailers, since most
 * clients send a part's checksum after its bytes; when the backend answers that it started
 * the upload with it, the store's id says so ({@link S3UploadId}), and each part must carry
 * that checksum, which goes on with it (header as header, trailer as a trailer of sluice's),
 * as do the parts' checksums and the object's claims on completion. S3 refuses a part's
 * checksum on an upload started without one, so on any other upload a part's checksum is not
 * sent on; the body decoder has checked it all the same.
 */
final class S3MultipartUploads {
    /**
     * S3's page size for both listings, which a request need not name. Parameters at their
     * default are left out: S3-compatible servers implement less of these listings than S3
     * (S3Proxy 3.0 answers 501 to {@code max-uploads}, {@code key-marker},
     * {@code upload-id-marker} and a {@code part-number-marker}, and ignores {@code max-parts}),
     * so a first page at the default size works on them all.
     */
    private static final int DEFAULT_PAGE = 1000;
    private final S3Backend backend;
    private final S3ObjectWrites writes;

    S3MultipartUploads(S3Backend backend, S3ObjectWrites writes) {
        this.backend = backend;
        this.writes = writes;
    }

    /**
     * Starts an upload; {@code checksum} goes on to a backend that takes checksum trailers, and
     * the id says it when the backend answers that it started the upload with it.
     */
    String start(String key, ObjectAttributes attributes, Optional<MultipartChecksum> checksum) {
        String path = backend.objectPath(key);
        Optional<MultipartChecksum> asked = checksum.filter(c -> backend.takesChecksumTrailers());
        List<Map.Entry<String, String>> headers = new ArrayList<>(attributes.headers());
        asked.ifPresent(c -> {
            headers.add(Map.entry("x-amz-checksum-algorithm", c.algorithm().toUpperCase(Locale.ROOT)));
            headers.add(Map.entry("x-amz-checksum-type", c.type()));
        });
        Request request = backend.newRequest("POST", path, "uploads", headers)
                .body(new BytesRequestContent((String) null, new byte[0])); // Content-Length: 0, no Content-Type of its own
        S3Reply reply = answer(request, "start an upload of " + path);
        Element result = writes.result(reply, "InitiateMultipartUploadResult", "start an upload of " + path);
        String backendId = XmlReader.text(result, "UploadId").map(String::trim).filter(id -> !id.isEmpty())
                .orElseThrow(() -> S3Exception.unavailable(backend.describe() + ": no UploadId for " + path, null));
        // S3 answers the algorithm it started the upload with; a server that ignores it (S3Proxy 3.0) does not.
        Optional<MultipartChecksum> kept = asked.filter(c -> reply.header("x-amz-checksum-algorithm")
                .filter(a -> a.strip().equalsIgnoreCase(c.algorithm())).isPresent());
        return new S3UploadId(backendId, kept).storeId();
    }

    Written uploadPart(String key, String uploadId, int partNumber, Upload body) {
        S3UploadId id = S3UploadId.parse(uploadId);
        String path = backend.objectPath(key);
        String query = "partNumber=" + partNumber + "&uploadId=" + UriEncoding.encode(id.backendId());
        String what = "part " + partNumber + " of " + path;
        List<Map.Entry<String, String>> headers = new ArrayList<>(1);
        Optional<Upload.PendingChecksum> trailer = Optional.empty();
        if (id.checksum().isPresent()) {
            MultipartChecksum checksum = id.checksum().get();
            List<String> carried = new ArrayList<>();
            body.checksums().forEach(c -> carried.add(c.getKey().toLowerCase(Locale.ROOT)));
            body.pendingChecksum().ifPresent(p -> carried.add(p.headerName().toLowerCase(Locale.ROOT)));
            checksum.checkCarried(carried);
            body.checksums().stream().filter(c -> c.getKey().equalsIgnoreCase(checksum.headerName()))
                    .forEach(c -> headers.add(Map.entry(checksum.headerName(), c.getValue())));
            if (headers.isEmpty()) {
                trailer = body.pendingChecksum();
            }
        }
        Request request = trailer.isPresent()
                ? backend.newRequest("PUT", path, query, S3UploadSender.framingHeaders(headers, body.length(), trailer.get()),
                        SigV4.STREAMING_UNSIGNED_PAYLOAD_TRAILER)
                : backend.newRequest("PUT", path, query, headers);
        S3Reply reply = S3UploadSender.send(request, body, trailer, backend.timeout(), backend.describe() + ": " + what);
        return writes.written(reply, body, what);
    }

    /**
     * Completes an upload. One started with a checksum lists each part's checksum, as S3
     * requires, and sends the client's claims about the object on for the backend to judge the
     * values; what S3 would refuse as the client's mistake (a composite upload's part listed
     * without its checksum, a claim of another algorithm or type) is refused here first, since
     * the backend's {@code InvalidRequest} is answered as its own failure.
     */
    Written complete(String key, String uploadId, List<Multipart.PartRef> parts, ObjectClaims claims, WriteCondition condition) {
        S3UploadId id = S3UploadId.parse(uploadId);
        Optional<MultipartChecksum> checksum = id.checksum();
        checksum.ifPresent(c -> {
            claims.checkAgainst(checksum);
            parts.forEach(p -> c.checkListed(p.partNumber(), p.checksums()));
        });
        writes.checkCondition(key, condition);
        String path = backend.objectPath(key);
        StringBuilder xml = new StringBuilder(64 + parts.size() * 96).append("<CompleteMultipartUpload>");
        for (Multipart.PartRef part : parts) {
            xml.append("<Part><PartNumber>").append(part.partNumber()).append("</PartNumber><ETag>")
                    .append(escape(part.etag())).append("</ETag>");
            checksum.ifPresent(c -> Optional.ofNullable(part.checksums().get(c.headerName())).ifPresent(v -> {
                String element = MultipartChecksum.element(c.algorithm());
                xml.append('<').append(element).append('>').append(escape(v)).append("</").append(element).append('>');
            }));
            xml.append("</Part>");
        }
        xml.append("</CompleteMultipartUpload>");
        List<Map.Entry<String, String>> headers = new ArrayList<>(S3ObjectWrites.conditionHeaders(condition));
        headers.add(Map.entry("content-type", "application/xml"));
        if (checksum.isPresent()) {
            claims.checksum().ifPresent(c -> headers.add(Map.entry(c.headerName(), c.value())));
            claims.type().ifPresent(t -> headers.add(Map.entry("x-amz-checksum-type", t)));
            claims.size().ifPresent(n -> headers.add(Map.entry("x-amz-mp-object-size", Long.toString(n))));
        }
        Request request = backend.newRequest("POST", path, "uploadId=" + UriEncoding.encode(id.backendId()), headers)
                .body(new BytesRequestContent("application/xml", xml.toString().getBytes(StandardCharsets.UTF_8)));
        String what = "complete the upload of " + path;
        S3Reply reply = S3Reply.await(S3Reply.send(request, S3Backend.MAX_REPLY_BYTES), request, S3Backend.SERVER_SIDE_LIMIT,
                backend.describe() + ": " + what);
        Element result = writes.result(reply, "CompleteMultipartUploadResult", what);
        String etag = XmlReader.text(result, "ETag").map(String::trim).filter(t -> !t.isEmpty())
                .orElseThrow(() -> S3Exception.unavailable(backend.describe() + ": " + what + ": no ETag", null));
        return new Written(etag, listedChecksums(result, true));
    }

    void abort(String key, String uploadId) {
        String path = backend.objectPath(key);
        Request request = backend.newRequest("DELETE", path, "uploadId=" + UriEncoding.encode(S3UploadId.parse(uploadId).backendId()),
                List.of());
        S3Reply reply = answer(request, "abort the upload of " + path);
        if (reply.status() / 100 != 2) {
            throw backend.failure(reply.status(), reply.body(), reply.response().orElseThrow(), "abort the upload of " + path);
        }
    }

    Multipart.PartsPage listParts(String key, String uploadId, int marker, int max) {
        String path = backend.objectPath(key);
        StringBuilder query = new StringBuilder();
        if (max < DEFAULT_PAGE) {
            query.append("max-parts=").append(max).append('&');
        }
        if (marker > 0) {
            query.append("part-number-marker=").append(marker).append('&');
        }
        query.append("uploadId=").append(UriEncoding.encode(S3UploadId.parse(uploadId).backendId()));
        String what = "list the parts of " + path;
        Element result = writes.result(answer(backend.newRequest("GET", path, query.toString(), List.of()), what),
                "ListPartsResult", what);
        List<Multipart.Part> parts = new ArrayList<>();
        boolean truncated = false;
        Optional<Integer> next = Optional.empty();
        try {
            for (Element e : children(result)) {
                switch (e.getLocalName()) {
                    case "Part" -> parts.add(new Multipart.Part(
                            Integer.parseInt(XmlReader.text(e, "PartNumber").orElse("").trim()),
                            XmlReader.text(e, "ETag").orElse("").trim(),
                            Long.parseLong(XmlReader.text(e, "Size").orElse("").trim()),
                            XmlReader.text(e, "LastModified").map(t -> Instant.parse(t.trim())).orElse(Instant.EPOCH),
                            listedChecksums(e, false)));
                    case "IsTruncated" -> truncated = Boolean.parseBoolean(e.getTextContent().trim());
                    case "NextPartNumberMarker" -> next = Optional.of(Integer.parseInt(e.getTextContent().trim()));
                    default -> { }
                }
            }
        } catch (NumberFormatException | DateTimeParseException e) {
            throw S3Exception.unavailable(backend.describe() + ": " + what + ": a part that does not parse", e);
        }
        // A server that ignores max-parts (S3Proxy 3.0) sends every part: the page is cut here.
        parts.removeIf(p -> p.partNumber() <= marker);
        if (parts.size() > max) {
            parts.subList(max, parts.size()).clear();
            truncated = true;
            next = Optional.empty();
        }
        if (truncated && next.isEmpty() && !parts.isEmpty()) {
            next = Optional.of(parts.getLast().partNumber());
        }
        return new Multipart.PartsPage(parts, truncated ? next : Optional.empty(), listedChecksum(result));
    }

    /**
     * The checksums an element lists ({@code ChecksumCRC32} as {@code x-amz-checksum-crc32}),
     * and with {@code withType} its {@code ChecksumType}, as a store's answer names them.
     */
    private static List<Map.Entry<String, String>> listedChecksums(Element element, boolean withType) {
        List<Map.Entry<String, String>> checksums = new ArrayList<>(2);
        for (String algorithm : MultipartChecksum.ALGORITHMS) {
            String name = "x-amz-checksum-" + algorithm;
            XmlReader.text(element, MultipartChecksum.element(algorithm)).map(String::strip).filter(v -> !v.isEmpty())
                    .ifPresent(v -> checksums.add(Map.entry(name, v)));
        }
        if (withType && !checksums.isEmpty()) {
            XmlReader.text(element, "ChecksumType").map(String::strip).filter(v -> !v.isEmpty())
                    .ifPresent(t -> checksums.add(Map.entry("x-amz-checksum-type", t)));
        }
        return checksums;
    }

    /**
     * The checksum an {@code Upload} of the backend's listing names; none where it names none
     * or one S3 does not know, which the listing shows as no checksum rather than fail on.
     */
    private static Optional<MultipartChecksum> listedChecksum(Element upload) {
        Map<String, Optional<String>> named = Map.of(
                "x-amz-checksum-algorithm", XmlReader.text(upload, "ChecksumAlgorithm").filter(v -> !v.isBlank()),
                "x-amz-checksum-type", XmlReader.text(upload, "ChecksumType").filter(v -> !v.isBlank()));
        try {
            return MultipartChecksum.of(named::get);
        } catch (S3Exception unknown) {
            return Optional.empty();
        }
    }

    Multipart.UploadsPage listUploads(String prefix, Optional<Multipart.InProgress> after, int max) {
        String own = backend.prefix();
        StringBuilder query = new StringBuilder();
        after.ifPresent(a -> query.append("key-marker=").append(UriEncoding.encode(own + a.key())).append('&'));
        if (max < DEFAULT_PAGE) {
            query.append("max-uploads=").append(max).append('&');
        }
        query.append("prefix=").append(UriEncoding.encode(own + prefix));
        after.ifPresent(a -> query.append("&upload-id-marker=").append(UriEncoding.encode(S3UploadId.parse(a.uploadId()).backendId())));
        query.append("&uploads");
        String what = "list the uploads under " + own + prefix;
        Element result = writes.result(answer(backend.newRequest("GET", backend.basePath(), query.toString(), List.of()), what),
                "ListMultipartUploadsResult", what);
        List<Multipart.InProgress> uploads = new ArrayList<>();
        boolean truncated = false;
        Optional<String> nextKey = Optional.empty();
        Optional<String> nextId = Optional.empty();
        try {
            for (Element e : children(result)) {
                switch (e.getLocalName()) {
                    case "Upload" -> {
                        String key = XmlReader.text(e, "Key").orElse("");
                        if (key.startsWith(own)) {
                            // The id CreateMultipartUpload gave, from what S3 lists of the upload.
                            Optional<MultipartChecksum> checksum = listedChecksum(e);
                            String id = new S3UploadId(XmlReader.text(e, "UploadId").orElse("").trim(), checksum).storeId();
                            uploads.add(new Multipart.InProgress(key.substring(own.length()), id,
                                    XmlReader.text(e, "Initiated").map(t -> Instant.parse(t.trim())).orElse(Instant.EPOCH),
                                    checksum));
                        }
                    }
                    case "IsTruncated" -> truncated = Boolean.parseBoolean(e.getTextContent().trim());
                    case "NextKeyMarker" -> nextKey = Optional.of(e.getTextContent()).filter(k -> !k.isEmpty());
                    case "NextUploadIdMarker" -> nextId = Optional.of(e.getTextContent().trim()).filter(k -> !k.isEmpty());
                    default -> { }
                }
            }
        } catch (DateTimeParseException e) {
            throw S3Exception.unavailable(backend.describe() + ": " + what + ": an upload whose Initiated does not parse", e);
        }
        Optional<Multipart.InProgress> next = Optional.empty();
        if (uploads.size() > max) { // a server that ignores max-uploads
            uploads.subList(max, uploads.size()).clear();
            truncated = true;
            nextKey = Optional.empty();
        }
        if (truncated) {
            Optional<Multipart.InProgress> last = uploads.isEmpty() ? Optional.empty() : Optional.of(uploads.getLast());
            if (nextKey.isPresent() && nextKey.get().startsWith(own) && nextId.isPresent()) {
                String k = nextKey.get().substring(own.length());
                String id = nextId.get();
                next = Optional.of(last.filter(u -> u.key().equals(k) && u.uploadId().equals(id))
                        .orElse(new Multipart.InProgress(k, id, Instant.EPOCH)));
            } else {
                next = last;
            }
            if (next.isEmpty()) {
                throw S3Exception.unavailable(backend.describe() + ": " + what + ": truncated without a marker", null);
            }
        }
        return new Multipart.UploadsPage(uploads, next);
    }

    private S3Reply answer(Request request, String what) {
        return S3Reply.await(S3Reply.send(request, S3Backend.MAX_REPLY_BYTES), request, backend.timeout(),
                backend.describe() + ": " + what);
    }

    private static List<Element> children(Element parent) {
        List<Element> out = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e) {
                out.add(e);
            }
        }
        return out;
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
