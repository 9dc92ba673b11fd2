package dev.sluice.s3;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * RFC 3986 percent-encoding exactly as SigV4 and S3 want it: the unreserved characters
 * {@code A-Z a-z 0-9 - _ . ~} are kept and every other UTF-8 byte becomes {@code %XX} with
 * uppercase hex.
 *
 * <p>This is deliberately not {@link java.net.URLEncoder}, which is HTML form encoding: it turns a
 * space into {@code +}, keeps {@code *} and encodes {@code ~}, and any of those differences breaks a
 * signature. For the same reason {@link #decode} never turns {@code +} into a space: in an S3 path
 * or a SigV4 query a {@code +} is a plus sign (an object called {@code a+b.txt} exists).
 */
public final class UriEncoding {

    private static final char[] HEX_DIGITS = "0123456789ABCDEF".toCharArray();

    private UriEncoding() {
    }

    /** Encodes everything but the unreserved characters, {@code /} included: for query names and values. */
    public static String encode(String s) {
        return percentEncode(s, false);
    }

    /** Like {@link #encode} but keeps {@code /}: for an S3 object key or a whole request path. */
    public static String encodePath(String s) {
        return percentEncode(s, true);
    }

    /**
     * Replaces each {@code %XX} with its byte and reads the result as UTF-8. Nothing else is
     * touched ({@code +} stays {@code +}).
     *
     * @throws IllegalArgumentException when a {@code %} is not followed by two hex digits, or the
     *     decoded bytes are not valid UTF-8 -- such a string names no S3 key, and silently
     *     substituting U+FFFD would make two different wire strings decode to the same key
     */
    public static String decode(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(s.length());
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    throw new IllegalArgumentException("truncated percent-escape at index " + i + " in: " + s);
                }
                int high = Character.digit(s.charAt(i + 1), 16);
                int low = Character.digit(s.charAt(i + 2), 16);
                if (high < 0 || low < 0) {
                    throw new IllegalArgumentException("malformed percent-escape at index " + i + " in: " + s);
                }
                bytes.write(high << 4 | low);
                i += 3;
            } else {
                // Literal characters go through as their own UTF-8 bytes, so a mix of escaped and
                // raw non-ASCII text decodes as one UTF-8 sequence.
                int end = i + 1;
                while (end < s.length() && s.charAt(end) != '%') {
                    end++;
                }
                bytes.writeBytes(utf8(s.substring(i, end)));
                i = end;
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toByteArray()))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("percent-escapes do not decode to valid UTF-8 in: " + s, e);
        }
    }

    private static String percentEncode(String s, boolean keepSlash) {
        StringBuilder out = null; // allocated only once something actually needs escaping
        byte[] bytes = utf8(s);
        for (int i = 0; i < bytes.length; i++) {
            int b = bytes[i] & 0xFF;
            boolean kept = isUnreserved(b) || (keepSlash && b == '/');
            if (out == null) {
                if (kept) {
                    continue;
                }
                out = new StringBuilder(bytes.length + 16);
                // Everything before i was unreserved ASCII, so bytes and chars line up.
                out.append(s, 0, i);
            }
            if (kept) {
                out.append((char) b);
            } else {
                out.append('%').append(HEX_DIGITS[b >> 4]).append(HEX_DIGITS[b & 0xF]);
            }
        }
        return out == null ? s : out.toString();
    }

    private static boolean isUnreserved(int b) {
        return (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9')
                || b == '-' || b == '_' || b == '.' || b == '~';
    }

    /**
     * Strict UTF-8: {@link String#getBytes} would quietly write {@code ?} for an unpaired
     * surrogate, which would sign (or look up) a different key than the caller holds.
     */
    private static byte[] utf8(String s) {
        try {
            ByteBuffer encoded = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(s));
            byte[] bytes = new byte[encoded.remaining()];
            encoded.get(bytes);
            return bytes;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("not well-formed UTF-16 (unpaired surrogate): " + s, e);
        }
    }
}
