package dev.sluice.bench;

import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The one upload client of {@code bench/writes.sh}, used unchanged for every side (sluice, and
 * S3Proxy directly) so the comparison is of the servers, not of two clients: the AWS SDK for
 * Java v2, one connection, no retries, checksums only where required (the SDK's work per byte
 * is then the same on both sides, and small).
 *
 * <pre>
 * UploadClient put|multipart|put-presigned|multipart-presigned ENDPOINT BUCKET KEY FILE PART_MIB [ACCESS_KEY SECRET]
 * </pre>
 *
 * Uploads FILE once (parts sent one after another for {@code multipart}) and prints the
 * seconds the upload took and the CPU seconds this client spent on it (its whole process),
 * client start-up excluded (a 1 KiB upload to {@code KEY.warm-up}, deleted at once, goes
 * first). Unsigned without a key.
 *
 * <p>The {@code -presigned} modes send the bytes as an SDK does over HTTPS, with no signature
 * on them: the SDK signs the PutObject or each UploadPart as a presigned URL
 * ({@code UNSIGNED-PAYLOAD}), and the body goes out plain with its length, from a 256 KiB
 * buffer. Over plain HTTP, as here, the SDK would otherwise sign every 64 KiB chunk, so these
 * modes compare the servers with the same light client work on both sides.
 */
public final class UploadClient {
    private UploadClient() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 6 && args.length != 8) {
            System.err.println("usage: UploadClient put|multipart|put-presigned|multipart-presigned ENDPOINT BUCKET KEY FILE PART_MIB [ACCESS_KEY SECRET]");
            System.exit(2);
        }
        String mode = args[0];
        String bucket = args[2];
        String key = args[3];
        Path file = Path.of(args[4]);
        long partSize = Long.parseLong(args[5]) * 1024 * 1024;
        AwsCredentialsProvider credentials = args.length == 8
                ? StaticCredentialsProvider.create(AwsBasicCredentials.create(args[6], args[7]))
                : AnonymousCredentialsProvider.create();
        try (S3Client s3 = S3Client.builder()
                .endpointOverride(URI.create(args[1]))
                .forcePathStyle(true)
                .region(Region.US_EAST_1)
                .credentialsProvider(credentials)
                .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofMinutes(5)).build())
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()).apiCallTimeout(Duration.ofMinutes(30)))
                .build();
             S3Presigner presigner = S3Presigner.builder()
                     .endpointOverride(URI.create(args[1]))
                     .region(Region.US_EAST_1)
                     .credentialsProvider(credentials)
                     .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build())
                     .build()) {
            // A small upload first, untimed: loads and links the client's PUT path and opens the
            // connection, so the timed upload measures the server, not the client's start-up.
            s3.putObject(b -> b.bucket(bucket).key(key + ".warm-up"), RequestBody.fromBytes(new byte[1024]));
            if (mode.endsWith("-presigned")) {
                Path small = Files.createTempFile("upload-warm-up", ".bin");
                try {
                    Files.write(small, new byte[1024]);
                    send(presigner.presignPutObject(p -> p.signatureDuration(Duration.ofHours(1))
                            .putObjectRequest(b -> b.bucket(bucket).key(key + ".warm-up"))).url(), small, 0, 1024);
                } finally {
                    Files.delete(small);
                }
            }
            s3.deleteObject(b -> b.bucket(bucket).key(key + ".warm-up"));
            com.sun.management.OperatingSystemMXBean os =
                    (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            long cpuBefore = os.getProcessCpuTime();
            long started = System.nanoTime();
            switch (mode) {
                case "put" -> s3.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromFile(file));
                case "multipart" -> multipart(s3, bucket, key, file, partSize);
                case "put-presigned" -> send(presigner.presignPutObject(p -> p.signatureDuration(Duration.ofHours(1))
                        .putObjectRequest(b -> b.bucket(bucket).key(key))).url(), file, 0, Files.size(file));
                case "multipart-presigned" -> multipartPresigned(s3, presigner, bucket, key, file, partSize);
                default -> throw new IllegalArgumentException("mode must be put, multipart, put-presigned or multipart-presigned: " + mode);
            }
            long elapsed = System.nanoTime() - started;
            long cpu = os.getProcessCpuTime() - cpuBefore;
            System.out.println(String.format(Locale.ROOT, "%.3f %.3f", elapsed / 1e9, cpu / 1e9));
        }
    }

    private static void multipart(S3Client s3, String bucket, String key, Path file, long partSize) throws IOException {
        String uploadId = s3.createMultipartUpload(b -> b.bucket(bucket).key(key)).uploadId();
        List<CompletedPart> parts = new ArrayList<>();
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            long size = raf.length();
            int number = 1;
            for (long offset = 0; offset < size; offset += partSize, number++) {
                long length = Math.min(partSize, size - offset);
                long from = offset;
                int n = number;
                String etag = s3.uploadPart(b -> b.bucket(bucket).key(key).uploadId(uploadId).partNumber(n),
                        RequestBody.fromContentProvider(() -> slice(file, from, length), length, "application/octet-stream")).eTag();
                parts.add(CompletedPart.builder().partNumber(n).eTag(etag).build());
            }
        }
        s3.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId).multipartUpload(m -> m.parts(parts)));
    }

    private static void multipartPresigned(S3Client s3, S3Presigner presigner, String bucket, String key, Path file, long partSize)
            throws IOException {
        String uploadId = s3.createMultipartUpload(b -> b.bucket(bucket).key(key)).uploadId();
        List<CompletedPart> parts = new ArrayList<>();
        long size = Files.size(file);
        int number = 1;
        for (long offset = 0; offset < size; offset += partSize, number++) {
            int n = number;
            URL url = presigner.presignUploadPart(p -> p.signatureDuration(Duration.ofHours(1))
                    .uploadPartRequest(b -> b.bucket(bucket).key(key).uploadId(uploadId).partNumber(n))).url();
            String etag = send(url, file, offset, Math.min(partSize, size - offset));
            parts.add(CompletedPart.builder().partNumber(n).eTag(etag).build());
        }
        s3.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId).multipartUpload(m -> m.parts(parts)));
    }

    /** PUTs {@code length} bytes of {@code file} from {@code offset} to {@code url}, plain; the answer's ETag. */
    private static String send(URL url, Path file, long offset, long length) throws IOException {
        HttpURLConnection http = (HttpURLConnection) url.openConnection();
        http.setRequestMethod("PUT");
        http.setDoOutput(true);
        http.setFixedLengthStreamingMode(length);
        http.setConnectTimeout(10_000);
        http.setReadTimeout(300_000);
        try (InputStream in = slice(file, offset, length); OutputStream out = http.getOutputStream()) {
            byte[] buffer = new byte[256 * 1024];
            for (int n; (n = in.read(buffer)) > 0; ) {
                out.write(buffer, 0, n);
            }
        }
        int status = http.getResponseCode();
        if (status != 200) {
            throw new IOException("PUT answered " + status);
        }
        String etag = http.getHeaderField("ETag");
        http.getInputStream().readAllBytes();
        http.getInputStream().close();
        return etag;
    }

    /** {@code length} bytes of {@code file} from {@code offset}, read as sent. */
    private static InputStream slice(Path file, long offset, long length) {
        try {
            RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r");
            raf.seek(offset);
            InputStream whole = Channels.newInputStream(raf.getChannel());
            return new InputStream() {
                long left = length;

                @Override
                public int read() throws IOException {
                    if (left <= 0) {
                        return -1;
                    }
                    left--;
                    return whole.read();
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (left <= 0) {
                        return -1;
                    }
                    int n = whole.read(b, off, (int) Math.min(len, left));
                    if (n > 0) {
                        left -= n;
                    }
                    return n;
                }

                @Override
                public void close() throws IOException {
                    raf.close();
                }
            };
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
