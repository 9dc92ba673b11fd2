package dev.sluice.registry;

import java.util.Optional;

/**
 * Who a resolution is for and which request asked: a registry backed by an API asks that API
 * as the caller (an anonymous and an authenticated caller may be told different things) and
 * passes the request id on, so one client request can be followed through every service.
 * Until inbound identity exists every caller is anonymous.
 */
public record Caller(Optional<String> subject, String requestId) {

    public static Caller anonymous(String requestId) {
        return new Caller(Optional.empty(), requestId);
    }

    public static Caller authenticated(String subject, String requestId) {
        if (subject.isEmpty()) {
            throw new IllegalArgumentException("an authenticated caller has a subject");
        }
        return new Caller(Optional.of(subject), requestId);
    }

    public boolean isAnonymous() {
        return subject.isEmpty();
    }
}
