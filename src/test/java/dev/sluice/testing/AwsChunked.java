package dev.sluice.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** An aws-chunked body without chunk signatures, taken apart as a store reads it: chunk sizes, data, the one trailer line. */
public record AwsChunked(List<Integer> chunkSizes, byte[] data, String trailer) {
    public static AwsChunked decode(byte[] body) {
        List<Integer> sizes = new java.util.ArrayList<>();
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        int at = 0;
        while (true) {
            int eol = lineEnd(body, at);
            int size = Integer.parseInt(new String(body, at, eol - at, StandardCharsets.US_ASCII), 16);
            sizes.add(size);
            at = eol + 2;
            if (size == 0) {
                break;
            }
            data.write(body, at, size);
            at += size;
            assertThat(new String(body, at, 2, StandardCharsets.US_ASCII)).as("CRLF after a chunk").isEqualTo("\r\n");
            at += 2;
        }
        int eol = lineEnd(body, at);
        String trailer = new String(body, at, eol - at, StandardCharsets.US_ASCII);
        assertThat(body.length).as("the trailer, then an empty line, then nothing").isEqualTo(eol + 4);
        assertThat(new String(body, eol, 4, StandardCharsets.US_ASCII)).isEqualTo("\r\n\r\n");
        return new AwsChunked(sizes, data.toByteArray(), trailer);
    }

    private static int lineEnd(byte[] body, int from) {
        for (int i = from; i + 1 < body.length; i++) {
            if (body[i] == '\r' && body[i + 1] == '\n') {
                return i;
            }
        }
        throw new AssertionError("no CRLF after byte " + from);
    }
}
