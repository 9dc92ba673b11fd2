package dev.sluice.bench;

import dev.sluice.backend.Upload;
import dev.sluice.sigv4.ChunkSigning;
import dev.sluice.sigv4.SigV4;
import dev.sluice.upload.UploadBodies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDate;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.zip.CRC32;

/**
 * What checking a write's body costs per byte (docs/writes.md, "Integrity"): a 64 MiB body read
 * through {@link UploadBodies#open} in 64 KiB reads, as a store reads it, in each payload form,
 * next to the bare copy of the same bytes out of memory (the floor). Every form computes the MD5
 * (the ETag); the forms add a SHA-256 of the body, a SHA-256 and an HMAC per 64 KiB chunk, a
 * CRC32 or CRC64-NVME. Divide 64 MiB by the time per operation for the throughput.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class UploadBodyBenchmark {
    static final int SIZE = 64 << 20;
    static final int CHUNK = 64 * 1024;
    static final ChunkSigning SIGNING = new ChunkSigning(
            SigV4.signingKey("bench-secret", LocalDate.of(2026, 12, 7), "us-east-1", "s3"),
            "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0", "20261207T024000Z",
            "20261207/us-east-1/s3/aws4_request");

    @Param({"copy", "unsigned", "sha256", "chunk-signed", "chunk-signed-crc32-trailer", "unsigned-crc32-trailer",
            "unsigned-crc64nvme-header"})
    public String form;

    private byte[] wire;
    private Function<String, Optional<String>> headers;
    private final byte[] buffer = new byte[CHUNK];

    @Setup
    public void setUp() {
        byte[] data = new byte[SIZE];
        new Random(1).nextBytes(data);
        Map<String, String> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        switch (form) {
            case "copy", "unsigned" -> {
                wire = data;
                h.put("content-length", String.valueOf(SIZE));
            }
            case "sha256" -> {
                wire = data;
                h.put("content-length", String.valueOf(SIZE));
                h.put("x-amz-content-sha256", HexFormat.of().formatHex(digest("SHA-256").digest(data)));
            }
            case "chunk-signed" -> {
                wire = signedChunks(data, Optional.empty());
                h.put("x-amz-content-sha256", SigV4.STREAMING_PAYLOAD);
                h.put("x-amz-decoded-content-length", String.valueOf(SIZE));
            }
            case "chunk-signed-crc32-trailer" -> {
                wire = signedChunks(data, Optional.of("x-amz-checksum-crc32:" + crc32(data)));
                h.put("x-amz-content-sha256", SigV4.STREAMING_PAYLOAD_TRAILER);
                h.put("x-amz-decoded-content-length", String.valueOf(SIZE));
                h.put("x-amz-trailer", "x-amz-checksum-crc32");
            }
            case "unsigned-crc32-trailer" -> {
                ByteArrayOutputStream out = new ByteArrayOutputStream(SIZE + SIZE / 1000);
                for (int off = 0; off < SIZE; off += CHUNK) {
                    ascii(out, Integer.toHexString(CHUNK) + "\r\n");
                    out.write(data, off, CHUNK);
                    ascii(out, "\r\n");
                }
                ascii(out, "0\r\nx-amz-checksum-crc32:" + crc32(data) + "\r\n\r\n");
                wire = out.toByteArray();
                h.put("x-amz-content-sha256", SigV4.STREAMING_UNSIGNED_PAYLOAD_TRAILER);
                h.put("x-amz-decoded-content-length", String.valueOf(SIZE));
                h.put("x-amz-trailer", "x-amz-checksum-crc32");
            }
            case "unsigned-crc64nvme-header" -> {
                wire = data;
                h.put("content-length", String.valueOf(SIZE));
                h.put("x-amz-sdk-checksum-algorithm", "CRC64NVME");
            }
            default -> throw new IllegalArgumentException(form);
        }
        headers = name -> Optional.ofNullable(h.get(name));
    }

    @Benchmark
    public long read() throws IOException {
        InputStream in = form.equals("copy") ? new ByteArrayInputStream(wire) : body().stream();
        long total = 0;
        for (int n; (n = in.read(buffer)) >= 0; ) {
            total += n;
        }
        return total;
    }

    private Upload body() {
        return UploadBodies.open(new ByteArrayInputStream(wire), headers, Optional.of(SIGNING), 5L << 30);
    }

    private static byte[] signedChunks(byte[] data, Optional<String> trailer) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(SIZE + SIZE / 500);
        MessageDigest sha256 = digest("SHA-256");
        String previous = SIGNING.seedSignature();
        for (int off = 0, n = -1; n != 0; off += n) {
            n = Math.min(CHUNK, SIZE - off);
            sha256.update(data, off, n);
            previous = SigV4.signature(SIGNING.signingKey(), String.join("\n", "AWS4-HMAC-SHA256-PAYLOAD",
                    SIGNING.amzDate(), SIGNING.credentialScope(), previous, SigV4.EMPTY_SHA256,
                    HexFormat.of().formatHex(sha256.digest())));
            ascii(out, Integer.toHexString(n) + ";chunk-signature=" + previous + "\r\n");
            if (n > 0) {
                out.write(data, off, n);
                ascii(out, "\r\n");
            }
        }
        if (trailer.isPresent()) {
            String signature = SigV4.signature(SIGNING.signingKey(), String.join("\n", "AWS4-HMAC-SHA256-TRAILER",
                    SIGNING.amzDate(), SIGNING.credentialScope(), previous,
                    SigV4.sha256Hex((trailer.get() + "\n").getBytes(StandardCharsets.US_ASCII))));
            ascii(out, trailer.get() + "\r\nx-amz-trailer-signature:" + signature + "\r\n");
        }
        ascii(out, "\r\n");
        return out.toByteArray();
    }

    private static String crc32(byte[] data) {
        CRC32 crc = new CRC32();
        crc.update(data);
        return Base64.getEncoder().encodeToString(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    private static void ascii(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
    }

    private static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
