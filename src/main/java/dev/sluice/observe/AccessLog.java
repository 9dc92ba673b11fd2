package dev.sluice.observe;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
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
 * grepped, piped through {@code jq}) still says when it happened. {@code bytes} counts
 * body bytes actually written to the client. {@code error} is the S3 error code of an error
 * answer or, for a response whose head went out but whose body was cut short,
 * {@code ClientDisconnected}, {@code BackendStreamFailed} or {@code IncompleteBody}: the
 * status then is the one the head carried, and the client saw a short body.
 *
 * <p>Every value is escaped by the JSON writer, so a line is always exactly one JSON object
 * whatever a client put in a key or a token: besides what JSON requires (C0 controls, quote,
 * backslash), DEL, the C1 controls and U+2028/U+2029 are escaped too, since some log
 * pipelines and terminals treat them as line breaks or commands.
 */
public final class AccessLog {
    private static final Logger LOG = LoggerFactory.getLogger("sluice.access");
    private static final JsonFactory JSON = new JsonFactory();
    private static final CharacterEscapes ESCAPES = new LineSafeEscapes();

    /** JSON's standard escapes, plus DEL, C1 controls and the Unicode line and paragraph separators. */
    private static final class LineSafeEscapes extends CharacterEscapes {
        private final int[] table = CharacterEscapes.standardAsciiEscapesForJSON();

        LineSafeEscapes() {
            table[0x7f] = CharacterEscapes.ESCAPE_STANDARD;
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return table;
        }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            if ((ch >= 0x80 && ch <= 0x9f) || ch == 0x2028 || ch == 0x2029) {
                return new SerializedString(String.format("\\u%04x", ch));
            }
            return null;
        }
    }

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
            g.setCharacterEscapes(ESCAPES);
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
