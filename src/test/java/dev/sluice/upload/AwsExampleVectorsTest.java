package dev.sluice.upload;

import static dev.sluice.upload.Bodies.headers;
import static dev.sluice.upload.Bodies.readAll;
import static dev.sluice.upload.Bodies.refusal;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.backend.Upload;
import dev.sluice.s3.S3Error;
import dev.sluice.sigv4.ChunkSigning;
import dev.sluice.sigv4.SigV4;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * AWS's published examples of chunk-signed uploads (S3 API reference, "Signature Calculations for
 * the Authorization Header: Transferring Payload in Multiple Chunks" and "Signature calculations
 * for trailing headers"): a PUT of 65 KiB of {@code 'a'} in a 64 KiB chunk, a 1 KiB chunk and the
 * final empty one, with the signatures AWS lists; the second with a CRC32C trailer. That the
 * request signatures (the seeds) verify is {@code auth.IdentifierUploadTest}'s part.
 */
class AwsExampleVectorsTest {
    static final String SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    static final String AMZ_DATE = "20130524T000000Z";
    static final String SCOPE = "20130524/us-east-1/s3/aws4_request";
    static final byte[] KEY = SigV4.signingKey(SECRET, LocalDate.of(2013, 5, 24), "us-east-1", "s3");

    static final String SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
    static final String[] SIGNATURES = {
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    };
    static final String TRAILER_SEED = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";
    static final String[] TRAILER_SIGNATURES = {
        "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
        "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
        "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
    };
    static final String TRAILER_SIGNATURE = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435";

    /** The example's body on the wire: 66824 bytes, as its Content-Length says. */
    static byte[] streamingBody() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        chunk(out, 65536, SIGNATURES[0]);
        chunk(out, 1024, SIGNATURES[1]);
        ChunkedBodies.write(out, "0;chunk-signature=" + SIGNATURES[2] + "\r\n\r\n");
        return out.toByteArray();
    }

    /** The trailer example's body: the same chunks, then the CRC32C and the trailer signature (66946 bytes). */
    static byte[] trailerBody(String crc32c, String trailerSignature) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        chunk(out, 65536, TRAILER_SIGNATURES[0]);
        chunk(out, 1024, TRAILER_SIGNATURES[1]);
        ChunkedBodies.write(out, "0;chunk-signature=" + TRAILER_SIGNATURES[2] + "\r\n");
        ChunkedBodies.write(out, "x-amz-checksum-crc32c:" + crc32c + "\r\n");
        ChunkedBodies.write(out, "x-amz-trailer-signature:" + trailerSignature + "\r\n\r\n");
        return out.toByteArray();
    }

    static byte[] exampleData() {
        byte[] data = new byte[66560];
        Arrays.fill(data, (byte) 'a');
        return data;
    }

    @Test
    void theDocumentedStreamingUploadDecodesWithItsChunkSignatures() throws IOException {
        byte[] wire = streamingBody();
        assertThat(wire).hasSize(66824);
        Upload upload = UploadBodies.open(new ByteArrayInputStream(wire), headers(
                "x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                "content-encoding", "aws-chunked",
                "x-amz-decoded-content-length", "66560",
                "content-length", "66824"), Optional.of(new ChunkSigning(KEY, SEED, AMZ_DATE, SCOPE)), 5L << 30);

        assertThat(readAll(upload, 8192)).isEqualTo(exampleData());
        assertThat(upload.length()).isEqualTo(66560);
        assertThat(upload.md5Hex()).isEqualTo(TestDigests.md5Hex(exampleData()));
    }

    @Test
    void theDocumentedTrailerUploadDecodesAndItsCrc32cTrailerIsVerified() throws IOException {
        byte[] wire = trailerBody("sOO8/Q==", TRAILER_SIGNATURE);
        assertThat(wire).hasSize(66946);
        Upload upload = UploadBodies.open(new ByteArrayInputStream(wire), trailerHeaders(),
                Optional.of(new ChunkSigning(KEY, TRAILER_SEED, AMZ_DATE, SCOPE)), 5L << 30);

        assertThat(readAll(upload, 65536)).isEqualTo(exampleData());
        assertThat(upload.checksums()).containsExactly(Map.entry("x-amz-checksum-crc32c", "sOO8/Q=="));
    }

    @Test
    void anyChangeToTheDocumentedBodyIsRefusedBeforeItsLastByte() throws IOException {
        byte[] wire = streamingBody();
        ChunkSigning signing = new ChunkSigning(KEY, SEED, AMZ_DATE, SCOPE);
        // One 'a' of the second chunk turned into 'b': its signature no longer matches.
        byte[] tampered = wire.clone();
        tampered[wire.length - 200] = 'b';
        assertThat(refusal(open(tampered, signing), 4096).error()).isEqualTo(S3Error.SIGNATURE_DOES_NOT_MATCH);
        // Another seed: the chain does not start from this request's signature.
        ChunkSigning otherSeed = new ChunkSigning(KEY, SIGNATURES[2], AMZ_DATE, SCOPE);
        assertThat(refusal(open(wire, otherSeed), 4096).error()).isEqualTo(S3Error.SIGNATURE_DOES_NOT_MATCH);
        // The final chunk's signature changed: the last byte is held until it fails.
        byte[] badFinal = new String(wire, StandardCharsets.ISO_8859_1).replace(SIGNATURES[2], SIGNATURES[1])
                .getBytes(StandardCharsets.ISO_8859_1);
        Upload upload = open(badFinal, signing);
        assertThat(Bodies.deliveredBeforeFailure(upload, 100_000)).isEqualTo(66559);
    }

    @Test
    void theDocumentedTrailerWithAnotherValueOrSignatureIsRefused() throws IOException {
        ChunkSigning signing = new ChunkSigning(KEY, TRAILER_SEED, AMZ_DATE, SCOPE);
        // The value changed but not its signature: the trailer signature fails first.
        Upload otherValue = UploadBodies.open(new ByteArrayInputStream(trailerBody("AAAAAA==", TRAILER_SIGNATURE)),
                trailerHeaders(), Optional.of(signing), 5L << 30);
        assertThat(refusal(otherValue, 8192).error()).isEqualTo(S3Error.SIGNATURE_DOES_NOT_MATCH);
        Upload otherSignature = UploadBodies.open(new ByteArrayInputStream(trailerBody("sOO8/Q==", SIGNATURES[0])),
                trailerHeaders(), Optional.of(signing), 5L << 30);
        assertThat(refusal(otherSignature, 8192).error()).isEqualTo(S3Error.SIGNATURE_DOES_NOT_MATCH);
    }

    private static Upload open(byte[] wire, ChunkSigning signing) {
        return UploadBodies.open(new ByteArrayInputStream(wire), headers(
                "x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                "x-amz-decoded-content-length", "66560"), Optional.of(signing), 5L << 30);
    }

    private static java.util.function.Function<String, Optional<String>> trailerHeaders() {
        return headers(
                "x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
                "content-encoding", "aws-chunked",
                "x-amz-decoded-content-length", "66560",
                "x-amz-trailer", "x-amz-checksum-crc32c",
                "content-length", "66946");
    }

    private static void chunk(ByteArrayOutputStream out, int size, String signature) {
        ChunkedBodies.write(out, Integer.toHexString(size) + ";chunk-signature=" + signature + "\r\n");
        byte[] data = new byte[size];
        Arrays.fill(data, (byte) 'a');
        out.writeBytes(data);
        ChunkedBodies.write(out, "\r\n");
    }
}
