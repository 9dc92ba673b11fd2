package dev.sluice.upload;

import dev.sluice.sigv4.ChunkSigning;
import dev.sluice.sigv4.SigV4;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * aws-chunked bodies as a client encodes them, written from AWS's description of the format
 * independently of the decoder under test: signed chunks (the chain seeded by the request's
 * signature), unsigned chunks, trailers and the trailer signature.
 */
final class ChunkedBodies {
    static final String CRLF = "\r\n";

    private ChunkedBodies() {
    }

    /** {@code STREAMING-AWS4-HMAC-SHA256-PAYLOAD}, or with {@code trailer} its -TRAILER form. */
    static byte[] signed(byte[] data, int chunkSize, ChunkSigning signing, Optional<Map.Entry<String, String>> trailer) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String previous = signing.seedSignature();
        for (int off = 0, n = -1; n != 0; off += n) {
            n = Math.min(chunkSize, data.length - off);
            String signature = chunkSignature(signing, previous, sha256Hex(data, off, n));
            write(out, Integer.toHexString(n) + ";chunk-signature=" + signature + CRLF);
            previous = signature;
            if (n > 0) {
                out.write(data, off, n);
                write(out, CRLF);
            }
        }
        if (trailer.isPresent()) {
            String line = trailer.get().getKey() + ":" + trailer.get().getValue();
            write(out, line + CRLF);
            write(out, "x-amz-trailer-signature:" + trailerSignature(signing, previous, List.of(line)) + CRLF);
        }
        write(out, CRLF);
        return out.toByteArray();
    }

    /** {@code STREAMING-UNSIGNED-PAYLOAD-TRAILER}. */
    static byte[] unsigned(byte[] data, int chunkSize, Optional<Map.Entry<String, String>> trailer) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int off = 0; off < data.length; off += chunkSize) {
            int n = Math.min(chunkSize, data.length - off);
            write(out, Integer.toHexString(n) + CRLF);
            out.write(data, off, n);
            write(out, CRLF);
        }
        write(out, "0" + CRLF);
        trailer.ifPresent(t -> write(out, t.getKey() + ":" + t.getValue() + CRLF));
        write(out, CRLF);
        return out.toByteArray();
    }

    static String chunkSignature(ChunkSigning signing, String previous, String dataSha256Hex) {
        return SigV4.signature(signing.signingKey(), String.join("\n", "AWS4-HMAC-SHA256-PAYLOAD", signing.amzDate(),
                signing.credentialScope(), previous, SigV4.EMPTY_SHA256, dataSha256Hex));
    }

    static String trailerSignature(ChunkSigning signing, String previous, List<String> lines) {
        StringBuilder canonical = new StringBuilder();
        lines.forEach(l -> canonical.append(l).append('\n'));
        return SigV4.signature(signing.signingKey(), String.join("\n", "AWS4-HMAC-SHA256-TRAILER", signing.amzDate(),
                signing.credentialScope(), previous, SigV4.sha256Hex(canonical.toString().getBytes(StandardCharsets.UTF_8))));
    }

    static String sha256Hex(byte[] data, int off, int len) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(data, off, len);
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static void write(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.ISO_8859_1));
    }
}
