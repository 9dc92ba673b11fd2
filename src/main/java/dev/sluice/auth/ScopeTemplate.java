package dev.sluice.auth;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A grant of a {@link Role} written in terms of the caller's token: product and prefixes may
 * name token claims in braces ({@code acme/{repository_name}}, {@code home/{sub}/}), which are
 * filled in from the verified token when credentials are issued.
 *
 * <p>Substitution only ever narrows. A template whose claim is missing, not a string, or empty,
 * or whose value would change the shape of the grant (a {@code *} anywhere, a {@code /} in the
 * product, a control character or line separator anywhere, see {@link Role#isControl}), yields
 * no scope at all: the grant is dropped rather than widened. Without that, a
 * subject named {@code *} would be granted {@code acme/*}, and an empty one the prefix
 * {@code ""}, which is every key.
 *
 * <p>Values are substituted in one pass: a claim value that itself looks like {@code {sub}} is
 * inserted literally, not expanded again.
 */
public record ScopeTemplate(String product, List<String> prefixes, Set<Action> actions) {
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([^{}]+)}");

    public ScopeTemplate {
        prefixes = List.copyOf(prefixes);
        actions = Set.copyOf(actions);
    }

    /** The scope for a caller with these token claims, or empty when the grant does not apply to them. */
    public Optional<Scope> resolve(Map<String, Object> claims) {
        Optional<String> p = substitute(product, claims, true);
        if (p.isEmpty()) {
            return Optional.empty();
        }
        List<String> resolved = new ArrayList<>(prefixes.size());
        for (String prefix : prefixes) {
            Optional<String> r = substitute(prefix, claims, false);
            if (r.isEmpty()) {
                return Optional.empty();
            }
            resolved.add(r.get());
        }
        try {
            return Optional.of(new Scope(p.get(), resolved, actions));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static Optional<String> substitute(String template, Map<String, Object> claims, boolean inProduct) {
        Matcher m = PLACEHOLDER.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            if (!(claims.get(m.group(1)) instanceof String value) || !safe(value, inProduct)) {
                return Optional.empty();
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return Optional.of(out.toString());
    }

    private static boolean safe(String value, boolean inProduct) {
        if (value.isEmpty() || value.indexOf('*') >= 0 || (inProduct && value.indexOf('/') >= 0)) {
            return false;
        }
        return !Role.hasControl(value);
    }
}
