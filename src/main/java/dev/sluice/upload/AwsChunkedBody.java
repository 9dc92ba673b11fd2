package dev.sluice.upload;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.sigv4.SigV4;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;

/**
 * Decodes an aws-chunked body ({@code Content-Encoding: aws-chunked}), verifying its chunk
 * signatures as each chunk ends:
 *
 * <pre>
 * {hex size};chunk-signature={signature}\r\n{data}\r\n      (signed; unsigned: {hex size}\r\n{data}\r\n)
 * ...
 * 0;chunk-signature={signature}\r\n                         (unsigned: 0\r\n)
 * {trailer lines}\r\n                                       (the -TRAILER forms; signed: and x-amz-trailer-signature:{signature}\r\n)
 * \r\n
 * </pre>
 *
 * <p>What is malformed, and the S3 error for it ({@code docs/writes.md}, "Integrity"): a size that
 * is not hex, a header line without CRLF or over its limit, data without its CRLF, the bytes
 * ending inside the framing, bytes after the final CRLF: {@code 400 IncompleteBody}, as S3 answers
 * every framing fault. Chunks adding up to more or less than {@code x-amz-decoded-content-length}:
 * {@code 400 IncompleteBody}. A wrong chunk or trailer signature: {@code 403 SignatureDoesNotMatch}.
 * A trailer line that is not the declared checksum (or the trailer signature): {@code 400
 * MalformedTrailerError}. Chunks smaller than 8 KiB are accepted anywhere (S3 refuses them before
 * the last with {@code InvalidChunkSizeError}; clients' encoders differ, and a small chunk costs
 * one more signature, nothing else).
 */
final class AwsChunkedBody implements BodySource {
    private static final int BUFFER = 32 * 1024;
    private static final int MAX_LINE = 4096;
    private static final int MAX_TRAILER_LINES = 16;
    private static final String SIGNATURE_EXTENSION = "chunk-signature=";
    private static final String TRAILER_SIGNATURE = "x-amz-trailer-signature";
    private static final HexFormat HEX = HexFormat.of();

    private final FramedInput in;
    private final PayloadForm form;
    private final long declaredLength;
    private final Optional<ChecksumAlgorithm> declaredTrailer;
    private final Optional<ChunkSignatureChain> chain;
    private final MessageDigest chunkSha256;

    private long decoded;
    private long chunkLeft;
    private boolean chunkOpen;
    private String chunkSignature;
    private Optional<Trailer> trailer = Optional.empty();

    AwsChunkedBody(InputStream raw, PayloadForm form, long declaredLength, Optional<ChecksumAlgorithm> declaredTrailer,
            Optional<ChunkSignatureChain> chain) {
        this.in = new FramedInput(raw, BUFFER);
        this.form = form;
        this.declaredLength = declaredLength;
        this.declaredTrailer = declaredTrailer;
        this.chain = chain;
        this.chunkSha256 = form.signedChunks ? ChecksumAlgorithm.messageDigest("SHA-256") : null;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        while (chunkLeft == 0) {
            if (chunkOpen) {
                closeChunk();
            }
            openChunk();
        }
        int n = in.read(b, off, (int) Math.min(len, chunkLeft));
        if (chunkSha256 != null) {
            chunkSha256.update(b, off, n);
        }
        chunkLeft -= n;
        decoded += n;
        return n;
    }

    @Override
    public void finish() throws IOException {
        if (chunkOpen) {
            closeChunk();
        }
        ChunkHeader last = readChunkHeader();
        if (last.size() != 0) {
            throw longerThanDeclared();
        }
        chain.ifPresent(c -> c.verifyChunk(last.signature(), SigV4.EMPTY_SHA256));
        readTrailer();
        if (!in.atEnd()) {
            throw FramedInput.malformed();
        }
    }

    @Override
    public Optional<Trailer> trailer() {
        return trailer;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    private void openChunk() throws IOException {
        ChunkHeader header = readChunkHeader();
        if (header.size() == 0) {
            // The final chunk before the declared length: the body is shorter than declared.
            throw new S3Exception(S3Error.INCOMPLETE_BODY);
        }
        if (header.size() > declaredLength - decoded) {
            throw longerThanDeclared();
        }
        chunkLeft = header.size();
        chunkSignature = header.signature();
        chunkOpen = true;
    }

    private void closeChunk() throws IOException {
        in.expectCrlf();
        if (chain.isPresent()) {
            chain.get().verifyChunk(chunkSignature, HEX.formatHex(chunkSha256.digest()));
        }
        chunkOpen = false;
    }

    private ChunkHeader readChunkHeader() throws IOException {
        String line = in.readLine(MAX_LINE);
        int semicolon = line.indexOf(';');
        String size = semicolon < 0 ? line : line.substring(0, semicolon);
        String signature = null;
        if (form.signedChunks) {
            if (semicolon < 0 || !line.startsWith(SIGNATURE_EXTENSION, semicolon + 1)) {
                throw FramedInput.malformed();
            }
            signature = line.substring(semicolon + 1 + SIGNATURE_EXTENSION.length());
        }
        return new ChunkHeader(parseSize(size), signature);
    }

    /** 1 to 16 hex digits; a size past {@code Long.MAX_VALUE} is past any declared length too. */
    private static long parseSize(String hex) {
        if (hex.isEmpty() || hex.length() > 16) {
            throw FramedInput.malformed();
        }
        long size = 0;
        for (int i = 0; i < hex.length(); i++) {
            int digit = Character.digit(hex.charAt(i), 16);
            if (digit < 0) {
                throw FramedInput.malformed();
            }
            size = (size << 4) | digit;
        }
        return size < 0 ? Long.MAX_VALUE : size;
    }

    /**
     * The lines after the final chunk, up to the empty one: for the -TRAILER forms the declared
     * checksum, and for the signed one the trailer signature over the checksum line, canonicalised
     * as {@code name:value\n}.
     */
    private void readTrailer() throws IOException {
        StringBuilder canonical = new StringBuilder();
        String signature = null;
        int lines = 0;
        for (String line = in.readLine(MAX_LINE); !line.isEmpty(); line = in.readLine(MAX_LINE)) {
            if (!form.trailer || ++lines > MAX_TRAILER_LINES) {
                throw FramedInput.malformed();
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw malformedTrailer();
            }
            String name = line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).strip();
            if (form.signedChunks && name.equals(TRAILER_SIGNATURE) && signature == null) {
                signature = value;
            } else if (trailer.isEmpty() && declaredTrailer.filter(a -> a.headerName().equals(name)).isPresent()) {
                trailer = Optional.of(new Trailer(declaredTrailer.get(), value));
                canonical.append(name).append(':').append(value).append('\n');
            } else {
                throw malformedTrailer();
            }
        }
        if (!form.trailer) {
            return;
        }
        if (form.signedChunks) {
            if (signature == null || (declaredTrailer.isPresent() && trailer.isEmpty())) {
                throw FramedInput.malformed();
            }
            chain.orElseThrow().verifyTrailer(signature,
                    SigV4.sha256Hex(canonical.toString().getBytes(StandardCharsets.ISO_8859_1)));
        } else if (declaredTrailer.isPresent() && trailer.isEmpty()) {
            throw malformedTrailer();
        }
    }

    private static S3Exception longerThanDeclared() {
        return new S3Exception(S3Error.INCOMPLETE_BODY,
                "The chunks hold more bytes than x-amz-decoded-content-length declares.");
    }

    private static S3Exception malformedTrailer() {
        return new S3Exception(S3Error.MALFORMED_TRAILER);
    }

    private record ChunkHeader(long size, String signature) {
    }
}
