package dev.sluice.s3;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * HTTP dates (RFC 9110 §5.6.7): written as IMF-fixdate ({@code Mon, 03 Jun 2024 10:15:30 GMT}),
 * read in all three forms a recipient must accept: IMF-fixdate, the obsolete RFC 850 form
 * ({@code Monday, 03-Jun-24 10:15:30 GMT}) and asctime ({@code Mon Jun  3 10:15:30 2024}).
 *
 * <p>Not {@link DateTimeFormatter#RFC_1123_DATE_TIME} for writing: that formatter writes a
 * single-digit day ({@code Mon, 3 Jun 2024}), which IMF-fixdate does not allow and strict
 * parsers reject, so the file backend's {@code Last-Modified} broke on the first nine days of
 * every month.
 */
public final class HttpDate {
    private static final DateTimeFormatter IMF_FIXDATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.ROOT).withZone(ZoneOffset.UTC);
    /**
     * RFC 850 with its two-digit year read the way RFC 9110 asks: a year that would be more
     * than 50 years in the future is in the past century.
     */
    // English names in Locale.US: the root locale has no full day names ("Sunday").
    private static final DateTimeFormatter RFC_850 = new DateTimeFormatterBuilder()
            .appendPattern("EEEE, dd-MMM-")
            .appendValueReduced(ChronoField.YEAR, 2, 2, LocalDate.now(ZoneOffset.UTC).minusYears(49))
            .appendPattern(" HH:mm:ss 'GMT'")
            .toFormatter(Locale.US)
            .withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter ASCTIME =
            DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US).withZone(ZoneOffset.UTC);
    private static final List<DateTimeFormatter> READ = List.of(DateTimeFormatter.RFC_1123_DATE_TIME, RFC_850, ASCTIME);

    private HttpDate() {
    }

    public static String format(Instant instant) {
        return IMF_FIXDATE.format(instant);
    }

    /** The instant an HTTP date names, in any of the three forms; empty when it is none of them. */
    public static Optional<Instant> parse(String value) {
        if (value == null || value.isBlank()) {
            return Optional.empty();
        }
        String text = value.strip();
        for (DateTimeFormatter f : READ) {
            try {
                return Optional.of(ZonedDateTime.parse(text, f).toInstant());
            } catch (DateTimeException e) {
                // try the next form
            }
        }
        return Optional.empty();
    }
}
