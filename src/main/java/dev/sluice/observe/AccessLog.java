package dev.sluice.observe;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;

/**
 * One JSON line per request on the {@code sluice.access} logger. It names what was asked
 * and what happened, never credentials: no Authorization header, no query string (presigned
 * URLs carry signatures there), no tokens. {@code principal} names who was served, as
 * {@link dev.sluice.auth.Principal#logName()} writes it: {@code anonymous}, {@code unknown_key},
 * {@code access_key:NAME} or {@code session:SUBJECT} (never a secret).
 */
public final class AccessLog {
    private static final Logger LOG = LoggerFactory.getLogger("sluice.access");
    private static final JsonFactory JSON = new JsonFactory();

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
