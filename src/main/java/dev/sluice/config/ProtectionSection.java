package dev.sluice.config;

import dev.sluice.protect.QuotaPeriod;
import dev.sluice.protect.Rate;
import org.eclipse.jetty.util.InetAddressPattern;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code limits} and each product's {@code registry.products[].limits}: request rates per client
 * address, per principal and per product, byte quotas per principal and per product, the concurrency cap per
 * address, trusted proxies and exempt callers (docs/protection.md). Every number is checked
 * here, so the request path never sees a nonsensical limit.
 */
final class ProtectionSection {
    private ProtectionSection() {
    }

    private static final Pattern QUANTITY = Pattern.compile("(\\d+)\\s*(KiB|MiB|GiB|TiB)?");
    /** An IPv4 or IPv6 literal (no host name: a trusted proxy is never looked up in DNS). */
    private static final Pattern ADDRESS = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    static SluiceConfig.Protection protection(Node n) {
        n.allowOnly("anonymous", "principal", "product", "trusted_proxies", "exempt", "fleet_size");
        Node a = n.child("anonymous");
        a.allowOnly("requests_per_second", "burst", "concurrent");
        Optional<Rate> anonymousRate = rate(a);
        Optional<Integer> concurrent = a.optionalText("concurrent")
                .map(t -> (int) Values.wholeNumber(t, a.path("concurrent"), 1, 1_000_000));
        Node p = n.child("principal");
        p.allowOnly("requests_per_second", "burst", "bytes_per_hour", "bytes_per_day");
        Optional<Rate> principalRate = rate(p);
        Optional<SluiceConfig.Quota> principalQuota = quota(p);
        SluiceConfig.ProductLimits product = productLimits(n.child("product"));
        List<String> trusted = Values.texts(n, "trusted_proxies");
        for (int i = 0; i < trusted.size(); i++) {
            cidr(trusted.get(i), n.path("trusted_proxies") + "[" + i + "]");
        }
        List<String> exempt = Values.texts(n, "exempt");
        int fleetSize = (int) Values.wholeNumber(n.text("fleet_size", "1"), n.path("fleet_size"), 1, 10_000);
        return new SluiceConfig.Protection(new SluiceConfig.AnonymousLimits(anonymousRate, concurrent), principalRate, product,
                trusted, new LinkedHashSet<>(exempt), fleetSize, principalQuota, n.has("fleet_size"));
    }

    /** A product's limits: {@code limits.product} (the default) or {@code registry.products[].limits} (its override). */
    static SluiceConfig.ProductLimits productLimits(Node n) {
        n.allowOnly("requests_per_second", "burst", "bytes_per_hour", "bytes_per_day");
        return new SluiceConfig.ProductLimits(rate(n), quota(n));
    }

    /** A byte quota from {@code bytes_per_hour} or {@code bytes_per_day} (not both), as products and principals give it. */
    private static Optional<SluiceConfig.Quota> quota(Node n) {
        if (n.has("bytes_per_hour") && n.has("bytes_per_day")) {
            throw new ConfigException(n.path("bytes_per_day") + ": give bytes_per_hour or bytes_per_day, not both");
        }
        Optional<SluiceConfig.Quota> quota = Optional.empty();
        if (n.has("bytes_per_hour")) {
            quota = Optional.of(new SluiceConfig.Quota(bytes(n, "bytes_per_hour"), QuotaPeriod.HOUR));
        } else if (n.has("bytes_per_day")) {
            quota = Optional.of(new SluiceConfig.Quota(bytes(n, "bytes_per_day"), QuotaPeriod.DAY));
        }
        return quota;
    }

    /**
     * A token bucket from {@code requests_per_second} (a positive number, fractions allowed) and
     * {@code burst} (a whole number, default: the rate rounded up); a burst without a rate is refused.
     */
    private static Optional<Rate> rate(Node n) {
        if (!n.has("requests_per_second")) {
            if (n.has("burst")) {
                throw new ConfigException(n.path("burst") + ": needs requests_per_second beside it");
            }
            return Optional.empty();
        }
        String text = n.text("requests_per_second", "");
        double perSecond;
        try {
            perSecond = Double.parseDouble(text.trim());
        } catch (NumberFormatException e) {
            perSecond = Double.NaN;
        }
        if (!(perSecond > 0) || perSecond > 1e9) {
            throw new ConfigException(n.path("requests_per_second") + ": '" + text + "' is not a positive number of requests a second");
        }
        long burst = Values.wholeNumber(n.text("burst", Long.toString((long) Math.ceil(perSecond))), n.path("burst"), 1, 1_000_000_000L);
        return Optional.of(new Rate(perSecond, burst));
    }

    private static long bytes(Node n, String key) {
        String text = n.text(key, "");
        Matcher m = QUANTITY.matcher(text.trim());
        if (m.matches()) {
            long unit = m.group(2) == null ? 1 : switch (m.group(2)) {
                case "KiB" -> 1L << 10;
                case "MiB" -> 1L << 20;
                case "GiB" -> 1L << 30;
                default -> 1L << 40;
            };
            try {
                long v = Math.multiplyExact(Long.parseLong(m.group(1)), unit);
                if (v > 0) {
                    return v;
                }
            } catch (NumberFormatException | ArithmeticException e) {
                // reported below
            }
        }
        throw new ConfigException(n.path(key) + ": '" + text + "' is not a positive number of bytes (examples: 500MiB, 100GiB, 2TiB)");
    }

    /** A trusted proxy: an address literal or a CIDR block, as Jetty's address sets take it. */
    private static void cidr(String text, String path) {
        String address = text.contains("/") ? text.substring(0, text.indexOf('/')) : text;
        String prefix = text.contains("/") ? text.substring(text.indexOf('/') + 1) : null;
        boolean valid = ADDRESS.matcher(address).matches() && (prefix == null || prefix.matches("\\d{1,3}"));
        if (valid && prefix != null) {
            int max = address.contains(":") ? 128 : 32;
            valid = Integer.parseInt(prefix) <= max;
        }
        if (valid) {
            try {
                InetAddressPattern.from(text);
            } catch (RuntimeException e) {
                valid = false;
            }
        }
        if (!valid) {
            throw new ConfigException(path + ": '" + text + "' is not an IP address or CIDR block (examples: 10.0.0.0/8, 192.0.2.7, fd00::/8)");
        }
    }
}
