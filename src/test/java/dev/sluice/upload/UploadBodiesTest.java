package dev.sluice.upload;

import static dev.sluice.upload.Bodies.deliveredBeforeFailure;
import static dev.sluice.upload.Bodies.headers;
import static dev.sluice.upload.Bodies.readAll;
import static dev.sluice.upload.Bodies.refusal;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.backend.Upload;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.sigv4.ChunkSigning;
import dev.sluice.sigv4.SigV4;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every payload form, bodies encoded as clients encode them ({@link ChunkedBodies}, chunks signed
 * with a key of this test's), and every refusal: each asserts the S3 code and that the body's
 * last byte never came out of the stream.
 */
class UploadBodiesTest {
    static final long MAX = 5L << 30;
    static final byte[] KEY = SigV4.signingKey("test-secret", LocalDate.of(2026, 12, 7), "eu-west-1", "s3");
    static final ChunkSigning SIGNING = new ChunkSigning(KEY,
            "6d1b9c2a1e6f3a3b1c7d9e8f0a1b2c3d4e5f60718293a4b5c6d7e8f901234567", "20261207T024000Z",
            "20261207/eu-west-1/s3/aws4_request");
    static final byte[] DATA = random(100_000, 1);
    static final String STREAMING = SigV4.STREAMING_PAYLOAD;
    static final String STREAMING_TRAILER = SigV4.STREAMING_PAYLOAD_TRAILER;
    static final String UNSIGNED_TRAILER = SigV4.STREAMING_UNSIGNED_PAYLOAD_TRAILER;

    // ---------------------------------------------------------------------------- accepted ----

    @Test
    void aSignedSha256BodyIsDeliveredWholeWithItsMd5() throws IOException {
        Upload upload = plain(DATA, "x-amz-content-sha256", TestDigests.sha256Hex(DATA));
        assertThat(readAll(upload, 4096)).isEqualTo(DATA);
        assertThat(upload.md5Hex()).isEqualTo(TestDigests.md5Hex(DATA));
        assertThat(upload.checksums()).isEmpty();
    }

    @Test
    void anUnsignedBodyOrOneWithoutAPayloadHashIsDeliveredAsItIs() throws IOException {
        assertThat(readAll(plain(DATA, "x-amz-content-sha256", "UNSIGNED-PAYLOAD"), 7)).isEqualTo(DATA);
        assertThat(readAll(plain(DATA), 65536)).isEqualTo(DATA);
    }

    @Test
    void aMatchingContentMd5Passes() throws IOException {
        Upload upload = plain(DATA, "content-md5", TestDigests.md5Base64(DATA));
        assertThat(readAll(upload, 1000)).isEqualTo(DATA);
    }

    @ParameterizedTest
    @ValueSource(strings = {"crc32", "crc32c", "crc64nvme", "sha1", "sha256"})
    void aMatchingChecksumHeaderPassesAndIsKeptWithTheObject(String algorithm) throws IOException {
        String value = TestDigests.checksum(algorithm, DATA);
        Upload upload = plain(DATA, "x-amz-checksum-" + algorithm, value);
        assertThat(upload.checksums()).as("declared before the end").containsExactly(Map.entry("x-amz-checksum-" + algorithm, value));
        assertThat(readAll(upload, 3000)).isEqualTo(DATA);
        assertThat(upload.checksums()).containsExactly(Map.entry("x-amz-checksum-" + algorithm, value));
    }

    @Test
    void withoutMd5AskedForTheBodyIsStillCheckedButHasNoMd5() throws IOException {
        Upload upload = UploadBodies.open(new java.io.ByteArrayInputStream(DATA),
                headers("content-length", String.valueOf(DATA.length)), Optional.empty(), Long.MAX_VALUE, false);
        assertThat(readAll(upload, 3000)).isEqualTo(DATA);
        assertThatThrownBy(upload::md5Hex).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aContentMd5IsCheckedEvenWhenTheStoreDoesNotAskForTheMd5() throws IOException {
        String md5 = java.util.Base64.getEncoder().encodeToString(java.util.HexFormat.of().parseHex(TestDigests.md5Hex(DATA)));
        Upload right = UploadBodies.open(new java.io.ByteArrayInputStream(DATA),
                headers("content-length", String.valueOf(DATA.length), "content-md5", md5), Optional.empty(), Long.MAX_VALUE, false);
        assertThat(readAll(right, 3000)).isEqualTo(DATA);
        assertThat(right.md5Hex()).isEqualTo(TestDigests.md5Hex(DATA));

        byte[] other = DATA.clone();
        other[7] ^= 1;
        Upload wrong = UploadBodies.open(new java.io.ByteArrayInputStream(other),
                headers("content-length", String.valueOf(other.length), "content-md5", md5), Optional.empty(), Long.MAX_VALUE, false);
        assertThat(refusal(wrong, 3000).error()).isEqualTo(S3Error.BAD_DIGEST);
    }

    @Test
    void aChecksumOnlyNamedByTheSdkAlgorithmHeaderIsComputedAndKept() throws IOException {
        Upload upload = plain(DATA, "x-amz-sdk-checksum-algorithm", "CRC64NVME");
        assertThat(readAll(upload, 3000)).isEqualTo(DATA);
        assertThat(upload.checksums()).containsExactly(Map.entry("x-amz-checksum-crc64nvme", TestDigests.checksum("crc64nvme", DATA)));
    }

    @ParameterizedTest
    @ValueSource(ints = {8192, 65536, 100_000, 1 << 20})
    void aChunkSignedBodyDecodesWhateverItsChunkSizeFrom8KiB(int chunkSize) throws IOException {
        byte[] wire = ChunkedBodies.signed(DATA, chunkSize, SIGNING, Optional.empty());
        Upload upload = chunked(wire, STREAMING, DATA.length, "content-encoding", "aws-chunked");
        assertThat(readAll(upload, 5000)).isEqualTo(DATA);
        assertThat(upload.md5Hex()).isEqualTo(TestDigests.md5Hex(DATA));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 8191})
    void aChunkUnder8KiBBeforeTheLastIsInvalidChunkSizeErrorInEveryChunkedForm(int chunkSize) throws IOException {
        assertThat(DATA.length).isGreaterThan(chunkSize);
        Upload signed = chunked(ChunkedBodies.signed(DATA, chunkSize, SIGNING, Optional.empty()), STREAMING, DATA.length,
                "content-encoding", "aws-chunked");
        assertThat(refusal(signed, 4096).error()).isEqualTo(S3Error.INVALID_CHUNK_SIZE);
        Upload unsigned = chunked(ChunkedBodies.unsigned(DATA, chunkSize, Optional.empty()), UNSIGNED_TRAILER, DATA.length);
        assertThat(refusal(unsigned, 4096).error()).isEqualTo(S3Error.INVALID_CHUNK_SIZE);
    }

    @Test
    void aLastChunkUnder8KiBIsTaken() throws IOException {
        byte[] data = java.util.Arrays.copyOf(DATA, 8192 + 10);
        Upload upload = chunked(ChunkedBodies.signed(data, 8192, SIGNING, Optional.empty()), STREAMING, data.length);
        assertThat(readAll(upload, 5000)).isEqualTo(data);
    }

    @ParameterizedTest
    @ValueSource(strings = {"crc32", "crc32c", "crc64nvme", "sha1", "sha256"})
    void aChunkSignedBodyWithASignedChecksumTrailerDecodesAndKeepsTheChecksum(String algorithm) throws IOException {
        String value = TestDigests.checksum(algorithm, DATA);
        byte[] wire = ChunkedBodies.signed(DATA, 8192, SIGNING, Optional.of(Map.entry("x-amz-checksum-" + algorithm, value)));
        Upload upload = chunked(wire, STREAMING_TRAILER, DATA.length, "x-amz-trailer", "x-amz-checksum-" + algorithm,
                "x-amz-sdk-checksum-algorithm", algorithm.toUpperCase());
        assertThat(upload.checksums()).as("a trailer is only known at the end").isEmpty();
        assertThat(readAll(upload, 4096)).isEqualTo(DATA);
        assertThat(upload.checksums()).containsExactly(Map.entry("x-amz-checksum-" + algorithm, value));
    }

    @ParameterizedTest
    @ValueSource(strings = {"crc32", "crc32c", "crc64nvme", "sha1", "sha256"})
    void anUnsignedChunkedBodyWithAChecksumTrailerDecodesAndKeepsTheChecksum(String algorithm) throws IOException {
        String value = TestDigests.checksum(algorithm, DATA);
        byte[] wire = ChunkedBodies.unsigned(DATA, 16384, Optional.of(Map.entry("x-amz-checksum-" + algorithm, value)));
        Upload upload = chunked(wire, UNSIGNED_TRAILER, DATA.length, "x-amz-trailer", "x-amz-checksum-" + algorithm,
                "content-encoding", "gzip, aws-chunked");
        assertThat(readAll(upload, 100_000)).isEqualTo(DATA);
        assertThat(upload.checksums()).containsExactly(Map.entry("x-amz-checksum-" + algorithm, value));
    }

    @Test
    void aSignedEmptyTrailerAndExtensionsOnUnsignedChunksAreAccepted() throws IOException {
        // A signed trailer form whose client declared no trailer still signs the (empty) trailer.
        byte[] noTrailer = ChunkedBodies.signed(DATA, 30000, SIGNING, Optional.empty());
        String sig = ChunkedBodies.trailerSignature(SIGNING, lastChunkSignature(noTrailer), List.of());
        byte[] signedEmptyTrailer = concat(Arrays.copyOf(noTrailer, noTrailer.length - 2),
                ("x-amz-trailer-signature:" + sig + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        assertThat(readAll(chunked(signedEmptyTrailer, STREAMING_TRAILER, DATA.length), 4096)).isEqualTo(DATA);

        byte[] extended = ascii("5;name=value\r\nhello\r\n0\r\n\r\n");
        assertThat(readAll(chunked(extended, UNSIGNED_TRAILER, 5), 2)).isEqualTo(ascii("hello"));
    }

    @Test
    void emptyBodiesPassInEveryForm() throws IOException {
        byte[] empty = new byte[0];
        assertThat(readAll(plain(empty, "x-amz-content-sha256", SigV4.EMPTY_SHA256), 10)).isEmpty();
        assertThat(readAll(chunked(ChunkedBodies.signed(empty, 8192, SIGNING, Optional.empty()), STREAMING, 0), 10)).isEmpty();
        String crc = TestDigests.checksum("crc32", empty);
        Upload trailer = chunked(ChunkedBodies.unsigned(empty, 8192, Optional.of(Map.entry("x-amz-checksum-crc32", crc))),
                UNSIGNED_TRAILER, 0, "x-amz-trailer", "x-amz-checksum-crc32");
        assertThat(readAll(trailer, 10)).isEmpty();
        assertThat(trailer.checksums()).containsExactly(Map.entry("x-amz-checksum-crc32", "AAAAAA=="));
        assertThat(trailer.md5Hex()).isEqualTo("d41d8cd98f00b204e9800998ecf8427e");
    }

    @Test
    void singleByteReadsDeliverTheSameBytes() throws IOException {
        byte[] small = Arrays.copyOf(DATA, 8192 + 300);
        Upload upload = chunked(ChunkedBodies.signed(small, 8192, SIGNING, Optional.empty()), STREAMING, small.length);
        InputStream in = upload.stream();
        byte[] out = new byte[small.length];
        for (int i = 0; i < out.length; i++) {
            int b = in.read();
            assertThat(b).isNotNegative();
            out[i] = (byte) b;
        }
        assertThat(in.read()).isEqualTo(-1);
        assertThat(out).isEqualTo(small);
    }

    // ----------------------------------------------------------- refused at the last byte ----

    @Test
    void aBodyOtherThanItsSignedSha256IsRefusedAtTheLastByte() throws IOException {
        Upload upload = plain(DATA, "x-amz-content-sha256", TestDigests.sha256Hex(Arrays.copyOf(DATA, 99)));
        assertThat(refusal(upload, 4096).error()).isEqualTo(S3Error.CONTENT_SHA256_MISMATCH);
        Upload again = plain(DATA, "x-amz-content-sha256", TestDigests.sha256Hex(Arrays.copyOf(DATA, 99)));
        assertThat(deliveredBeforeFailure(again, 4096)).isEqualTo(DATA.length - 1);
    }

    @Test
    void aWrongContentMd5IsBadDigest() throws IOException {
        S3Exception e = refusal(plain(DATA, "content-md5", TestDigests.md5Base64(new byte[1])), 4096);
        assertThat(e.error()).isEqualTo(S3Error.BAD_DIGEST);
        assertThat(e.error().status()).isEqualTo(400);
        assertThat(e.clientMessage()).isEqualTo("The Content-MD5 you specified did not match what we received.");
    }

    @ParameterizedTest
    @ValueSource(strings = {"crc32", "crc32c", "crc64nvme", "sha1", "sha256"})
    void aWrongChecksumHeaderIsBadDigestNamingTheAlgorithm(String algorithm) throws IOException {
        Upload upload = plain(DATA, "x-amz-checksum-" + algorithm, TestDigests.checksum(algorithm, new byte[3]));
        S3Exception e = refusal(upload, 4096);
        assertThat(e.error()).isEqualTo(S3Error.BAD_DIGEST);
        assertThat(e.clientMessage()).isEqualTo("The " + algorithm.toUpperCase() + " you specified did not match the calculated checksum.");
    }

    @ParameterizedTest
    @ValueSource(strings = {"crc32", "crc32c", "crc64nvme", "sha1", "sha256"})
    void aWrongChecksumTrailerIsBadDigestInBothTrailerForms(String algorithm) throws IOException {
        Map.Entry<String, String> wrong = Map.entry("x-amz-checksum-" + algorithm, TestDigests.checksum(algorithm, new byte[3]));
        Upload signed = chunked(ChunkedBodies.signed(DATA, 8192, SIGNING, Optional.of(wrong)), STREAMING_TRAILER, DATA.length,
                "x-amz-trailer", wrong.getKey());
        assertThat(refusal(signed, 4096).error()).isEqualTo(S3Error.BAD_DIGEST);
        Upload unsigned = chunked(ChunkedBodies.unsigned(DATA, 8192, Optional.of(wrong)), UNSIGNED_TRAILER, DATA.length,
                "x-amz-trailer", wrong.getKey());
        assertThat(deliveredBeforeFailure(unsigned, 4096)).isEqualTo(DATA.length - 1);
    }

    @Test
    void aTrailerValueThatIsNotBase64OfTheAlgorithmsSizeIsInvalidRequest() throws IOException {
        Upload upload = chunked(ChunkedBodies.unsigned(DATA, 8192, Optional.of(Map.entry("x-amz-checksum-crc32", "AAAA"))),
                UNSIGNED_TRAILER, DATA.length, "x-amz-trailer", "x-amz-checksum-crc32");
        assertThat(refusal(upload, 4096).error()).isEqualTo(S3Error.INVALID_REQUEST);
    }

    // ------------------------------------------------------------ signatures of the chunks ----

    @Test
    void tamperedChunkDataIsSignatureDoesNotMatch() throws IOException {
        byte[] wire = ChunkedBodies.signed(DATA, 8192, SIGNING, Optional.empty());
        wire[200] ^= 1;
        S3Exception e = refusal(chunked(wire, STREAMING, DATA.length), 4096);
        assertThat(e.error()).isEqualTo(S3Error.SIGNATURE_DOES_NOT_MATCH);
        assertThat(e.error().status()).isEqualTo(403);
    }

    @Test
    void aChunkSignatureFromAnotherKeyOrSeedIsSignatureDoesNotMatch() throws IOException {
        ChunkSigning otherKey = new ChunkSigning(SigV4.signingKey("other", LocalDate.of(2026, 12, 7), "eu-west-1", "s3"),
                SIGNING.seedSignature(), SIGNING.amzDate(), SIGNING.credentialScope());
        byte[] wire = ChunkedBodies.signed(DATA, 8192, otherKey, Optional.empty());
        assertThat(refusal(chunked(wire, STREAMING, DATA.length), 4096).error()).isEqualTo(S3Error.SIGNATURE_DOES_NOT_MATCH);
        ChunkSigning otherSeed = new ChunkSigning(KEY, SigV4.EMPTY_SHA256, SIGNING.amzDate(), SIGNING.credentialScope());
        byte[] reseeded = ChunkedBodies.signed(DATA, 8192, otherSeed, Optional.empty());
        assertThat(refusal(chunked(reseeded, STREAMING, DATA.length), 4096).error()).isEqualTo(S3Error.SIGNATURE_DOES_NOT_MATCH);
    }

    @Test
    void reorderedChunksAreSignatureDoesNotMatch() throws IOException {
        byte[] data = Arrays.copyOf(DATA, 200);
        String wire = new String(ChunkedBodies.signed(data, 100, SIGNING, Optional.empty()), StandardCharsets.ISO_8859_1);
        int second = wire.indexOf("64;chunk-signature=", 10);
        int last = wire.indexOf("0;chunk-signature=", second + 10);
        String swapped = wire.substring(second, last) + wire.substring(0, second) + wire.substring(last);
        Upload upload = chunked(swapped.getBytes(StandardCharsets.ISO_8859_1), STREAMING, data.length);
        assertThat(refusal(upload, 4096).error()).isEqualTo(S3Error.SIGNATURE_DOES_NOT_MATCH);
    }

    @Test
    void aWrongFinalChunkSignatureHoldsBackTheLastByte() throws IOException {
        byte[] wire = ChunkedBodies.signed(DATA, 8192, SIGNING, Optional.empty());
        String text = new String(wire, StandardCharsets.ISO_8859_1);
        String last = lastChunkSignature(wire);
        byte[] bad = text.replace("0;chunk-signature=" + last, "0;chunk-signature=" + SigV4.EMPTY_SHA256)
                .getBytes(StandardCharsets.ISO_8859_1);
        assertThat(deliveredBeforeFailure(chunked(bad, STREAMING, DATA.length), 100_000)).isEqualTo(DATA.length - 1);
        assertThat(refusal(chunked(bad, STREAMING, DATA.length), 100_000).error()).isEqualTo(S3Error.SIGNATURE_DOES_NOT_MATCH);
    }

    @Test
    void aWrongOrMissingTrailerSignatureIsRefused() throws IOException {
        Map.Entry<String, String> crc = Map.entry("x-amz-checksum-crc32", TestDigests.checksum("crc32", DATA));
        String wire = new String(ChunkedBodies.signed(DATA, 8192, SIGNING, Optional.of(crc)), StandardCharsets.ISO_8859_1);
        int at = wire.indexOf("x-amz-trailer-signature:") + "x-amz-trailer-signature:".length();
        String wrong = wire.substring(0, at) + SigV4.EMPTY_SHA256 + wire.substring(at + 64);
        Upload upload = chunked(wrong.getBytes(StandardCharsets.ISO_8859_1), STREAMING_TRAILER, DATA.length,
                "x-amz-trailer", "x-amz-checksum-crc32");
        assertThat(refusal(upload, 4096).error()).isEqualTo(S3Error.SIGNATURE_DOES_NOT_MATCH);

        String missing = wire.substring(0, wire.indexOf("x-amz-trailer-signature:")) + "\r\n";
        Upload unsignedTrailer = chunked(missing.getBytes(StandardCharsets.ISO_8859_1), STREAMING_TRAILER, DATA.length,
                "x-amz-trailer", "x-amz-checksum-crc32");
        assertThat(refusal(unsignedTrailer, 4096).error()).isEqualTo(S3Error.INCOMPLETE_BODY);
    }

    @Test
    void aChunkSignedFormWithoutChunkSigningIsRefusedBeforeAByteIsRead() {
        assertThatThrownBy(() -> UploadBodies.open(new ByteArrayInputStream(new byte[0]),
                headers("x-amz-content-sha256", STREAMING, "x-amz-decoded-content-length", "0"), Optional.empty(), MAX))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.ACCESS_DENIED));
    }

    // ------------------------------------------------------------ length and framing ----

    @Test
    void aPlainBodyShorterOrLongerThanItsContentLengthIsIncompleteBody() throws IOException {
        Upload shorter = UploadBodies.open(new ByteArrayInputStream(DATA, 0, 1000), headers("content-length", "1001"),
                Optional.empty(), MAX);
        assertThat(refusal(shorter, 4096).error()).isEqualTo(S3Error.INCOMPLETE_BODY);
        Upload longer = UploadBodies.open(new ByteArrayInputStream(DATA, 0, 1001), headers("content-length", "1000"),
                Optional.empty(), MAX);
        assertThat(refusal(longer, 4096).error()).isEqualTo(S3Error.INCOMPLETE_BODY);
    }

    @Test
    void chunksThatAddUpToLessOrMoreThanTheDecodedLengthAreIncompleteBody() throws IOException {
        byte[] wire = ChunkedBodies.signed(DATA, 8192, SIGNING, Optional.empty());
        assertThat(refusal(chunked(wire, STREAMING, DATA.length + 1), 4096).error()).isEqualTo(S3Error.INCOMPLETE_BODY);
        assertThat(refusal(chunked(wire, STREAMING, DATA.length - 1), 4096).error()).isEqualTo(S3Error.INCOMPLETE_BODY);
        byte[] unsigned = ChunkedBodies.unsigned(DATA, 8192, Optional.empty());
        assertThat(refusal(chunked(unsigned, UNSIGNED_TRAILER, DATA.length + 1), 4096).error()).isEqualTo(S3Error.INCOMPLETE_BODY);
        assertThat(refusal(chunked(unsigned, UNSIGNED_TRAILER, 1), 4096).error()).isEqualTo(S3Error.INCOMPLETE_BODY);
    }

    @Test
    void aConnectionThatEndsAnywhereInsideTheFramingIsIncompleteBody() throws IOException {
        // Two chunks, the first of the smallest size S3 takes before the last.
        byte[] data = Arrays.copyOf(DATA, 8192 + 40);
        Map.Entry<String, String> crc = Map.entry("x-amz-checksum-crc32", TestDigests.checksum("crc32", data));
        byte[] signed = ChunkedBodies.signed(data, 8192, SIGNING, Optional.of(crc));
        for (int cut = 0; cut < signed.length; cut++) {
            Upload upload = chunked(Arrays.copyOf(signed, cut), STREAMING_TRAILER, data.length,
                    "x-amz-trailer", "x-amz-checksum-crc32");
            assertThat(refusal(upload, 7).error()).as("cut at %d", cut).isEqualTo(S3Error.INCOMPLETE_BODY);
        }
        byte[] unsigned = ChunkedBodies.unsigned(data, 8192, Optional.of(crc));
        for (int cut = 0; cut < unsigned.length; cut++) {
            Upload upload = chunked(Arrays.copyOf(unsigned, cut), UNSIGNED_TRAILER, data.length,
                    "x-amz-trailer", "x-amz-checksum-crc32");
            assertThat(refusal(upload, 7).error()).as("cut at %d", cut).isEqualTo(S3Error.INCOMPLETE_BODY);
        }
    }

    @Test
    void malformedFramingIsIncompleteBody() throws IOException {
        String ok = "5\r\nhello\r\n0\r\n\r\n";
        assertThat(readAll(chunked(ascii(ok), UNSIGNED_TRAILER, 5), 100)).isEqualTo(ascii("hello"));
        List<String> malformed = List.of(
                "x5\r\nhello\r\n0\r\n\r\n",            // size not hex
                "\r\nhello\r\n0\r\n\r\n",              // no size
                "5\nhello\r\n0\r\n\r\n",               // bare LF after the size
                "5\r\nhelloXX0\r\n\r\n",               // no CRLF after the data
                "5\r\nhello\r\n0\r\n",                 // no CRLF after the last chunk
                "5\r\nhello\r\n0\r\n\r\nextra",        // bytes after the end
                "5\r\nhello\r\n",                      // no final chunk
                "5\r\nhello\r\n5\r\nhello\r\n0\r\n\r\n", // a chunk past the declared length
                "00000000000000005\r\nhello\r\n0\r\n\r\n", // seventeen digits
                "5;" + "x".repeat(5000) + "\r\nhello\r\n0\r\n\r\n"); // a header line past its limit
        for (String body : malformed) {
            assertThat(refusal(chunked(ascii(body), UNSIGNED_TRAILER, 5), 3).error()).as(body).isEqualTo(S3Error.INCOMPLETE_BODY);
        }
        byte[] signedData = ascii("hello");
        String signed = new String(ChunkedBodies.signed(signedData, 8192, SIGNING, Optional.empty()), StandardCharsets.ISO_8859_1);
        for (String body : List.of(signed.replace(";chunk-signature=", ";chunk-signatur="), signed.replaceFirst(";chunk-signature=[0-9a-f]+", ""))) {
            assertThat(refusal(chunked(ascii(body), STREAMING, 5), 3).error()).isEqualTo(S3Error.INCOMPLETE_BODY);
        }
    }

    // ------------------------------------------------------------ trailers ----

    @Test
    void aTrailerOtherThanTheDeclaredChecksumIsMalformedTrailer() throws IOException {
        String crc32 = TestDigests.checksum("crc32", DATA);
        Upload other = chunked(ChunkedBodies.unsigned(DATA, 8192, Optional.of(Map.entry("x-amz-checksum-crc32", crc32))),
                UNSIGNED_TRAILER, DATA.length, "x-amz-trailer", "x-amz-checksum-crc32c");
        assertThat(refusal(other, 4096).error()).isEqualTo(S3Error.MALFORMED_TRAILER);
        Upload undeclared = chunked(ChunkedBodies.unsigned(DATA, 8192, Optional.of(Map.entry("x-amz-checksum-crc32", crc32))),
                UNSIGNED_TRAILER, DATA.length);
        assertThat(refusal(undeclared, 4096).error()).isEqualTo(S3Error.MALFORMED_TRAILER);
        Upload notAChecksum = chunked(ChunkedBodies.unsigned(DATA, 8192, Optional.of(Map.entry("x-amz-meta-late", "1"))),
                UNSIGNED_TRAILER, DATA.length, "x-amz-trailer", "x-amz-checksum-crc32");
        assertThat(refusal(notAChecksum, 4096).error()).isEqualTo(S3Error.MALFORMED_TRAILER);
        Upload missing = chunked(ChunkedBodies.unsigned(DATA, 8192, Optional.empty()), UNSIGNED_TRAILER, DATA.length,
                "x-amz-trailer", "x-amz-checksum-crc32");
        assertThat(refusal(missing, 4096).error()).isEqualTo(S3Error.MALFORMED_TRAILER);
        byte[] twice = ascii("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:" + TestDigests.checksum("crc32", ascii("hello"))
                + "\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n");
        assertThat(refusal(chunked(twice, UNSIGNED_TRAILER, 5, "x-amz-trailer", "x-amz-checksum-crc32"), 10).error())
                .isEqualTo(S3Error.MALFORMED_TRAILER);
    }

    // ------------------------------------------------------------ refused before a byte ----

    @Test
    void headersThatCannotDescribeABodyAreRefusedBeforeAByteIsRead() {
        record Case(S3Error error, String... headers) {
        }
        List<Case> cases = List.of(
                new Case(S3Error.MISSING_CONTENT_LENGTH),
                new Case(S3Error.MISSING_CONTENT_LENGTH, "content-length", "ten"),
                new Case(S3Error.MISSING_CONTENT_LENGTH, "content-length", "-1"),
                new Case(S3Error.MISSING_CONTENT_LENGTH, "x-amz-content-sha256", UNSIGNED_TRAILER, "content-length", "10"),
                new Case(S3Error.MISSING_CONTENT_LENGTH, "x-amz-content-sha256", UNSIGNED_TRAILER, "x-amz-decoded-content-length", "abc"),
                new Case(S3Error.ENTITY_TOO_LARGE, "content-length", String.valueOf(MAX + 1)),
                new Case(S3Error.ENTITY_TOO_LARGE, "x-amz-content-sha256", UNSIGNED_TRAILER, "x-amz-decoded-content-length",
                        String.valueOf(MAX + 1)),
                new Case(S3Error.INVALID_ARGUMENT, "x-amz-content-sha256", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
                        "content-length", "1"),
                new Case(S3Error.INVALID_ARGUMENT, "x-amz-content-sha256", "abc", "content-length", "1"),
                new Case(S3Error.INVALID_REQUEST, "content-encoding", "aws-chunked", "content-length", "1"),
                new Case(S3Error.INVALID_DIGEST, "content-md5", "not base64!", "content-length", "1"),
                new Case(S3Error.INVALID_DIGEST, "content-md5", "AAAA", "content-length", "1"),
                new Case(S3Error.INVALID_REQUEST, "x-amz-checksum-crc32", "AAAAAAAA", "content-length", "1"),
                new Case(S3Error.INVALID_REQUEST, "x-amz-checksum-sha256", "%%%", "content-length", "1"),
                new Case(S3Error.INVALID_REQUEST, "x-amz-checksum-crc32", "AAAAAA==", "x-amz-checksum-crc32c", "AAAAAA==",
                        "content-length", "1"),
                new Case(S3Error.INVALID_REQUEST, "x-amz-content-sha256", UNSIGNED_TRAILER, "x-amz-decoded-content-length", "1",
                        "x-amz-trailer", "x-amz-meta-late"),
                new Case(S3Error.INVALID_REQUEST, "x-amz-trailer", "x-amz-checksum-crc32", "content-length", "1"),
                new Case(S3Error.INVALID_REQUEST, "x-amz-content-sha256", UNSIGNED_TRAILER, "x-amz-decoded-content-length", "1",
                        "x-amz-trailer", "x-amz-checksum-crc32", "x-amz-checksum-crc32c", "AAAAAA=="),
                new Case(S3Error.INVALID_REQUEST, "x-amz-sdk-checksum-algorithm", "MD5", "content-length", "1"),
                new Case(S3Error.INVALID_REQUEST, "x-amz-sdk-checksum-algorithm", "CRC32", "x-amz-checksum-sha1",
                        TestDigests.checksum("sha1", new byte[1]), "content-length", "1"));
        for (Case c : cases) {
            InputStream untouchable = new InputStream() {
                @Override
                public int read() {
                    throw new AssertionError("read before the headers were checked");
                }
            };
            assertThatThrownBy(() -> UploadBodies.open(untouchable, headers(c.headers()), Optional.of(SIGNING), MAX))
                    .as(String.join(" ", c.headers()))
                    .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.error()).isEqualTo(c.error()));
        }
    }

    // ------------------------------------------------------------ the stream itself ----

    @Test
    void aFailureSticksAndTheMd5IsNeverGivenForAFailedBody() throws IOException {
        Upload upload = plain(DATA, "content-md5", TestDigests.md5Base64(new byte[1]));
        S3Exception first = refusal(upload, 100_000);
        assertThatThrownBy(() -> upload.stream().read(new byte[10])).isSameAs(first);
        assertThatThrownBy(upload::md5Hex).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aConnectionFailureComesThroughAsTheIOExceptionItIs() throws IOException {
        IOException reset = new IOException("connection reset");
        InputStream failing = new SequenceInputStream(new ByteArrayInputStream(DATA, 0, 500), new InputStream() {
            @Override
            public int read() throws IOException {
                throw reset;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                throw reset;
            }
        });
        Upload upload = UploadBodies.open(failing, headers("content-length", String.valueOf(DATA.length)), Optional.empty(), MAX);
        InputStream in = upload.stream();
        byte[] buffer = new byte[4096];
        long delivered = 0;
        try {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                delivered += n;
            }
        } catch (IOException e) {
            assertThat(e).isSameAs(reset);
        }
        assertThat(delivered).isEqualTo(500);
        assertThatThrownBy(() -> in.read(buffer)).isSameAs(reset);
    }

    @Test
    void closingTheStreamClosesWhatItReads() throws IOException {
        for (String form : List.of("plain", "chunked")) {
            boolean[] closed = {false};
            InputStream raw = new ByteArrayInputStream(form.equals("plain") ? DATA
                    : ChunkedBodies.unsigned(DATA, 8192, Optional.empty())) {
                @Override
                public void close() {
                    closed[0] = true;
                }
            };
            Upload upload = UploadBodies.open(raw, form.equals("plain") ? headers("content-length", String.valueOf(DATA.length))
                    : headers("x-amz-content-sha256", UNSIGNED_TRAILER, "x-amz-decoded-content-length",
                            String.valueOf(DATA.length)), Optional.empty(), MAX);
            upload.stream().read(new byte[10]);
            upload.stream().close();
            assertThat(closed[0]).as(form).isTrue();
        }
    }

    @Test
    void trustedBytesShorterOrLongerThanTheirLengthFailAsTheStoresFault() throws IOException {
        assertThat(readAll(UploadBodies.trusted(new ByteArrayInputStream(DATA), DATA.length), 4096)).isEqualTo(DATA);
        Upload shorter = UploadBodies.trusted(new ByteArrayInputStream(DATA, 0, 10), 11);
        S3Exception e = refusal(shorter, 4096);
        assertThat(e.error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE);
        Upload longer = UploadBodies.trusted(new ByteArrayInputStream(DATA, 0, 12), 11);
        assertThat(refusal(longer, 4096).error()).isEqualTo(S3Error.SERVICE_UNAVAILABLE);
        Upload exact = UploadBodies.trusted(new ByteArrayInputStream(DATA, 0, 11), 11);
        readAll(exact, 3);
        assertThat(exact.md5Hex()).isEqualTo(TestDigests.md5Hex(Arrays.copyOf(DATA, 11)));
    }

    // ------------------------------------------------------------ helpers ----

    private static Upload plain(byte[] body, String... extraHeaders) {
        String[] all = Arrays.copyOf(extraHeaders, extraHeaders.length + 2);
        all[extraHeaders.length] = "content-length";
        all[extraHeaders.length + 1] = String.valueOf(body.length);
        return UploadBodies.open(new ByteArrayInputStream(body), headers(all), Optional.empty(), MAX);
    }

    private static Upload chunked(byte[] wire, String form, long decodedLength, String... extraHeaders) {
        String[] all = Arrays.copyOf(extraHeaders, extraHeaders.length + 4);
        all[extraHeaders.length] = "x-amz-content-sha256";
        all[extraHeaders.length + 1] = form;
        all[extraHeaders.length + 2] = "x-amz-decoded-content-length";
        all[extraHeaders.length + 3] = String.valueOf(decodedLength);
        Function<String, Optional<String>> headers = headers(all);
        return UploadBodies.open(new ByteArrayInputStream(wire), headers, Optional.of(SIGNING), MAX);
    }

    /** The signature of the final (empty) chunk of an encoded signed body. */
    private static String lastChunkSignature(byte[] wire) {
        String text = new String(wire, StandardCharsets.ISO_8859_1);
        int at = text.lastIndexOf("\n0;chunk-signature=");
        at = at < 0 ? 0 : at + 1;
        return text.substring(at + "0;chunk-signature=".length(), at + "0;chunk-signature=".length() + 64);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static byte[] random(int size, long seed) {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        return data;
    }
}
