package dev.sluice.it;

import dev.sluice.sigv4.SigV4;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The hand-made bodies the write tests send are only as good as their signatures and checksums:
 * checked here against AWS's published example of a chunked upload and the CRC catalogue's
 * check values, so a test that sluice refuses a body is never a test of a broken client.
 */
class RawWriteTest {
    /** "Signature Calculation: Transferring Payload in Multiple Chunks", AWS S3 API reference. */
    @Test
    void chunkSignaturesMatchAwsPublishedExample() {
        byte[] key = SigV4.signingKey("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", LocalDate.of(2013, 5, 24), "us-east-1", "s3");
        String scope = "20130524/us-east-1/s3/aws4_request";
        String date = "20130524T000000Z";
        byte[] first = new byte[65536];
        Arrays.fill(first, (byte) 'a');
        byte[] second = new byte[1024];
        Arrays.fill(second, (byte) 'a');

        String s1 = RawWrite.chunkSignature(key, date, scope, "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9", first);
        String s2 = RawWrite.chunkSignature(key, date, scope, s1, second);
        String s3 = RawWrite.chunkSignature(key, date, scope, s2, new byte[0]);

        assertThat(s1).isEqualTo("ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648");
        assertThat(s2).isEqualTo("0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497");
        assertThat(s3).isEqualTo("b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9");
    }

    @Test
    void checksumsMatchTheirCatalogueCheckValues() {
        byte[] check = "123456789".getBytes(StandardCharsets.US_ASCII);

        assertThat(Checksums.crc64nvme(check)).isEqualTo(0xae8b14860a799888L);
        assertThat(Checksums.CRC32.of(check)).isEqualTo("y/Q5Jg=="); // 0xcbf43926
        assertThat(Checksums.CRC32C.of(check)).isEqualTo("4waSgw=="); // 0xe3069283
        assertThat(Checksums.SHA256.of(new byte[0])).isEqualTo("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    }

    @Test
    void aSignedChunkedBodyFramesEveryChunkAndEndsWithAnEmptyOne() {
        byte[] body = new byte[150_000];
        RawWrite.Wire w = RawWrite.put(java.net.URI.create("http://127.0.0.1:1"), "/a/b/c").signedBy("AKID", "secret")
                .form(RawWrite.Form.CHUNKED_SIGNED_TRAILER).body(body).wire();
        String head = new String(w.head(), StandardCharsets.ISO_8859_1);
        String wire = new String(w.body(), StandardCharsets.ISO_8859_1);

        assertThat(head).contains("x-amz-decoded-content-length: 150000\r\n").contains("content-encoding: aws-chunked\r\n")
                .contains("x-amz-trailer: x-amz-checksum-crc32\r\n")
                .contains("Content-Length: " + w.body().length + "\r\n");
        assertThat(wire).startsWith("10000;chunk-signature=").contains("\r\n49f0;chunk-signature=")
                .containsPattern("\r\n0;chunk-signature=[0-9a-f]{64}\r\nx-amz-checksum-crc32:[A-Za-z0-9+/=]+\r\n"
                        + "x-amz-trailer-signature:[0-9a-f]{64}\r\n\r\n$");
    }
}
