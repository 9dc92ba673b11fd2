package dev.sluice.observe;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.time.InstantSource;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The access log as a log shipper reads it: exactly one JSON object per line, whatever a client sent, each saying when. */
class AccessLogTest {
    private final Logger logger = (Logger) LoggerFactory.getLogger("sluice.access");
    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    private Level testLevel;

    @BeforeEach
    void capture() {
        // The test logging configuration keeps the access log quiet; these tests read it.
        testLevel = logger.getLevel();
        logger.setLevel(Level.INFO);
        lines.start();
        logger.addAppender(lines);
    }

    @AfterEach
    void release() {
        logger.detachAppender(lines);
        logger.setLevel(testLevel);
    }

    private static AccessLog.Entry entry() {
        return new AccessLog.Entry("RID1", "GET", "GetObject", "demo", "hello", "greeting.txt", 200, 78, 1500,
                "127.0.0.1", null, "anonymous");
    }

    @Test
    void everyLineCarriesTheTimeInUtcWithMilliseconds() throws Exception {
        new AccessLog(InstantSource.fixed(Instant.parse("2026-12-06T21:30:05.120Z"))).write(entry());

        JsonNode line = new ObjectMapper().readTree(lines.list.get(0).getFormattedMessage());
        assertThat(line.get("time").asText()).isEqualTo("2026-12-06T21:30:05.120Z");
        assertThat(line.get("request_id").asText()).isEqualTo("RID1");
    }

    @Test
    void aWholeSecondStillHasItsMilliseconds() throws Exception {
        // Instant.toString would drop ".000", and a log reader parsing fixed-width fields would stumble.
        new AccessLog(InstantSource.fixed(Instant.parse("2026-12-06T21:30:05Z"))).write(entry());

        JsonNode line = new ObjectMapper().readTree(lines.list.get(0).getFormattedMessage());
        assertThat(line.get("time").asText()).isEqualTo("2026-12-06T21:30:05.000Z");
    }

    @Test
    void clientTextCannotEndTheLineOrForgeAnother() throws Exception {
        String forged = "x\n{\"request_id\":\"forged\",\"status\":200}\r\u0085\u2028\u2029\u001b[2K\u007f";
        new AccessLog(InstantSource.system()).write(new AccessLog.Entry("0123456789ABCDEF", "GET", "GetObject", "acme", "hello",
                forged, 200, 5, 1000, "127.0.0.1", null, "session:" + forged));

        List<ILoggingEvent> written = lines.list;
        assertThat(written).hasSize(1);
        String line = written.get(0).getFormattedMessage();
        assertThat(line.chars().filter(c -> Character.isISOControl(c) || c == 0x2028 || c == 0x2029)).isEmpty();
        JsonNode json = new ObjectMapper().readTree(line);
        assertThat(json.path("key").asText()).isEqualTo(forged);
        assertThat(json.path("principal").asText()).isEqualTo("session:" + forged);
        assertThat(json.path("request_id").asText()).isEqualTo("0123456789ABCDEF");
    }
}
