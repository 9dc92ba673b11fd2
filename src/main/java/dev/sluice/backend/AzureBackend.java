package dev.sluice.backend;

import dev.sluice.s3.ByteRange;
import dev.sluice.s3.ObjectSummary;
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
import java.time.Duration;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A product stored in a container (plus optional blob name prefix) of an Azure Blob storage
 * account, read over the Blob service REST API (docs/azure.md).
 *
 * <p>A read is one request when it can be: {@link #open} sends Get Blob (Get Blob Properties
 * when no bytes are wanted) with {@code x-ms-range} for the bytes the answer will most likely
 * send, and the object's metadata comes from the response head. Two cases take a Get Blob
 * Properties first or after: a suffix range ({@code bytes=-N}), which Azure does not take, is
 * turned into an explicit range once the size is known (the Get Blob then carries
 * {@code If-Match} with the ETag just seen, so both describe one blob); and a range Azure
 * answers 416 (a range past the end, any range of an empty blob) is answered from the size, so
 * {@link dev.sluice.s3.ReadDecision} gives the client S3's 416 with S3's
 * {@code Content-Range: bytes * /size}. Conditions are not sent: the decision judges them from
 * the ETag and Last-Modified, as for every backend, and a GET whose answer sends no bytes is
 * aborted after the response head.
 *
 * <p>Listings map List Blobs ({@code prefix}, {@code delimiter}, {@code marker},
 * {@code maxresults}) onto S3's semantics with {@link Listings.Builder}; see {@link #list}.
 *
 * <p>Requests carry a fixed {@code x-ms-version} and are authorized as {@link AzureAuth} says:
 * unsigned, Shared Key ({@link AzureSharedKey}), a SAS token's query, or an Entra ID bearer
 * token from {@link AccessTokens} on every request (a failure to get one is the token tier's
 * S3 error, passed on unchanged). Every wait is bounded by {@code timeout}: the response head,
 * the body's silences, each listing call. Only the request's method and path are logged, never
 * its query (a SAS token is there) or headers.
 */
public final class AzureBackend implements Backend {
    /** The Blob service version asked for: supported by Azure and by Azurite 3.34, and new enough for bearer tokens. */
    static final String API_VERSION = "2021-12-02";
    private static final int MAX_LIST_BYTES = 16 * 1024 * 1024;
    /** Azure's own ceiling for one List Blobs call. */
    private static final int MAX_RESULTS = 5000;
    private static final DateTimeFormatter RFC_1123 = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);

    private final HttpClient http;
    private final URI endpoint;
    private final String container;
    private final String prefix;
    private final AzureAuth auth;
    private final Optional<AzureSharedKey> sharedKey;
    private final AccessTokens tokens;
    private final InstantSource clock;
    private final Ticker ticker;
    private final Duration timeout;

    public AzureBackend(HttpClient http, BackendSpec.Azure spec, AccessTokens tokens, InstantSource clock, Ticker ticker) {
        this.http = http;
        this.endpoint = spec.endpoint();
        this.container = spec.container();
        this.prefix = spec.prefix();
        this.auth = spec.auth();
        this.sharedKey = spec.auth() instanceof AzureAuth.SharedKey k
                ? Optional.of(new AzureSharedKey(spec.account(), k.accountKey())) : Optional.empty();
        this.tokens = tokens;
        this.clock = clock;
        this.ticker = ticker;
        this.timeout = spec.timeout();
    }

    @Override
    public String describe() {
        return "azure:" + endpoint + "/" + container + "/" + prefix;
    }

    @Override
    public StoredObject open(String key, Fetch fetch) {
        String path = blobPath(key);
        if (fetch.headOnly() || fetch.range().isEmpty()) {
            return fetch.headOnly() ? properties(path) : get(path, Optional.empty(), Optional.empty());
        }
        return switch (fetch.range().get()) {
            case ByteRange.FromTo f -> get(path, Optional.of("bytes=" + f.first() + "-" + f.last().map(String::valueOf).orElse("")),
                    Optional.empty());
            case ByteRange.Suffix s -> {
                StoredObject head = properties(path);
                long size = head.meta().size().orElse(0);
                if (size == 0 || s.length() == 0) {
                    yield head;
                }
                head.close();
                long first = Math.max(0, size - s.length());
                yield get(path, Optional.of("bytes=" + first + "-" + (size - 1)), head.meta().etag());
            }
        };
    }

    /** Get Blob Properties: the blob's metadata, no bytes. */
    private StoredObject properties(String path) {
        Request request = newRequest("HEAD", path, "", Map.of());
        ResponseHead head = send(request);
        Response response = head.response();
        request.abort(new IOException("no body wanted"));
        if (response.getStatus() != 200) {
            throw failure(response.getStatus(), new byte[0], response, "HEAD " + path);
        }
        return reply(request, head, false, "HEAD " + path);
    }

    /** Get Blob, the whole blob or {@code range}; with {@code ifMatch} only while the blob still has that ETag. */
    private StoredObject get(String path, Optional<String> range, Optional<String> ifMatch) {
        Map<String, String> headers = new LinkedHashMap<>();
        range.ifPresent(r -> headers.put("x-ms-range", r));
        ifMatch.ifPresent(e -> headers.put("If-Match", e));
        Request request = newRequest("GET", path, "", headers);
        ResponseHead head = send(request);
        Response response = head.response();
        int status = response.getStatus();
        if (status == 206 && String.valueOf(response.getHeaders().get("Content-Range")).trim().endsWith("/0")) {
            // Azurite answers a range of an empty blob with 206 and "bytes 0--1/0" where Azure
            // answers 416: either way there are no bytes, and the decision answers from the size.
            request.abort(new IOException("no bytes to send"));
            return properties(path);
        }
        if (status == 200 || status == 206) {
            return reply(request, head, true, "GET " + path);
        }
        byte[] body = head.errorBody(timeout);
        request.abort(new IOException("error body read"));
        if (status == 416) {
            // Past the end, or an empty blob: the decision answers 416 from the size, as S3 does.
            return properties(path);
        }
        if (status == 412 && ifMatch.isPresent()) {
            throw S3Exception.unavailable(describe() + ": GET " + path + " changed between its size and its bytes", null);
        }
        throw failure(status, body, response, "GET " + path);
    }

    private StoredObject reply(Request request, ResponseHead head, boolean bytes, String what) {
        try {
            return AzureBlobReply.of(request, head.response(), head.body(), bytes, describe() + ": " + what);
        } catch (S3Exception e) {
            request.abort(new IOException("unusable response head"));
            throw e;
        }
    }

    /**
     * One page of the listing. Azure's {@code marker} is opaque and resumes only where Azure's
     * own page ended, while S3 resumes after any key (a client's {@code start-after} or
     * {@code marker}, or the last entry of a page sluice cut short at {@code max-keys}). So a
     * page is read from the Azure page that holds the position, skipping what lies at or before
     * it, and sluice's own continuation token ({@link ListPosition.Resume}) holds both: the
     * marker of that Azure page and the last entry listed. A client's {@code start-after} is
     * read from the start of the prefix. Entries of one Azure page (blobs and, with a delimiter,
     * prefixes) are merged in S3 key order; Azure lists blob names in the same (UTF-8 binary)
     * order, so pages follow on.
     */
    @Override
    public ListPage list(ListQuery query) {
        long deadline = ticker.nanoTime() + timeout.toNanos();
        String marker = "";
        ListPosition from = query.position();
        if (query.position() instanceof ListPosition.Resume r) {
            Resume resume = Resume.parse(r.backendToken());
            marker = resume.marker();
            from = resume.after().<ListPosition>map(ListPosition.After::new).orElse(new ListPosition.Start());
        }
        Listings.Builder page = new Listings.Builder(new ListQuery(query.prefix(), query.delimiter(), query.maxKeys(), from));
        int maxResults = from instanceof ListPosition.After && !(query.position() instanceof ListPosition.Resume)
                ? MAX_RESULTS : Math.min(MAX_RESULTS, Math.max(1, query.maxKeys()) + 1);
        while (true) {
            AzureBlobListing.Page azure = listOnce(query, marker, maxResults, deadline);
            for (AzureBlobListing.Entry e : azure.entries()) {
                if (page.excludes(e.name())) {
                    continue;
                }
                boolean listed = e.summary().isPresent()
                        ? page.offerKey(e.name(), e.summary()::get)
                        : page.offerKey(e.name(), () -> {
                            throw new IllegalStateException("a prefix that does not roll up: " + e.name());
                        });
                if (!listed) {
                    return resumable(page.build(), marker, query);
                }
            }
            if (azure.nextMarker().isEmpty()) {
                return page.build();
            }
            marker = azure.nextMarker().get();
        }
    }

    /** A page cut short at {@code max-keys}: its next position resumes in the Azure page it ended in. */
    private static ListPage resumable(ListPage built, String marker, ListQuery query) {
        Optional<ListPosition> next = built.next().map(p -> switch (p) {
            case ListPosition.After a -> new ListPosition.Resume(new Resume(marker, Optional.of(a.key())).encode());
            default -> query.position(); // max-keys=0: resumes where it started
        });
        return new ListPage(built.objects(), built.commonPrefixes(), next);
    }

    /** Sluice's continuation inside one Azure listing: the marker of an Azure page and the last entry listed from it. */
    record Resume(String marker, Optional<String> after) {
        String encode() {
            return marker + "\n" + after.orElse("");
        }

        static Resume parse(String token) {
            int nl = token.indexOf('\n');
            if (nl < 0) {
                throw new S3Exception(dev.sluice.s3.S3Error.INVALID_ARGUMENT, "The continuation token provided is incorrect");
            }
            String after = token.substring(nl + 1);
            return new Resume(token.substring(0, nl), after.isEmpty() ? Optional.empty() : Optional.of(after));
        }
    }

    private AzureBlobListing.Page listOnce(ListQuery query, String marker, int maxResults, long deadline) {
        // Parameters sorted, so the query reads the same in the signature and on the wire.
        StringBuilder q = new StringBuilder("comp=list");
        query.delimiter().ifPresent(d -> q.append("&delimiter=").append(UriEncoding.encode(d)));
        if (!marker.isEmpty()) {
            q.append("&marker=").append(UriEncoding.encode(marker));
        }
        q.append("&maxresults=").append(maxResults);
        q.append("&prefix=").append(UriEncoding.encode(prefix + query.prefix()));
        q.append("&restype=container");
        long remaining = TimeUnit.NANOSECONDS.toMillis(ticker.remainingNanos(deadline));
        if (remaining <= 0) {
            throw S3Exception.unavailable(describe() + ": listing did not complete within " + timeout, null);
        }
        String what = "list " + containerPath();
        Request request = newRequest("GET", containerPath(), q.toString(), Map.of());
        ContentResponse response = WholeReply.await(request, MAX_LIST_BYTES, remaining, timeout, describe(), what, sasToken());
        if (response.getStatus() != 200) {
            throw failure(response.getStatus(), response.getContent(), response, what);
        }
        return AzureBlobListing.parse(response.getContent(), prefix, describe());
    }

    /** A request to the Blob service, authorized as {@link #auth} says; {@code rawQuery} without a SAS token. */
    private Request newRequest(String method, String path, String rawQuery, Map<String, String> extra) {
        Map<String, String> headers = new LinkedHashMap<>(extra);
        headers.put("x-ms-version", API_VERSION);
        headers.put("x-ms-date", RFC_1123.format(clock.instant()));
        String query = rawQuery;
        switch (auth) {
            case AzureAuth.Anonymous a -> { }
            case AzureAuth.SharedKey k -> headers.put("Authorization", sharedKey.orElseThrow().authorization(method, path, rawQuery, headers));
            case AzureAuth.Sas s -> {
                String sas = sasToken().orElseThrow();
                query = query.isEmpty() ? sas : query + "&" + sas;
            }
            case AzureAuth.Federated f -> headers.put("Authorization", tokens.token(f.grant()).authorization());
        }
        String uri = endpoint.getScheme() + "://" + endpoint.getRawAuthority() + path + (query.isEmpty() ? "" : "?" + query);
        Request request = http.newRequest(URI.create(uri))
                .method(HttpMethod.fromString(method))
                .idleTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .followRedirects(false);
        request.headers(h -> {
            h.remove("Accept-Encoding");
            headers.forEach(h::put);
        });
        return request;
    }

    /** The container's path: the endpoint's own path (a path-style account) and the container. */
    private String containerPath() {
        String base = endpoint.getRawPath() == null ? "" : endpoint.getRawPath();
        if (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        return base + "/" + UriEncoding.encode(container);
    }

    /** The path of {@code key}: every segment of the blob name percent-encoded, {@code /} kept. */
    private String blobPath(String key) {
        return containerPath() + "/" + UriEncoding.encodePath(prefix + key);
    }

    /** The response head within {@code timeout}; only the method and path name the request in the log. */
    private ResponseHead send(Request request) {
        return ResponseHead.await(request, timeout, describe(), request.getMethod() + " " + request.getPath(), sasToken());
    }

    /** The SAS token that a request's query carries, which no log may show. */
    private Optional<String> sasToken() {
        return auth instanceof AzureAuth.Sas s ? Optional.of(s.token().startsWith("?") ? s.token().substring(1) : s.token())
                : Optional.empty();
    }

    private S3Exception failure(int status, byte[] body, Response response, String what) {
        return AzureBackendErrors.failure(describe(), status, body, response, what);
    }
}
