package dev.sluice.observe;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The access log as a log shipper reads it: exactly one JSON object per line, whatever a client sent. */
class AccessLogTest {

    private static List<String> written(AccessLog.Entry entry) {
        Logger access = (Logger) LoggerFactory.getLogger("sluice.access");
        List<String> lines = new CopyOnWriteArrayList<>();
        AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent e) {
                lines.add(e.getFormattedMessage());
            }
        };
        appender.start();
        Level before = access.getLevel();
        access.setLevel(Level.INFO);
        access.addAppender(appender);
        try {
            new AccessLog().write(entry); // written on this thread
        } finally {
            access.detachAppender(appender);
            access.setLevel(before);
        }
        return lines;
    }

    @Test
    void clientTextCannotEndTheLineOrForgeAnother() throws Exception {
        String forged = "x\n{\"request_id\":\"forged\",\"status\":200}\r\u0085\u2028\u2029\u001b[2K\u007f";
        List<String> lines = written(new AccessLog.Entry("0123456789ABCDEF", "GET", "GetObject", "acme", "hello", forged,
                200, 5, 1000, "127.0.0.1", null, "session:" + forged));

        assertThat(lines).hasSize(1);
        String line = lines.get(0);
        assertThat(line.chars().filter(c -> Character.isISOControl(c) || c == 0x2028 || c == 0x2029)).isEmpty();
        JsonNode json = new ObjectMapper().readTree(line);
        assertThat(json.path("key").asText()).isEqualTo(forged);
        assertThat(json.path("principal").asText()).isEqualTo("session:" + forged);
        assertThat(json.path("request_id").asText()).isEqualTo("0123456789ABCDEF");
    }
}
