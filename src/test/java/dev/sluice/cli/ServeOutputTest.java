package dev.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What {@code sluice serve} writes where, seen from outside the process: stdout is the access
 * log and nothing else (so {@code sluice serve | jq} and log shippers parse every line), the
 * banner and the application log go to stderr.
 */
class ServeOutputTest {
    private static final Pattern ENDPOINT = Pattern.compile("S3 endpoint: (http://127\\.0\\.0\\.1:\\d+)");

    @Test
    void stdoutCarriesOnlyJsonAccessLogLinesWithATimeAndTheBannerGoesToStderr(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("data/greeting.txt"), "hello\n");
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, """
                server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
                registry:
                  products:
                    - { account: demo, product: hello, backend: { type: file, path: data } }
                """);
        Path out = dir.resolve("stdout");
        Path err = dir.resolve("stderr");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // The shipped logging configuration, not the quiet one the test classpath would pick.
        Path logback = Path.of(ServeOutputTest.class.getClassLoader().getResource("logback.xml").toURI());
        Process p = new ProcessBuilder(java, "-Xmx128m", "-XX:TieredStopAtLevel=1", "-Dlogback.configurationFile=" + logback,
                "-cp", System.getProperty("java.class.path"),
                "dev.sluice.cli.SluiceCommand", "serve", "--config", config.toString())
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            String endpoint = awaitEndpoint(p, err);
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            for (String path : List.of("/demo/hello/greeting.txt", "/demo/hello/missing.txt")) {
                http.send(HttpRequest.newBuilder(URI.create(endpoint + path)).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.discarding());
            }
        } finally {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }

        List<String> stdout = Files.readAllLines(out);
        assertThat(stdout).as("stdout").hasSize(2);
        ObjectMapper json = new ObjectMapper();
        for (String line : stdout) {
            JsonNode entry = json.readTree(line);
            assertThat(entry.isObject()).as(line).isTrue();
            assertThat(entry.path("time").asText()).as(line).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        }
        assertThat(json.readTree(stdout.get(1)).path("error").asText()).isEqualTo("NoSuchKey");
        assertThat(Files.readString(err)).contains("serving 1 product(s)", "S3 endpoint:", "aws s3 ls");
    }

    /** Waits, bounded, for the banner on stderr and returns the endpoint it names. */
    private static String awaitEndpoint(Process p, Path err) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Matcher m = ENDPOINT.matcher(Files.readString(err));
            if (m.find()) {
                return m.group(1);
            }
            assertThat(p.isAlive()).as("sluice exited early: " + Files.readString(err)).isTrue();
            TimeUnit.MILLISECONDS.sleep(100); // polling for the child process to come up, bounded above
        }
        throw new AssertionError("no endpoint on stderr within 60 s: " + Files.readString(err));
    }
}
