package dev.sluice.testing;

import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;

import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The S3Proxy fixture itself: it comes up checking signatures, serves objects, and is gone after close. */
class S3ProxyProcessTest {

    @Test
    void servesSignedRequestsRefusesUnsignedOnesAndIsGoneAfterClose() throws Exception {
        S3ProxyProcess s3proxy = S3ProxyProcess.start();
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
            try (s3proxy) {
                s3proxy.client().createBucket(b -> b.bucket("fixture-check"));
                s3proxy.client().putObject(b -> b.bucket("fixture-check").key("a b+c.txt"), RequestBody.fromString("hi"));

                s3proxy.client().putObject(b -> b.bucket("fixture-check").key("plain.txt"), RequestBody.fromString("plain"));

                assertThat(s3proxy.client().getObjectAsBytes(b -> b.bucket("fixture-check").key("a b+c.txt")).asUtf8String())
                        .isEqualTo("hi");
                HttpResponse<String> unsigned = http.send(
                        HttpRequest.newBuilder(s3proxy.endpoint().resolve("/fixture-check/plain.txt")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(unsigned.statusCode()).isEqualTo(403);
                assertThat(s3proxy.isAlive()).isTrue();
            }

            assertThat(s3proxy.isAlive()).isFalse();
            assertThatThrownBy(() -> http.send(HttpRequest.newBuilder(s3proxy.endpoint().resolve("/")).build(),
                    HttpResponse.BodyHandlers.discarding()))
                    .isInstanceOf(ConnectException.class);
        }
    }

    @Test
    void pauseFreezesItUntilResumeAndKillTakesItDown() throws Exception {
        try (S3ProxyProcess s3proxy = S3ProxyProcess.start();
             HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
            HttpRequest probe = HttpRequest.newBuilder(s3proxy.endpoint().resolve("/")).timeout(Duration.ofMillis(500)).build();

            s3proxy.pause();
            assertThatThrownBy(() -> http.send(probe, HttpResponse.BodyHandlers.discarding()))
                    .isInstanceOf(HttpTimeoutException.class);
            s3proxy.resume();
            HttpRequest patient = HttpRequest.newBuilder(s3proxy.endpoint().resolve("/")).timeout(Duration.ofSeconds(10)).build();
            assertThat(http.send(patient, HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(403);

            s3proxy.kill();
            assertThat(s3proxy.isAlive()).isFalse();
            assertThatThrownBy(() -> http.send(probe, HttpResponse.BodyHandlers.discarding())).isInstanceOf(ConnectException.class);
        }
    }
}
