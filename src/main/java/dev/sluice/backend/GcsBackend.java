package dev.sluice.backend;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.backend.GcsBackendErrors.Target;
import dev.sluice.s3.ByteRange;
import dev.sluice.s3.S3Exception;
import dev.sluice.s3.UriEncoding;
import dev.sluice.time.Ticker;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.http.HttpMethod;

import java.io.IOException;
import java.net.URI;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A product stored in a GCS bucket (plus optional object name prefix), read through the Cloud
 * Storage JSON API ({@code docs/gcs.md}): it gives listings with common prefixes and each
 * object's MD5 (S3's ETag) in one structured reply, and takes the same bearer tokens as the
 * XML API without an HMAC key.
 *
 * <p>A read is the object's resource ({@code GET .../o/{name}}), from which its metadata comes
 * ({@link GcsObjectResource}); a HEAD, or a GET the decision answers without bytes (304, 412,
 * 416), ends there. The bytes are a second request, {@code alt=media} with the decided
 * {@code Range} and {@code ifGenerationMatch} of the generation the metadata described, so
 * the bytes sent are always those of the object the headers describe (an object rewritten in
 * between fails the read, 503, and the client retries). The media response's headers are not
 * enough to answer from alone: the JSON API reference does not promise custom metadata or the
 * MD5 (the ETag) there. {@code Accept-Encoding: gzip} is sent so GCS serves gzip-encoded
 * objects as stored, honouring the Range, instead of decompressing them.
 *
 * <p>Listings are sluice's own: GCS pages (names in UTF-8 byte order, the order of S3 and of
 * {@link KeyOrder}) are read into a {@link Listings.Builder}, and a page resumes after its last
 * entry with GCS's {@code startOffset}, so sluice's continuation tokens never carry GCS's.
 *
 * <p>Every request carries the bucket's authorization ({@link GcsAuth}): none, or a bearer
 * token from {@link AccessTokens} taken afresh for each request, never logged. Each wait is
 * bounded by the backend's {@code timeout}: a response head, a whole metadata or listing reply
 * (a listing's pages share one deadline), and each silence while bytes stream.
 */
public final class GcsBackend implements Backend {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** An object resource is a few KiB (custom metadata is at most 8 KiB). */
    private static final int MAX_RESOURCE_BYTES = 1024 * 1024;
    /** A listing page of 1,000 resources is far less. */
    private static final int MAX_LIST_BYTES = 16 * 1024 * 1024;
    /** The most a GCS listing page holds. */
    private static final int MAX_RESULTS = 1000;

    private final HttpClient http;
    private final BackendSpec.Gcs spec;
    private final AccessTokens tokens;
    private final Ticker ticker;
    private final String base;

    public GcsBackend(HttpClient http, BackendSpec.Gcs spec, AccessTokens tokens, InstantSource clock, Ticker ticker) {
        this.http = http;
        this.spec = spec;
        this.tokens = tokens;
        this.ticker = ticker;
        String path = spec.endpoint().getRawPath() == null ? "" : spec.endpoint().getRawPath();
        this.base = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    }

    @Override
    public String describe() {
        return "gcs:" + spec.endpoint() + "/" + spec.bucket() + "/" + spec.prefix();
    }

    @Override
    public StoredObject open(String key, Fetch fetch) {
        String name = spec.prefix() + key;
        String path = objectPath(name);
        JsonNode resource = json(path, "", ticker.nanoTime() + spec.timeout().toNanos(), MAX_RESOURCE_BYTES, Target.OBJECT,
                "get " + name);
        GcsObjectResource object;
        try {
            object = GcsObjectResource.of(resource);
        } catch (IllegalArgumentException e) {
            throw S3Exception.unavailable(describe() + ": get " + name + " answered an unusable object resource", e);
        }
        return new GcsObject(object);
    }

    /** The object as its resource described it; its bytes are fetched when the decision asks for them. */
    private final class GcsObject implements StoredObject {
        private final GcsObjectResource object;

        GcsObject(GcsObjectResource object) {
            this.object = object;
        }

        @Override
        public dev.sluice.s3.ObjectMeta meta() {
            return object.meta();
        }

        @Override
        public ObjectBody body(ByteRange range) {
            return media(object, range);
        }

        @Override
        public void close() {
        }
    }

    private ObjectBody media(GcsObjectResource object, ByteRange range) {
        if (range.length() <= 0) {
            return StreamedReply.noBytes();
        }
        String what = "get the media of " + object.name() + " bytes " + range.first() + "-" + range.last();
        Request request = newRequest(objectPath(object.name()), "alt=media&ifGenerationMatch=" + object.generation())
                .headers(h -> h.put("Range", "bytes=" + range.first() + "-" + range.last()).put("Accept-Encoding", "gzip"));
        ResponseHead head = ResponseHead.await(request, spec.timeout(), describe(), what, Optional.empty());
        Response response = head.response();
        int status = response.getStatus();
        if (status == 200 || status == 206) {
            String contentRange = response.getHeaders().get("Content-Range");
            String length = response.getHeaders().get("Content-Length");
            boolean rangeMatches = status == 206
                    ? range.contentRange(object.size()).equals(contentRange)
                    : range.first() == 0 && range.last() == object.size() - 1;
            if (!rangeMatches || length == null || !length.trim().equals(Long.toString(range.length()))) {
                request.abort(new IOException("unusable media response"));
                throw S3Exception.unavailable(describe() + ": " + what + " answered " + status + " with Content-Range "
                        + contentRange + " and Content-Length " + length, null);
            }
            return StreamedReply.body(request, head.body());
        }
        byte[] body = head.errorBody(spec.timeout());
        request.abort(new IOException("error body read"));
        throw GcsBackendErrors.failure(describe(), status, body, response, what, Target.OBJECT);
    }

    /**
     * One page of S3 listing from as many GCS pages as it takes to fill it (entries sluice does
     * not list, directory markers, may fill whole GCS pages), within one deadline.
     */
    @Override
    public ListPage list(ListQuery query) {
        long deadline = ticker.nanoTime() + spec.timeout().toNanos();
        Listings.Builder page = new Listings.Builder(query);
        Optional<String> after = switch (query.position()) {
            case ListPosition.Start s -> Optional.empty();
            case ListPosition.After a -> Optional.of(a.key());
            case ListPosition.Resume r -> Optional.of(r.backendToken());
        };
        String gcsPrefix = spec.prefix() + query.prefix();
        Optional<String> startOffset = after.map(a -> spec.prefix() + a).filter(s -> KeyOrder.compare(s, gcsPrefix) > 0);
        int maxResults = (int) Math.min(MAX_RESULTS, (long) query.maxKeys() + 1);
        Optional<String> pageToken = Optional.empty();
        while (true) {
            JsonNode reply = listCall(gcsPrefix, query.delimiter(), startOffset, pageToken, maxResults, deadline);
            for (Entry e : entries(reply)) {
                if (!e.name().startsWith(spec.prefix())) {
                    continue;
                }
                String rel = e.name().substring(spec.prefix().length());
                boolean more;
                if (e.resource().isPresent()) {
                    // A name ending in '/' is a directory marker, never an object, as on the s3 backend (docs/behaviour.md).
                    if (rel.isEmpty() || rel.endsWith("/") || page.excludes(rel)) {
                        continue;
                    }
                    GcsObjectResource object;
                    try {
                        object = GcsObjectResource.of(e.resource().get());
                    } catch (IllegalArgumentException ex) {
                        throw S3Exception.unavailable(describe() + ": listing has an unusable object resource", ex);
                    }
                    more = page.offerKey(rel, () -> object.summary(rel));
                } else {
                    if (!listable(page, query, rel, after, deadline)) {
                        continue;
                    }
                    more = page.offerCommonPrefix(rel);
                }
                if (!more) {
                    return page.build();
                }
            }
            Optional<String> next = text(reply, "nextPageToken");
            if (next.isEmpty()) {
                return page.build();
            }
            pageToken = next;
        }
    }

    /**
     * Whether a common prefix GCS reported is one S3 lists. GCS reports a prefix when a name
     * under it is at or after {@code startOffset}; when the position itself lies under the
     * prefix, the names there may all be at or before it, and a short look says whether any
     * is after it.
     */
    private boolean listable(Listings.Builder page, ListQuery query, String rel, Optional<String> after, long deadline) {
        if (after.isEmpty() || !after.get().startsWith(rel) || after.get().equals(rel)) {
            return !page.excludes(rel);
        }
        Optional<String> token = Optional.empty();
        while (true) {
            JsonNode reply = listCall(spec.prefix() + rel, Optional.empty(), Optional.of(spec.prefix() + after.get()), token, 10,
                    deadline);
            for (JsonNode item : reply.path("items")) {
                String name = item.path("name").asText("");
                if (name.startsWith(spec.prefix()) && !page.excludes(name.substring(spec.prefix().length()))) {
                    return true;
                }
            }
            token = text(reply, "nextPageToken");
            if (token.isEmpty()) {
                return false;
            }
        }
    }

    private JsonNode listCall(String prefix, Optional<String> delimiter, Optional<String> startOffset, Optional<String> pageToken,
                              int maxResults, long deadline) {
        StringBuilder q = new StringBuilder();
        delimiter.ifPresent(d -> q.append("delimiter=").append(UriEncoding.encode(d)).append('&'));
        q.append("maxResults=").append(maxResults);
        pageToken.ifPresent(t -> q.append("&pageToken=").append(UriEncoding.encode(t)));
        q.append("&prefix=").append(UriEncoding.encode(prefix));
        startOffset.ifPresent(s -> q.append("&startOffset=").append(UriEncoding.encode(s)));
        return json(bucketPath() + "/o", q.toString(), deadline, MAX_LIST_BYTES, Target.BUCKET, "list " + q);
    }

    /** An item (with its resource) or a common prefix of one GCS page, merged in name order. */
    private record Entry(String name, Optional<JsonNode> resource) {
    }

    private List<Entry> entries(JsonNode reply) {
        List<Entry> out = new ArrayList<>();
        Iterator<JsonNode> items = reply.path("items").iterator();
        Iterator<JsonNode> prefixes = reply.path("prefixes").iterator();
        JsonNode item = items.hasNext() ? items.next() : null;
        JsonNode prefix = prefixes.hasNext() ? prefixes.next() : null;
        while (item != null || prefix != null) {
            if (item != null && !item.path("name").isTextual() || prefix != null && !prefix.isTextual()) {
                throw S3Exception.unavailable(describe() + ": listing has an entry without a name", null);
            }
            boolean itemFirst = prefix == null || item != null && KeyOrder.compare(item.path("name").asText(), prefix.asText()) < 0;
            if (itemFirst) {
                out.add(new Entry(item.path("name").asText(), Optional.of(item)));
                item = items.hasNext() ? items.next() : null;
            } else {
                out.add(new Entry(prefix.asText(), Optional.empty()));
                prefix = prefixes.hasNext() ? prefixes.next() : null;
            }
        }
        return out;
    }

    /** A GET answered with a JSON document, read whole within {@code deadline}; any other answer is mapped to an S3 error. */
    private JsonNode json(String path, String rawQuery, long deadline, int maxBytes, Target target, String what) {
        long remaining = TimeUnit.NANOSECONDS.toMillis(ticker.remainingNanos(deadline));
        if (remaining <= 0) {
            throw S3Exception.unavailable(describe() + ": no time left within " + spec.timeout() + " to " + what, null);
        }
        Request request = newRequest(path, rawQuery);
        ContentResponse response = WholeReply.await(request, maxBytes, remaining, spec.timeout(), describe(), what, Optional.empty());
        if (response.getStatus() != 200) {
            throw GcsBackendErrors.failure(describe(), response.getStatus(), response.getContent(), response, what, target);
        }
        try {
            JsonNode doc = JSON.readTree(response.getContent());
            if (doc == null || !doc.isObject()) {
                throw new IOException("not a JSON object");
            }
            return doc;
        } catch (IOException e) {
            throw S3Exception.unavailable(describe() + ": " + what + " answered 200 with a body that is not a JSON object", e);
        }
    }

    /** A GET to this backend with the bucket's authorization; a token that cannot be had is the token tier's S3 error, unchanged. */
    private Request newRequest(String path, String rawQuery) {
        URI endpoint = spec.endpoint();
        String uri = endpoint.getScheme() + "://" + endpoint.getRawAuthority() + path + (rawQuery.isEmpty() ? "" : "?" + rawQuery);
        Optional<String> authorization = switch (spec.auth()) {
            case GcsAuth.Anonymous a -> Optional.empty();
            case GcsAuth.Token t -> Optional.of(tokens.token(t.grant()).authorization());
        };
        return http.newRequest(URI.create(uri))
                .method(HttpMethod.GET)
                .idleTimeout(spec.timeout().toMillis(), TimeUnit.MILLISECONDS)
                .followRedirects(false)
                .headers(h -> {
                    h.remove("Accept-Encoding");
                    authorization.ifPresent(v -> h.put("Authorization", v));
                });
    }

    /** {@code /storage/v1/b/{bucket}}, under the endpoint's path. */
    private String bucketPath() {
        return base + "/storage/v1/b/" + UriEncoding.encode(spec.bucket());
    }

    /** The object's path: its whole name is one path segment, {@code /} included as {@code %2F}. */
    private String objectPath(String name) {
        return bucketPath() + "/o/" + UriEncoding.encode(name);
    }

    private static Optional<String> text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || !v.isTextual() || v.asText().isEmpty() ? Optional.empty() : Optional.of(v.asText());
    }
}
