package dev.sluice.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;
import java.util.zip.GZIPInputStream;

/**
 * An in-memory server speaking the Cloud Storage JSON API (v1) the way GCS does, for the parts
 * a reader and its tests use: buckets (get, insert), objects insert ({@code uploadType=media}
 * and {@code multipart}), get (metadata, and {@code alt=media} with a single {@code Range},
 * 206/416 as GCS answers), list ({@code prefix}, {@code delimiter}, {@code startOffset},
 * {@code endOffset}, {@code pageToken}, {@code maxResults}; names in UTF-8 byte order) and
 * delete, with object resources as GCS gives them ({@code size} and {@code generation} as
 * strings, {@code md5Hash} and {@code crc32c} base64, RFC 3339 times) and errors in GCS's JSON
 * form. No emulator of GCS runs offline, so this one is kept honest by its own test, which
 * drives it with Google's official Java client.
 *
 * <p>Authorization: until {@link #requireTokens} it answers anyone (the client's tests and the
 * fixtures seed it that way). After, a request needs {@code Authorization: Bearer T} with T
 * accepted by the test's predicate: none (or not a bearer token) is 401, a token the predicate
 * refuses 403, as GCS answers a caller without the permission; reads of a {@link #makePublic
 * public} bucket need no token. Faults are injected on demand and every request is counted.
 */
public final class TestGcs implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DateTimeFormatter RFC3339 =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d*)-(\\d*)");
    /** GCS lists names in the order of their UTF-8 bytes. */
    private static final Comparator<String> NAME_ORDER = (a, b) ->
            Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));

    /** What the next request(s) get instead of their answer. */
    public enum Fault {
        NONE,
        /** No response head until {@link #release()} or {@link #close()}. */
        HANG,
        /** 429 rateLimitExceeded. */
        THROTTLE,
        /** 500 backendError. */
        INTERNAL_ERROR,
        /** 503 backendError. */
        UNAVAILABLE,
        /** 200 with a body that is not what the API answers. */
        GARBAGE
    }

    /** One stored object: {@code md5} empty for a composite object, which GCS gives no MD5. */
    public record StoredObject(String bucket, String name, byte[] bytes, long generation, long metageneration,
                               Optional<String> contentType, Optional<String> contentEncoding, Optional<String> cacheControl,
                               Optional<String> contentDisposition, Optional<String> contentLanguage,
                               Map<String, String> metadata, Optional<byte[]> md5, Instant created, Instant updated) {
    }

    /** What a test gives a {@link #put}: every attribute optional. */
    public record Attributes(Optional<String> contentType, Optional<String> contentEncoding, Optional<String> cacheControl,
                             Optional<String> contentDisposition, Optional<String> contentLanguage, Map<String, String> metadata,
                             boolean composite) {
        public static Attributes of(String contentType) {
            return new Attributes(Optional.ofNullable(contentType), Optional.empty(), Optional.empty(), Optional.empty(),
                    Optional.empty(), Map.of(), false);
        }
    }

    private record Bucket(String name, Instant created, ConcurrentSkipListMap<String, StoredObject> objects) {
    }

    private final Server server;
    private final ServerConnector connector;
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
    private final Map<String, Boolean> publicBuckets = new ConcurrentHashMap<>();
    private final AtomicReference<Predicate<String>> tokens = new AtomicReference<>();
    private final AtomicInteger requests = new AtomicInteger();
    private final List<String> authorizations = new CopyOnWriteArrayList<>();
    private final AtomicReference<Fault> fault = new AtomicReference<>(Fault.NONE);
    private final AtomicInteger faultRemaining = new AtomicInteger();
    private final CountDownLatch released = new CountDownLatch(1);
    private final AtomicLong lastGeneration = new AtomicLong();

    public TestGcs() throws Exception {
        server = new Server();
        HttpConfiguration http = new HttpConfiguration();
        // Object names travel as one path segment with '/' as %2F, which Jetty refuses by default.
        http.setUriCompliance(UriCompliance.UNSAFE);
        connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                TestGcs.this.handle(request, response, callback);
                return true;
            }
        });
        server.setStopTimeout(0);
        server.start();
    }

    /** {@code http://127.0.0.1:PORT}, the endpoint (client "host") without a trailing slash. */
    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + connector.getLocalPort());
    }

    public int port() {
        return connector.getLocalPort();
    }

    /** Creates {@code name} (nothing if it exists). */
    public TestGcs bucket(String name) {
        buckets.computeIfAbsent(name, n -> new Bucket(n, now(), new ConcurrentSkipListMap<>(NAME_ORDER)));
        return this;
    }

    /** Lets anyone read {@code bucket} ({@code allUsers} as {@code roles/storage.objectViewer}). */
    public TestGcs makePublic(String bucket) {
        publicBuckets.put(bucket, true);
        return this;
    }

    /** From now on every request but a public read needs a bearer token {@code accepted} admits. */
    public TestGcs requireTokens(Predicate<String> accepted) {
        tokens.set(accepted);
        return this;
    }

    /** Stores an object directly, as an upload would. */
    public StoredObject put(String bucket, String name, byte[] bytes, Attributes a) {
        Bucket b = Optional.ofNullable(buckets.get(bucket)).orElseThrow(() -> new IllegalArgumentException("no bucket " + bucket));
        return store(b, name, bytes, a);
    }

    public Optional<StoredObject> get(String bucket, String name) {
        return Optional.ofNullable(buckets.get(bucket)).map(b -> b.objects().get(name));
    }

    /** Every following request suffers {@code f}. */
    public void fault(Fault f) {
        fault(f, Integer.MAX_VALUE);
    }

    /** The next {@code times} requests suffer {@code f}. */
    public void fault(Fault f, int times) {
        faultRemaining.set(times);
        fault.set(f);
    }

    /** Lets hanging requests go (they fail without an answer). */
    public void release() {
        released.countDown();
    }

    /** Requests received so far, faulted ones included. */
    public int requests() {
        return requests.get();
    }

    /** The {@code Authorization} header of every request, {@code ""} where there was none, in order. */
    public List<String> authorizations() {
        return List.copyOf(authorizations);
    }

    @Override
    public void close() throws Exception {
        released.countDown();
        server.stop();
    }

    // ---------------------------------------------------------------- dispatch

    private void handle(Request request, Response response, Callback callback) throws Exception {
        requests.incrementAndGet();
        String authorization = Optional.ofNullable(request.getHeaders().get("Authorization")).orElse("");
        authorizations.add(authorization);
        switch (currentFault()) {
            case HANG -> {
                released.await(60, TimeUnit.SECONDS);
                callback.failed(new IOException("hung"));
                return;
            }
            case THROTTLE -> {
                error(response, callback, 429, "rateLimitExceeded", "The rate of change requests to the object is too high.");
                return;
            }
            case INTERNAL_ERROR -> {
                error(response, callback, 500, "backendError", "Backend Error");
                return;
            }
            case UNAVAILABLE -> {
                error(response, callback, 503, "backendError", "Service Unavailable");
                return;
            }
            case GARBAGE -> {
                response.setStatus(200);
                response.getHeaders().put("Content-Type", "application/json; charset=UTF-8");
                Content.Sink.write(response, true, "<html><body>upstream said something odd", callback);
                return;
            }
            default -> { }
        }
        List<String> path = segments(request.getHttpURI().getPath());
        Fields query = Request.extractQueryParameters(request, StandardCharsets.UTF_8);
        String method = request.getMethod();
        boolean media = false;
        if (path.size() >= 3 && path.get(0).equals("download")) {
            path = path.subList(1, path.size());
            media = true;
        }
        boolean upload = path.size() >= 1 && path.get(0).equals("upload");
        if (upload) {
            path = path.subList(1, path.size());
        }
        if (path.size() < 3 || !path.get(0).equals("storage") || !path.get(1).equals("v1") || !path.get(2).equals("b")) {
            error(response, callback, 404, "notFound", "Not Found");
            return;
        }
        List<String> rest = path.subList(3, path.size());
        boolean read = method.equals("GET") && rest.size() >= 1;
        if (!authorized(authorization, read && publicBuckets.containsKey(rest.get(0)), response, callback)) {
            return;
        }
        if (rest.isEmpty()) {
            if (method.equals("POST") && !upload) {
                insertBucket(request, response, callback);
            } else {
                error(response, callback, 400, "invalid", "Invalid request");
            }
            return;
        }
        String bucketName = rest.get(0);
        Bucket bucket = buckets.get(bucketName);
        if (bucket == null) {
            error(response, callback, 404, "notFound", "The specified bucket does not exist.");
            return;
        }
        if (rest.size() == 1) {
            if (method.equals("GET")) {
                json(response, callback, 200, bucketResource(bucket));
            } else {
                error(response, callback, 400, "invalid", "Invalid request");
            }
            return;
        }
        if (!rest.get(1).equals("o") || rest.size() > 3) {
            error(response, callback, 404, "notFound", "Not Found");
            return;
        }
        if (rest.size() == 2) {
            if (upload && method.equals("POST")) {
                insertObject(bucket, request, query, response, callback);
            } else if (method.equals("GET")) {
                list(bucket, query, response, callback);
            } else {
                error(response, callback, 400, "invalid", "Invalid request");
            }
            return;
        }
        String name = rest.get(2);
        StoredObject object = bucket.objects().get(name);
        if (object == null) {
            error(response, callback, 404, "notFound", "No such object: " + bucketName + "/" + name);
            return;
        }
        String ifGeneration = query.getValue("ifGenerationMatch");
        if (ifGeneration != null && !ifGeneration.equals(Long.toString(object.generation()))) {
            error(response, callback, 412, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.");
            return;
        }
        switch (method) {
            case "GET" -> {
                if (media || "media".equals(query.getValue("alt"))) {
                    media(object, request, response, callback);
                } else {
                    json(response, callback, 200, objectResource(object));
                }
            }
            case "DELETE" -> {
                bucket.objects().remove(name, object);
                response.setStatus(204);
                callback.succeeded();
            }
            default -> error(response, callback, 400, "invalid", "Invalid request");
        }
    }

    private boolean authorized(String authorization, boolean publicRead, Response response, Callback callback) {
        Predicate<String> accepted = tokens.get();
        if (accepted == null || publicRead) {
            return true;
        }
        if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7) || authorization.length() == 7) {
            response.getHeaders().put("WWW-Authenticate", "Bearer realm=\"https://accounts.google.com/\"");
            error(response, callback, 401, "required",
                    "Anonymous caller does not have storage.objects.get access to the Google Cloud Storage object.");
            return false;
        }
        if (!accepted.test(authorization.substring(7).trim())) {
            error(response, callback, 403, "forbidden",
                    "The caller does not have storage.objects.get access to the Google Cloud Storage object.");
            return false;
        }
        return true;
    }

    // ---------------------------------------------------------------- buckets

    private void insertBucket(Request request, Response response, Callback callback) throws IOException {
        JsonNode body = JSON.readTree(requestBody(request));
        String name = body.path("name").asText("");
        if (name.isEmpty()) {
            error(response, callback, 400, "required", "Required");
            return;
        }
        Bucket created = new Bucket(name, now(), new ConcurrentSkipListMap<>(NAME_ORDER));
        if (buckets.putIfAbsent(name, created) != null) {
            error(response, callback, 409, "conflict", "Your previous request to create the named bucket succeeded and you already own it.");
            return;
        }
        json(response, callback, 200, bucketResource(created));
    }

    private ObjectNode bucketResource(Bucket b) {
        ObjectNode n = JSON.createObjectNode();
        n.put("kind", "storage#bucket");
        n.put("id", b.name());
        n.put("selfLink", endpoint() + "/storage/v1/b/" + b.name());
        n.put("projectNumber", "123456789012");
        n.put("name", b.name());
        n.put("timeCreated", RFC3339.format(b.created()));
        n.put("updated", RFC3339.format(b.created()));
        n.put("metageneration", "1");
        n.put("location", "US");
        n.put("storageClass", "STANDARD");
        n.put("etag", "CAE=");
        return n;
    }

    // ---------------------------------------------------------------- objects

    private void insertObject(Bucket bucket, Request request, Fields query, Response response, Callback callback) throws IOException {
        String uploadType = Optional.ofNullable(query.getValue("uploadType")).orElse("");
        byte[] body = requestBody(request);
        String contentType = request.getHeaders().get("Content-Type");
        JsonNode meta = JSON.createObjectNode();
        byte[] bytes;
        switch (uploadType) {
            case "media" -> {
                bytes = body;
                ((ObjectNode) meta).put("contentType", contentType == null ? "application/octet-stream" : contentType);
            }
            case "multipart" -> {
                Optional<List<Part>> parts = multipart(contentType, body);
                if (parts.isEmpty() || parts.get().size() != 2) {
                    error(response, callback, 400, "invalid", "Multipart upload must have exactly two parts.");
                    return;
                }
                meta = JSON.readTree(parts.get().get(0).body());
                bytes = parts.get().get(1).body();
                if (!meta.hasNonNull("contentType")) {
                    ((ObjectNode) meta).put("contentType", parts.get().get(1).contentType().orElse("application/octet-stream"));
                }
            }
            default -> {
                error(response, callback, 400, "invalid", "Upload type " + uploadType + " is not supported here.");
                return;
            }
        }
        String name = query.getValue("name") != null ? query.getValue("name") : meta.path("name").asText("");
        if (name.isEmpty()) {
            error(response, callback, 400, "required", "Required");
            return;
        }
        if (meta.hasNonNull("md5Hash") && !meta.get("md5Hash").asText().equals(base64(md5(bytes)))) {
            error(response, callback, 400, "invalid", "Provided MD5 hash doesn't match calculated MD5 hash.");
            return;
        }
        if (meta.hasNonNull("crc32c") && !meta.get("crc32c").asText().equals(base64(crc32c(bytes)))) {
            error(response, callback, 400, "invalid", "Provided CRC32C doesn't match calculated CRC32C.");
            return;
        }
        String ifGeneration = query.getValue("ifGenerationMatch");
        StoredObject existing = bucket.objects().get(name);
        if (ifGeneration != null && !ifGeneration.equals(existing == null ? "0" : Long.toString(existing.generation()))) {
            error(response, callback, 412, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.");
            return;
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        meta.path("metadata").fields().forEachRemaining(e -> metadata.put(e.getKey(), e.getValue().asText()));
        Attributes a = new Attributes(text(meta, "contentType"), text(meta, "contentEncoding"), text(meta, "cacheControl"),
                text(meta, "contentDisposition"), text(meta, "contentLanguage"), metadata, false);
        json(response, callback, 200, objectResource(store(bucket, name, bytes, a)));
    }

    private StoredObject store(Bucket bucket, String name, byte[] bytes, Attributes a) {
        Instant at = now();
        long generation = lastGeneration.updateAndGet(last -> Math.max(last + 1, ChronoUnit.MICROS.between(Instant.EPOCH, at)));
        StoredObject o = new StoredObject(bucket.name(), name, bytes.clone(), generation, 1, a.contentType(), a.contentEncoding(),
                a.cacheControl(), a.contentDisposition(), a.contentLanguage(), Map.copyOf(a.metadata()),
                a.composite() ? Optional.empty() : Optional.of(md5(bytes)), at, at);
        bucket.objects().put(name, o);
        return o;
    }

    private ObjectNode objectResource(StoredObject o) {
        ObjectNode n = JSON.createObjectNode();
        String encodedName = encodeSegment(o.name());
        n.put("kind", "storage#object");
        n.put("id", o.bucket() + "/" + o.name() + "/" + o.generation());
        n.put("selfLink", endpoint() + "/storage/v1/b/" + o.bucket() + "/o/" + encodedName);
        n.put("mediaLink", endpoint() + "/download/storage/v1/b/" + o.bucket() + "/o/" + encodedName + "?generation="
                + o.generation() + "&alt=media");
        n.put("name", o.name());
        n.put("bucket", o.bucket());
        n.put("generation", Long.toString(o.generation()));
        n.put("metageneration", Long.toString(o.metageneration()));
        o.contentType().ifPresent(v -> n.put("contentType", v));
        n.put("storageClass", "STANDARD");
        n.put("size", Long.toString(o.bytes().length));
        o.md5().ifPresent(m -> n.put("md5Hash", base64(m)));
        o.contentEncoding().ifPresent(v -> n.put("contentEncoding", v));
        o.contentDisposition().ifPresent(v -> n.put("contentDisposition", v));
        o.contentLanguage().ifPresent(v -> n.put("contentLanguage", v));
        o.cacheControl().ifPresent(v -> n.put("cacheControl", v));
        n.put("crc32c", base64(crc32c(o.bytes())));
        if (o.md5().isEmpty()) {
            n.put("componentCount", 2);
        }
        n.put("etag", etag(o));
        n.put("timeCreated", RFC3339.format(o.created()));
        n.put("updated", RFC3339.format(o.updated()));
        n.put("timeStorageClassUpdated", RFC3339.format(o.created()));
        if (!o.metadata().isEmpty()) {
            ObjectNode m = n.putObject("metadata");
            o.metadata().forEach(m::put);
        }
        return n;
    }

    /** GCS's own etag: opaque base64, changing with the generation and the metageneration. */
    private static String etag(StoredObject o) {
        return base64(("g" + o.generation() + "m" + o.metageneration()).getBytes(StandardCharsets.UTF_8));
    }

    /** {@code alt=media}: the bytes, one range when asked (206), 416 for a range past the end. */
    private void media(StoredObject o, Request request, Response response, Callback callback) {
        long size = o.bytes().length;
        long first = 0;
        long last = size - 1;
        boolean partial = false;
        String range = request.getHeaders().get("Range");
        Matcher m = range == null ? null : RANGE.matcher(range.trim());
        if (m != null && m.matches() && !(m.group(1).isEmpty() && m.group(2).isEmpty())) {
            if (m.group(1).isEmpty()) {
                long suffix = Long.parseLong(m.group(2));
                if (suffix == 0 || size == 0) {
                    unsatisfiable(size, response, callback);
                    return;
                }
                first = Math.max(0, size - suffix);
            } else {
                first = Long.parseLong(m.group(1));
                if (!m.group(2).isEmpty()) {
                    last = Math.min(last, Long.parseLong(m.group(2)));
                    if (Long.parseLong(m.group(2)) < first) {
                        first = 0;
                        last = size - 1;
                        m = null;
                    }
                }
                if (m != null && first >= size) {
                    unsatisfiable(size, response, callback);
                    return;
                }
            }
            partial = m != null;
        }
        var h = response.getHeaders();
        h.put("Content-Type", o.contentType().orElse("application/octet-stream"));
        o.contentEncoding().ifPresent(v -> h.put("Content-Encoding", v));
        o.contentDisposition().ifPresent(v -> h.put("Content-Disposition", v));
        o.contentLanguage().ifPresent(v -> h.put("Content-Language", v));
        o.cacheControl().ifPresent(v -> h.put("Cache-Control", v));
        h.put("ETag", etag(o));
        h.put("Last-Modified", DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC).format(o.updated()));
        h.put("x-goog-generation", Long.toString(o.generation()));
        h.put("x-goog-metageneration", Long.toString(o.metageneration()));
        h.put("x-goog-stored-content-length", Long.toString(size));
        h.put("x-goog-stored-content-encoding", o.contentEncoding().orElse("identity"));
        h.put("x-goog-hash", "crc32c=" + base64(crc32c(o.bytes())) + o.md5().map(md -> ",md5=" + base64(md)).orElse(""));
        h.put("X-Goog-Storage-Class", "STANDARD");
        h.put("Accept-Ranges", "bytes");
        if (partial) {
            response.setStatus(206);
            h.put("Content-Range", "bytes " + first + "-" + last + "/" + size);
        } else {
            response.setStatus(200);
        }
        h.put("Content-Length", Long.toString(last - first + 1));
        response.write(true, ByteBuffer.wrap(o.bytes(), (int) first, (int) (last - first + 1)), callback);
    }

    private void unsatisfiable(long size, Response response, Callback callback) {
        response.getHeaders().put("Content-Range", "bytes */" + size);
        error(response, callback, 416, "requestedRangeNotSatisfiable", "Request range not satisfiable");
    }

    // ---------------------------------------------------------------- listing

    private void list(Bucket bucket, Fields query, Response response, Callback callback) {
        String prefix = Optional.ofNullable(query.getValue("prefix")).orElse("");
        Optional<String> delimiter = Optional.ofNullable(query.getValue("delimiter")).filter(d -> !d.isEmpty());
        Optional<String> startOffset = Optional.ofNullable(query.getValue("startOffset")).filter(s -> !s.isEmpty());
        Optional<String> endOffset = Optional.ofNullable(query.getValue("endOffset")).filter(s -> !s.isEmpty());
        int maxResults;
        try {
            maxResults = query.getValue("maxResults") == null ? 1000 : Integer.parseInt(query.getValue("maxResults"));
        } catch (NumberFormatException e) {
            error(response, callback, 400, "invalid", "Invalid value for maxResults");
            return;
        }
        if (maxResults < 0) {
            error(response, callback, 400, "invalid", "Invalid value for maxResults");
            return;
        }
        maxResults = Math.min(Math.max(maxResults, 1), 1000);
        Optional<String> after = Optional.empty();
        String pageToken = query.getValue("pageToken");
        if (pageToken != null && !pageToken.isEmpty()) {
            try {
                after = Optional.of(new String(Base64.getUrlDecoder().decode(pageToken), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                error(response, callback, 400, "invalid", "Invalid page token");
                return;
            }
        }
        ArrayNode items = JSON.createArrayNode();
        List<String> prefixes = new ArrayList<>();
        String lastListed = null;
        String lastPrefix = null;
        boolean truncated = false;
        String from = startOffset.filter(s -> NAME_ORDER.compare(s, prefix) > 0).orElse(prefix);
        for (StoredObject o : bucket.objects().tailMap(from, true).values()) {
            String name = o.name();
            if (!name.startsWith(prefix)) {
                if (NAME_ORDER.compare(name, prefix) > 0) {
                    break;
                }
                continue;
            }
            if (startOffset.isPresent() && NAME_ORDER.compare(name, startOffset.get()) < 0) {
                continue;
            }
            if (endOffset.isPresent() && NAME_ORDER.compare(name, endOffset.get()) >= 0) {
                break;
            }
            if (after.isPresent() && (NAME_ORDER.compare(name, after.get()) <= 0 || name.startsWith(after.get())
                    && delimiter.isPresent() && after.get().endsWith(delimiter.get()))) {
                continue;
            }
            Optional<String> rolled = delimiter.flatMap(d -> {
                int at = name.indexOf(d, prefix.length());
                return at < 0 ? Optional.empty() : Optional.of(name.substring(0, at + d.length()));
            });
            if (rolled.isPresent() && rolled.get().equals(lastPrefix)) {
                continue;
            }
            if (items.size() + prefixes.size() == maxResults) {
                truncated = true;
                break;
            }
            if (rolled.isPresent()) {
                prefixes.add(rolled.get());
                lastPrefix = rolled.get();
                lastListed = rolled.get();
            } else {
                items.add(objectResource(o));
                lastListed = name;
            }
        }
        ObjectNode n = JSON.createObjectNode();
        n.put("kind", "storage#objects");
        if (truncated) {
            n.put("nextPageToken", Base64.getUrlEncoder().encodeToString(lastListed.getBytes(StandardCharsets.UTF_8)));
        }
        if (!prefixes.isEmpty()) {
            ArrayNode p = n.putArray("prefixes");
            prefixes.forEach(p::add);
        }
        if (!items.isEmpty()) {
            n.set("items", items);
        }
        json(response, callback, 200, n);
    }

    // ---------------------------------------------------------------- wire helpers

    private Fault currentFault() {
        Fault f = fault.get();
        if (f == Fault.NONE) {
            return f;
        }
        if (faultRemaining.getAndDecrement() <= 0) {
            fault.compareAndSet(f, Fault.NONE);
            return Fault.NONE;
        }
        return f;
    }

    private static void json(Response response, Callback callback, int status, JsonNode body) {
        response.setStatus(status);
        response.getHeaders().put("Content-Type", "application/json; charset=UTF-8");
        Content.Sink.write(response, true, body.toString(), callback);
    }

    /** GCS's JSON error document. */
    private static void error(Response response, Callback callback, int status, String reason, String message) {
        ObjectNode doc = JSON.createObjectNode();
        ObjectNode error = doc.putObject("error");
        error.put("code", status);
        error.put("message", message);
        ObjectNode detail = error.putArray("errors").addObject();
        detail.put("message", message);
        detail.put("domain", "global");
        detail.put("reason", reason);
        json(response, callback, status, doc);
    }

    /** The request's body; Google's clients gzip request bodies ({@code Content-Encoding: gzip}), which GCS accepts. */
    private static byte[] requestBody(Request request) throws IOException {
        try (InputStream in = Content.Source.asInputStream(request)) {
            String encoding = request.getHeaders().get("Content-Encoding");
            if (encoding != null && encoding.trim().equalsIgnoreCase("gzip")) {
                try (InputStream gunzip = new GZIPInputStream(in)) {
                    return gunzip.readAllBytes();
                }
            }
            return in.readAllBytes();
        }
    }

    private record Part(Optional<String> contentType, byte[] body) {
    }

    /** The parts of a {@code multipart/related} body. */
    private static Optional<List<Part>> multipart(String contentType, byte[] body) {
        if (contentType == null) {
            return Optional.empty();
        }
        Matcher m = Pattern.compile("boundary=\"?([^\";]+)\"?").matcher(contentType);
        if (!m.find()) {
            return Optional.empty();
        }
        byte[] delimiter = ("--" + m.group(1)).getBytes(StandardCharsets.ISO_8859_1);
        List<Part> parts = new ArrayList<>();
        int at = indexOf(body, delimiter, 0);
        while (at >= 0) {
            int start = at + delimiter.length;
            if (start + 1 < body.length && body[start] == '-' && body[start + 1] == '-') {
                break;
            }
            int next = indexOf(body, delimiter, start);
            if (next < 0) {
                return Optional.empty();
            }
            int headersEnd = indexOf(body, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), start);
            if (headersEnd < 0 || headersEnd > next) {
                return Optional.empty();
            }
            String headers = new String(body, start, headersEnd - start, StandardCharsets.ISO_8859_1);
            Optional<String> type = headers.lines()
                    .filter(l -> l.regionMatches(true, 0, "Content-Type:", 0, 13))
                    .map(l -> l.substring(13).trim()).findFirst();
            int end = next - 2; // the CRLF before the delimiter belongs to it
            parts.add(new Part(type, Arrays.copyOfRange(body, headersEnd + 4, Math.max(headersEnd + 4, end))));
            at = next;
        }
        return Optional.of(parts);
    }

    private static int indexOf(byte[] haystack, byte[] needle, int from) {
        outer:
        for (int i = from; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** The raw path's segments, each percent-decoded on its own (so %2F stays inside its segment). */
    private static List<String> segments(String rawPath) {
        List<String> out = new ArrayList<>();
        for (String s : rawPath.split("/", -1)) {
            if (!s.isEmpty()) {
                out.add(percentDecode(s));
            }
        }
        return out;
    }

    private static String percentDecode(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length()) {
                out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static String encodeSegment(String name) {
        StringBuilder out = new StringBuilder();
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
                out.append((char) c);
            } else {
                out.append('%').append(String.format("%02X", c));
            }
        }
        return out.toString();
    }

    private static Optional<String> text(JsonNode node, String field) {
        return node.hasNonNull(field) ? Optional.of(node.get(field).asText()) : Optional.empty();
    }

    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MILLIS);
    }

    static byte[] md5(byte[] bytes) {
        try {
            return MessageDigest.getInstance("MD5").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] crc32c(byte[] bytes) {
        CRC32C c = new CRC32C();
        c.update(bytes);
        return ByteBuffer.allocate(4).putInt((int) c.getValue()).array();
    }

    private static String base64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }
}
