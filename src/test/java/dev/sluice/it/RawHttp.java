package dev.sluice.it;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Parses a whole HTTP/1.1 response read off a socket (Content-Length, chunked, or until close). */
final class RawHttp {
    private RawHttp() {
    }

    static SluiceUnderTest.RawResponse parse(byte[] bytes) {
        int headEnd = indexOf(bytes, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        if (headEnd < 0) {
            throw new AssertionError("no complete response head in: " + new String(bytes, StandardCharsets.ISO_8859_1));
        }
        String[] lines = new String(bytes, 0, headEnd, StandardCharsets.ISO_8859_1).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.computeIfAbsent(lines[i].substring(0, colon).trim(), k -> new ArrayList<>())
                    .add(lines[i].substring(colon + 1).trim());
        }
        byte[] rest = java.util.Arrays.copyOfRange(bytes, headEnd + 4, bytes.length);
        boolean chunked = headers.getOrDefault("Transfer-Encoding", List.of()).stream().anyMatch(v -> v.equalsIgnoreCase("chunked"));
        byte[] body = chunked ? dechunk(rest) : rest;
        return new SluiceUnderTest.RawResponse(status, HttpHeaders.of(headers, (a, b) -> true), body);
    }

    private static byte[] dechunk(byte[] in) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int pos = 0;
        while (pos < in.length) {
            int lineEnd = indexOf(java.util.Arrays.copyOfRange(in, pos, in.length), "\r\n".getBytes(StandardCharsets.ISO_8859_1));
            String sizeLine = new String(in, pos, lineEnd, StandardCharsets.ISO_8859_1);
            int size = Integer.parseInt(sizeLine.split(";")[0].trim(), 16);
            pos += lineEnd + 2;
            if (size == 0) {
                break;
            }
            out.write(in, pos, size);
            pos += size + 2;
        }
        return out.toByteArray();
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
