package dev.sluice.server;

import dev.sluice.auth.Identifier;
import dev.sluice.auth.Principal;
import dev.sluice.auth.StsReply;
import dev.sluice.auth.StsService;
import dev.sluice.federation.OidcProvider;
import dev.sluice.observe.AccessLog;
import dev.sluice.observe.LogText;
import dev.sluice.observe.RequestMetrics;
import dev.sluice.protect.Gate;
import dev.sluice.protect.UsageMeter;
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
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The S3 front end: one request per virtual thread, blocking code, every outcome an S3
 * response. The request path is a pipeline ({@link #handle}): route, then {@link ReplyWriter}
 * sends the route's immutable {@link Reply}, then {@link #record} logs and counts what was
 * sent. Each route (preflight, OIDC documents, {@code /.sts}, each S3 operation) is a function
 * from the request to a reply and writes nothing itself. Parsing lives in {@code s3}, the read
 * path in {@link Reads}, the write path in {@link Writes}, bytes in the backends, small request
 * bodies in {@link SmallBodyReader}.
 * Any exception that is not an {@link S3Exception} is a bug: the client gets a generic
 * {@code 500 InternalError} and the stack trace goes to the log, never the response.
 */
public final class S3Handler extends Handler.Abstract {
    private static final Logger LOG = LoggerFactory.getLogger(S3Handler.class);

    private final Reads reads;
    private final Writes writes;
    private final RequestIds requestIds;
    private final RequestMetrics metrics;
    private final AccessLog accessLog;
    private final String version;
    private final Optional<OidcProvider> oidc;
    private final Identifier identifier;
    private final Optional<StsService> sts;
    private final SmallBodyReader bodies;
    private final ReplyWriter writer = new ReplyWriter();
    /** Where each request that may wait runs: a virtual thread of its own. */
    private final java.util.concurrent.Executor waiting = VirtualThreads.starting("sluice-request");
    private final Optional<VirtualHostStyle> virtualHosts;
    private final Ticker ticker;
    private final Gate gate;
    private final UsageMeter usage;

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

    public S3Handler(Reads reads, Writes writes, RequestIds requestIds, RequestMetrics metrics, AccessLog accessLog, String version,
                     Optional<OidcProvider> oidc, Identifier identifier, Optional<StsService> sts, Duration bodyDeadline,
                     BodyBudget bodyBudget, Optional<String> virtualHostDomain, Ticker ticker, Gate gate, UsageMeter usage) {
        // Jetty calls handle() on the thread that parsed the request; handle() keeps there only
        // what waits on nothing, and hands everything else to a virtual thread of its own.
        super(InvocationType.NON_BLOCKING);
        this.gate = gate;
        this.usage = usage;
        this.ticker = ticker;
        this.virtualHosts = virtualHostDomain.map(VirtualHostStyle::new);
        this.reads = reads;
        this.writes = writes;
        this.requestIds = requestIds;
        this.metrics = metrics;
        this.accessLog = accessLog;
        this.version = version;
        this.oidc = oidc;
        this.identifier = identifier;
        this.sts = sts;
        this.bodies = new SmallBodyReader(bodyBudget, bodyDeadline);
    }

    /**
     * Starts a request where it waits on nothing else: a read of a local file whose caller and
     * product are known from memory is answered here, on the thread that parsed it, as nginx
     * serves a file; a read of an S3 store is sent from here and answered from the thread that
     * reads the store's answer ({@link #start}); every other request goes to a virtual thread of
     * its own, where it may wait on a backend, a registry, a body or a slow client. Each saves
     * hand-offs between threads per request (docs/operations.md, "Threads").
     */
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        Reads.Starting start = start(request);
        if (start == Reads.Starting.NO) {
            waiting(callback, () -> handleWaiting(request, response, callback));
        } else {
            handleAtOnce(request, response, callback, start);
        }
        return true;
    }

    /**
     * Runs {@code work} on a virtual thread of its own. Every failure of a request is answered
     * within it; one that escapes is a bug, logged, and fails the request's callback, so the
     * connection is not left waiting for an answer that will not come.
     */
    private void waiting(Callback callback, Runnable work) {
        waiting.execute(() -> {
            try {
                work.run();
            } catch (Throwable bug) {
                LOG.error("a request failed with a bug", bug);
                try {
                    callback.failed(bug);
                } catch (RuntimeException alreadyCompleted) {
                    LOG.debug("the request's callback had completed: {}", alreadyCompleted.toString());
                }
            }
        });
    }

    /**
     * The pipeline, whole: a request id and CORS headers, the route's {@link Reply}, one writer
     * that sends it, one record of what was sent. Runs on a virtual thread: any step may wait.
     */
    private void handleWaiting(Request request, Response response, Callback callback) {
        long started = ticker.nanoTime();
        String requestId = begin(response);
        String rawPath = request.getHttpURI().getPath();
        // The pass's slot is held until the response has ended, however it ended (docs/protection.md).
        try (Gate.Pass pass = pass(request, requestId)) {
            Reply reply = route(request, rawPath, requestId, pass, Reads.Starting.NO);
            end(request, requestId, reply, writer.write(reply, response, callback, requestId, rawPath), pass, started);
        }
    }

    /**
     * The same pipeline for a request {@link #start} picked to start here: routed here, and a
     * small object sent without waiting ({@link ReplyWriter#sendAtOnce}), its record made when
     * its write completes. A read of a remote store is sent from here and sent on from the
     * thread that reads the store's answer. A reply that would wait to be sent (a large object,
     * an error document) goes to a virtual thread to be sent from there.
     */
    private void handleAtOnce(Request request, Response response, Callback callback, Reads.Starting start) {
        long started = ticker.nanoTime();
        String requestId = begin(response);
        String rawPath = request.getHttpURI().getPath();
        Gate.Pass pass = pass(request, requestId);
        Reply reply = route(request, rawPath, requestId, pass, start);
        if (!(reply instanceof Reply.Pending pending)) {
            sendAtOnce(reply, request, response, callback, requestId, rawPath, pass, started);
            return;
        }
        pending.reply().whenComplete((settled, failure) -> {
            try {
                sendAtOnce(failure == null ? settled : failed(pending.facts(), unwrap(failure), request, requestId),
                        request, response, callback, requestId, rawPath, pass, started);
            } catch (Throwable bug) {
                LOG.error("a request failed with a bug", bug);
                try (pass) {
                    callback.failed(bug);
                } catch (RuntimeException alreadyCompleted) {
                    LOG.debug("the request's callback had completed: {}", alreadyCompleted.toString());
                }
            }
        });
    }

    /** Sends {@code reply} without waiting if it is a small read; else on a virtual thread. */
    private void sendAtOnce(Reply reply, Request request, Response response, Callback callback, String requestId, String rawPath,
                            Gate.Pass pass, long started) {
        Optional<Reply> rest = reply instanceof Reply.Read read
                ? writer.sendAtOnce(read, response, callback, requestId, sent -> {
                    try (pass) {
                        end(request, requestId, read, sent, pass, started);
                    }
                })
                : Optional.of(reply);
        rest.ifPresent(waitingReply -> waiting(callback, () -> {
            try (pass) {
                end(request, requestId, waitingReply, writer.write(waitingReply, response, callback, requestId, rawPath), pass, started);
            }
        }));
    }

    /** What a future failed with: its cause, as {@link #failed} takes it. */
    private static Exception unwrap(Throwable failure) {
        Throwable cause = failure instanceof java.util.concurrent.CompletionException c && c.getCause() != null ? c.getCause() : failure;
        return cause instanceof Exception e ? e : new IllegalStateException("a read failed", cause);
    }

    /** A new request's id, and the headers every response carries: the id and CORS. */
    private String begin(Response response) {
        String requestId = requestIds.next();
        HttpFields.Mutable headers = response.getHeaders();
        // A name Jetty does not know: built without looking it up in Jetty's table of known names.
        headers.add(new HttpField((HttpHeader) null, "x-amz-request-id", requestId));
        Cors.addTo(headers);
        return requestId;
    }

    /** What follows a reply that was sent: its bytes charged to the limits, its record, its usage. */
    private void end(Request request, String requestId, Reply reply, ReplyWriter.Sent sent, Gate.Pass pass, long started) {
        if (reply instanceof Reply.Read) {
            pass.charge(sent.bytes());
        }
        // The client as the limits see it: behind a trusted proxy, the address it forwarded for.
        String client = pass.client().isEmpty() ? Request.getRemoteAddr(request) : pass.client();
        record(request, requestId, reply.facts(), sent, ticker.since(started), client);
        Reply.Facts facts = reply.facts();
        // An anonymous caller's log name has no subject ("anonymous", "unknown_key"): no principal to meter.
        usage.record(new UsageMeter.Key(facts.account().orElse(""), facts.product().orElse(""),
                facts.principal().filter(p -> p.contains(":")).orElse(""), client), sent.bytes());
    }

    /**
     * Where a request starts. Here ({@link Reads.Starting#LOCALLY}): a GET or HEAD without a body,
     * path-style, of a static product on a directory, with limits, if any, decided in this
     * process (a shared limit store is a network call); identifying its caller (a signature is
     * computation on keys in memory) and authorizing wait on nothing. Sent from here
     * ({@link Reads.Starting#REMOTELY}): the same of a static product on an S3 store (whose
     * credentials, when they may need an exchange, are had on a virtual thread). Conservative:
     * anything else, including a name with a percent-escape in its account or product, waits on
     * a virtual thread.
     */
    private Reads.Starting start(Request request) {
        if (!gate.decidesLocally() || virtualHosts.isPresent()) {
            return Reads.Starting.NO;
        }
        String method = request.getMethod();
        if (!method.equals("GET") && !method.equals("HEAD")) {
            return Reads.Starting.NO;
        }
        if (request.getLength() > 0 || request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING)) {
            return Reads.Starting.NO;
        }
        String path = request.getHttpURI().getPath();
        if (path == null || path.length() < 2 || path.charAt(0) != '/') {
            return Reads.Starting.NO;
        }
        int accountEnd = path.indexOf('/', 1);
        int productEnd = accountEnd < 0 ? -1 : path.indexOf('/', accountEnd + 1);
        if (productEnd < 0) {
            return Reads.Starting.NO;
        }
        String account = path.substring(1, accountEnd);
        String product = path.substring(accountEnd + 1, productEnd);
        if (account.indexOf('%') >= 0 || product.indexOf('%') >= 0) {
            return Reads.Starting.NO;
        }
        return reads.startsWithoutWaiting(account, product);
    }

    /** The request's pass through the limits, from its peer address and any X-Forwarded-For. */
    private Gate.Pass pass(Request request, String requestId) {
        return gate.pass(peer(request), () -> request.getHeaders().getValuesList("X-Forwarded-For"), requestId);
    }

    private static java.net.InetAddress peer(Request request) {
        return request.getConnectionMetaData().getRemoteSocketAddress() instanceof java.net.InetSocketAddress a && a.getAddress() != null
                ? a.getAddress() : java.net.InetAddress.getLoopbackAddress();
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
     * the request line is gone, so the document names no resource. It is sent, logged and
     * counted as every other reply.
     */
    public boolean handleRejected(Request request, Response response, Callback callback) {
        waiting(callback, () -> answerRejected(request, response, callback));
        return true;
    }

    private void answerRejected(Request request, Response response, Callback callback) {
        long started = ticker.nanoTime();
        String requestId = requestIds.next();
        Reply reply = new Reply.Failure(Reply.Facts.of("Rejected"), rejection(request, response.getStatus(), requestId));
        ReplyWriter.Sent sent = writer.write(reply, response, callback, requestId, "");
        record(request, requestId, reply.facts(), sent, ticker.since(started), Request.getRemoteAddr(request));
    }

    private static S3Exception rejection(Request request, int status, String requestId) {
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
        return switch (status) {
            case 431 -> new S3Exception(S3Error.REQUEST_HEADER_SECTION_TOO_LARGE,
                    S3Error.REQUEST_HEADER_SECTION_TOO_LARGE.defaultMessage(), null, close);
            case 505 -> new S3Exception(S3Error.HTTP_VERSION_NOT_SUPPORTED,
                    "The HTTP version of the request is not supported; use HTTP/1.1.", null, close);
            // A handler's failure reaches here too, before anything was written: that one is ours.
            default -> status >= 500 ? new S3Exception(S3Error.INTERNAL_ERROR, S3Error.INTERNAL_ERROR.defaultMessage(), null, close)
                    : new S3Exception(S3Error.INVALID_REQUEST,
                    "The request could not be parsed; check its request line and the percent-encoding of its path.", null, close);
        };
    }

    /**
     * The one record of a request: an access-log line and the request metrics, from what was
     * actually sent. Every error is counted under its code, every body byte written is logged.
     */
    private void record(Request request, String requestId, Reply.Facts facts, ReplyWriter.Sent sent, Duration took, String client) {
        metrics.record(facts.operation(), sent.status(), took, sent.bytes());
        sent.errorCode().ifPresent(metrics::error);
        sent.truncation().ifPresent(t -> metrics.truncated(t.metricReason));
        accessLog.write(new AccessLog.Entry(requestId, request.getMethod(), facts.operation(), facts.account().orElse(null),
                facts.product().orElse(null), facts.key().orElse(null), sent.status(), sent.bytes(), Request.getContentBytesRead(request),
                took.toNanos() / 1000, client, sent.truncation().map(t -> t.code).or(sent::errorCode).orElse(null),
                facts.principal().orElse(null)));
    }

    /** Which route answers: a preflight, an OIDC document, the STS endpoint, or S3. */
    private Reply route(Request request, String rawPath, String requestId, Gate.Pass pass, Reads.Starting start) {
        Optional<String> hostAccount = virtualHosts.flatMap(v -> v.account(request.getHttpURI().getHost()));
        if (request.getMethod().equals("OPTIONS")) {
            return preflight(request);
        }
        if (hostAccount.isEmpty() && rawPath.startsWith("/.well-known/")) {
            return oidcDocument(request, rawPath, requestId);
        }
        if (hostAccount.isEmpty() && isStsCall(request, rawPath)) {
            return sts(request, requestId, pass);
        }
        return s3(request, rawPath, hostAccount, requestId, pass, start);
    }

    /** A CORS preflight: no body, the headers a browser asked to send are allowed. */
    private static Reply preflight(Request request) {
        return new Reply.Small(Reply.Facts.of("Preflight"), 204,
                Cors.preflight(request.getHeaders().get("Access-Control-Request-Headers")), Optional.empty());
    }

    /**
     * The OIDC discovery document and JWKS that relying parties (AWS STS, a control plane)
     * fetch to verify sluice's tokens. Public by nature; cacheable for {@link OidcProvider#JWKS_MAX_AGE}.
     */
    private Reply oidcDocument(Request request, String path, String requestId) {
        Reply.Facts facts = Reply.Facts.of("OidcDocument");
        String method = request.getMethod();
        try {
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
            return new Reply.Small(facts, 200, List.of(
                    Map.entry("Content-Type", path.equals(OidcProvider.JWKS_PATH) ? "application/jwk-set+json" : "application/json"),
                    Map.entry("Cache-Control", "public, max-age=" + OidcProvider.JWKS_MAX_AGE.toSeconds())),
                    method.equals("HEAD") ? Optional.empty() : body);
        } catch (RuntimeException e) {
            return failed(facts, e, request, requestId);
        }
    }

    /**
     * {@code /.sts}: AssumeRoleWithWebIdentity for clients. The body is read only here, only
     * for a POST, and only up to {@link SmallBodyReader#MAX_SMALL_BODY}, held under the
     * {@link BodyBudget} until the call is answered; a larger one is refused without being kept.
     * STS clients parse STS errors, so every answer but a refusal before the call is read
     * (STS not enabled, the body budget spent) is in STS's shape, its error code counted.
     */
    private Reply sts(Request request, String requestId, Gate.Pass pass) {
        Reply.Facts facts = Reply.Facts.of("AssumeRoleWithWebIdentity");
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        StsReply reply;
        try {
            if (sts.isEmpty()) {
                throw new S3Exception(S3Error.NOT_IMPLEMENTED, "The STS endpoint is not enabled on this server (inbound.sts).");
            }
            String method = request.getMethod();
            try (BodyBudget.Reservation held = method.equals("POST") ? bodies.reserve(request) : null) {
                byte[] body = held != null ? bodies.read(request) : new byte[0];
                reply = sts.get().handle(method, Optional.ofNullable(request.getHttpURI().getQuery()).orElse(""),
                        Optional.ofNullable(request.getHeaders().get(HttpHeader.CONTENT_TYPE)), body, requestId);
            } catch (S3Exception e) {
                if (e.error() != S3Error.MAX_MESSAGE_LENGTH_EXCEEDED && e.error() != S3Error.REQUEST_TIMEOUT) {
                    throw e;
                }
                // STS clients parse STS errors: answer a body that could not be read in that shape.
                headers.addAll(e.extraHeaders());
                reply = StsService.unreadableBody(e.error() == S3Error.MAX_MESSAGE_LENGTH_EXCEEDED, requestId);
            }
        } catch (IOException | RuntimeException e) {
            return failed(facts, e, request, requestId);
        }
        if (reply.status() / 100 == 4) {
            // A refused exchange (a forged or expired token, a role it may not assume) costs a
            // token from the address's bucket, as a failed signature does; over the limit the
            // caller is told STS's Throttling instead (docs/protection.md, "Failed identification").
            try {
                pass.unidentified();
            } catch (S3Exception slowDown) {
                headers.addAll(slowDown.extraHeaders());
                reply = StsService.throttled(requestId);
            }
        }
        if (reply.status() == 405) {
            headers.add(Map.entry("Allow", "GET, POST"));
        }
        headers.add(Map.entry("Content-Type", reply.contentType()));
        headers.add(Map.entry("Cache-Control", "no-store"));
        return new Reply.Small(facts, reply.status(), List.copyOf(headers), Optional.of(reply.body()), reply.errorCode());
    }

    /**
     * An S3 request: parsed into an {@link Operation}, its caller identified, then served.
     * What sluice does not serve is answered 501, but only to a caller whose signature holds
     * (a wrong one is 403 as for any request), and its body is never read. How a body is
     * treated depends on the operation: a read, and a write whose request is all in its head
     * (CreateMultipartUpload, AbortMultipartUpload, ListParts, ListMultipartUploads,
     * DeleteObject, CopyObject), takes none and one is refused unread; the XML of
     * CompleteMultipartUpload and DeleteObjects is read whole ({@link SmallBodyReader}) and its
     * signature checked over it; the bytes of PutObject and UploadPart stream into the store,
     * checked as they arrive ({@link Identifier#identifyUpload}, {@link Writes}).
     */
    private Reply s3(Request request, String rawPath, Optional<String> hostAccount, String requestId, Gate.Pass pass, Reads.Starting start) {
        Reply.Facts facts = Reply.Facts.of("Unknown");
        try {
            SignableRequest signable = signable(request, rawPath);
            Operation op = S3RequestParser.parse(request.getMethod(), VirtualHostStyle.pathStyle(hostAccount, rawPath),
                    request.getHttpURI().getQuery(), signable.headers());
            facts = Reply.Facts.of(op.name());
            Function<String, Optional<String>> header = name -> Optional.ofNullable(request.getHeaders().get(name));
            switch (op) {
                case Operation.Unsupported u -> {
                    Principal principal = identify(pass, () -> identifier.identifyWithoutBody(signable));
                    facts = identified(facts, principal, op);
                    admit(pass, principal, op);
                    throw new S3Exception(S3Error.NOT_IMPLEMENTED, u.message());
                }
                case Operation.CreateAccount c -> {
                    Principal principal = identify(pass, () -> identifier.identifyWithoutBody(signable));
                    facts = identified(facts, principal, op);
                    admit(pass, principal, op);
                    throw createAccount(c, principal, requestId);
                }
                case Operation.PutObject put -> {
                    Identifier.Identified id = identify(pass, () -> identifier.identifyUpload(signable));
                    facts = identified(facts, id.principal(), op);
                    admit(pass, id.principal(), op);
                    return written(facts, writes.put(put, id.principal(), header, Content.Source.asInputStream(request),
                            id.chunkSigning(), requestId));
                }
                case Operation.UploadPart part -> {
                    Identifier.Identified id = identify(pass, () -> identifier.identifyUpload(signable));
                    facts = identified(facts, id.principal(), op);
                    admit(pass, id.principal(), op);
                    return written(facts, writes.uploadPart(part, id.principal(), header, Content.Source.asInputStream(request),
                            id.chunkSigning(), requestId));
                }
                case Operation.CompleteMultipartUpload c -> {
                    try (BodyBudget.Reservation held = bodies.reserve(request, SmallBodyReader.MAX_WRITE_DOCUMENT)) {
                        byte[] body = bodies.read(request, SmallBodyReader.MAX_WRITE_DOCUMENT);
                        Principal principal = identify(pass, () -> identifier.identify(signable, body));
                        facts = identified(facts, principal, op);
                    admit(pass, principal, op);
                        Reply.Facts known = facts;
                        return completing(known, () -> written(known, writes.completeUpload(c, principal, header, body, requestId)),
                                request, requestId);
                    }
                }
                case Operation.DeleteObjects d -> {
                    try (BodyBudget.Reservation held = bodies.reserve(request, SmallBodyReader.MAX_WRITE_DOCUMENT)) {
                        byte[] body = bodies.read(request, SmallBodyReader.MAX_WRITE_DOCUMENT);
                        Principal principal = identify(pass, () -> identifier.identify(signable, body));
                        facts = identified(facts, principal, op);
                    admit(pass, principal, op);
                        return written(facts, writes.deleteObjects(d, principal, header, body, requestId));
                    }
                }
                default -> {
                    SmallBodyReader.refuse(request);
                    Principal principal = identify(pass, () -> identifier.identify(signable, new byte[0]));
                    facts = identified(facts, principal, op);
                    admit(pass, principal, op);
                    return start == Reads.Starting.REMOTELY ? sendFromHere(op, principal, request, requestId, facts)
                            : serve(op, principal, request, requestId, facts);
                }
            }
        } catch (IOException | RuntimeException e) {
            return failed(facts, e, request, requestId);
        }
    }

    /**
     * The caller, identified; a request whose identification fails takes a token from its
     * address's bucket first ({@link Gate.Pass#unidentified}), and is told to slow down instead
     * of its error when that bucket is empty.
     */
    private static <T> T identify(Gate.Pass pass, Supplier<T> identification) {
        try {
            return identification.get();
        } catch (S3Exception e) {
            pass.unidentified();
            throw e;
        }
    }

    /** The facts of a request once its caller is known: who, and what it names; the caller is counted. */
    private Reply.Facts identified(Reply.Facts facts, Principal principal, Operation op) {
        metrics.caller(principal.kind());
        return facts.withPrincipal(principal.logName()).withResource(account(op), product(op), key(op));
    }

    /** The caller's and the product's limits (docs/protection.md), once both are known. */
    private static void admit(Gate.Pass pass, Principal principal, Operation op) {
        pass.admit(principal, account(op), product(op), op instanceof Operation.ReadObject);
    }

    /**
     * {@link #serve} on a thread that may not wait: a read is sent to its store from here and its
     * reply comes when the store answers; any other operation is served on a virtual thread.
     */
    private Reply sendFromHere(Operation op, Principal principal, Request request, String requestId, Reply.Facts facts) {
        if (op instanceof Operation.ReadObject r) {
            return new Reply.Pending(facts, reads.readWithoutWaiting(r, principal, requestId, ReplyWriter.AT_ONCE_MAX, waiting)
                    .thenApply(object -> new Reply.Read(facts, object)));
        }
        return new Reply.Pending(facts, CompletableFuture.supplyAsync(() -> {
            try {
                return serve(op, principal, request, requestId, facts);
            } catch (RuntimeException e) {
                return failed(facts, e, request, requestId);
            }
        }, waiting));
    }

    private Reply serve(Operation op, Principal principal, Request request, String requestId, Reply.Facts facts) {
        boolean head = request.getMethod().equals("HEAD");
        return switch (op) {
            case Operation.ServiceInfo s -> small(facts, "application/json",
                    Optional.of("{\"name\":\"sluice\",\"version\":\"" + version + "\"}\n"));
            case Operation.ListAccounts l -> {
                List<String> accounts = reads.listAccounts(l.prefix(), principal, requestId);
                String xml = XmlDocuments.bucketList(BUCKET_OWNER, accounts, ACCOUNT_CREATION_DATE, l.prefix());
                yield small(facts, "application/xml", head ? Optional.empty() : Optional.of(xml));
            }
            case Operation.HeadAccount h -> {
                reads.requireAccount(h.account(), principal, requestId);
                yield new Reply.Small(facts, 200, List.of(), Optional.empty());
            }
            case Operation.GetAccountLocation g -> {
                reads.requireAccount(g.account(), principal, requestId);
                yield small(facts, "application/xml", Optional.of(XmlDocuments.location("us-east-1")));
            }
            case Operation.ListAccount l -> {
                ListResult result = reads.list(l, principal, requestId);
                yield small(facts, "application/xml", Optional.of(XmlDocuments.listResult(l.account(), l.list(), result, l.account())));
            }
            case Operation.ReadObject r -> new Reply.Read(facts, reads.read(r, principal, requestId));
            case Operation.CreateMultipartUpload c -> written(facts, writes.createUpload(c, principal, requestId));
            case Operation.AbortMultipartUpload a -> written(facts, writes.abortUpload(a, principal, requestId));
            case Operation.ListParts l -> written(facts, writes.listParts(l, principal, requestId));
            case Operation.ListMultipartUploads l -> written(facts, writes.listUploads(l, principal, requestId));
            case Operation.DeleteObject d -> written(facts, writes.delete(d, principal, requestId));
            // A copy may take a while too (S3 copies on its own side; the file store copies the bytes).
            case Operation.CopyObject c -> completing(facts, () -> written(facts, writes.copy(c, principal, requestId)), request, requestId);
            // Answered in s3(), by their body's kind.
            case Operation.PutObject p -> throw new IllegalStateException("PutObject is served with its body");
            case Operation.UploadPart p -> throw new IllegalStateException("UploadPart is served with its body");
            case Operation.CompleteMultipartUpload c -> throw new IllegalStateException("served with its body");
            case Operation.DeleteObjects d -> throw new IllegalStateException("served with its body");
            case Operation.Unsupported u -> throw new S3Exception(S3Error.NOT_IMPLEMENTED, u.message());
            case Operation.CreateAccount c -> throw new IllegalStateException("CreateBucket is answered before serving");
        };
    }

    /**
     * CreateBucket's answer ({@link Operation.CreateAccount}): {@code 409 BucketAlreadyOwnedByYou}
     * to an authenticated caller who sees the account, as S3 answers its owner; {@code 501
     * NotImplemented} to anyone else, since sluice never creates an account. Its body is never read.
     */
    private S3Exception createAccount(Operation.CreateAccount c, Principal principal, String requestId) {
        S3Exception unsupported = new S3Exception(S3Error.NOT_IMPLEMENTED,
                "Accounts are configured, not created or changed through S3; this request is not supported.");
        if (principal instanceof Principal.Anonymous) {
            return unsupported;
        }
        try {
            reads.requireAccount(c.account(), principal, requestId);
        } catch (S3Exception e) {
            if (e.error() == S3Error.NO_SUCH_BUCKET) {
                return unsupported;
            }
            throw e;
        }
        return new S3Exception(S3Error.BUCKET_ALREADY_OWNED_BY_YOU);
    }

    /**
     * The reply of a CompleteMultipartUpload or a CopyObject, made on a virtual thread of its own
     * so that the writer can keep the connection alive while a store makes a large object
     * ({@link Reply.Completing}); every outcome, a bug included, becomes a reply.
     */
    private Reply completing(Reply.Facts facts, Supplier<Reply> completion, Request request, String requestId) {
        CompletableFuture<Reply> outcome = new CompletableFuture<>();
        // Named now: the store may still be working after the client has gone and the request is recycled.
        String what = request.getMethod() + " " + LogText.escape(request.getHttpURI().getPath());
        waiting.execute(() -> {
            try {
                outcome.complete(completion.get());
            } catch (S3Exception e) {
                outcome.complete(new Reply.Failure(facts, e));
            } catch (RuntimeException e) {
                LOG.error("request {}: {} failed with a bug", requestId, what, e);
                outcome.complete(new Reply.Failure(facts, new S3Exception(S3Error.INTERNAL_ERROR)));
            } catch (Throwable bug) {
                outcome.completeExceptionally(bug);
                throw bug;
            }
        });
        return new Reply.Completing(facts, outcome);
    }

    /** A write's answer as a reply: its headers, and its XML document when it has one. */
    private static Reply written(Reply.Facts facts, Writes.Answer answer) {
        List<Map.Entry<String, String>> headers = new ArrayList<>(answer.headers());
        if (answer.xml().isPresent()) {
            headers.add(Map.entry("Content-Type", "application/xml"));
        }
        return new Reply.Small(facts, answer.status(), List.copyOf(headers), answer.xml());
    }

    private static Reply small(Reply.Facts facts, String contentType, Optional<String> body) {
        return new Reply.Small(facts, 200, List.of(Map.entry("Content-Type", contentType)), body);
    }

    /** The account, product and key an operation names, as the access log records them. */
    private static Optional<String> account(Operation op) {
        return switch (op) {
            case Operation.HeadAccount h -> Optional.of(h.account());
            case Operation.CreateAccount c -> Optional.of(c.account());
            case Operation.GetAccountLocation g -> Optional.of(g.account());
            case Operation.ListAccount l -> Optional.of(l.account());
            case Operation.OnObject o -> Optional.of(o.account());
            case Operation.Write w -> Optional.of(w.account());
            case Operation.Unsupported u -> u.account();
            case Operation.ServiceInfo s -> Optional.empty();
            case Operation.ListAccounts l -> Optional.empty();
        };
    }

    private static Optional<String> product(Operation op) {
        return op instanceof Operation.OnObject o ? Optional.of(o.product()) : Optional.empty();
    }

    private static Optional<String> key(Operation op) {
        return op instanceof Operation.OnObject o ? Optional.of(o.key()) : Optional.empty();
    }

    /**
     * A route's failure as its reply: an {@link S3Exception} is sent as it is, a failed client
     * connection leaves nothing to send, and anything else is a bug, answered
     * {@code 500 InternalError} with the stack trace in the log only.
     */
    private static Reply failed(Reply.Facts facts, Exception e, Request request, String requestId) {
        return switch (e) {
            case S3Exception s3 -> new Reply.Failure(facts, s3);
            case IOException io -> new Reply.Abandoned(facts, io);
            default -> {
                LOG.error("request {}: {} {} failed with a bug", requestId, request.getMethod(),
                        LogText.escape(request.getHttpURI().getPath()), e);
                yield new Reply.Failure(facts, new S3Exception(S3Error.INTERNAL_ERROR));
            }
        };
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
}
