package dev.sluice.server;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.s3.XmlDocuments;
import dev.sluice.testing.LoopbackServer;
import org.eclipse.jetty.io.Content;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.w3c.dom.Document;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadResponse;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A CompleteMultipartUpload or CopyObject whose store takes a while is answered as S3 answers it: the
 * {@code 200} and the XML declaration at once, spaces while the store works, then the result
 * or the error document in the same {@code 200}; one that finishes quickly keeps its own
 * status. A real Jetty server sends {@link Reply.Completing} replies whose outcome each test
 * completes itself, once it has seen what the client received so far, or that the writer has
 * begun to keep the connection alive: nothing here waits on time passing but the writer's own
 * short keep-alive period.
 */
@Timeout(60)
class CompletingReplyTest {
    private static final Reply.Facts FACTS = Reply.Facts.of("CompleteMultipartUpload");
    private static final String RESOURCE = "/demo/drop/big.bin";

    private final BlockingQueue<CompletableFuture<Reply>> outcomes = new LinkedBlockingQueue<>();
    private final BlockingQueue<ReplyWriter.Sent> sent = new LinkedBlockingQueue<>();
    private LoopbackServer server;
    private URI endpoint;
    private ReplyWriter writer = new ReplyWriter(Duration.ofMillis(100), Duration.ofMillis(20), Duration.ofSeconds(30));

    @BeforeEach
    void start() throws Exception {
        server = new LoopbackServer((request, response, callback) -> Thread.ofVirtual().start(() -> {
            try {
                Content.Source.consumeAll(request);
                CompletableFuture<Reply> outcome = outcomes.poll(30, TimeUnit.SECONDS);
                sent.add(writer.write(new Reply.Completing(FACTS, outcome), response, callback, "req-1", RESOURCE));
            } catch (Exception e) {
                callback.failed(e);
            }
        }), Duration.ZERO);
        endpoint = URI.create(server.url());
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private static Reply.Small result(String etag) {
        return new Reply.Small(FACTS, 200, List.of(Map.entry("Content-Type", "application/xml")),
                Optional.of(XmlDocuments.completeMultipartUpload("http://sluice" + RESOURCE, "demo", "drop/big.bin", etag, List.of())));
    }

    @Test
    void aQuickCompletionKeepsItsOwnStatus() throws Exception {
        outcomes.add(CompletableFuture.completedFuture(new Reply.Failure(FACTS, new S3Exception(S3Error.INVALID_PART))));

        HttpResponse<String> response = HttpClient.newHttpClient().send(post(), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(parse(response.body()).getDocumentElement().getElementsByTagName("Code").item(0).getTextContent())
                .isEqualTo("InvalidPart");
        assertThat(sent.poll(10, TimeUnit.SECONDS).status()).isEqualTo(400);
    }

    @Test
    void aSlowCompletionIsA200KeptAliveThenItsDocument() throws Exception {
        CompletableFuture<Reply> outcome = new CompletableFuture<>();
        outcomes.add(outcome);

        HttpResponse<InputStream> response = HttpClient.newHttpClient().send(post(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.statusCode()).as("the head went out while the store was still working").isEqualTo(200);
        assertThat(outcome).isNotDone();
        assertThat(response.headers().firstValue("Content-Type")).contains("application/xml");
        InputStream body = response.body();
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        readUntil(body, seen, "?>\n  "); // the declaration, then two keep-alive spaces
        outcome.complete(result("\"abc-2\""));
        seen.writeBytes(body.readAllBytes());

        String text = seen.toString(StandardCharsets.UTF_8);
        Document document = parse(text);
        assertThat(document.getDocumentElement().getLocalName()).isEqualTo("CompleteMultipartUploadResult");
        assertThat(document.getDocumentElement().getElementsByTagName("ETag").item(0).getTextContent()).isEqualTo("\"abc-2\"");
        ReplyWriter.Sent s = sent.poll(10, TimeUnit.SECONDS);
        assertThat(s.status()).isEqualTo(200);
        assertThat(s.errorCode()).isEmpty();
        assertThat(s.bytes()).isEqualTo(text.getBytes(StandardCharsets.UTF_8).length);
    }

    @Test
    void aSlowCompletionThatFailsSendsTheErrorDocumentInIts200() throws Exception {
        CompletableFuture<Reply> outcome = new CompletableFuture<>();
        outcomes.add(outcome);

        HttpResponse<InputStream> response = HttpClient.newHttpClient().send(post(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.statusCode()).isEqualTo(200);
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        readUntil(response.body(), seen, "?>\n ");
        outcome.complete(new Reply.Failure(FACTS, new S3Exception(S3Error.PRECONDITION_FAILED)));
        seen.writeBytes(response.body().readAllBytes());

        Document document = parse(seen.toString(StandardCharsets.UTF_8));
        assertThat(document.getDocumentElement().getLocalName()).isEqualTo("Error");
        assertThat(document.getDocumentElement().getElementsByTagName("Code").item(0).getTextContent()).isEqualTo("PreconditionFailed");
        assertThat(document.getDocumentElement().getElementsByTagName("RequestId").item(0).getTextContent()).isEqualTo("req-1");
        ReplyWriter.Sent s = sent.poll(10, TimeUnit.SECONDS);
        assertThat(s.status()).isEqualTo(200);
        assertThat(s.errorCode()).contains("PreconditionFailed");
    }

    /** A client that leaves while the store works is recorded as gone; the store's completion is not cancelled. */
    @Test
    void aClientThatLeavesDuringTheKeepAliveIsRecordedAsDisconnected() throws Exception {
        CompletableFuture<Reply> outcome = new CompletableFuture<>();
        outcomes.add(outcome);
        try (java.net.Socket socket = new java.net.Socket(endpoint.getHost(), endpoint.getPort())) {
            String body = "<CompleteMultipartUpload/>";
            socket.getOutputStream().write(("POST " + RESOURCE + "?uploadId=u1 HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length()
                    + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
            ByteArrayOutputStream seen = new ByteArrayOutputStream();
            readUntil(socket.getInputStream(), seen, "?>\n"); // the head and the declaration (in a chunk)
            assertThat(seen.toString(StandardCharsets.UTF_8)).startsWith("HTTP/1.1 200");
        }

        ReplyWriter.Sent s = sent.poll(30, TimeUnit.SECONDS);
        assertThat(s.truncation()).contains(ReplyWriter.Truncation.CLIENT_DISCONNECTED);
        assertThat(outcome).as("the store's work is not cancelled").isNotDone();
        assertThat(outcome.isCancelled()).isFalse();
    }

    @Test
    void aStoreThatOutlastsTheLimitIsAnsweredInternalError() throws Exception {
        writer = new ReplyWriter(Duration.ofMillis(20), Duration.ofMillis(20), Duration.ofMillis(200));
        outcomes.add(new CompletableFuture<>()); // never completes

        HttpResponse<String> response = HttpClient.newHttpClient().send(post(), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        Document document = parse(response.body());
        assertThat(document.getDocumentElement().getElementsByTagName("Code").item(0).getTextContent()).isEqualTo("InternalError");
        assertThat(sent.poll(10, TimeUnit.SECONDS).errorCode()).contains("InternalError");
    }

    /** The AWS SDK reads the kept-alive 200 as S3's: the result when it succeeded, an exception when it failed. */
    @Test
    void theAwsSdkReadsBothOutcomesOfAKeptAliveCompletion() throws Exception {
        try (S3Client sdk = sdk()) {
            Watched success = new Watched();
            outcomes.add(success);
            CompletableFuture<CompleteMultipartUploadResponse> done = CompletableFuture.supplyAsync(() -> sdk.completeMultipartUpload(
                    b -> b.bucket("demo").key("drop/big.bin").uploadId("u1").multipartUpload(m -> m.parts(p -> p.partNumber(1).eTag("\"e\"")))));
            awaitKeepAlive(success);
            success.complete(result("\"def-1\""));
            assertThat(done.get(30, TimeUnit.SECONDS).eTag()).isEqualTo("\"def-1\"");

            Watched failure = new Watched();
            outcomes.add(failure);
            CompletableFuture<CompleteMultipartUploadResponse> failed = CompletableFuture.supplyAsync(() -> sdk.completeMultipartUpload(
                    b -> b.bucket("demo").key("drop/big.bin").uploadId("u2").multipartUpload(m -> m.parts(p -> p.partNumber(1).eTag("\"e\"")))));
            awaitKeepAlive(failure);
            failure.complete(new Reply.Failure(FACTS, new S3Exception(S3Error.PRECONDITION_FAILED)));
            assertThatThrownBy(() -> failed.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(software.amazon.awssdk.services.s3.model.S3Exception.class)
                    .cause().satisfies(e -> assertThat(((software.amazon.awssdk.services.s3.model.S3Exception) e)
                            .awsErrorDetails().errorCode()).isEqualTo("PreconditionFailed"));
        }
    }

    /** A CopyObject is answered the same way: the SDK reads the copy's result, or the error, from the kept-alive 200. */
    @Test
    void theAwsSdkReadsAKeptAliveCopy() throws Exception {
        try (S3Client sdk = sdk()) {
            Watched success = new Watched();
            outcomes.add(success);
            CompletableFuture<software.amazon.awssdk.services.s3.model.CopyObjectResponse> done = CompletableFuture.supplyAsync(() ->
                    sdk.copyObject(b -> b.sourceBucket("demo").sourceKey("drop/a.bin").destinationBucket("demo").destinationKey("drop/b.bin")));
            awaitKeepAlive(success);
            success.complete(new Reply.Small(FACTS, 200, List.of(Map.entry("Content-Type", "application/xml")),
                    Optional.of(XmlDocuments.copyObject("\"c0py\"", java.time.Instant.parse("2026-12-07T10:00:00Z"), List.of()))));
            assertThat(done.get(30, TimeUnit.SECONDS).copyObjectResult().eTag()).isEqualTo("\"c0py\"");

            Watched failure = new Watched();
            outcomes.add(failure);
            CompletableFuture<software.amazon.awssdk.services.s3.model.CopyObjectResponse> failed = CompletableFuture.supplyAsync(() ->
                    sdk.copyObject(b -> b.sourceBucket("demo").sourceKey("drop/a.bin").destinationBucket("demo").destinationKey("drop/b.bin")));
            awaitKeepAlive(failure);
            failure.complete(new Reply.Failure(FACTS, S3Exception.unavailable("the backend went away", null)));
            assertThatThrownBy(() -> failed.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(software.amazon.awssdk.services.s3.model.S3Exception.class)
                    .cause().satisfies(e -> assertThat(((software.amazon.awssdk.services.s3.model.S3Exception) e)
                            .awsErrorDetails().errorCode()).isEqualTo("ServiceUnavailable"));
        }
    }

    private S3Client sdk() {
        return S3Client.builder().endpointOverride(endpoint).forcePathStyle(true).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDTEST", "secret")))
                .httpClient(UrlConnectionHttpClient.create())
                .overrideConfiguration(o -> o.retryStrategy(RetryMode.STANDARD).retryStrategy(b -> b.maxAttempts(1)))
                .build();
    }

    /**
     * An outcome that counts the writer's waits on it: a second wait means the first ran out,
     * the head and the declaration went out, and the keep-alive path is being taken.
     */
    private static final class Watched extends CompletableFuture<Reply> {
        final java.util.concurrent.CountDownLatch waitedTwice = new java.util.concurrent.CountDownLatch(2);

        @Override
        public Reply get(long timeout, TimeUnit unit) throws InterruptedException, java.util.concurrent.ExecutionException,
                java.util.concurrent.TimeoutException {
            waitedTwice.countDown();
            return super.get(timeout, unit);
        }
    }

    private static void awaitKeepAlive(Watched outcome) throws InterruptedException {
        assertThat(outcome.waitedTwice.await(30, TimeUnit.SECONDS)).as("the writer went on to keep the connection alive").isTrue();
        assertThat(outcome).isNotDone();
    }

    private HttpRequest post() {
        return HttpRequest.newBuilder(endpoint.resolve(RESOURCE + "?uploadId=u1"))
                .POST(HttpRequest.BodyPublishers.ofString("<CompleteMultipartUpload/>")).build();
    }

    private static void readUntil(InputStream in, ByteArrayOutputStream seen, String suffix) throws Exception {
        for (int i = 0; i < 1 << 16; i++) {
            int b = in.read();
            assertThat(b).as("the body ended before %s", suffix.strip()).isNotNegative();
            seen.write(b);
            if (seen.toString(StandardCharsets.UTF_8).endsWith(suffix)) {
                return;
            }
        }
        throw new AssertionError("no " + suffix + " in " + seen);
    }

    private static Document parse(String xml) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }
}
