package dev.sluice.it;

import dev.sluice.Sluice;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A real sluice, built by its composition root from a YAML configuration and listening on
 * free loopback ports, with the clients tests talk to it through: AWS SDK v2 clients
 * (anonymous, and signed with credentials sluice does not know) and a raw HTTP client for
 * requests an SDK would refuse to send.
 */
final class SluiceUnderTest implements AutoCloseable {
    private final Sluice sluice;
    private final HttpClient http = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
    private final List<S3Client> clients = new ArrayList<>();

    private SluiceUnderTest(Sluice sluice) {
        this.sluice = sluice;
    }

    /** Parses {@code yaml} with {@code env} as the whole environment, then starts sluice. */
    static SluiceUnderTest start(String yaml, Map<String, String> env, Path baseDirectory) {
        SluiceConfig config = new ConfigLoader(name -> Optional.ofNullable(env.get(name))).parse(yaml, baseDirectory);
        Sluice sluice = new Sluice(config, InstantSource.system());
        try {
            sluice.start();
        } catch (Exception e) {
            try {
                sluice.close();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new IllegalStateException("sluice did not start", e);
        }
        return new SluiceUnderTest(sluice);
    }

    /** The composition root itself, for what only it can show: its OIDC provider, its metrics. */
    Sluice sluice() {
        return sluice;
    }

    URI s3Endpoint() {
        return sluice.server().s3Endpoint();
    }

    URI adminEndpoint() {
        return sluice.server().adminEndpoint();
    }

    /** A client that does not sign: how public datasets are read. */
    S3Client anonymousClient() {
        return client(AnonymousCredentialsProvider.create());
    }

    /** A client signing with a key sluice has never heard of: sluice serves it as anonymous. */
    S3Client unknownKeyClient() {
        return client(StaticCredentialsProvider.create(
                AwsBasicCredentials.create("AKIDUNKNOWNTOSLUICE", "not-a-secret-sluice-knows")));
    }

    synchronized S3Client client(AwsCredentialsProvider credentials) {
        S3Client client = S3Client.builder()
                .endpointOverride(s3Endpoint())
                .forcePathStyle(true)
                .region(Region.US_EAST_1)
                .credentialsProvider(credentials)
                .httpClient(UrlConnectionHttpClient.create())
                // A retried request would hide what sluice answered the first time.
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
                .build();
        clients.add(client);
        return client;
    }

    /**
     * A client for writes, with the request checksums set ({@code WHEN_SUPPORTED} is the SDK's
     * default), on the SDK's default HTTP client (Apache): it sends {@code Expect: 100-continue}
     * with a body and reads the error S3 (and sluice) answers before the body. The URLConnection
     * client of {@link #client(AwsCredentialsProvider)} loses that error's body, so a refused
     * upload would show no error code.
     */
    synchronized S3Client client(AwsCredentialsProvider credentials, RequestChecksumCalculation checksums) {
        S3Client client = S3Client.builder()
                .endpointOverride(s3Endpoint())
                .forcePathStyle(true)
                .region(Region.US_EAST_1)
                .credentialsProvider(credentials)
                .httpClient(ApacheHttpClient.create())
                .requestChecksumCalculation(checksums)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_SUPPORTED)
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
                .build();
        clients.add(client);
        return client;
    }

    /** A request to the S3 listener with the path and query exactly as given (already encoded). */
    RawResponse send(String method, String rawPathAndQuery, String... headerNameValues) {
        return send(s3Endpoint(), method, rawPathAndQuery, headerNameValues);
    }

    RawResponse admin(String path) {
        return send(adminEndpoint(), "GET", path);
    }

    RawResponse send(URI endpoint, String method, String rawPathAndQuery, String... headerNameValues) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(endpoint + rawPathAndQuery))
                .timeout(Duration.ofSeconds(30))
                .method(method, method.equals("PUT") || method.equals("POST")
                        ? HttpRequest.BodyPublishers.ofString("payload")
                        : HttpRequest.BodyPublishers.noBody());
        for (int i = 0; i < headerNameValues.length; i += 2) {
            b.header(headerNameValues[i], headerNameValues[i + 1]);
        }
        try {
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            return new RawResponse(r.statusCode(), r.headers(), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + rawPathAndQuery + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** What came back, undecoded. */
    record RawResponse(int status, HttpHeaders headers, byte[] body) {
        Optional<String> header(String name) {
            return headers.firstValue(name);
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    @Override
    public void close() throws Exception {
        try {
            clients.forEach(S3Client::close);
            http.close();
        } finally {
            sluice.close();
        }
    }
}
