package dev.sluice.testing;

import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A reverse proxy between sluice and its S3 backend that records what sluice sent: when each
 * request arrived and which {@code x-amz-security-token} it carried. It is how a test sees the
 * credentials sluice actually used on the wire, not just the ones it obtained.
 *
 * <p>Requests are forwarded byte for byte, {@code Host} included: sluice signs the host it
 * connects to (this proxy), and the backend checks the signature against the {@code Host} it
 * receives. Bodies are buffered, so it is for small objects only.
 */
public final class RecordingProxy implements AutoCloseable {
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection", "transfer-encoding",
            "te", "trailer", "upgrade", "content-length");

    /** One request as it passed through. */
    public record Forwarded(Instant arrivedAt, String method, String pathAndQuery, Optional<String> securityToken, int status) {
    }

    private final URI target;
    private final InstantSource clock;
    private final LoopbackServer server;
    private final HttpClient client;
    private final List<Forwarded> forwarded = new CopyOnWriteArrayList<>();

    private RecordingProxy(URI target, InstantSource clock) throws Exception {
        this.target = target;
        this.clock = clock;
        this.client = new HttpClient();
        client.setFollowRedirects(false);
        client.setUserAgentField(null);
        client.getContentDecoderFactories().clear();
        this.server = new LoopbackServer(this::forward, Duration.ofSeconds(1));
    }

    /** A proxy to {@code target} on a free loopback port, stamping arrivals with {@code clock}. */
    public static RecordingProxy start(URI target, InstantSource clock) throws Exception {
        RecordingProxy proxy = new RecordingProxy(target, clock);
        try {
            proxy.client.start(); // before anyone knows the port, so before the first request
            return proxy;
        } catch (Exception e) {
            proxy.close();
            throw e;
        }
    }

    public URI endpoint() {
        return URI.create(server.url());
    }

    /** Every request forwarded so far, in order of completion. */
    public List<Forwarded> forwarded() {
        return List.copyOf(forwarded);
    }

    private void forward(Request request, Response response, Callback callback) throws Exception {
        Instant arrived = clock.instant();
        String pathAndQuery = request.getHttpURI().getPathQuery();
        ByteBuffer body = Content.Source.asByteBuffer(request);
        org.eclipse.jetty.client.Request out = client.newRequest(URI.create(target.getScheme() + "://" + target.getRawAuthority()
                        + pathAndQuery))
                .method(request.getMethod())
                .timeout(30, TimeUnit.SECONDS)
                .headers(h -> {
                    h.clear();
                    for (HttpField f : request.getHeaders()) {
                        if (!HOP_BY_HOP.contains(f.getLowerCaseName())) {
                            h.add(f);
                        }
                    }
                });
        if (body.hasRemaining()) {
            byte[] bytes = new byte[body.remaining()];
            body.get(bytes);
            out.body(new BytesRequestContent(bytes));
        }
        ContentResponse answer = out.send();
        forwarded.add(new Forwarded(arrived, request.getMethod(), pathAndQuery,
                Optional.ofNullable(request.getHeaders().get("x-amz-security-token")), answer.getStatus()));
        response.setStatus(answer.getStatus());
        for (HttpField f : answer.getHeaders()) {
            if (!HOP_BY_HOP.contains(f.getName().toLowerCase(Locale.ROOT))) {
                response.getHeaders().add(f);
            }
        }
        byte[] content = answer.getContent();
        if (!request.getMethod().equals("HEAD")) {
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, content.length);
        } else if (answer.getHeaders().get(HttpHeader.CONTENT_LENGTH) != null) {
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, answer.getHeaders().get(HttpHeader.CONTENT_LENGTH));
        }
        response.write(true, ByteBuffer.wrap(content), callback);
    }

    @Override
    public void close() throws Exception {
        try {
            server.close();
        } finally {
            client.stop();
        }
    }
}
