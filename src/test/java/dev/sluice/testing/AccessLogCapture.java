package dev.sluice.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The {@code sluice.access} lines a test's in-process sluice writes, captured for each test
 * ({@code @RegisterExtension}). Lines are written by the access log's own thread after the
 * response, so {@link #await} waits for one, bounded.
 */
public final class AccessLogCapture implements BeforeEachCallback, AfterEachCallback {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long WAIT_SECONDS = 30;

    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent e) {
            lines.add(e.getFormattedMessage());
        }
    };
    private Level levelBefore;

    @Override
    public void beforeEach(ExtensionContext context) {
        Logger access = (Logger) LoggerFactory.getLogger("sluice.access");
        appender.start();
        levelBefore = access.getLevel();
        access.setLevel(Level.INFO);
        access.addAppender(appender);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        Logger access = (Logger) LoggerFactory.getLogger("sluice.access");
        access.detachAppender(appender);
        access.setLevel(levelBefore);
    }

    /** The first captured line {@code which} accepts, waiting at most 30 s; {@code what} names it in the failure. */
    public JsonNode await(Predicate<JsonNode> which, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (System.nanoTime() < deadline) {
            String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (line == null) {
                break;
            }
            JsonNode json = JSON.readTree(line);
            if (which.test(json)) {
                return json;
            }
        }
        throw new AssertionError("no access-log line for " + what + " within " + WAIT_SECONDS + " s");
    }
}
