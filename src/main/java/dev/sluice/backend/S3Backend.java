package dev.sluice.backend;

import dev.sluice.s3.ByteRange;
import dev.sluice.s3.MultipartChecksum;
import dev.sluice.s3.ObjectClaims;
import dev.sluice.s3.ObjectSummary;
import dev.sluice.s3.Preconditions;
import dev.sluice.s3.S3Exception;
import dev.sluice.s3.XmlReader;
import dev.sluice.sigv4.AwsCredentials;
import dev.sluice.sigv4.RequestSigner;
import dev.sluice.sigv4.SigV4;
import dev.sluice.s3.UriEncoding;
import dev.sluice.time.Ticker;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.io.Content;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A product stored in a bucket (plus optional key prefix) of any S3-compatible endpoint,
 * addressed path-style.
 *
 * <p>Requests are signed with SigV4 over the path exactly as sent: the key is percent-encoded
 * once with S3's rules and that same string is both the wire path and the canonical URI.
 * Bodies stream through without being held whole. Every request has a deadline for the
 * response head ({@code timeout}) and an idle timeout while the body streams.
 *
 * <p>Only headers that describe the object are passed back to the client; the backend's
 * request ids and host details stay in sluice's log.
 *
 * <p>A read is one request: {@link #open} sends a GET (a HEAD when no bytes are wanted) with the
 * Range to fetch and the ETag conditions, and the object's metadata comes from the response head
 * (its size from {@code Content-Range}'s total on a 206, from {@code Content-Length} otherwise).
 * What the client is answered is then {@link dev.sluice.s3.ReadDecision}'s, as for every backend,
 * which is how sluice answers as S3 does where S3-compatible servers differ from S3. ETag
 * conditions go to the server, which answers 304 or 412 without sending the body (a 304 becomes
 * metadata without a size, which the decision answers with 304; see {@link S3ObjectReply}). Date conditions are not sent:
 * the decision judges them at whole seconds against the Last-Modified the client was shown,
 * where a server that keeps sub-second times (S3Proxy's filesystem store) would answer 200 to
 * {@code If-Modified-Since} carrying the object's own Last-Modified, and 412 to the same
 * {@code If-Unmodified-Since}. An ETag condition naming {@code *} is not sent either: S3
 * answers {@code If-None-Match: *} on an existing object with 304 and lets {@code If-Match: *}
 * through, while S3Proxy served the first and refused the second with 412. A GET whose answer
 * sends no bytes is aborted after the response head. A HEAD's Range is not sent: S3 honours
 * Range on HEAD, but S3-compatible servers may not (S3Proxy answers 200 with the whole length),
 * so the decision answers it from the size.
 *
 * <p>Writes are each one request too, made by {@link S3ObjectWrites} (PutObject, DeleteObject,
 * CopyObject) and {@link S3MultipartUploads}, with bodies streamed by {@link S3UploadSender}
 * ({@code docs/writes.md}, "S3 backend"). They share this class's signing, addressing and
 * error mapping ({@link #failure}).
 */
public final class S3Backend implements Backend {
    private static final int MAX_LIST_BYTES = 16 * 1024 * 1024;
    /** The most of a write's or multipart call's answer read: a ListParts or ListMultipartUploads page of 1,000 is far less. */
    static final int MAX_REPLY_BYTES = 4 * 1024 * 1024;
    /**
     * How long a copy or a CompleteMultipartUpload, which the backend does itself, may take in
     * all: S3 may hold the answer for minutes, sending spaces to keep the connection open, so
     * the per-request {@code timeout} bounds only the silences.
     */
    static final Duration SERVER_SIDE_LIMIT = Duration.ofMinutes(15);

    private final HttpClient http;
    private final URI endpoint;
    private final String bucket;
    private final String prefix;
    private final BackendCredentials credentials;
    private final RequestSigner signer;
    private final InstantSource clock;
    private final Ticker ticker;
    private final Duration timeout;
    private final String host;
    private final S3ObjectWrites writes;
    private final S3MultipartUploads uploads;
    private final boolean checksumTrailers;

    public S3Backend(HttpClient http, URI endpoint, String region, String bucket, String prefix,
                     BackendCredentials credentials, InstantSource clock, Ticker ticker, Duration timeout) {
        this(http, endpoint, region, bucket, prefix, credentials, clock, ticker, timeout,
                BackendSpec.S3.takesChecksumTrailers(endpoint));
    }

    /** With {@code checksumTrailers}: whether a PutObject may send a checksum as a trailer ({@link BackendSpec.S3}). */
    S3Backend(HttpClient http, URI endpoint, String region, String bucket, String prefix, BackendCredentials credentials,
              InstantSource clock, Ticker ticker, Duration timeout, boolean checksumTrailers) {
        this.checksumTrailers = checksumTrailers;
        this.http = http;
        this.endpoint = endpoint;
        this.bucket = bucket;
        this.prefix = prefix;
        this.credentials = credentials;
        this.signer = new RequestSigner(region, "s3");
        this.clock = clock;
        this.ticker = ticker;
        this.timeout = timeout;
        this.host = hostHeader(endpoint);
        this.writes = new S3ObjectWrites(this);
        this.uploads = new S3MultipartUploads(this, writes);
    }

    /** Whether a PutObject whose checksum comes after its body sends it to this store as a trailer. */
    boolean takesChecksumTrailers() {
        return checksumTrailers;
    }

    /** The server computes each object's and part's ETag: the body's MD5 is not needed here. */
    @Override
    public boolean needsBodyMd5() {
        return false;
    }

    @Override
    public String describe() {
        return "s3:" + endpoint + "/" + bucket + "/" + prefix;
    }

    @Override
    public StoredObject open(String key, Fetch fetch) {
        Read read = read(key, fetch, credentials.current());
        ResponseHead head = ResponseHead.await(read.request(), timeout, describe(), read.what(), Optional.empty());
        if (read.found(head)) {
            return read.object(head);
        }
        throw read.refused(head, fetch.headOnly() ? new byte[0] : head.errorBody(timeout));
    }

    /**
     * Always: a read whose credentials are in memory (none, keys from the configuration, or a
     * web identity role's the credential tier holds) is sent without waiting, and one whose
     * credentials may need an exchange is made on a virtual thread of its own.
     */
    @Override
    public boolean opensWithoutWaiting() {
        return true;
    }

    /**
     * {@link #open}, answered on the thread that reads the response: the request is sent from
     * the caller's thread, which does not wait, and the deadline is the backend's timeout for
     * the response head and a small body together. A 200 or 206 of at most {@code bodyMax} bytes
     * comes with its body read into memory, so the caller can send it without waiting; a larger
     * one streams as from {@link #open}.
     */
    @Override
    public CompletableFuture<StoredObject> openWithoutWaiting(String key, Fetch fetch, int bodyMax) {
        Optional<BackendCredentials.Now> now = credentials.withoutWaiting();
        if (now.isEmpty()) {
            // Getting the credentials may wait on an exchange: the whole read waits elsewhere.
            return CompletableFuture.supplyAsync(() -> open(key, fetch), OPENS_ELSEWHERE);
        }
        Read read = read(key, fetch, now.get().credentials());
        CompletableFuture<StoredObject> opened = BackendWaits.within(new CompletableFuture<>(), timeout);
        ResponseHead.send(read.request()).whenComplete((head, failure) -> {
            if (failure != null) {
                opened.completeExceptionally(failure);
                return;
            }
            try {
                if (!read.found(head)) {
                    Content.Source.asByteArrayAsync(fetch.headOnly() ? Content.Source.from(new ByteBuffer[0]) : head.body(), ResponseHead.MAX_ERROR_BYTES)
                            .whenComplete((body, unread) -> opened.completeExceptionally(
                                    read.refused(head, body != null ? body : new byte[0])));
                    return;
                }
                StreamedReply object = read.object(head);
                long small = fetch.headOnly() ? -1 : object.bodyLength();
                if (small < 0 || small > bodyMax) {
                    settle(opened, object);
                    return;
                }
                Content.Source.asByteArrayAsync(head.body(), (int) small).whenComplete((body, unread) -> {
                    try {
                        if (unread != null) {
                            object.close();
                            opened.completeExceptionally(unread);
                        } else {
                            settle(opened, object.holding(body));
                        }
                    } catch (RuntimeException e) {
                        opened.completeExceptionally(e);
                    }
                });
            } catch (RuntimeException e) {
                opened.completeExceptionally(e);
            }
        });
        return opened.handle((object, failure) -> {
            if (failure == null) {
                return object;
            }
            read.request().abort(failure);
            throw ResponseHead.unavailable(failure, timeout, describe(), read.what(), Optional.empty());
        });
    }

    /** Completes {@code opened} with {@code object}, or closes the object if its deadline passed first. */
    private static void settle(CompletableFuture<StoredObject> opened, StoredObject object) {
        if (!opened.complete(object)) {
            object.close();
        }
    }

    /** Where a read that may wait on its credentials is made when its caller may not wait: a virtual thread of its own. */
    private static final java.util.concurrent.Executor OPENS_ELSEWHERE =
            command -> Thread.ofVirtual().name("sluice-backend-open").start(command);

    /**
     * One read's request to the store, signed with {@code creds}, and how its answer is read,
     * for {@link #open} and {@link #openWithoutWaiting}.
     */
    private Read read(String key, Fetch fetch, Optional<AwsCredentials> creds) {
        String path = objectPath(key);
        List<Map.Entry<String, String>> conditional = new ArrayList<>();
        // Checksums the store kept with the object come back only when asked for (docs/writes.md, "S3 backend").
        conditional.add(Map.entry("x-amz-checksum-mode", "ENABLED"));
        fetch.range().ifPresent(spec -> conditional.add(Map.entry("range", rangeHeader(spec))));
        Preconditions p = fetch.conditions();
        p.ifMatch().filter(v -> !namesAnyTag(v)).ifPresent(v -> conditional.add(Map.entry("if-match", v)));
        p.ifNoneMatch().filter(v -> !namesAnyTag(v)).ifPresent(v -> conditional.add(Map.entry("if-none-match", v)));
        String method = fetch.headOnly() ? "HEAD" : "GET";
        return new Read(newRequest(method, path, "", conditional, SigV4.UNSIGNED_PAYLOAD, creds), fetch, method + " " + path);
    }

    private final class Read {
        private final Request request;
        private final Fetch fetch;
        private final String what;

        Read(Request request, Fetch fetch, String what) {
            this.request = request;
            this.fetch = fetch;
            this.what = what;
        }

        Request request() {
            return request;
        }

        String what() {
            return what;
        }

        /** Whether the store answered with the object (200, 206) or that it has not changed (304). */
        boolean found(ResponseHead head) {
            int status = head.response().getStatus();
            return status == 200 || status == 206 || status == 304;
        }

        /** The object a {@link #found} answer describes; its body is aborted unless a GET's bytes are wanted. */
        StreamedReply object(ResponseHead head) {
            Response response = head.response();
            if (response.getStatus() == 304 || fetch.headOnly()) {
                request.abort(new IOException("no body wanted"));
            }
            try {
                return S3ObjectReply.of(request, response, head.body(), describe() + ": " + what);
            } catch (S3Exception e) {
                request.abort(new IOException("unusable response head"));
                throw e;
            }
        }

        /** The error a store's other answer maps to, given {@code body}, as much of its body as was read. */
        S3Exception refused(ResponseHead head, byte[] body) {
            request.abort(new IOException("error body read"));
            return failure(head.response().getStatus(), body, head.response(), what);
        }
    }

    /**
     * One page of the listing. Directory entries are left out of a page (see
     * {@code parseListing}), so a server page may hold nothing sluice lists; such a page is
     * read past, within one deadline for the whole call, because an empty truncated page would
     * leave a ListObjects (V1) client without a key to resume after, and would make
     * {@code max-keys=0} claim the listing is complete.
     */
    @Override
    public ListPage list(ListQuery query) {
        long deadline = ticker.nanoTime() + timeout.toNanos();
        ListPosition position = query.position();
        while (true) {
            ListPage page = listOnce(query, position, deadline);
            boolean empty = page.objects().isEmpty() && page.commonPrefixes().isEmpty();
            if (empty && page.next().isPresent()) {
                position = page.next().get();
                continue;
            }
            if (query.maxKeys() == 0) {
                return new ListPage(List.of(), List.of(), empty ? Optional.empty() : Optional.of(query.position()));
            }
            return page;
        }
    }

    private ListPage listOnce(ListQuery query, ListPosition position, long deadline) {
        StringBuilder q = new StringBuilder();
        // Parameters in canonical (sorted) order so the wire query is its own canonical form.
        switch (position) {
            case ListPosition.Resume r -> q.append("continuation-token=").append(UriEncoding.encode(r.backendToken())).append('&');
            default -> { }
        }
        query.delimiter().ifPresent(d -> q.append("delimiter=").append(UriEncoding.encode(d)).append('&'));
        q.append("list-type=2&max-keys=").append(Math.max(1, query.maxKeys()));
        q.append("&prefix=").append(UriEncoding.encode(prefix + query.prefix()));
        if (position instanceof ListPosition.After a) {
            q.append("&start-after=").append(UriEncoding.encode(prefix + a.key()));
        }
        long remaining = TimeUnit.NANOSECONDS.toMillis(ticker.remainingNanos(deadline));
        if (remaining <= 0) {
            throw S3Exception.unavailable(describe() + ": listing found nothing to list within " + timeout, null);
        }
        Request request = newRequest("GET", basePath(), q.toString(), List.of());
        ContentResponse response = WholeReply.await(request, MAX_LIST_BYTES, remaining, timeout, describe(), "list " + q, Optional.empty());
        if (response.getStatus() != 200) {
            throw failure(response.getStatus(), response.getContent(), response, "list " + q);
        }
        return parseListing(response.getContent());
    }

    @Override
    public Written put(String key, Upload body, ObjectAttributes attributes, WriteCondition condition) {
        return writes.put(key, body, attributes, condition);
    }

    @Override
    public void delete(String key) {
        writes.delete(key);
    }

    @Override
    public Written copy(String sourceKey, String targetKey, Optional<ObjectAttributes> replaced, WriteCondition condition) {
        return writes.copy(sourceKey, targetKey, replaced, condition);
    }

    @Override
    public String startUpload(String key, ObjectAttributes attributes) {
        return uploads.start(key, attributes, Optional.empty());
    }

    @Override
    public String startUpload(String key, ObjectAttributes attributes, Optional<MultipartChecksum> checksum) {
        return uploads.start(key, attributes, checksum);
    }

    @Override
    public Written uploadPart(String key, String uploadId, int partNumber, Upload body) {
        return uploads.uploadPart(key, uploadId, partNumber, body);
    }

    @Override
    public Written completeUpload(String key, String uploadId, List<Multipart.PartRef> parts, WriteCondition condition) {
        return uploads.complete(key, uploadId, parts, ObjectClaims.NONE, condition);
    }

    @Override
    public Written completeUpload(String key, String uploadId, List<Multipart.PartRef> parts, ObjectClaims claims,
                                  WriteCondition condition) {
        return uploads.complete(key, uploadId, parts, claims, condition);
    }

    @Override
    public void abortUpload(String key, String uploadId) {
        uploads.abort(key, uploadId);
    }

    @Override
    public Multipart.PartsPage listParts(String key, String uploadId, int marker, int max) {
        return uploads.listParts(key, uploadId, marker, max);
    }

    @Override
    public Multipart.UploadsPage listUploads(String prefix, Optional<Multipart.InProgress> after, int max) {
        return uploads.listUploads(prefix, after, max);
    }

    /**
     * A request to this backend, signed over {@code signedExtra} (which it carries) and
     * {@code UNSIGNED-PAYLOAD}: a body is never part of the signature, so it streams as it arrives.
     */
    Request newRequest(String method, String path, String rawQuery, List<Map.Entry<String, String>> signedExtra) {
        return newRequest(method, path, rawQuery, signedExtra, SigV4.UNSIGNED_PAYLOAD);
    }

    /**
     * {@link #newRequest(String, String, String, List)} with the body's form named by
     * {@code payloadHash} ({@code UNSIGNED-PAYLOAD}, or {@code STREAMING-UNSIGNED-PAYLOAD-TRAILER}
     * for a body framed with a checksum trailer), sent even when the backend is anonymous.
     */
    Request newRequest(String method, String path, String rawQuery, List<Map.Entry<String, String>> signedExtra,
                       String payloadHash) {
        return newRequest(method, path, rawQuery, signedExtra, payloadHash, credentials.current());
    }

    /** {@link #newRequest(String, String, String, List, String)}, signed with {@code creds} (none: unsigned). */
    private Request newRequest(String method, String path, String rawQuery, List<Map.Entry<String, String>> signedExtra,
                               String payloadHash, Optional<AwsCredentials> creds) {
        String uri = endpoint.getScheme() + "://" + endpoint.getRawAuthority() + path + (rawQuery.isEmpty() ? "" : "?" + rawQuery);
        Request request = http.newRequest(URI.create(uri))
                .method(HttpMethod.fromString(method))
                .idleTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .followRedirects(false);
        List<Map.Entry<String, String>> headers = new ArrayList<>(signedExtra);
        if (creds.isPresent()) {
            headers.addAll(signer.sign(method, host, path, rawQuery, signedExtra, payloadHash, creds.get(), clock.instant()));
        } else if (!payloadHash.equals(SigV4.UNSIGNED_PAYLOAD)) {
            headers.add(Map.entry("x-amz-content-sha256", payloadHash));
        }
        request.headers(h -> {
            h.remove("Accept-Encoding");
            for (var e : headers) {
                h.put(e.getKey(), e.getValue());
            }
        });
        if (headers.stream().noneMatch(h -> h.getKey().equalsIgnoreCase("Content-Type"))) {
            // The HTTP client gives a body without a type its default type; a write without one
            // stores none (the store then answers its own default, as S3 does for the client).
            request.onRequestBegin(r -> r.headers(h -> h.remove(HttpHeader.CONTENT_TYPE)));
        }
        return request;
    }

    /** The path of {@code key} (relative to the product) on the wire and in the signature. */
    String objectPath(String key) {
        return basePath() + "/" + UriEncoding.encodePath(prefix + key);
    }

    /** {@code key} as {@code x-amz-copy-source} names it: {@code /bucket/prefix+key}, encoded as a path. */
    String copySource(String key) {
        return "/" + UriEncoding.encode(bucket) + "/" + UriEncoding.encodePath(prefix + key);
    }

    /** The bucket's path, where its listings are asked for. */
    String basePath() {
        String base = endpoint.getRawPath() == null ? "" : endpoint.getRawPath();
        if (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        return base + "/" + UriEncoding.encode(bucket);
    }

    /** Whether an {@code If-Match}/{@code If-None-Match} value lists {@code *}, which stands for any ETag. */
    private static boolean namesAnyTag(String header) {
        for (String candidate : header.split(",")) {
            if (candidate.trim().equals("*")) {
                return true;
            }
        }
        return false;
    }

    /** The key prefix every key of this product sits under in the bucket. */
    String prefix() {
        return prefix;
    }

    /** How long a request may wait for an answer, and a body may sit idle. */
    Duration timeout() {
        return timeout;
    }

    /** Maps a backend error to the client's S3 error ({@link S3BackendErrors}). */
    S3Exception failure(int status, byte[] body, Response response, String what) {
        return S3BackendErrors.failure(describe(), status, body, response, what);
    }

    private static String rangeHeader(ByteRange.Spec spec) {
        return switch (spec) {
            case ByteRange.FromTo f -> "bytes=" + f.first() + "-" + f.last().map(String::valueOf).orElse("");
            case ByteRange.Suffix s -> "bytes=-" + s.length();
        };
    }

    static String hostHeader(URI endpoint) {
        int port = endpoint.getPort();
        boolean defaultPort = port == -1
                || (port == 80 && "http".equalsIgnoreCase(endpoint.getScheme()))
                || (port == 443 && "https".equalsIgnoreCase(endpoint.getScheme()));
        return defaultPort ? endpoint.getHost() : endpoint.getHost() + ":" + port;
    }

    private ListPage parseListing(byte[] body) {
        try {
            return parseListingDocument(body);
        } catch (NumberFormatException | DateTimeParseException e) {
            // What the backend sent is wrong, not sluice: a backend failure, as for any other bad reply.
            throw S3Exception.unavailable(describe() + ": listing has an entry whose Size or LastModified does not parse", e);
        }
    }

    private ListPage parseListingDocument(byte[] body) {
        Element root = XmlReader.parse(body)
                .orElseThrow(() -> S3Exception.unavailable(describe() + ": listing response is not XML", null))
                .getDocumentElement();
        List<ObjectSummary> objects = new ArrayList<>();
        List<String> prefixes = new ArrayList<>();
        Optional<String> nextToken = Optional.empty();
        boolean truncated = false;
        for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (!(n instanceof Element e)) {
                continue;
            }
            switch (e.getLocalName()) {
                case "Contents" -> {
                    String key = XmlReader.text(e, "Key").orElse("");
                    if (!key.startsWith(prefix)) {
                        continue;
                    }
                    long size = Long.parseLong(XmlReader.text(e, "Size").orElse("0"));
                    String rel = key.substring(prefix.length());
                    // A key ending in '/' names a directory, never an object: a marker object, or a
                    // directory that a filesystem-backed server (S3Proxy's filesystem store) lists
                    // with the directory's own size. It is left out; with a delimiter the server
                    // reports it as a common prefix, which is how clients see directories.
                    if (rel.isEmpty() || rel.endsWith("/")) {
                        continue;
                    }
                    Instant modified = XmlReader.text(e, "LastModified").map(Instant::parse).orElse(Instant.EPOCH);
                    objects.add(new ObjectSummary(rel, size, modified, XmlReader.text(e, "ETag").orElse("\"\"")));
                }
                case "CommonPrefixes" -> XmlReader.text(e, "Prefix")
                        .filter(p -> p.startsWith(prefix) && p.length() > prefix.length())
                        .ifPresent(p -> prefixes.add(p.substring(prefix.length())));
                case "IsTruncated" -> truncated = Boolean.parseBoolean(e.getTextContent().trim());
                case "NextContinuationToken" -> nextToken = Optional.of(e.getTextContent());
                default -> { }
            }
        }
        Optional<ListPosition> next = truncated ? nextToken.map(ListPosition.Resume::new) : Optional.empty();
        if (truncated && next.isEmpty()) {
            throw S3Exception.unavailable(describe() + ": truncated listing without a continuation token", null);
        }
        return new ListPage(objects, prefixes, next.map(p -> (ListPosition) p));
    }
}
