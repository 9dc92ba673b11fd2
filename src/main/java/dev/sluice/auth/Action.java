package dev.sluice.auth;

import java.util.Locale;
import java.util.Optional;

/**
 * What a caller asks to do, in the names scopes use in configuration and in sealed session
 * tokens ({@code get_object}, {@code list_bucket}, …). Reads exist today; the write actions are
 * named now so scopes written for them stay valid when writes land.
 */
public enum Action {
    GET_OBJECT,
    HEAD_OBJECT,
    LIST_BUCKET,
    PUT_OBJECT,
    DELETE_OBJECT,
    CREATE_MULTIPART_UPLOAD,
    UPLOAD_PART,
    COMPLETE_MULTIPART_UPLOAD,
    ABORT_MULTIPART_UPLOAD;

    /** The configuration name: {@code get_object}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<Action> fromConfigName(String name) {
        for (Action a : values()) {
            if (a.configName().equals(name)) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }

    /** Whether anonymous callers may ever do this (on public products only). */
    public boolean isRead() {
        return this == GET_OBJECT || this == HEAD_OBJECT || this == LIST_BUCKET;
    }
}
