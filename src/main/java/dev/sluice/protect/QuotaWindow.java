package dev.sluice.protect;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;

/** One period of a byte quota: the UTC hour or day that {@code start} begins. */
record QuotaWindow(QuotaPeriod period, Instant start) {

    static QuotaWindow at(QuotaPeriod period, Instant now) {
        return new QuotaWindow(period, now.truncatedTo(switch (period) {
            case HOUR -> ChronoUnit.HOURS;
            case DAY -> ChronoUnit.DAYS;
        }));
    }

    Instant end() {
        return start.plus(switch (period) {
            case HOUR -> Duration.ofHours(1);
            case DAY -> Duration.ofDays(1);
        });
    }

    /** A name for this window, to follow a key's synthetic name: {@code :hour:<epoch second>}. */
    String suffix() {
        return ":" + period.name().toLowerCase(Locale.ROOT) + ":" + start.getEpochSecond();
    }
}
