package dev.sluice.protect;

/** The period a byte quota counts over, in UTC: the current hour, or the current day. */
public enum QuotaPeriod {
    HOUR,
    DAY
}
