package dev.sluice.config;

import static dev.sluice.config.Values.*;

import java.nio.file.Path;
import java.time.Duration;

/** {@code cache}: the in-process credential tier's policy and the shared tier (none or Redis). */
final class CacheSection {
    private CacheSection() {
    }

    static SluiceConfig.Cache cache(Node n, SluiceConfig.Sts sts, Secrets secrets, Path base) {
        n.allowOnly("credentials", "shared");
        Node c = n.child("credentials");
        c.allowOnly("refresh_lead", "min_serve", "claim_timeout", "failure_backoff", "max_wait");
        Duration refreshLead = c.duration("refresh_lead", Duration.ofSeconds(60));
        Duration minServe = c.duration("min_serve", Duration.ofSeconds(5));
        if (refreshLead.compareTo(minServe) <= 0) {
            throw new ConfigException(c.path("refresh_lead") + ": must be greater than min_serve (" + minServe + ")");
        }
        Duration claimTimeout = positive(c, "claim_timeout", Duration.ofSeconds(30));
        Duration backoff = c.duration("failure_backoff", Duration.ofSeconds(1));
        SluiceConfig.Shared shared = shared(n.child("shared"), refreshLead, sts, secrets, base);
        Duration maxWait = c.duration("max_wait", sts.timeout().plus(shared instanceof SluiceConfig.Shared.Redis r ? r.leaseWait() : Duration.ZERO).plusSeconds(1));
        return new SluiceConfig.Cache(refreshLead, minServe, claimTimeout, backoff, maxWait, shared);
    }

    private static SluiceConfig.Shared shared(Node n, Duration refreshLead, SluiceConfig.Sts sts, Secrets secrets, Path base) {
        String type = n.text("type", "none");
        if (!type.equals("none") && !type.equals("redis")) {
            throw new ConfigException(n.path("type") + ": must be 'none' or 'redis', not '" + type + "'");
        }
        if (type.equals("none")) {
            n.allowOnly("type");
            return new SluiceConfig.Shared.None();
        }
        n.allowOnly("type", "uri", "timeout", "lead", "seal_key_env", "seal_key_file", "lease_ttl", "lease_wait",
                "breaker_failures", "breaker_open");
        String uri = n.text("uri", "redis://127.0.0.1:6379");
        if (!uri.matches("(redis|rediss|redis-sentinel|rediss-sentinel)://\\S+")) {
            throw new ConfigException(n.path("uri") + ": '" + uri + "' is not a redis:// or rediss:// URI");
        }
        Duration timeout = positive(n, "timeout", Duration.ofMillis(100));
        Duration lead = n.duration("lead", Duration.ofSeconds(300));
        if (lead.compareTo(refreshLead) <= 0) {
            throw new ConfigException(n.path("lead") + ": must be greater than cache.credentials.refresh_lead (" + refreshLead
                    + "), or instances would read credentials from the shared tier they can no longer use");
        }
        if (!n.has("seal_key_env") && !n.has("seal_key_file")) {
            throw new ConfigException(n.path("seal_key_env") + ": the redis shared tier needs a seal key (32 random bytes, base64): "
                    + "set seal_key_env or seal_key_file, e.g. head -c32 /dev/urandom | base64");
        }
        SluiceConfig.AesKey sealKey = secrets.key32(n, "seal_key", base);
        Duration leaseWait = n.duration("lease_wait", Duration.ofSeconds(2));
        Duration leaseTtl = n.duration("lease_ttl", sts.timeout().plusSeconds(5));
        if (!leaseTtl.isPositive()) {
            throw new ConfigException(n.path("lease_ttl") + ": must be positive, or no lease would hold and every instance "
                    + "would exchange (default: sts.timeout + 5s)");
        }
        int breakerFailures;
        try {
            breakerFailures = Integer.parseInt(n.text("breaker_failures", "3"));
            if (breakerFailures < 1) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new ConfigException(n.path("breaker_failures") + ": must be a whole number of at least 1");
        }
        Duration breakerOpen = n.duration("breaker_open", Duration.ofSeconds(5));
        return new SluiceConfig.Shared.Redis(uri, timeout, lead, sealKey, leaseTtl, leaseWait, breakerFailures, breakerOpen);
    }
}
