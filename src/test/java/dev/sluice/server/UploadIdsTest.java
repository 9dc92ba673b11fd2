package dev.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.registry.ProductRef;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class UploadIdsTest {
    private static final ProductRef DROP = new ProductRef("demo", "drop");
    private static final String STORE_ID = "2~iCw_lDY8yRNn7mqpL8uTuY8tq3Ih9xx";

    private static byte[] key(int fill) {
        byte[] key = new byte[32];
        java.util.Arrays.fill(key, (byte) fill);
        return key;
    }

    private final UploadIds ids = new UploadIds(key(1));

    private static void assertNoSuchUpload(Runnable open) {
        assertThatThrownBy(open::run).isInstanceOfSatisfying(S3Exception.class, e -> {
            assertThat(e.error()).isEqualTo(S3Error.NO_SUCH_UPLOAD);
            assertThat(e.error().status()).isEqualTo(404);
        });
    }

    @Test
    void anIdOpensToTheStoresIdForItsProductAndKey() {
        String id = ids.seal(DROP, "a/b.bin", STORE_ID);

        assertThat(ids.open(DROP, "a/b.bin", id)).isEqualTo(STORE_ID);
        assertThat(id).doesNotContain(STORE_ID).matches("[A-Za-z0-9_-]+");
    }

    @Test
    void anotherInstanceWithTheSameKeyOpensIt() {
        String id = ids.seal(DROP, "a/b.bin", STORE_ID);
        UploadIds other = new UploadIds(key(1));

        assertThat(other.open(DROP, "a/b.bin", id)).isEqualTo(STORE_ID);
    }

    @Test
    void anIdPresentedForAnotherKeyProductOrAccountIsNoSuchUpload() {
        String id = ids.seal(DROP, "a/b.bin", STORE_ID);

        assertNoSuchUpload(() -> ids.open(DROP, "a/c.bin", id));
        assertNoSuchUpload(() -> ids.open(new ProductRef("demo", "other"), "a/b.bin", id));
        assertNoSuchUpload(() -> ids.open(new ProductRef("other", "drop"), "a/b.bin", id));
        // The separator cannot be moved between the parts to make another binding.
        assertNoSuchUpload(() -> ids.open(new ProductRef("demo", "drop\na"), "b.bin", id));
    }

    @Test
    void aTamperedIdIsNoSuchUpload() {
        String id = ids.seal(DROP, "a/b.bin", STORE_ID);
        byte[] raw = Base64.getUrlDecoder().decode(id);
        raw[raw.length / 2] ^= 1;

        assertNoSuchUpload(() -> ids.open(DROP, "a/b.bin", Base64.getUrlEncoder().withoutPadding().encodeToString(raw)));
        assertNoSuchUpload(() -> ids.open(DROP, "a/b.bin", id.substring(0, id.length() - 2)));
    }

    @Test
    void aForgedOrMalformedIdIsNoSuchUpload() {
        assertNoSuchUpload(() -> ids.open(DROP, "a/b.bin", STORE_ID));
        assertNoSuchUpload(() -> ids.open(DROP, "a/b.bin", ""));
        assertNoSuchUpload(() -> ids.open(DROP, "a/b.bin", "not base64 !"));
        assertNoSuchUpload(() -> ids.open(DROP, "a/b.bin", "A".repeat(5000)));
    }

    @Test
    void anIdSealedWithAnotherKeyIsNoSuchUpload() {
        String id = new UploadIds(key(2)).seal(DROP, "a/b.bin", STORE_ID);

        assertNoSuchUpload(() -> ids.open(DROP, "a/b.bin", id));
    }

    @Test
    void oneUploadHasOneIdHoweverOftenItIsSealed() {
        // ListMultipartUploads seals the ids it lists again; clients match them with CreateMultipartUpload's.
        String first = ids.seal(DROP, "a/b.bin", STORE_ID);

        assertThat(ids.seal(DROP, "a/b.bin", STORE_ID)).isEqualTo(first);
        assertThat(new UploadIds(key(1)).seal(DROP, "a/b.bin", STORE_ID)).isEqualTo(first);
        assertThat(ids.seal(DROP, "a/b.bin", STORE_ID + "x")).isNotEqualTo(first);
        assertThat(ids.seal(DROP, "a/c.bin", STORE_ID)).isNotEqualTo(first);
    }
}
