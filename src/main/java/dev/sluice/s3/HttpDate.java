package dev.sluice.s3;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * Writes HTTP dates as RFC 9110 IMF-fixdate ({@code Mon, 03 Jun 2024 10:15:30 GMT}).
 *
 * <p>Not {@link DateTimeFormatter#RFC_1123_DATE_TIME}: that formatter writes a single-digit
 * day ({@code Mon, 3 Jun 2024}), which IMF-fixdate does not allow and strict parsers reject,
 * so the file backend's {@code Last-Modified} broke on the first nine days of every month.
 */
public final class HttpDate {
    private static final DateTimeFormatter IMF_FIXDATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.ROOT).withZone(ZoneOffset.UTC);

    private HttpDate() {
    }

    public static String format(Instant instant) {
        return IMF_FIXDATE.format(instant);
    }
}
