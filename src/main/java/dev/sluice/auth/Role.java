package dev.sluice.auth;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A role callers assume through sluice's STS endpoint with an OIDC token: which issuers it
 * trusts, for which audiences, which subjects may assume it, for how long at most, and what
 * the resulting temporary credentials may do.
 *
 * <p>{@code subjectPatterns} are globs in which {@code *} matches any run of characters,
 * {@code /} and {@code :} included ({@code repo:acme/*:ref:refs/heads/main}); every other
 * character matches itself. An empty list admits any subject of a trusted issuer. No subject
 * holding a control character ({@link #isControl}) is ever admitted: a subject carrying a line
 * break and a forged JSON line was admitted by {@code user:*} and written into the log.
 *
 * <p>{@code maxTokenLifetime} caps how long a token this role accepts may be valid, from its
 * {@code iat} (or from now, when it has none or names a later time) to its {@code exp}: a token
 * valid until the year 3000 is a bearer credential nobody can revoke.
 */
public record Role(String id, List<String> trustedIssuers, List<String> audiences, List<String> subjectPatterns,
                   Duration maxSessionDuration, Duration maxTokenLifetime, List<ScopeTemplate> scopes) {
    /** AWS's floor for temporary credentials; shorter sessions are lengthened to it. */
    public static final Duration MIN_SESSION_DURATION = Duration.ofSeconds(900);
    /** The longest a token may be valid unless the role says otherwise. */
    public static final Duration DEFAULT_MAX_TOKEN_LIFETIME = Duration.ofHours(24);

    /** A role accepting tokens valid for up to {@link #DEFAULT_MAX_TOKEN_LIFETIME}. */
    public Role(String id, List<String> trustedIssuers, List<String> audiences, List<String> subjectPatterns,
                Duration maxSessionDuration, List<ScopeTemplate> scopes) {
        this(id, trustedIssuers, audiences, subjectPatterns, maxSessionDuration, DEFAULT_MAX_TOKEN_LIFETIME, scopes);
    }

    public Role {
        Objects.requireNonNull(id, "id");
        if (!id.matches("[\\w+=,.@-]{1,64}")) {
            throw new IllegalArgumentException("a role id is 1-64 characters of letters, digits and +=,.@_-, not '" + id + "'");
        }
        trustedIssuers = List.copyOf(trustedIssuers);
        audiences = List.copyOf(audiences);
        subjectPatterns = List.copyOf(subjectPatterns);
        scopes = List.copyOf(scopes);
        if (trustedIssuers.isEmpty() || audiences.isEmpty()) {
            throw new IllegalArgumentException("role " + id + " needs at least one trusted issuer and one audience");
        }
        if (maxSessionDuration.compareTo(MIN_SESSION_DURATION) < 0) {
            throw new IllegalArgumentException("role " + id + ": max session duration must be at least 900 s");
        }
        if (maxTokenLifetime.isNegative() || maxTokenLifetime.isZero()) {
            throw new IllegalArgumentException("role " + id + ": max token lifetime must be positive");
        }
    }

    /** Whether {@code subject} matches one of the subject patterns (any subject when there are none). */
    public boolean admitsSubject(String subject) {
        if (hasControl(subject)) {
            return false;
        }
        return subjectPatterns.isEmpty() || subjectPatterns.stream().anyMatch(p -> globMatches(p, subject));
    }

    /** {@code session} clamped to [{@link #MIN_SESSION_DURATION}, {@link #maxSessionDuration}]. */
    public Duration clampSession(Duration session) {
        if (session.compareTo(MIN_SESSION_DURATION) < 0) {
            return MIN_SESSION_DURATION;
        }
        return session.compareTo(maxSessionDuration) > 0 ? maxSessionDuration : session;
    }

    /** The role named by {@code roleArn}: its id, or an IAM role ARN whose last path segment is the id. */
    public static Optional<Role> byArn(List<Role> roles, String roleArn) {
        String id = roleArn;
        if (roleArn.startsWith("arn:")) {
            String[] parts = roleArn.split(":", 6);
            if (parts.length != 6 || parts[1].isEmpty() || !parts[2].equals("iam") || !parts[3].isEmpty()
                    || !parts[5].startsWith("role/")) {
                return Optional.empty();
            }
            id = parts[5].substring(parts[5].lastIndexOf('/') + 1);
        }
        String wanted = id;
        return roles.stream().filter(r -> r.id.equals(wanted)).findFirst();
    }

    /** Glob match without regular expressions, so a pattern cannot cost more than O(pattern x subject). */
    static boolean globMatches(String pattern, String s) {
        if (hasControl(s)) {
            return false;
        }
        int p = 0;
        int i = 0;
        int star = -1;
        int mark = 0;
        while (i < s.length()) {
            if (p < pattern.length() && pattern.charAt(p) != '*' && pattern.charAt(p) == s.charAt(i)) {
                p++;
                i++;
            } else if (p < pattern.length() && pattern.charAt(p) == '*') {
                star = p++;
                mark = i;
            } else if (star >= 0) {
                p = star + 1;
                i = ++mark;
            } else {
                return false;
            }
        }
        while (p < pattern.length() && pattern.charAt(p) == '*') {
            p++;
        }
        return p == pattern.length();
    }

    /**
     * Whether {@code c} is a control character (C0, DEL, C1) or a line or paragraph separator:
     * characters that end or rewrite a log line and have no place in a name.
     */
    public static boolean isControl(char c) {
        int type = Character.getType(c);
        return Character.isISOControl(c) || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR;
    }

    /** Whether any character of {@code s} {@linkplain #isControl is a control character}. */
    public static boolean hasControl(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (isControl(s.charAt(i))) {
                return true;
            }
        }
        return false;
    }
}
