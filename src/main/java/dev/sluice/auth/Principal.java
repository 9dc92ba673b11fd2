package dev.sluice.auth;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Who made a request, as established by its signature (docs/architecture.md, step 4).
 */
public sealed interface Principal {

    /** The name the control-plane registry is told: an access key's principal name or a token's subject. */
    Optional<String> subject();

    List<Scope> scopes();

    /**
     * What kind of caller this is, for metrics and the access log: {@code anonymous},
     * {@code unknown_key} (signed with a key sluice does not know, served as anonymous),
     * {@code access_key} or {@code session}.
     */
    String kind();

    /**
     * How the access log names the caller: the kind, then the subject when there is one
     * ({@code access_key:reader}, {@code session:repo:org/app}). A stray key's id is not
     * named: it identifies someone's AWS account, not a sluice caller.
     */
    default String logName() {
        return subject().map(s -> kind() + ":" + s).orElse(kind());
    }

    /**
     * No signature, or a signature by a key sluice does not know ({@code unknownKeyId}
     * present). The latter is served as anonymous where anonymous access is allowed: many
     * clients sign with unrelated AWS credentials from their environment.
     */
    record Anonymous(Optional<String> unknownKeyId) implements Principal {
        public static final Anonymous UNSIGNED = new Anonymous(Optional.empty());

        @Override
        public Optional<String> subject() {
            return Optional.empty();
        }

        @Override
        public List<Scope> scopes() {
            return List.of();
        }

        @Override
        public String kind() {
            return unknownKeyId.isPresent() ? "unknown_key" : "anonymous";
        }
    }

    /** A long-lived access key from {@code inbound.access_keys}. */
    record AccessKey(String accessKeyId, String name, List<Scope> scopes) implements Principal {
        public AccessKey {
            scopes = List.copyOf(scopes);
        }

        @Override
        public Optional<String> subject() {
            return Optional.of(name);
        }

        @Override
        public String kind() {
            return "access_key";
        }
    }

    /** Temporary credentials issued by {@code /.sts}, carried in a sealed session token. */
    record Session(String accessKeyId, String subjectName, String role, List<Scope> scopes, Instant expiry)
            implements Principal {
        public Session {
            scopes = List.copyOf(scopes);
        }

        @Override
        public Optional<String> subject() {
            return Optional.of(subjectName);
        }

        @Override
        public String kind() {
            return "session";
        }
    }
}
