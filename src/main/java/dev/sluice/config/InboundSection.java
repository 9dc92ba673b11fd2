package dev.sluice.config;

import static dev.sluice.config.Values.*;

import dev.sluice.auth.Action;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/** {@code inbound}: who may call sluice: long-lived access keys and {@code /.sts} with its roles and scopes. */
final class InboundSection {
    private InboundSection() {
    }

    private static final Pattern ACCESS_KEY_ID = Pattern.compile("[A-Za-z0-9]{8,128}");

    private static final Pattern ROLE_ID = Pattern.compile("[\\w+=,.@-]{1,64}");

    private static final Pattern SCOPE_PRODUCT = Pattern.compile("[^/\\s]+/[^/\\s]+");

    static SluiceConfig.Inbound inbound(Node n, Secrets secrets, Path base) {
        n.allowOnly("access_keys", "sts");
        List<SluiceConfig.AccessKey> keys = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (Node k : n.list("access_keys")) {
            n.problems().collect(() -> {
                k.allowOnly("access_key_id", "secret_access_key_env", "secret_access_key_file", "name", "expires_at", "enabled",
                        "scopes");
                String id = k.requiredText("access_key_id");
                if (!ACCESS_KEY_ID.matcher(id).matches()) {
                    throw new ConfigException(k.path("access_key_id") + ": must be 8 to 128 letters and digits");
                }
                if (!ids.add(id)) {
                    throw new ConfigException(k.path("access_key_id") + ": '" + id + "' is listed twice");
                }
                SluiceConfig.Secret secret = secrets.secret(k, "secret_access_key", base);
                Optional<java.time.Instant> expires = k.optionalText("expires_at").map(t -> {
                    try {
                        return java.time.OffsetDateTime.parse(t).toInstant();
                    } catch (java.time.format.DateTimeParseException e) {
                        throw new ConfigException(k.path("expires_at") + ": '" + t + "' is not a date-time such as 2027-01-31T00:00:00Z");
                    }
                });
                boolean enabled = bool(k, "enabled", true);
                return keys.add(new SluiceConfig.AccessKey(id, secret, k.text("name", id), expires, enabled, scopes(k, false)));
            });
        }
        Optional<SluiceConfig.InboundSts> sts = Optional.empty();
        if (n.has("sts")) {
            Node s = n.child("sts");
            s.allowOnly("enabled", "session_key_env", "session_key_file", "previous_session_key_env",
                    "previous_session_key_file", "trusted_issuers", "audiences", "subjects", "max_session_duration",
                    "max_token_lifetime", "scopes", "roles");
            if (bool(s, "enabled", true)) {
                if (!s.has("session_key_env") && !s.has("session_key_file")) {
                    throw new ConfigException(s.path("session_key_env") + ": sessions are sealed with a key (32 random bytes, "
                            + "base64): set session_key_env or session_key_file, e.g. head -c32 /dev/urandom | base64");
                }
                SluiceConfig.AesKey key = secrets.key32(s, "session_key", base);
                Optional<SluiceConfig.AesKey> previous = s.has("previous_session_key_env") || s.has("previous_session_key_file")
                        ? Optional.of(secrets.key32(s, "previous_session_key", base)) : Optional.empty();
                Duration defaultMax = sessionDuration(s, "max_session_duration", MAX_SESSION);
                Duration defaultLifetime = positive(s, "max_token_lifetime", dev.sluice.auth.Role.DEFAULT_MAX_TOKEN_LIFETIME);
                List<SluiceConfig.Role> roles = new ArrayList<>();
                if (s.has("trusted_issuers")) {
                    roles.add(role(s, "default", defaultMax, defaultLifetime));
                } else if (s.has("audiences") || s.has("subjects") || s.has("scopes")) {
                    throw new ConfigException(s.path("trusted_issuers") + ": is required for the default role "
                            + "(audiences, subjects and scopes here describe it)");
                }
                Set<String> roleIds = new HashSet<>(roles.stream().map(SluiceConfig.Role::id).toList());
                for (Node r : s.list("roles")) {
                    n.problems().collect(() -> {
                        r.allowOnly("id", "trusted_issuers", "audiences", "subjects", "max_session_duration", "max_token_lifetime",
                                "scopes");
                        String id = r.requiredText("id");
                        if (!ROLE_ID.matcher(id).matches()) {
                            throw new ConfigException(r.path("id") + ": must be 1 to 64 of letters, digits and +=,.@_-");
                        }
                        if (!roleIds.add(id)) {
                            throw new ConfigException(r.path("id") + ": role '" + id + "' is defined twice");
                        }
                        return roles.add(role(r, id, defaultMax, defaultLifetime));
                    });
                }
                if (roles.isEmpty() && s.list("roles").isEmpty()) {
                    throw new ConfigException(s.path() + ": enabled but no role: set trusted_issuers and audiences (one "
                            + "default role) or list roles");
                }
                sts = Optional.of(new SluiceConfig.InboundSts(key, previous, List.copyOf(roles)));
            }
        }
        return new SluiceConfig.Inbound(List.copyOf(keys), sts);
    }

    private static SluiceConfig.Role role(Node n, String id, Duration defaultMax, Duration defaultLifetime) {
        List<String> issuers = nonEmptyTexts(n, "trusted_issuers");
        for (int i = 0; i < issuers.size(); i++) {
            requireHttpUrl(issuers.get(i), n.path("trusted_issuers") + "[" + i + "]");
        }
        List<String> audiences = nonEmptyTexts(n, "audiences");
        List<String> subjects = texts(n, "subjects");
        Duration max = sessionDuration(n, "max_session_duration", defaultMax);
        Duration lifetime = positive(n, "max_token_lifetime", defaultLifetime);
        return new SluiceConfig.Role(id, issuers, audiences, subjects, max, lifetime, scopes(n, true));
    }

    private static List<SluiceConfig.ScopeSpec> scopes(Node n, boolean templates) {
        List<SluiceConfig.ScopeSpec> out = new ArrayList<>();
        for (Node s : n.list("scopes")) {
            s.allowOnly("product", "prefixes", "actions");
            String product = s.requiredText("product");
            if (!SCOPE_PRODUCT.matcher(product).matches()) {
                throw new ConfigException(s.path("product") + ": '" + product + "' is not account/product or account/*");
            }
            if (!templates && product.contains("{")) {
                throw new ConfigException(s.path("product") + ": {claim} placeholders are for sts roles only");
            }
            List<String> names = nonEmptyTexts(s, "actions");
            Set<Action> actions = EnumSet.noneOf(Action.class);
            for (int i = 0; i < names.size(); i++) {
                String name = names.get(i);
                int index = i;
                actions.add(Action.fromConfigName(name).orElseThrow(() -> new ConfigException(s.path("actions") + "[" + index
                        + "]: unknown action '" + name + "' (known: " + String.join(", ", java.util.Arrays.stream(Action.values())
                        .map(Action::configName).toList()) + ")")));
            }
            List<String> prefixes = texts(s, "prefixes");
            if (!templates) {
                for (int i = 0; i < prefixes.size(); i++) {
                    if (prefixes.get(i).contains("{")) {
                        throw new ConfigException(s.path("prefixes") + "[" + i + "]: {claim} placeholders are for sts roles only");
                    }
                }
            }
            out.add(new SluiceConfig.ScopeSpec(product, prefixes, Set.copyOf(actions)));
        }
        return List.copyOf(out);
    }
}
