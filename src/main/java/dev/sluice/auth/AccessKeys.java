package dev.sluice.auth;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/** The long-lived access keys from {@code inbound.access_keys}, by id. */
public final class AccessKeys {

    /** One key; {@code name} is the principal the control plane is told. */
    public record Entry(String accessKeyId, String secretAccessKey, String name, Optional<Instant> expiresAt,
                        boolean enabled, List<Scope> scopes) {
        public Entry {
            scopes = List.copyOf(scopes);
        }

        @Override
        public String toString() {
            return "AccessKeys.Entry[accessKeyId=" + accessKeyId + ", secretAccessKey=<redacted>, name=" + name
                    + ", expiresAt=" + expiresAt + ", enabled=" + enabled + ", scopes=" + scopes + "]";
        }
    }

    private final Map<String, Entry> byId;

    public AccessKeys(List<Entry> entries) {
        this.byId = entries.stream().collect(Collectors.toUnmodifiableMap(Entry::accessKeyId, Function.identity()));
    }

    public Optional<Entry> find(String accessKeyId) {
        return Optional.ofNullable(byId.get(accessKeyId));
    }
}
