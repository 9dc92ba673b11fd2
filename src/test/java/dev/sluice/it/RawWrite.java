package dev.sluice.it;

import dev.sluice.s3.UriEncoding;
import dev.sluice.sigv4.AwsCredentials;
import dev.sluice.sigv4.RequestSigner;
import dev.sluice.sigv4.SigV4;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A write request made by hand and sent on a plain socket, for the bodies and headers an SDK
 * will not send: every payload form of {@code docs/writes.md} ("Integrity"), signed with the
 * SigV4 rules independently of sluice's verifier, and then, on request, damaged after signing
 * (a flipped byte in a chunk, a wrong trailer, a shorter body than declared, broken framing).
 *
 * <pre>{@code
 * RawWrite.put(endpoint, "/acme/drop/k").signedBy(ID, SECRET).form(Form.CHUNKED_SIGNED).body(bytes).send();
 * }</pre>
 */
final class RawWrite {
    static final String REGION = "us-east-1";
    private static final Pattern SIGNATURE = Pattern.compile("Signature=([0-9a-f]{64})");

    /** How the body travels, named by the {@code x-amz-content-sha256} value it declares. */
    enum Form {
        /** The hex SHA-256 of the whole body, signed. */
        SIGNED_SHA256,
        /** {@code UNSIGNED-PAYLOAD}. */
        UNSIGNED,
        /** {@code STREAMING-AWS4-HMAC-SHA256-PAYLOAD}: aws-chunked, each chunk signed. */
        CHUNKED_SIGNED,
        /** {@code STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER}: signed chunks and a signed checksum trailer. */
        CHUNKED_SIGNED_TRAILER,
        /** {@code STREAMING-UNSIGNED-PAYLOAD-TRAILER}: plain aws-chunked with a checksum trailer (the SDKs' default over TLS). */
        CHUNKED_UNSIGNED_TRAILER;

        boolean chunked() {
            return this != SIGNED_SHA256 && this != UNSIGNED;
        }

        boolean trailer() {
            return this == CHUNKED_SIGNED_TRAILER || this == CHUNKED_UNSIGNED_TRAILER;
        }

        String payloadHash(byte[] body) {
            return switch (this) {
                case SIGNED_SHA256 -> Checksums.sha256Hex(body);
                case UNSIGNED -> SigV4.UNSIGNED_PAYLOAD;
                case CHUNKED_SIGNED -> "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
                case CHUNKED_SIGNED_TRAILER -> "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
                case CHUNKED_UNSIGNED_TRAILER -> "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
            };
        }
    }

    private final URI endpoint;
    private final String method;
    private final String path;
    private String query = "";
    private final List<Map.Entry<String, String>> headers = new ArrayList<>();
    private byte[] body = new byte[0];
    private Form form = Form.SIGNED_SHA256;
    private Optional<AwsCredentials> credentials = Optional.empty();
    private int chunkSize = 64 * 1024;
    private Checksums trailer = Checksums.CRC32;
    private Optional<String> trailerValue = Optional.empty();
    private Optional<String> payloadHash = Optional.empty();
    private UnaryOperator<byte[]> tamper = UnaryOperator.identity();
    private Optional<Long> declaredLength = Optional.empty();
    private Optional<Long> decodedLength = Optional.empty();
    private Optional<Integer> sendOnly = Optional.empty();

    private RawWrite(URI endpoint, String method, String path) {
        this.endpoint = endpoint;
        this.method = method;
        this.path = path;
    }

    static RawWrite put(URI endpoint, String path) {
        return new RawWrite(endpoint, "PUT", path);
    }

    static RawWrite request(URI endpoint, String method, String path) {
        return new RawWrite(endpoint, method, path);
    }

    /** {@code name=value} pairs, values encoded here (upload ids hold characters a query must escape). */
    RawWrite query(String... nameValues) {
        StringBuilder q = new StringBuilder();
        for (int i = 0; i < nameValues.length; i += 2) {
            q.append(q.isEmpty() ? "" : "&").append(nameValues[i]);
            if (nameValues[i + 1] != null) {
                q.append('=').append(UriEncoding.encode(nameValues[i + 1]));
            }
        }
        this.query = q.toString();
        return this;
    }

    RawWrite header(String name, String value) {
        headers.add(Map.entry(name.toLowerCase(Locale.ROOT), value));
        return this;
    }

    RawWrite body(byte[] bytes) {
        this.body = bytes.clone();
        return this;
    }

    RawWrite form(Form f) {
        this.form = f;
        return this;
    }

    RawWrite signedBy(String accessKeyId, String secret) {
        this.credentials = Optional.of(AwsCredentials.of(accessKeyId, secret));
        return this;
    }

    /** Decoded bytes per aws-chunked chunk (S3 asks for at least 8 KiB in all but the last). */
    RawWrite chunkSize(int bytes) {
        this.chunkSize = bytes;
        return this;
    }

    /** The checksum a {@code -TRAILER} form sends after the body (CRC32 unless told). */
    RawWrite trailer(Checksums algorithm) {
        this.trailer = algorithm;
        return this;
    }

    /** A trailer value other than the body's checksum. */
    RawWrite trailerValue(String value) {
        this.trailerValue = Optional.of(value);
        return this;
    }

    /** An {@code x-amz-content-sha256} other than the body's, signed as if it were right. */
    RawWrite payloadHash(String hash) {
        this.payloadHash = Optional.of(hash);
        return this;
    }

    /** Changes the bytes on the wire after they were signed. */
    RawWrite tamper(UnaryOperator<byte[]> change) {
        this.tamper = change;
        return this;
    }

    /** A {@code Content-Length} other than the length of what is sent. */
    RawWrite declaredLength(long length) {
        this.declaredLength = Optional.of(length);
        return this;
    }

    /** An {@code x-amz-decoded-content-length} other than the body's (aws-chunked forms). */
    RawWrite decodedLength(long length) {
        this.decodedLength = Optional.of(length);
        return this;
    }

    /** Sends only the first {@code bytes} of the body, then ends the request stream (a half-close). */
    RawWrite sendOnly(int bytes) {
        this.sendOnly = Optional.of(bytes);
        return this;
    }

    /** The request as bytes: head, then body. */
    record Wire(byte[] head, byte[] body) {
    }

    Wire wire() {
        Instant now = Instant.now();
        List<Map.Entry<String, String>> signedExtra = new ArrayList<>(headers);
        if (form.chunked()) {
            signedExtra.add(Map.entry("content-encoding", "aws-chunked"));
            signedExtra.add(Map.entry("x-amz-decoded-content-length", Long.toString(decodedLength.orElse((long) body.length))));
            if (form.trailer()) {
                signedExtra.add(Map.entry("x-amz-trailer", trailer.header()));
            }
        }
        String hash = payloadHash.orElse(form.payloadHash(body));
        List<Map.Entry<String, String>> all = new ArrayList<>(signedExtra);
        Optional<String> seed = Optional.empty();
        if (credentials.isPresent()) {
            List<Map.Entry<String, String>> added = new RequestSigner(REGION, "s3").sign(method, endpoint.getAuthority(),
                    path, query, signedExtra, hash, credentials.get(), now);
            all.addAll(added);
            String authorization = added.stream().filter(e -> e.getKey().equals("authorization"))
                    .map(Map.Entry::getValue).findFirst().orElseThrow();
            Matcher m = SIGNATURE.matcher(authorization);
            seed = m.find() ? Optional.of(m.group(1)) : Optional.empty();
        } else if (form.chunked()) {
            all.add(Map.entry("x-amz-content-sha256", hash));
        }
        byte[] wireBody = form.chunked() ? chunked(seed, now) : body;
        wireBody = tamper.apply(wireBody);
        StringBuilder head = new StringBuilder();
        head.append(method).append(' ').append(path).append(query.isEmpty() ? "" : "?" + query).append(" HTTP/1.1\r\n");
        head.append("Host: ").append(endpoint.getAuthority()).append("\r\n");
        head.append("Content-Length: ").append(declaredLength.orElse((long) wireBody.length)).append("\r\n");
        head.append("Connection: close\r\n");
        for (Map.Entry<String, String> h : all) {
            head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
        }
        head.append("\r\n");
        return new Wire(head.toString().getBytes(StandardCharsets.ISO_8859_1), wireBody);
    }

    private byte[] chunked(Optional<String> seed, Instant now) {
        boolean signed = form == Form.CHUNKED_SIGNED || form == Form.CHUNKED_SIGNED_TRAILER;
        if (signed && seed.isEmpty()) {
            throw new IllegalStateException("a signed chunked body needs credentials");
        }
        String amzDate = SigV4.amzDate(now);
        String scope = SigV4.credentialScope(SigV4.scopeDate(now), REGION, "s3");
        byte[] key = signed ? SigV4.signingKey(credentials.orElseThrow().secretAccessKey(), SigV4.scopeDate(now), REGION, "s3") : null;
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length + 1024);
        String previous = seed.orElse("");
        int pos = 0;
        while (true) {
            int n = Math.min(chunkSize, body.length - pos);
            byte[] chunk = java.util.Arrays.copyOfRange(body, pos, pos + n);
            StringBuilder line = new StringBuilder(Integer.toHexString(n));
            if (signed) {
                previous = chunkSignature(key, amzDate, scope, previous, chunk);
                line.append(";chunk-signature=").append(previous);
            }
            line.append("\r\n");
            out.writeBytes(line.toString().getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(chunk);
            if (n == 0) {
                break;
            }
            out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
            pos += n;
        }
        if (form.trailer()) {
            String trailerLine = trailer.header() + ":" + trailerValue.orElse(trailer.of(body));
            out.writeBytes((trailerLine + "\r\n").getBytes(StandardCharsets.US_ASCII));
            if (signed) {
                String signature = trailerSignature(key, amzDate, scope, previous, trailerLine);
                out.writeBytes(("x-amz-trailer-signature:" + signature + "\r\n").getBytes(StandardCharsets.US_ASCII));
            }
        }
        out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    /** The signature of one aws-chunked chunk, chained to the one before it (the request's for the first). */
    static String chunkSignature(byte[] signingKey, String amzDate, String scope, String previous, byte[] chunk) {
        return SigV4.signature(signingKey, "AWS4-HMAC-SHA256-PAYLOAD\n" + amzDate + "\n" + scope + "\n" + previous + "\n"
                + SigV4.EMPTY_SHA256 + "\n" + Checksums.sha256Hex(chunk));
    }

    /** The signature of the trailer ({@code name:value}), chained to the final chunk's. */
    static String trailerSignature(byte[] signingKey, String amzDate, String scope, String previous, String trailerLine) {
        return SigV4.signature(signingKey, "AWS4-HMAC-SHA256-TRAILER\n" + amzDate + "\n" + scope + "\n" + previous + "\n"
                + Checksums.sha256Hex((trailerLine + "\n").getBytes(StandardCharsets.US_ASCII)));
    }

    /** Sends the request and reads the whole response (the connection is closed after it). */
    SluiceUnderTest.RawResponse send() {
        Wire w = wire();
        try (Socket socket = new Socket(endpoint.getHost(), endpoint.getPort())) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            out.write(w.head());
            int n = sendOnly.orElse(w.body().length);
            try {
                out.write(w.body(), 0, Math.min(n, w.body().length));
                out.flush();
                if (sendOnly.isPresent()) {
                    socket.shutdownOutput();
                }
            } catch (IOException e) {
                // sluice may answer and close before reading the whole body (a refusal on the
                // head alone); what it answered is still there to read.
            }
            return readResponse(socket.getInputStream());
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + path + " failed", e);
        }
    }

    /** Sends the head only, keeps the request stream open, and reads the answer sluice gives without the body. */
    SluiceUnderTest.RawResponse sendHeadOnly() {
        Wire w = wire();
        try (Socket socket = new Socket(endpoint.getHost(), endpoint.getPort())) {
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write(w.head());
            socket.getOutputStream().flush();
            return readResponse(socket.getInputStream());
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + path + " failed", e);
        }
    }

    /**
     * Reads one response: its head, then {@code Content-Length} bytes, or to the end of the
     * stream when there is no length (a chunked or close-delimited body).
     */
    static SluiceUnderTest.RawResponse readResponse(InputStream in) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        long want = -1;
        int headEnd = -1;
        while (true) {
            int n;
            try {
                n = in.read(buf);
            } catch (SocketTimeoutException e) {
                throw new AssertionError("no complete response within 30 s; got: "
                        + got.toString(StandardCharsets.ISO_8859_1), e);
            } catch (IOException e) {
                if (headEnd >= 0 || got.size() > 0) {
                    break; // a reset after the answer
                }
                throw e;
            }
            if (n < 0) {
                break;
            }
            got.write(buf, 0, n);
            if (headEnd < 0) {
                String text = got.toString(StandardCharsets.ISO_8859_1);
                headEnd = text.indexOf("\r\n\r\n");
                if (headEnd >= 0) {
                    Matcher m = Pattern.compile("(?im)^content-length:\\s*(\\d+)").matcher(text.substring(0, headEnd));
                    want = m.find() ? Long.parseLong(m.group(1)) : -1;
                }
            }
            if (headEnd >= 0 && want >= 0 && got.size() >= headEnd + 4 + want) {
                break;
            }
        }
        return RawHttp.parse(got.toByteArray());
    }
}
