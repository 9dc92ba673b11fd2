package dev.sluice.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.s3.ObjectSummary;
import dev.sluice.s3.Preconditions;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Reads, listings and bodies the file backend's write tests share. */
final class FileWriteFixture {
    private FileWriteFixture() {
    }

    /** A GET of the whole object asking for its checksums ({@code x-amz-checksum-mode: ENABLED}), so the stored ones show. */
    static ObjectResponse get(Backend backend, String key) {
        return ObjectResponse.read(backend, new ObjectRead(key, new dev.sluice.s3.ReadDecision.Request(Optional.empty(),
                Optional.empty(), Preconditions.NONE, false, dev.sluice.s3.ResponseOverrides.NONE, true), "req"));
    }

    static ObjectResponse head(Backend backend, String key) {
        return ObjectResponse.read(backend, new ObjectRead(key, Optional.empty(), Preconditions.NONE, true, "req"));
    }

    static byte[] bytes(ObjectResponse response) throws IOException {
        assertThat(response.body()).as("response body").isPresent();
        try (ObjectBody body = response.body().get()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            body.transferTo(out);
            return out.toByteArray();
        }
    }

    static Optional<String> header(ObjectResponse response, String name) {
        return response.headers().stream().filter(h -> h.getKey().equalsIgnoreCase(name)).map(Map.Entry::getValue).findFirst();
    }

    /** Every key a listing without delimiter shows, page after page. */
    static List<String> keys(Backend backend, String prefix) {
        ListPage page = backend.list(new ListQuery(prefix, Optional.empty(), 1000, new ListPosition.Start()));
        assertThat(page.next()).isEmpty();
        return page.objects().stream().map(ObjectSummary::key).toList();
    }

    static List<String> commonPrefixes(Backend backend, String prefix) {
        ListPage page = backend.list(new ListQuery(prefix, Optional.of("/"), 1000, new ListPosition.Start()));
        return page.commonPrefixes();
    }

    static void assertS3Error(Runnable call, S3Error error) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(S3Exception.class, e -> {
            assertThat(e.error()).isEqualTo(error);
            assertThat(e.error().status()).isEqualTo(error.status());
        });
    }

    /** Files under {@code root} whose name marks a temporary file, anywhere. */
    static List<Path> tempFiles(Path root) throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            return all.filter(p -> p.getFileName().toString().startsWith(".sluice-tmp-")).toList();
        }
    }

    /**
     * A body that delivers all its bytes but the last, then signals {@code atEnd} and waits for
     * {@code release} before its end (or its failure): a write caught just before it may commit.
     */
    static Upload held(byte[] bytes, CountDownLatch atEnd, CountDownLatch release, Optional<S3Error> failure) {
        return new Upload() {
            private boolean ended;

            @Override
            public InputStream stream() {
                return new InputStream() {
                    private int at;

                    @Override
                    public int read() {
                        throw new UnsupportedOperationException();
                    }

                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        if (at < bytes.length - 1) {
                            int n = Math.min(len, bytes.length - 1 - at);
                            System.arraycopy(bytes, at, b, off, n);
                            at += n;
                            return n;
                        }
                        if (at == bytes.length - 1) {
                            atEnd.countDown();
                            try {
                                if (!release.await(10, TimeUnit.SECONDS)) {
                                    throw new IOException("not released in time");
                                }
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                                throw new IOException(e);
                            }
                            if (failure.isPresent()) {
                                throw new S3Exception(failure.get());
                            }
                            b[off] = bytes[at++];
                            return 1;
                        }
                        ended = true;
                        return -1;
                    }
                };
            }

            @Override
            public long length() {
                return bytes.length;
            }

            @Override
            public String md5Hex() {
                assertThat(ended).as("read to its end").isTrue();
                return dev.sluice.testing.TestUploads.md5Hex(bytes);
            }

            @Override
            public List<Map.Entry<String, String>> checksums() {
                return List.of();
            }
        };
    }

    /** A body whose client goes away after {@code sent} bytes: the stream throws an {@link IOException}. */
    static Upload brokenOff(byte[] bytes, int sent) {
        return new Upload() {
            @Override
            public InputStream stream() {
                return new InputStream() {
                    private int at;

                    @Override
                    public int read() {
                        throw new UnsupportedOperationException();
                    }

                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        if (at >= sent) {
                            throw new org.eclipse.jetty.io.EofException("client went away");
                        }
                        int n = Math.min(len, sent - at);
                        System.arraycopy(bytes, at, b, off, n);
                        at += n;
                        return n;
                    }
                };
            }

            @Override
            public long length() {
                return bytes.length;
            }

            @Override
            public String md5Hex() {
                throw new IllegalStateException("never ended");
            }

            @Override
            public List<Map.Entry<String, String>> checksums() {
                return List.of();
            }
        };
    }
}
