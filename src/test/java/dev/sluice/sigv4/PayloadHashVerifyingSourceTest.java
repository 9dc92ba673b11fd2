package dev.sluice.sigv4;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.io.Content;
import org.junit.jupiter.api.Test;

class PayloadHashVerifyingSourceTest {

    private static final byte[] PART1 = "streamed ".getBytes(StandardCharsets.UTF_8);
    private static final byte[] PART2 = "body".getBytes(StandardCharsets.UTF_8);
    private static final String HASH = SigV4.sha256Hex("streamed body".getBytes(StandardCharsets.UTF_8));

    @Test
    void passesTheBodyThroughWhenTheDigestMatches() throws Exception {
        Content.Source source = new PayloadHashVerifyingSource(body(), HASH);

        ByteBuffer all = Content.Source.asByteBufferAsync(source).get(5, TimeUnit.SECONDS);

        assertThat(StandardCharsets.UTF_8.decode(all).toString()).isEqualTo("streamed body");
    }

    @Test
    void acceptsTheDigestInUppercase() throws Exception {
        Content.Source source = new PayloadHashVerifyingSource(body(), HASH.toUpperCase());

        assertThat(Content.Source.asByteBufferAsync(source).get(5, TimeUnit.SECONDS).remaining()).isEqualTo(13);
    }

    @Test
    void failsAtTheEndWhenTheDigestDiffers() {
        Content.Source source = new PayloadHashVerifyingSource(body(), SigV4.EMPTY_SHA256);

        assertThat(Content.Source.asByteBufferAsync(source)).failsWithin(5, TimeUnit.SECONDS)
                .withThrowableOfType(ExecutionException.class)
                .havingCause()
                .isInstanceOfSatisfying(S3Exception.class,
                        e -> assertThat(e.error()).isEqualTo(S3Error.CONTENT_SHA256_MISMATCH));
    }

    @Test
    void earlierChunksPassAndTheFailureTakesThePlaceOfTheEnd() {
        Content.Source source = new PayloadHashVerifyingSource(body(), SigV4.EMPTY_SHA256);
        ByteArrayOutputStream seen = new ByteArrayOutputStream();

        Content.Chunk chunk;
        while (true) {
            chunk = source.read();
            assertThat(chunk).as("an in-memory source never blocks").isNotNull();
            if (Content.Chunk.isFailure(chunk)) {
                break;
            }
            ByteBuffer bytes = chunk.getByteBuffer();
            byte[] copy = new byte[bytes.remaining()];
            bytes.get(copy);
            seen.writeBytes(copy);
            chunk.release();
            assertThat(chunk.isLast()).as("the end must not be reached without the failure").isFalse();
        }

        assertThat(chunk.isLast()).isTrue();
        assertThat(chunk.getFailure()).isInstanceOf(S3Exception.class);
        assertThat(seen.toString(StandardCharsets.UTF_8)).isEqualTo("streamed ");
        assertThat(source.read()).as("the failure is sticky").isSameAs(chunk);
    }

    @Test
    void emptyBodyIsCheckedToo() throws Exception {
        assertThat(Content.Source.asByteBufferAsync(new PayloadHashVerifyingSource(Content.Source.from(new ByteBuffer[0]),
                SigV4.EMPTY_SHA256)).get(5, TimeUnit.SECONDS).remaining()).isZero();
        assertThat(Content.Source.asByteBufferAsync(new PayloadHashVerifyingSource(Content.Source.from(new ByteBuffer[0]),
                HASH))).failsWithin(5, TimeUnit.SECONDS);
    }

    @Test
    void onlyADigestCanBeVerified() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new PayloadHashVerifyingSource(body(), SigV4.UNSIGNED_PAYLOAD));
    }

    private static Content.Source body() {
        return Content.Source.from(ByteBuffer.wrap(PART1), ByteBuffer.wrap(PART2));
    }
}
