package dev.sluice.observe;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * One JSON line per request on the {@code sluice.access} logger. It names what was asked
 * and what happened, never credentials: no Authorization header, no query string (presigned
 * URLs carry signatures there), no tokens. {@code principal} names who was served, as
 * {@link dev.sluice.auth.Principal#logName()} writes it: {@code anonymous}, {@code unknown_key},
 * {@code access_key:NAME} or {@code session:SUBJECT} (never a secret). {@code time} is when
 * the line was written, ISO-8601 in UTC with milliseconds, so a line read on its own (shipped,
 * grepped, piped through {@code jq}) still says when it happened. Fields: {@code docs/behaviour.md}.
 */
public final class AccessLog {
    private static final Logger LOG = LoggerFactory.getLogger("sluice.access");
    private static final JsonFactory JSON = new JsonFactory();
    /** Always three fraction digits: {@code Instant.toString()} drops them on a whole second. */
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private final InstantSource clock;

    public AccessLog(InstantSource clock) {
        this.clock = clock;
    }

    /** What one request did. Absent fields are written as null. */
    public record Entry(String requestId, String method, String operation, String account, String product,
                        String key, int status, long bytes, long durationMicros, String client, String errorCode,
                        String principal) {
    }

    public void write(Entry e) {
        if (!LOG.isInfoEnabled()) {
            return;
        }
        StringWriter out = new StringWriter(256);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("time", TIME.format(clock.instant()));
            g.writeStringField("request_id", e.requestId());
            g.writeStringField("method", e.method());
            g.writeStringField("operation", e.operation());
            g.writeStringField("account", e.account());
            g.writeStringField("product", e.product());
            g.writeStringField("key", e.key());
            g.writeNumberField("status", e.status());
            g.writeNumberField("bytes", e.bytes());
            g.writeNumberField("duration_ms", e.durationMicros() / 1000.0);
            g.writeStringField("client", e.client());
            g.writeStringField("principal", e.principal());
            if (e.errorCode() != null) {
                g.writeStringField("error", e.errorCode());
            }
            g.writeEndObject();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        LOG.info(out.toString());
    }
}
