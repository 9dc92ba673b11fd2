package dev.sluice.observe;

/**
 * Client-supplied text (a token's subject, a backend's message) made fit for a plain log
 * line: every character that could end the line or rewrite what a terminal shows (C0 and C1
 * controls, DEL, the Unicode line and paragraph separators) is written as a backslash,
 * {@code u} and four hex digits, and a backslash as two, so an escaped value cannot be mistaken for one that
 * was not. Long values are cut. A web identity token whose {@code sub} held a newline and a
 * JSON object once wrote a second, forged line into the log; every log line that includes
 * text a client chose passes it through {@link #escape} (the access log escapes through its
 * JSON writer, {@link AccessLog}).
 */
public final class LogText {
    /** Longer values are cut here: a log line is not a place to store what a client sent. */
    static final int MAX_CHARS = 512;

    private LogText() {
    }

    /** {@code text} escaped and bounded; {@code "null"} for null. */
    public static String escape(String text) {
        if (text == null) {
            return "null";
        }
        boolean cut = text.length() > MAX_CHARS;
        String s = cut ? text.substring(0, MAX_CHARS) : text;
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean escaped = c == '\\' || needsEscape(c);
            if (escaped && out == null) {
                out = new StringBuilder(s.length() + 16).append(s, 0, i);
            }
            if (out != null) {
                if (c == '\\') {
                    out.append("\\\\");
                } else if (escaped) {
                    out.append(String.format("\\u%04x", (int) c));
                } else {
                    out.append(c);
                }
            }
        }
        String result = out == null ? s : out.toString();
        return cut ? result + "...(" + text.length() + " chars)" : result;
    }

    /** C0 and C1 controls, DEL, and the line and paragraph separators. */
    static boolean needsEscape(char c) {
        int type = Character.getType(c);
        return Character.isISOControl(c) || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR;
    }
}
