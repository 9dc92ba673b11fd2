package dev.sluice.s3;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
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

    private static final String[] DAYS = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    private static final String[] MONTHS = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    /** The last date written, reused: the answers to one object's reads all carry the same one. */
    private static volatile Written lastWritten = new Written(Long.MIN_VALUE, "");

    private record Written(long epochSecond, String text) {
    }

    /**
     * IMF-fixdate, written by hand for the years 0000-9999 (every Last-Modified sluice sends is
     * one): {@link DateTimeFormatter} cost a few microseconds a call, a measurable share of a
     * small GET in a profile.
     */
    public static String format(Instant instant) {
        long second = instant.getEpochSecond();
        Written last = lastWritten;
        if (last.epochSecond() == second) {
            return last.text();
        }
        LocalDateTime t = LocalDateTime.ofEpochSecond(second, 0, ZoneOffset.UTC);
        if (t.getYear() < 0 || t.getYear() > 9999) {
            return IMF_FIXDATE.format(instant);
        }
        StringBuilder b = new StringBuilder(29)
                .append(DAYS[t.getDayOfWeek().ordinal()]).append(", ");
        two(b, t.getDayOfMonth()).append(' ').append(MONTHS[t.getMonthValue() - 1]).append(' ');
        two(two(b, t.getYear() / 100), t.getYear() % 100).append(' ');
        two(b, t.getHour()).append(':');
        two(b, t.getMinute()).append(':');
        two(b, t.getSecond()).append(" GMT");
        String text = b.toString();
        lastWritten = new Written(second, text);
        return text;
    }

    private static StringBuilder two(StringBuilder b, int n) {
        return b.append((char) ('0' + n / 10)).append((char) ('0' + n % 10));
    }

    /**
     * A strict IMF-fixdate ({@code Sun, 06 Nov 1994 08:49:37 GMT}, 29 characters) read by hand,
     * the form every S3 server sends; empty for anything else, including a valid-looking date
     * that does not exist or names the wrong day of the week, which the general parsers then
     * judge exactly as before.
     */
    private static Optional<Instant> parseImfFixdate(String s) {
        if (s.length() != 29 || s.charAt(3) != ',' || s.charAt(4) != ' ' || s.charAt(7) != ' ' || s.charAt(11) != ' '
                || s.charAt(16) != ' ' || s.charAt(19) != ':' || s.charAt(22) != ':' || !s.endsWith(" GMT")) {
            return Optional.empty();
        }
        int day = digits(s, 5, 2);
        int month = indexOf(MONTHS, s, 8) + 1;
        int year = digits(s, 12, 4);
        int hour = digits(s, 17, 2);
        int minute = digits(s, 20, 2);
        int second = digits(s, 23, 2);
        int weekday = indexOf(DAYS, s, 0);
        if (day < 1 || day > 31 || month < 1 || year < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59
                || second < 0 || second > 59 || weekday < 0) {
            return Optional.empty();
        }
        if (day > LocalDate.of(year, month, 1).lengthOfMonth()) {
            return Optional.empty();
        }
        LocalDateTime t = LocalDateTime.of(year, month, day, hour, minute, second);
        if (t.getDayOfWeek().ordinal() != weekday) {
            return Optional.empty();
        }
        return Optional.of(t.toInstant(ZoneOffset.UTC));
    }

    /** The value of {@code n} decimal digits at {@code from}; -1 when one is not a digit. */
    private static int digits(String s, int from, int n) {
        int v = 0;
        for (int i = from; i < from + n; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    private static int indexOf(String[] names, String s, int at) {
        for (int i = 0; i < names.length; i++) {
            if (s.startsWith(names[i], at)) {
                return i;
            }
        }
        return -1;
    }

    /** The instant an HTTP date names, in any of the three forms; empty when it is none of them. */
    public static Optional<Instant> parse(String value) {
        if (value == null || value.isBlank()) {
            return Optional.empty();
        }
        String text = value.strip();
        Optional<Instant> fast = parseImfFixdate(text);
        if (fast.isPresent()) {
            return fast;
        }
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
