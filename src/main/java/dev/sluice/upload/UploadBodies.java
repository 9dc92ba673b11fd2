package dev.sluice.upload;

import dev.sluice.backend.Upload;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.s3.WriteHeaders;
import dev.sluice.sigv4.ChunkSigning;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Turns a request body into the {@link Upload} a backend stores, in whatever form the client
 * sent it ({@code docs/writes.md}, "Integrity").
 *
 * <p>Everything the headers alone can settle is settled here, before a byte is read, each with
 * S3's answer: an {@code x-amz-content-sha256} of no known form ({@code 400 InvalidArgument});
 * {@code Content-Encoding: aws-chunked} on a body that is not chunked ({@code 400
 * InvalidRequest}); no usable length ({@code 411 MissingContentLength}: {@code Content-Length},
 * or {@code x-amz-decoded-content-length} for the chunked forms); a length over the limit
 * ({@code 400 EntityTooLarge}); a {@code Content-MD5} that is not base64 of 16 bytes ({@code 400
 * InvalidDigest}); a checksum value that is not base64 of the algorithm's size, two checksums,
 * an {@code x-amz-trailer} that is not one of the checksums or comes with a form without
 * trailers, an {@code x-amz-sdk-checksum-algorithm} that is unknown or names another checksum
 * than the one sent ({@code 400 InvalidRequest}).
 */
public final class UploadBodies {
    private static final Pattern DECIMAL = Pattern.compile("[0-9]{1,18}");
    private static final String MULTIPLE_CHECKSUMS =
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.";

    private UploadBodies() {
    }

    /**
     * The body of a PutObject or UploadPart as its headers declare it: {@code x-amz-content-sha256}
     * (a hex SHA-256, {@code UNSIGNED-PAYLOAD}, or one of the {@code STREAMING-*} forms),
     * {@code Content-Length}, {@code x-amz-decoded-content-length}, {@code Content-Encoding},
     * {@code x-amz-trailer}, {@code Content-MD5} and {@code x-amz-checksum-*}. Headers that
     * cannot describe a body (no length, a malformed digest, a trailer that is not a checksum,
     * a declared length over {@code maxLength}) are refused here, before a byte is read, with
     * the S3 error for each.
     *
     * @param raw          the bytes as they arrive on the connection
     * @param headers      the request's headers by name, case-insensitive
     * @param chunkSigning present when the request's signature seeds chunk signatures
     *                     (the {@code STREAMING-AWS4-HMAC-SHA256-PAYLOAD} forms; required for them)
     * @param maxLength    the largest decoded length accepted ({@code EntityTooLarge} above it)
     */
    public static Upload open(InputStream raw, Function<String, Optional<String>> headers,
                              Optional<ChunkSigning> chunkSigning, long maxLength) {
        return open(raw, headers, chunkSigning, maxLength, true);
    }

    /**
     * As {@link #open(InputStream, Function, Optional, long)}, computing the body's MD5 only when
     * {@code md5} asks for it ({@link dev.sluice.backend.Backend#needsBodyMd5()}) or the client
     * sent {@code Content-MD5}; without it, {@link Upload#md5Hex()} is not available. MD5 is the
     * costliest check of a body (about half of sluice's Java time on an upload), so a store whose
     * server computes ETags itself is spared it.
     */
    public static Upload open(InputStream raw, Function<String, Optional<String>> headers,
                              Optional<ChunkSigning> chunkSigning, long maxLength, boolean md5) {
        Function<String, Optional<String>> header = name -> headers.apply(name).map(String::strip);
        Optional<String> declaredHash = header.apply("x-amz-content-sha256");
        PayloadForm form = PayloadForm.of(declaredHash);
        if (!form.chunked && header.apply("content-encoding").filter(UploadBodies::namesAwsChunked).isPresent()) {
            throw new S3Exception(S3Error.INVALID_REQUEST,
                    "Content-Encoding: aws-chunked needs an x-amz-content-sha256 of one of the STREAMING- forms.");
        }
        long length = length(header.apply(form.chunked ? "x-amz-decoded-content-length" : "content-length"));
        if (length > maxLength) {
            throw new S3Exception(S3Error.ENTITY_TOO_LARGE);
        }
        if (form.signedChunks && chunkSigning.isEmpty()) {
            throw new S3Exception(S3Error.ACCESS_DENIED, "An upload with chunk signatures must be signed.");
        }
        Optional<byte[]> contentMd5 = header.apply("content-md5").map(UploadBodies::contentMd5);
        Optional<ChecksumAlgorithm> trailer = trailer(header.apply("x-amz-trailer"), form);

        List<ChecksumAlgorithm> sent = new ArrayList<>();
        Optional<byte[]> headerValue = Optional.empty();
        for (ChecksumAlgorithm a : ChecksumAlgorithm.values()) {
            Optional<String> value = header.apply(a.headerName());
            if (value.isPresent()) {
                sent.add(a);
                headerValue = Optional.of(a.decode(value.get()).orElseThrow(() -> new S3Exception(S3Error.INVALID_REQUEST,
                        "Value for " + a.headerName() + " header is invalid.")));
            }
        }
        trailer.ifPresent(sent::add);
        if (sent.size() > 1) {
            throw new S3Exception(S3Error.INVALID_REQUEST, MULTIPLE_CHECKSUMS);
        }
        Optional<ChecksumAlgorithm> algorithm = sent.stream().findFirst();
        Optional<String> sdkAlgorithm = header.apply("x-amz-sdk-checksum-algorithm");
        if (sdkAlgorithm.isPresent()) {
            Optional<ChecksumAlgorithm> named = ChecksumAlgorithm.bySdkName(sdkAlgorithm.get());
            if (named.isEmpty() || (algorithm.isPresent() && algorithm.get() != named.get())) {
                throw new S3Exception(S3Error.INVALID_REQUEST, "Value for x-amz-sdk-checksum-algorithm header is invalid.");
            }
            algorithm = named;
        }

        BodyChecks checks = new BodyChecks(form == PayloadForm.SIGNED_SHA256 ? declaredHash : Optional.empty(),
                contentMd5, algorithm, headerValue, trailer.isPresent(), md5 || contentMd5.isPresent());
        BodySource source = form.chunked
                ? new AwsChunkedBody(raw, form, length, trailer,
                        form.signedChunks ? chunkSigning.map(ChunkSignatureChain::new) : Optional.empty())
                : new PlainBody(raw, length, () -> new S3Exception(S3Error.INCOMPLETE_BODY));
        return new CheckedUpload(source, length, checks);
    }

    /**
     * Bytes sluice itself reads from a store (a copy between two stores): no digest to check,
     * but the same guarantee that a stream shorter than {@code length} fails before its end.
     */
    public static Upload trusted(InputStream bytes, long length) {
        if (length < 0) {
            throw new IllegalArgumentException("negative length " + length);
        }
        PlainBody source = new PlainBody(bytes, length, () -> S3Exception.unavailable(
                "the source object's bytes did not come to the " + length + " bytes its store declared", null));
        return new CheckedUpload(source, length, BodyChecks.none());
    }

    private static long length(Optional<String> value) {
        if (value.isEmpty() || !DECIMAL.matcher(value.get()).matches()) {
            throw new S3Exception(S3Error.MISSING_CONTENT_LENGTH);
        }
        return Long.parseLong(value.get());
    }

    private static boolean namesAwsChunked(String contentEncoding) {
        for (String coding : contentEncoding.split(",")) {
            if (coding.strip().equalsIgnoreCase(WriteHeaders.AWS_CHUNKED)) {
                return true;
            }
        }
        return false;
    }

    private static byte[] contentMd5(String base64) {
        try {
            byte[] md5 = Base64.getDecoder().decode(base64);
            if (md5.length == 16) {
                return md5;
            }
        } catch (IllegalArgumentException e) {
            // answered below, as any other malformed value
        }
        throw new S3Exception(S3Error.INVALID_DIGEST, "The Content-MD5 you specified is not valid.");
    }

    private static Optional<ChecksumAlgorithm> trailer(Optional<String> declared, PayloadForm form) {
        if (declared.isEmpty()) {
            return Optional.empty();
        }
        Optional<ChecksumAlgorithm> algorithm = ChecksumAlgorithm.byHeaderName(declared.get().toLowerCase(Locale.ROOT));
        if (algorithm.isEmpty()) {
            throw new S3Exception(S3Error.INVALID_REQUEST, "The value specified in the x-amz-trailer header is not supported");
        }
        if (!form.trailer) {
            throw new S3Exception(S3Error.INVALID_REQUEST,
                    "x-amz-trailer needs an x-amz-content-sha256 of one of the STREAMING-…-TRAILER forms.");
        }
        return algorithm;
    }
}
