package dev.sluice.auth;

import java.util.Locale;
import java.util.Optional;

/**
 * What a caller asks to do, in the names scopes use in configuration and in sealed session
 * tokens ({@code get_object}, {@code list_bucket}, …), docs/identity.md, "Authorization".
 *
 * <p>As in AWS, where {@code s3:PutObject} allows every step of a multipart upload,
 * {@code put_object} grants {@link #CREATE_MULTIPART_UPLOAD}, {@link #UPLOAD_PART} and
 * {@link #COMPLETE_MULTIPART_UPLOAD}; each of those names still grants its own step alone, so
 * scopes written with them keep their meaning. Aborting an upload and listing uploads or parts
 * are separate grants ({@code abort_multipart_upload}, {@code list_multipart_uploads}), as in AWS.
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
    ABORT_MULTIPART_UPLOAD,
    /** ListMultipartUploads and ListParts. */
    LIST_MULTIPART_UPLOADS;

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

    /** Whether a scope listing {@code granted} allows this action (see the class doc for {@code put_object}). */
    public boolean grantedBy(java.util.Set<Action> granted) {
        if (granted.contains(this)) {
            return true;
        }
        boolean multipartStep = this == CREATE_MULTIPART_UPLOAD || this == UPLOAD_PART || this == COMPLETE_MULTIPART_UPLOAD;
        return multipartStep && granted.contains(PUT_OBJECT);
    }

    /** Whether anonymous callers may ever do this (on public products only). */
    public boolean isRead() {
        return this == GET_OBJECT || this == HEAD_OBJECT || this == LIST_BUCKET;
    }
}
