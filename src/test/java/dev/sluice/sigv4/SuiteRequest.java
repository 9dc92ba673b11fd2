package dev.sluice.sigv4;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A request from a {@code .req} file of the AWS SigV4 test suite: request line, headers, blank
 * line, optional body.
 *
 * @param path the request path in wire form (see {@link #parse})
 * @param rawQuery the query in wire form, without {@code ?}; empty when there is none
 * @param headers the headers in file order, names as written
 */
record SuiteRequest(String method, String path, String rawQuery, List<Map.Entry<String, String>> headers,
        byte[] body) {

    /**
     * Parses the text of a {@code .req} file.
     *
     * <p>Two conventions of the suite need a decision, and both are applied to every case alike:
     *
     * <ul>
     *   <li>A few request lines hold raw UTF-8 ({@code GET /ሴ HTTP/1.1}). A request target on the
     *       wire is US-ASCII only (RFC 9112 section 3.2), so no client can send that; it sends the
     *       bytes percent-encoded, and the suite's {@code .creq} shows exactly that form. So bytes
     *       that cannot appear in a request target (non-ASCII, controls, space) are
     *       percent-encoded here, the way an HTTP client puts the target on the wire; ASCII the
     *       file already holds, {@code %XX} escapes included, is left untouched.
     *   <li>A line starting with whitespace continues the previous header (obsolete line folding).
     *       The suite's {@code get-header-value-multiline} expects each continuation line to be a
     *       further value of that header, joined with {@code ,} like a repeated header, so that is
     *       how it is parsed: as another (name, value) pair. RFC 9112 would instead replace the
     *       fold with a space; sluice never sends folded headers and servers reject them, so this
     *       reading only matters for matching the suite.
     * </ul>
     */
    static SuiteRequest parse(String text) {
        String normalized = text.replace("\r\n", "\n");
        int headEnd = normalized.indexOf("\n\n");
        String head = headEnd < 0 ? normalized : normalized.substring(0, headEnd);
        String body = headEnd < 0 ? "" : normalized.substring(headEnd + 2);

        List<String> lines = List.of(head.split("\n", -1));
        String requestLine = lines.getFirst();
        // The target may itself contain spaces (normalize-path/get-space), so split on the first
        // and last space rather than on every one.
        int firstSpace = requestLine.indexOf(' ');
        int lastSpace = requestLine.lastIndexOf(' ');
        if (firstSpace < 0 || lastSpace <= firstSpace || !requestLine.substring(lastSpace + 1).startsWith("HTTP/")) {
            throw new IllegalArgumentException("not a request line: " + requestLine);
        }
        String method = requestLine.substring(0, firstSpace);
        String target = toWireForm(requestLine.substring(firstSpace + 1, lastSpace));
        int question = target.indexOf('?');
        String path = question < 0 ? target : target.substring(0, question);
        String query = question < 0 ? "" : target.substring(question + 1);

        List<Map.Entry<String, String>> headers = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            if (line.startsWith(" ") || line.startsWith("\t")) {
                if (headers.isEmpty()) {
                    throw new IllegalArgumentException("continuation line before any header: " + line);
                }
                headers.add(Map.entry(headers.getLast().getKey(), line));
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("not a header line: " + line);
            }
            headers.add(Map.entry(line.substring(0, colon), line.substring(colon + 1)));
        }
        return new SuiteRequest(method, path, query, List.copyOf(headers), body.getBytes(StandardCharsets.UTF_8));
    }

    /** Lowercase names of every header, in file order (repeats included). */
    List<String> headerNames() {
        return headers.stream().map(h -> h.getKey().toLowerCase(Locale.ROOT)).toList();
    }

    /** Percent-encodes the bytes an HTTP/1.1 request target cannot carry; everything else as is. */
    private static String toWireForm(String target) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte b : target.getBytes(StandardCharsets.UTF_8)) {
            int u = b & 0xFF;
            if (u > 0x20 && u < 0x7F) {
                out.write(u);
            } else {
                out.writeBytes(String.format("%%%02X", u).getBytes(StandardCharsets.US_ASCII));
            }
        }
        return out.toString(StandardCharsets.US_ASCII);
    }
}
