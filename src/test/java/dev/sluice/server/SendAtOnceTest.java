package dev.sluice.server;

import dev.sluice.backend.ObjectBody;
import dev.sluice.backend.ObjectResponse;
import dev.sluice.s3.S3Error;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.content.ByteBufferContentSource;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What {@link ReplyWriter#sendAtOnce} leaves to the waiting path, decided before anything is
 * written (the response is not touched, so none is given): a body too large or of unknown
 * length goes back as it is, unread; a body that does not read whole, a file cut shorter
 * between open and read, becomes {@code 503 ServiceUnavailable}, its body closed.
 */
class SendAtOnceTest {
    private final ReplyWriter writer = new ReplyWriter();

    @Test
    void aBodyShorterThanItsLengthIsServiceUnavailableAndNothingIsSent() {
        AtomicBoolean closed = new AtomicBoolean();
        Reply.Read read = read("10", ByteBuffer.wrap(new byte[3]), closed);

        Optional<Reply> rest = writer.sendAtOnce(read, null, null, "request", sent -> {
            throw new AssertionError("nothing may be sent");
        });

        assertThat(rest).get().isInstanceOfSatisfying(Reply.Failure.class, f -> {
            assertThat(f.error().error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE);
            assertThat(f.error().error().status()).isEqualTo(503);
        });
        assertThat(closed).isTrue();
    }

    @Test
    void aBodyLongerThanItsLengthIsServiceUnavailable() {
        AtomicBoolean closed = new AtomicBoolean();
        Reply.Read read = read("2", ByteBuffer.wrap(new byte[5]), closed);

        Optional<Reply> rest = writer.sendAtOnce(read, null, null, "request", sent -> {
            throw new AssertionError("nothing may be sent");
        });

        assertThat(rest).get().isInstanceOfSatisfying(Reply.Failure.class,
                f -> assertThat(f.error().error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE));
        assertThat(closed).isTrue();
    }

    @Test
    void aLargeOrUnknownLengthBodyGoesBackUnread() {
        for (String length : List.of(Integer.toString(ReplyWriter.AT_ONCE_MAX + 1), "unknown")) {
            AtomicBoolean closed = new AtomicBoolean();
            Reply.Read read = read(length, ByteBuffer.wrap(new byte[4]), closed);

            Optional<Reply> rest = writer.sendAtOnce(read, null, null, "request", sent -> {
                throw new AssertionError("nothing may be sent");
            });

            assertThat(rest).as("Content-Length %s", length).containsSame(read);
            assertThat(closed).as("the body is the waiting path's to send and close").isFalse();
        }
    }

    private static Reply.Read read(String contentLength, ByteBuffer bytes, AtomicBoolean closed) {
        List<Map.Entry<String, String>> headers = contentLength.equals("unknown") ? List.of()
                : List.of(Map.entry("Content-Length", contentLength));
        ObjectBody body = new ObjectBody() {
            @Override
            public Content.Source source() {
                return new ByteBufferContentSource(bytes);
            }

            @Override
            public void close() {
                closed.set(true);
            }
        };
        return new Reply.Read(Reply.Facts.of("GetObject"), new ObjectResponse(200, headers, Optional.of(body)));
    }
}
