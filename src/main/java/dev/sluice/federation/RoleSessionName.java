package dev.sluice.federation;

import java.util.regex.Pattern;

/**
 * STS's {@code RoleSessionName}: 2 to 64 of {@code [\w+=,.@-]}. Sluice makes one from an OIDC
 * subject both when it assumes a backend role ({@link StsExchange}) and when its own STS
 * endpoint names a client's session without one; the name shows in CloudTrail and in the
 * assumed-role ARN, so it stays recognisable: disallowed characters become {@code -}, a long
 * subject is cut at 64, and a subject shorter than 2 is padded with {@code sluice}.
 */
public final class RoleSessionName {
    /** What STS accepts as a session name. */
    public static final Pattern VALID = Pattern.compile("[\\w+=,.@-]{2,64}");

    private RoleSessionName() {
    }

    /** The session name for {@code subject}; always {@link #VALID}. */
    public static String of(String subject) {
        String cleaned = subject.replaceAll("[^\\w+=,.@-]", "-");
        if (cleaned.length() > 64) {
            cleaned = cleaned.substring(0, 64);
        }
        if (cleaned.length() < 2) {
            cleaned = (cleaned + "sluice").substring(0, Math.max(2, cleaned.length() + 6));
        }
        return cleaned;
    }
}
