package dev.sluice.upload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.sluice.backend.Upload;
import dev.sluice.s3.S3Exception;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;

/** Reading {@link Upload}s in tests the way a store does, and request headers by name. */
final class Bodies {
    private Bodies() {
    }

    /** Headers as name, value pairs; looked up in any case. */
    static Function<String, Optional<String>> headers(String... nameValue) {
        Map<String, String> map = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (int i = 0; i < nameValue.length; i += 2) {
            map.put(nameValue[i].toLowerCase(Locale.ROOT), nameValue[i + 1]);
        }
        return name -> Optional.ofNullable(map.get(name));
    }

    /** The whole body, read in reads of {@code readSize}, to its end. */
    static byte[] readAll(Upload upload, int readSize) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[readSize];
        InputStream in = upload.stream();
        for (int n; (n = in.read(buffer)) >= 0; ) {
            out.write(buffer, 0, n);
        }
        return out.toByteArray();
    }

    /**
     * Reads as a store would until the body fails, and returns the failure, having checked that
     * the body's last byte was never delivered: fewer than {@link Upload#length()} bytes came out.
     */
    static S3Exception refusal(Upload upload, int readSize) throws IOException {
        long delivered = 0;
        byte[] buffer = new byte[readSize];
        InputStream in = upload.stream();
        try {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                delivered += n;
            }
        } catch (S3Exception e) {
            assertThat(delivered).as("bytes delivered before the refusal").isLessThan(Math.max(upload.length(), 1));
            return e;
        }
        return fail("the body was read to its end (%d bytes) without a refusal", delivered);
    }

    /** How many bytes came out before the failure. */
    static long deliveredBeforeFailure(Upload upload, int readSize) throws IOException {
        long delivered = 0;
        byte[] buffer = new byte[readSize];
        InputStream in = upload.stream();
        try {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                delivered += n;
            }
        } catch (S3Exception e) {
            return delivered;
        }
        return fail("the body was read to its end without a refusal");
    }
}
