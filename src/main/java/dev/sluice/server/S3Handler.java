package dev.sluice.server;

import dev.sluice.auth.Identifier;
import dev.sluice.auth.Principal;
import dev.sluice.auth.StsReply;
import dev.sluice.auth.StsService;
import dev.sluice.backend.ObjectResponse;
import dev.sluice.federation.OidcProvider;
import dev.sluice.observe.AccessLog;
import dev.sluice.observe.LogText;
import dev.sluice.observe.RequestMetrics;
import dev.sluice.s3.ListResult;
import dev.sluice.s3.Operation;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.s3.S3RequestParser;
import dev.sluice.s3.XmlDocuments;
import dev.sluice.sigv4.SignableRequest;
import dev.sluice.time.Ticker;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Blocker;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The S3 front end: one request per virtual thread, blocking code, every outcome an S3
 * response. Parsing lives in {@code s3}, the read path in {@link Reads}, bytes in the
 * backends; this class only moves them between Jetty and those, and records what happened.
 * Any exception that is not an {@link S3Exception} is a bug: the client gets a generic
 * {@code 500 InternalError} and the stack trace goes to the log, never the response.
 */
public final class S3Handler extends Handler.Abstract {
    private static final Logger LOG = LoggerFactory.getLogger(S3Handler.class);

    private final Reads reads;
    private final RequestIds requestIds;
    private final RequestMetrics metrics;
    private final AccessLog accessLog;
    private final String version;
    private final Optional<OidcProvider> oidc;
    private final Identifier identifier;
    private final Optional<StsService> sts;
    private final Duration bodyDeadline;
    private final Optional<VirtualHostStyle> virtualHosts;
    private final BodyBudget bodyBudget;
    private final Ticker ticker;

    /**
     * Whether a request is for the client STS endpoint: anything on {@code /.sts}, or on the
     * root (where AWS STS itself and SDKs that drop an endpoint's path send it) a form POST or
     * a GET naming an {@code Action}. The root has no S3 operation for either, so no S3 request
     * is ever taken for an STS call, and no S3 request body is read as a form.
     */
    private static boolean isStsCall(Request request, String rawPath) {
        if (rawPath.equals(STS_PATH) || rawPath.equals(STS_PATH + "/")) {
            return true;
        }
        if (!rawPath.equals("/")) {
            return false;
        }
        String method = request.getMethod();
        if (method.equals("POST")) {
            String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
            return type != null && type.toLowerCase(java.util.Locale.ROOT).startsWith("application/x-www-form-urlencoded");
        }
        String query = request.getHttpURI().getQuery();
        return method.equals("GET") && query != null && (query.startsWith("Action=") || query.contains("&Action="));
    }

    /**
     * The owner named in ListBuckets. S3 names the caller's AWS account; sluice's accounts have no
     * owner a client could use, so the service names itself (and reveals nothing about the caller).
     */
    static final String BUCKET_OWNER = "sluice";
    /**
     * ListBuckets' {@code CreationDate} for every account: a fixed instant, the Unix epoch, so
     * every server of a fleet and every restart answers the same (no server knows when an
     * account was created; a start time would differ between servers and move on each restart).
     */
    static final java.time.Instant ACCOUNT_CREATION_DATE = java.time.Instant.EPOCH;

    /** The path of the STS endpoint for clients. */
    public static final String STS_PATH = "/.sts";
    /** The largest body sluice reads to check a signature or parse an STS call. */
    static final int MAX_SMALL_BODY = 64 * 1024;
    /** How much of an oversized body is read and thrown away so that its error reaches the client. */
    static final int MAX_DRAINED_BODY = 1024 * 1024;

    public S3Handler(Reads reads, RequestIds requestIds, RequestMetrics metrics, AccessLog accessLog, String version,
                     Optional<OidcProvider> oidc, Identifier identifier, Optional<StsService> sts, Duration bodyDeadline,
                     BodyBudget bodyBudget, Optional<String> virtualHostDomain, Ticker ticker) {
        super(InvocationType.BLOCKING);
        this.ticker = ticker;
        this.virtualHosts = virtualHostDomain.map(VirtualHostStyle::new);
        this.reads = reads;
        this.requestIds = requestIds;
        this.metrics = metrics;
        this.accessLog = accessLog;
        this.version = version;
        this.oidc = oidc;
        this.identifier = identifier;
        this.sts = sts;
        this.bodyDeadline = bodyDeadline;
        this.bodyBudget = bodyBudget;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        long started = ticker.nanoTime();
        String requestId = requestIds.next();
        HttpFields.Mutable headers = response.getHeaders();
        headers.put("x-amz-request-id", requestId);
        Cors.addTo(headers);
        String method = request.getMethod();
        String rawPath = request.getHttpURI().getPath();
        Optional<String> hostAccount = virtualHosts.flatMap(v -> v.account(request.getHttpURI().getHost()));
        Outcome outcome = new Outcome();
        try {
            if (method.equals("OPTIONS")) {
                outcome.operation = "Preflight";
                Cors.addPreflight(headers, request.getHeaders().get("Access-Control-Request-Headers"));
                outcome.status = 204;
                response.setStatus(204);
                finish(response, null);
            } else if (hostAccount.isEmpty() && rawPath.startsWith("/.well-known/")) {
                outcome.operation = "OidcDocument";
                serveOidc(rawPath, method, response, outcome);
            } else if (hostAccount.isEmpty() && isStsCall(request, rawPath)) {
                outcome.operation = "AssumeRoleWithWebIdentity";
                serveSts(request, response, requestId, outcome);
            } else {
                Operation op = S3RequestParser.parse(method, VirtualHostStyle.pathStyle(hostAccount, rawPath),
                        request.getHttpURI().getQuery(),
                        name -> Optional.ofNullable(request.getHeaders().get(name)));
                outcome.operation = op.name();
                // What sluice does not serve is answered 501, but only to a caller whose signature
                // holds (a wrong one is 403 as for any request), and its body is never read.
                // Everything it serves is a GET or HEAD, which has no body: one is refused unread.
                Principal principal;
                if (op instanceof Operation.Unsupported) {
                    principal = identifier.identifyWithoutBody(signable(request, rawPath));
                } else {
                    refuseBody(request);
                    principal = identifier.identify(signable(request, rawPath), new byte[0]);
                }
                outcome.principal = principal.logName();
                metrics.caller(principal.kind());
                serve(op, principal, request, response, requestId, outcome);
            }
            callback.succeeded();
        } catch (S3Exception e) {
            sendError(response, callback, e, rawPath, requestId, outcome);
        } catch (IOException e) {
            if (outcome.truncation == Truncation.BACKEND_STREAM_FAILED || outcome.truncation == Truncation.INCOMPLETE_BODY) {
                LOG.warn("request {}: {} after {} body bytes sent; the connection is aborted: {}", requestId,
                        outcome.truncation.code, outcome.bytes, e.toString());
            } else {
                LOG.debug("request {}: client connection failed: {}", requestId, e.toString());
            }
            outcome.status = outcome.status == 0 ? 499 : outcome.status;
            callback.failed(e);
        } catch (RuntimeException e) {
            LOG.error("request {}: {} {} failed with a bug", requestId, method, LogText.escape(rawPath), e);
            sendError(response, callback, new S3Exception(S3Error.INTERNAL_ERROR), rawPath, requestId, outcome);
        } finally {
            Duration took = ticker.since(started);
            metrics.record(outcome.operation, outcome.status, took, outcome.bytes);
            if (outcome.errorCode != null) {
                metrics.error(outcome.errorCode);
            }
            if (outcome.truncation != null) {
                metrics.truncated(outcome.truncation.metricReason);
            }
            accessLog.write(new AccessLog.Entry(requestId, method, outcome.operation, outcome.account, outcome.product,
                    outcome.key, outcome.status, outcome.bytes, took.toNanos() / 1000, Request.getRemoteAddr(request),
                    outcome.truncation != null ? outcome.truncation.code : outcome.errorCode, outcome.principal));
        }
        return true;
    }

    /**
     * Answers a request Jetty refused before any handler saw it with an S3 error document, as
     * every other failure is answered; Jetty's own answer would be an HTML page without a
     * request id or CORS headers, which S3 clients cannot parse. These are all the client's
     * errors, so none is a 5xx but the version one: a head over the size limit is
     * {@code 400 RequestHeaderSectionTooLarge} (S3's answer), an HTTP version other than 1.0
     * or 1.1 is {@code 505 HttpVersionNotSupported}, anything else that does not parse (a
     * malformed percent-escape, {@code %00}, dot segments above the root, a bare LF in the
     * request line) is {@code 400 InvalidRequest}. An earlier revision answered some of them
     * {@code 500 InternalError}, counting a client's malformed request as a server failure,
     * and told a client whose headers were too large to check its percent-encoding. By then
     * the request line is gone, so the document names no resource.
     */
    public boolean handleRejected(Request request, Response response, Callback callback) {
        long started = ticker.nanoTime();
        String requestId = requestIds.next();
        Outcome outcome = new Outcome();
        outcome.operation = "Rejected";
        int status = response.getStatus();
        Object failure = request.getAttribute(ErrorHandler.ERROR_EXCEPTION);
        if (failure instanceof HttpException http) {
            status = http.getCode();
            // A request line cut short (by a bare LF) has no version, which Jetty takes for
            // HTTP/0.9 and answers 505; it is a malformed request line.
            if (status == 505 && String.valueOf(http.getReason()).contains("0.9")) {
                status = 400;
            }
        }
        LOG.debug("request {}: refused by Jetty with {}: {}", requestId, status,
                failure != null ? failure : request.getAttribute(ErrorHandler.ERROR_MESSAGE));
        // Jetty closes the connection after a request it could not parse, but does not say so
        // on the response; a client that is not told reuses the connection and fails.
        List<Map.Entry<String, String>> close = List.of(Map.entry("Connection", "close"));
        S3Exception error = switch (status) {
            case 431 -> new S3Exception(S3Error.REQUEST_HEADER_SECTION_TOO_LARGE,
                    S3Error.REQUEST_HEADER_SECTION_TOO_LARGE.defaultMessage(), null, close);
            case 505 -> new S3Exception(S3Error.HTTP_VERSION_NOT_SUPPORTED,
                    "The HTTP version of the request is not supported; use HTTP/1.1.", null, close);
            // A handler's failure reaches here too, before anything was written: that one is ours.
            default -> status >= 500 ? new S3Exception(S3Error.INTERNAL_ERROR, S3Error.INTERNAL_ERROR.defaultMessage(), null, close)
                    : new S3Exception(S3Error.INVALID_REQUEST,
                    "The request could not be parsed; check its request line and the percent-encoding of its path.", null, close);
        };
        try {
            sendError(response, callback, error, "", requestId, outcome);
        } finally {
            Duration took = ticker.since(started);
            metrics.record(outcome.operation, outcome.status, took, outcome.bytes);
            if (outcome.errorCode != null) {
                metrics.error(outcome.errorCode);
            }
            accessLog.write(new AccessLog.Entry(requestId, request.getMethod(), outcome.operation, null, null, null,
                    outcome.status, outcome.bytes, took.toNanos() / 1000, Request.getRemoteAddr(request), outcome.errorCode,
                    null));
        }
        return true;
    }

    /**
     * The OIDC discovery document and JWKS that relying parties (AWS STS, a control plane)
     * fetch to verify sluice's tokens. Public by nature; cacheable for {@link OidcProvider#JWKS_MAX_AGE}.
     */
    private void serveOidc(String path, String method, Response response, Outcome outcome) throws IOException {
        if (!method.equals("GET") && !method.equals("HEAD")) {
            throw new S3Exception(S3Error.METHOD_NOT_ALLOWED);
        }
        Optional<String> body = oidc.flatMap(o -> switch (path) {
            case OidcProvider.DISCOVERY_PATH -> Optional.of(o.discoveryDocument());
            case OidcProvider.JWKS_PATH -> Optional.of(o.jwksDocument());
            default -> Optional.empty();
        });
        if (body.isEmpty()) {
            throw new S3Exception(S3Error.NO_SUCH_KEY);
        }
        outcome.status = 200;
        response.getHeaders().put("Content-Type", path.equals(OidcProvider.JWKS_PATH) ? "application/jwk-set+json" : "application/json");
        response.getHeaders().put("Cache-Control", "public, max-age=" + OidcProvider.JWKS_MAX_AGE.toSeconds());
        outcome.bytes = finish(response, method.equals("HEAD") ? null : body.get());
    }

    /**
     * {@code /.sts}: AssumeRoleWithWebIdentity for clients. The body is read only here, only
     * for a POST, and only up to {@link #MAX_SMALL_BODY}, held under the {@link BodyBudget}
     * until the call is answered; a larger one is refused without being kept.
     */
    private void serveSts(Request request, Response response, String requestId, Outcome outcome) throws IOException {
        if (sts.isEmpty()) {
            throw new S3Exception(S3Error.NOT_IMPLEMENTED, "The STS endpoint is not enabled on this server (inbound.sts).");
        }
        String method = request.getMethod();
        StsReply reply;
        try (BodyBudget.Reservation held = method.equals("POST") ? reserveBody(request) : null) {
            byte[] body = held != null ? smallBody(request) : new byte[0];
            reply = sts.get().handle(method, Optional.ofNullable(request.getHttpURI().getQuery()).orElse(""),
                    Optional.ofNullable(request.getHeaders().get(HttpHeader.CONTENT_TYPE)), body, requestId);
        } catch (S3Exception e) {
            if (e.error() != S3Error.MAX_MESSAGE_LENGTH_EXCEEDED && e.error() != S3Error.REQUEST_TIMEOUT) {
                throw e;
            }
            // STS clients parse STS errors: answer a body that could not be read in that shape.
            e.extraHeaders().forEach(h -> response.getHeaders().put(h.getKey(), h.getValue()));
            reply = StsService.unreadableBody(e.error() == S3Error.MAX_MESSAGE_LENGTH_EXCEEDED, requestId);
        }
        outcome.status = reply.status();
        response.setStatus(reply.status());
        if (reply.status() == 405) {
            response.getHeaders().put("Allow", "GET, POST");
        }
        response.getHeaders().put("Content-Type", reply.contentType());
        response.getHeaders().put("Cache-Control", "no-store");
        outcome.bytes = finish(response, reply.body());
    }

    /** The request as its signature covers it: the path and query exactly as sent, every header in order. */
    private static SignableRequest signable(Request request, String rawPath) {
        List<Map.Entry<String, String>> headers = new ArrayList<>(request.getHeaders().size());
        for (HttpField field : request.getHeaders()) {
            headers.add(Map.entry(field.getName(), field.getValue() == null ? "" : field.getValue()));
        }
        String query = request.getHttpURI().getQuery();
        return new SignableRequest(request.getMethod(), rawPath, query == null ? "" : query, headers);
    }

    /**
     * Refuses a body on a request that takes none (every S3 operation sluice serves is a GET
     * or HEAD) with {@code 400 InvalidRequest}, before reading any of it: a body sluice does
     * not need is not worth memory or a wait. Jetty discards what has already arrived; the
     * connection is closed, since the rest of the body would still be in it.
     */
    private static void refuseBody(Request request) {
        long length = request.getLength();
        if (length > 0 || (length < 0 && request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING))) {
            throw new S3Exception(S3Error.INVALID_REQUEST, "A " + request.getMethod() + " request must not have a body.", null,
                    List.of(Map.entry("Connection", "close")));
        }
    }

    /**
     * Reserves room in the {@link BodyBudget} for the body {@link #smallBody} will keep: its
     * declared length, or {@link #MAX_SMALL_BODY} when it is chunked; nothing for a body too
     * large to keep (it is only counted while drained). When the budget is spent the request
     * is refused unread with {@code 503 SlowDown}.
     */
    private BodyBudget.Reservation reserveBody(Request request) {
        return bodyBudget.tryReserve(keptBytes(request)).orElseThrow(() -> new S3Exception(S3Error.SLOW_DOWN,
                S3Error.SLOW_DOWN.defaultMessage(), null, List.of(Map.entry("Connection", "close"))));
    }

    /** How many bytes of this request's body {@link #smallBody} keeps at most. */
    private static int keptBytes(Request request) {
        long length = request.getLength();
        if (length < 0) {
            return request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING) ? MAX_SMALL_BODY : 0;
        }
        return length > MAX_SMALL_BODY ? 0 : (int) length;
    }

    /**
     * The whole body of a request that should carry little or none, read within
     * {@code bodyDeadline} from first byte to last: empty when there is none,
     * {@code 400 MaxMessageLengthExceeded} when it is larger than {@link #MAX_SMALL_BODY},
     * {@code 400 RequestTimeout} when the client is too slow. At most {@link #MAX_SMALL_BODY}
     * bytes are ever kept (the caller has reserved them); an oversized body is read and
     * dropped chunk by chunk up to {@link #MAX_DRAINED_BODY} first: a server that closes a
     * connection with unread bytes in it makes the kernel reset it, and the client loses the
     * error it was sent.
     */
    private byte[] smallBody(Request request) throws IOException {
        long length = request.getLength();
        boolean chunked = request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING);
        if (length == 0 || (length < 0 && !chunked)) {
            return new byte[0];
        }
        if (length > MAX_DRAINED_BODY) {
            throw tooLarge(true);
        }
        BoundedRead read = new BoundedRead(request, keptBytes(request));
        read.run();
        try {
            read.result.get(bodyDeadline.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            read.result.cancel(false);
            request.fail(e);
            throw new S3Exception(S3Error.REQUEST_TIMEOUT, S3Error.REQUEST_TIMEOUT.defaultMessage(), null,
                    List.of(Map.entry("Connection", "close")));
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw tooLarge(true); // more than MAX_DRAINED_BODY
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while reading the request body", e);
        }
        if (read.total > MAX_SMALL_BODY) {
            throw tooLarge(false);
        }
        return read.kept.toByteArray();
    }

    /**
     * Reads a body to its end without blocking a thread, keeping its first {@code keep}
     * bytes and counting the rest; fails once more than {@link #MAX_DRAINED_BODY} arrived.
     * Each chunk is copied and released at once, so a slow client holds no network buffers.
     */
    private static final class BoundedRead implements Runnable {
        final CompletableFuture<Void> result = new CompletableFuture<>();
        final java.io.ByteArrayOutputStream kept;
        private final Content.Source source;
        private final int keep;
        volatile long total;

        BoundedRead(Content.Source source, int keep) {
            this.source = source;
            this.keep = keep;
            this.kept = new java.io.ByteArrayOutputStream(keep);
        }

        @Override
        public void run() {
            while (!result.isDone()) {
                Content.Chunk chunk = source.read();
                if (chunk == null) {
                    source.demand(this);
                    return;
                }
                if (Content.Chunk.isFailure(chunk)) {
                    Throwable failure = chunk.getFailure();
                    result.completeExceptionally(failure instanceof IOException ? failure : new IOException(failure));
                    return;
                }
                ByteBuffer bytes = chunk.getByteBuffer();
                int n = bytes.remaining();
                int copy = (int) Math.max(0, Math.min(n, keep - total));
                if (copy > 0) {
                    byte[] part = new byte[copy];
                    bytes.get(part);
                    kept.writeBytes(part);
                }
                total += n;
                boolean last = chunk.isLast();
                chunk.release();
                if (total > MAX_DRAINED_BODY) {
                    result.completeExceptionally(new IllegalStateException("body over " + MAX_DRAINED_BODY + " bytes"));
                    return;
                }
                if (last) {
                    result.complete(null);
                    return;
                }
            }
        }
    }

    private static S3Exception tooLarge(boolean unread) {
        // With part of the body unread, the connection cannot carry another request.
        return new S3Exception(S3Error.MAX_MESSAGE_LENGTH_EXCEEDED, S3Error.MAX_MESSAGE_LENGTH_EXCEEDED.defaultMessage(), null,
                unread ? List.of(Map.entry("Connection", "close")) : List.of());
    }

    private void serve(Operation op, Principal principal, Request request, Response response, String requestId,
                       Outcome outcome) throws IOException {
        switch (op) {
            case Operation.ServiceInfo s -> {
                outcome.status = 200;
                response.getHeaders().put("Content-Type", "application/json");
                outcome.bytes = finish(response, "{\"name\":\"sluice\",\"version\":\"" + version + "\"}\n");
            }
            case Operation.ListAccounts l -> {
                List<String> accounts = reads.listAccounts(l.prefix(), principal, requestId);
                outcome.status = 200;
                response.getHeaders().put("Content-Type", "application/xml");
                String xml = XmlDocuments.bucketList(BUCKET_OWNER, accounts, ACCOUNT_CREATION_DATE, l.prefix());
                outcome.bytes = finish(response, request.getMethod().equals("HEAD") ? null : xml);
            }
            case Operation.HeadAccount h -> {
                outcome.account = h.account();
                reads.requireAccount(h.account(), principal, requestId);
                outcome.status = 200;
                finish(response, null);
            }
            case Operation.GetAccountLocation g -> {
                outcome.account = g.account();
                reads.requireAccount(g.account(), principal, requestId);
                outcome.status = 200;
                response.getHeaders().put("Content-Type", "application/xml");
                outcome.bytes = finish(response, XmlDocuments.location("us-east-1"));
            }
            case Operation.ListAccount l -> {
                outcome.account = l.account();
                ListResult result = reads.list(l, principal, requestId);
                outcome.status = 200;
                response.getHeaders().put("Content-Type", "application/xml");
                outcome.bytes = finish(response, XmlDocuments.listResult(l.account(), l.list(), result, l.account()));
            }
            case Operation.ReadObject r -> {
                outcome.account = r.account();
                outcome.product = r.product();
                outcome.key = r.key();
                ObjectResponse object = reads.read(r, principal, requestId);
                streamObject(object, r, response, outcome);
            }
            case Operation.Unsupported u -> {
                u.account().ifPresent(a -> outcome.account = a);
                throw new S3Exception(S3Error.NOT_IMPLEMENTED);
            }
        }
    }

    private static void streamObject(ObjectResponse object, Operation.ReadObject op, Response response, Outcome outcome) throws IOException {
        HttpFields.Mutable headers = response.getHeaders();
        for (Map.Entry<String, String> h : object.headers()) {
            headers.put(h.getKey(), h.getValue());
        }
        // Object bytes are whatever was stored: a browser must take the declared type, never
        // guess HTML from the content (docs/behaviour.md, "Headers").
        headers.put("X-Content-Type-Options", "nosniff");
        response.setStatus(object.status());
        outcome.status = object.status();
        if (object.body().isEmpty()) {
            finish(response, null);
            return;
        }
        long expected = object.headers().stream().filter(h -> h.getKey().equalsIgnoreCase("Content-Length")).findFirst()
                .map(h -> parseLength(h.getValue())).orElse(-1L);
        Transfer transfer = new Transfer();
        try (var body = object.body().get(); Blocker.Callback done = Blocker.callback()) {
            Content.Sink counted = (last, buffer, cb) -> {
                int n = buffer == null ? 0 : buffer.remaining();
                response.write(last, buffer, Callback.from(() -> {
                    transfer.sent += n;
                    cb.succeeded();
                }, cb::failed));
            };
            Content.copy(body.source(), counted, (chunk, cb) -> {
                if (Content.Chunk.isFailure(chunk)) {
                    transfer.sourceFailed = true;
                } else {
                    transfer.received += chunk.remaining();
                    transfer.sourceEnded = chunk.isLast();
                }
                return false;
            }, done);
            try {
                done.block();
            } catch (IOException e) {
                outcome.truncation = transfer.why(expected);
                throw e;
            } finally {
                outcome.bytes = transfer.sent;
            }
            if (expected >= 0 && transfer.sent < expected) {
                // The body ended early without an error; a normal end would make it look whole.
                outcome.truncation = Truncation.INCOMPLETE_BODY;
                throw new IOException("the body ended after " + transfer.sent + " of " + expected + " bytes");
            }
        }
    }

    private static long parseLength(String value) {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Why a response whose head was already sent ended before its body was complete: the client
     * sees a status 200 or 206 and a short body, and the access log and metrics must say so,
     * not count a success. The client going away is told apart from the backend failing.
     */
    enum Truncation {
        /** Writing to the client failed: it closed the connection or stopped reading. */
        CLIENT_DISCONNECTED("ClientDisconnected", "client_disconnected"),
        /** The backend's body failed mid-stream (an S3 connection that died). */
        BACKEND_STREAM_FAILED("BackendStreamFailed", "backend_failed"),
        /** The backend's body ended before its Content-Length (a file that shrank while read). */
        INCOMPLETE_BODY("IncompleteBody", "incomplete_body");

        final String code;
        final String metricReason;

        Truncation(String code, String metricReason) {
            this.code = code;
            this.metricReason = metricReason;
        }
    }

    /** What one body transfer did: bytes taken from the backend, bytes written to the client, how the backend's side ended. */
    private static final class Transfer {
        volatile long received;
        volatile long sent;
        volatile boolean sourceEnded;
        volatile boolean sourceFailed;

        Truncation why(long expected) {
            if (sourceFailed) {
                return Truncation.BACKEND_STREAM_FAILED;
            }
            if (sourceEnded && expected >= 0 && received < expected) {
                return Truncation.INCOMPLETE_BODY;
            }
            return Truncation.CLIENT_DISCONNECTED;
        }
    }

    /** Writes a complete small body (or none) and waits for it to be written. */
    private static long finish(Response response, String text) throws IOException {
        ByteBuffer buffer = text == null ? null : ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        int length = buffer == null ? 0 : buffer.remaining();
        if (buffer != null) {
            response.getHeaders().put("Content-Length", length);
        }
        try (Blocker.Callback done = Blocker.callback()) {
            response.write(true, buffer, done);
            done.block();
        }
        return length;
    }

    private static void sendError(Response response, Callback callback, S3Exception e, String resource, String requestId,
                                  Outcome outcome) {
        outcome.status = e.error().status();
        outcome.errorCode = e.error().code();
        e.logCause().ifPresent(cause -> LOG.warn("request {}: {} {}: {}", requestId, e.error().code(), resource, describe(cause)));
        if (response.isCommitted()) {
            callback.failed(e);
            return;
        }
        try {
            response.reset();
            HttpFields.Mutable headers = response.getHeaders();
            headers.put("x-amz-request-id", requestId);
            Cors.addTo(headers);
            for (Map.Entry<String, String> h : e.extraHeaders()) {
                headers.put(h.getKey(), h.getValue());
            }
            if (e.error().isRetryable()) {
                headers.put("Retry-After", "1");
            }
            response.setStatus(e.error().status());
            headers.put("Content-Type", "application/xml");
            boolean head = response.getRequest().getMethod().equals("HEAD");
            String xml = XmlDocuments.error(e.error(), e.clientMessage(), resource, requestId);
            if (head) {
                finish(response, null);
            } else {
                outcome.bytes = finish(response, xml);
            }
            callback.succeeded();
        } catch (IOException | RuntimeException io) {
            callback.failed(io);
        }
    }

    private static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder(t.toString());
        for (Throwable c = t.getCause(); c != null && c != t; c = c.getCause()) {
            sb.append(" <- ").append(c);
        }
        return sb.toString();
    }

    /** What happened to one request, filled in as it goes, for the access log and metrics. */
    private static final class Outcome {
        String operation = "Unknown";
        int status;
        long bytes;
        String account;
        String product;
        String key;
        String errorCode;
        String principal;
        /** Set when the head went out but the body did not arrive whole. */
        Truncation truncation;
    }

}
