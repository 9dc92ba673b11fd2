package dev.sluice.it;

import dev.sluice.testing.S3ProxyExtension;
import dev.sluice.testing.S3ProxyProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The write contract with every product under a prefix of one S3Proxy bucket, which checks
 * every SigV4 signature sluice sends. The bucket is looked at directly with S3Proxy's own
 * credentials: objects, and multipart uploads in progress.
 */
class S3BackendWritePathTest extends WritePathContract {
    @RegisterExtension
    static final S3ProxyExtension S3PROXY = new S3ProxyExtension();

    static final String BUCKET = "sluice-writes";

    @TempDir
    static Path base;
    private boolean bucketCreated;

    private S3Client admin() {
        S3Client admin = S3PROXY.get().client();
        if (!bucketCreated) {
            admin.createBucket(b -> b.bucket(BUCKET));
            bucketCreated = true;
        }
        return admin;
    }

    private static String prefix(String product) {
        return "products/" + product + "/";
    }

    @Override
    protected String backend(String product) {
        admin();
        return """
                { type: s3, endpoint: "%s", region: us-east-1, bucket: %s, prefix: %s, timeout: 10s, checksum_trailers: true, \
                auth: { type: static, access_key_id: "%s", secret_access_key_env: S3PROXY_SECRET } }"""
                .formatted(S3PROXY.get().endpoint(), BUCKET, prefix(product), S3ProxyProcess.IDENTITY);
    }

    @Override
    protected Map<String, String> backendEnvironment() {
        return Map.of("S3PROXY_SECRET", S3ProxyProcess.CREDENTIAL);
    }

    @Override
    protected Path baseDirectory() {
        return base;
    }

    @Override
    protected void seed(String product, String key, byte[] bytes) {
        admin().putObject(b -> b.bucket(BUCKET).key(prefix(product) + key), RequestBody.fromBytes(bytes));
    }

    @Override
    protected Optional<byte[]> stored(String product, String key) {
        try {
            return Optional.of(admin().getObject(b -> b.bucket(BUCKET).key(prefix(product) + key), ResponseTransformer.toBytes())
                    .asByteArray());
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        }
    }

    @Override
    protected void awaitStoreSettled() {
        S3PROXY.get().awaitWritesEnded(java.time.Duration.ofSeconds(10));
    }

    /** S3Proxy 3.0.0's filesystem store keeps no {@code x-amz-checksum-*} values with an object. */
    @Override
    protected boolean keepsChecksums() {
        return false;
    }

    /** The store's own upload id is not an id sluice issued: a client that learns one cannot use it. */
    @Test
    void theStoresOwnUploadIdIsNoSuchUpload() {
        String key = "raw-id/object.bin";
        String raw = admin().createMultipartUpload(b -> b.bucket(BUCKET).key(prefix("drop") + key)).uploadId();
        List<String> before = backendEntries("drop");

        for (java.util.function.Function<String, SluiceUnderTest.RawResponse> use : usesOfAnUploadId(key)) {
            S3ErrorAssert.assertS3Error(use.apply(raw), 404, "NoSuchUpload", "/acme/drop/" + key);
        }

        assertThat(backendEntries("drop")).containsExactlyInAnyOrderElementsOf(before);
        admin().abortMultipartUpload(b -> b.bucket(BUCKET).key(prefix("drop") + key).uploadId(raw));
    }

    /**
     * S3Proxy 3.0.0's filesystem store answers ListParts of a completed or aborted upload with no
     * parts, and takes an UploadPart to it, where S3 answers {@code NoSuchUpload}; sluice passes
     * the store's answer on.
     */
    @Override
    protected boolean endsUploadsAsS3Does() {
        return false;
    }

    /** S3Proxy 3.0.0 lists multipart uploads in no particular order, and sluice passes its pages on. */
    @Override
    protected boolean listsUploadsInKeyOrder() {
        return false;
    }

    /**
     * The objects under the product's prefix, its uploads in progress, and S3Proxy's own
     * bookkeeping for them ({@code .mpus-<id>-<key>…} objects at the bucket's top, which its
     * filesystem store keeps for each upload and part).
     */
    @Override
    protected List<String> backendEntries(String product) {
        awaitStoreSettled();
        List<String> entries = new ArrayList<>();
        for (S3Object o : admin().listObjectsV2Paginator(b -> b.bucket(BUCKET).prefix(prefix(product))).contents()) {
            entries.add(o.key() + " " + o.size() + " " + o.eTag());
        }
        for (S3Object o : admin().listObjectsV2Paginator(b -> b.bucket(BUCKET).prefix(".mpus-")).contents()) {
            if (o.key().contains("-" + prefix(product))) {
                entries.add(o.key() + " " + o.size());
            }
        }
        try {
            admin().listMultipartUploads(b -> b.bucket(BUCKET).prefix(prefix(product))).uploads()
                    .forEach(u -> entries.add("upload " + u.key() + " " + u.uploadId()));
        } catch (S3Exception e) {
            if (e.statusCode() != 501) {
                throw e;
            }
        }
        entries.sort(null);
        return entries;
    }
}
