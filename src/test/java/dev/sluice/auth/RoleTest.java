package dev.sluice.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RoleTest {
    private static Role role(String id, List<String> subjects) {
        return new Role(id, List.of("https://issuer"), List.of("sluice"), subjects, Duration.ofHours(2), List.of());
    }

    @Test
    void subjectGlobStarMatchesAnyRunIncludingSlashes() {
        Role r = role("ci", List.of("repo:acme/*:ref:refs/heads/main", "user-*"));
        assertThat(r.admitsSubject("repo:acme/data:ref:refs/heads/main")).isTrue();
        assertThat(r.admitsSubject("repo:acme/a/b/c:ref:refs/heads/main")).isTrue();
        assertThat(r.admitsSubject("repo:acme/data:ref:refs/heads/feature")).isFalse();
        assertThat(r.admitsSubject("repo:evil/data:ref:refs/heads/main")).isFalse();
        assertThat(r.admitsSubject("user-")).isTrue();
        assertThat(r.admitsSubject("user")).isFalse();
        assertThat(r.admitsSubject("xuser-1")).isFalse();
    }

    @Test
    void globTreatsOtherCharactersLiterally() {
        assertThat(Role.globMatches("a.b", "a.b")).isTrue();
        assertThat(Role.globMatches("a.b", "axb")).isFalse();
        assertThat(Role.globMatches("a?", "ab")).isFalse();
        assertThat(Role.globMatches("[ab]", "a")).isFalse();
        assertThat(Role.globMatches("*", "")).isTrue();
        assertThat(Role.globMatches("**a*", "xxa")).isTrue();
        assertThat(Role.globMatches("a*b*c", "aXbYc")).isTrue();
        assertThat(Role.globMatches("a*b*c", "aXbY")).isFalse();
        assertThat(Role.globMatches("", "x")).isFalse();
    }

    /** A subject carrying a line break was admitted by {@code user:*} and then forged a log line. */
    @Test
    void globsNeverMatchControlCharacters() {
        Role r = role("users", List.of("user:*", "*"));
        for (String subject : List.of("user:a\n{\"forged\":true}", "user:a\rb", "user:\u0000", "user:a\u0085b",
                "user:a\u2028b", "user:a\u2029b", "\u001b[31m")) {
            assertThat(r.admitsSubject(subject)).as(subject).isFalse();
            assertThat(Role.globMatches("*", subject)).as(subject).isFalse();
        }
        assertThat(r.admitsSubject("user:alice")).isTrue();
        assertThat(role("any", List.of()).admitsSubject("a\nb")).isFalse();
    }

    @Test
    void aTokenLifetimeCapIsPositiveAndDefaultsToADay() {
        assertThat(role("r", List.of()).maxTokenLifetime()).isEqualTo(Duration.ofHours(24));
        assertThatThrownBy(() -> new Role("r", List.of("i"), List.of("a"), List.of(), Duration.ofHours(1), Duration.ZERO, List.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void noSubjectPatternsAdmitsAnySubject() {
        assertThat(role("any", List.of()).admitsSubject("whoever")).isTrue();
    }

    @Test
    void findsRolesByIdOrIamArn() {
        List<Role> roles = List.of(role("reader", List.of()), role("writer", List.of()));
        assertThat(Role.byArn(roles, "reader")).map(Role::id).contains("reader");
        assertThat(Role.byArn(roles, "arn:aws:iam::123456789012:role/reader")).map(Role::id).contains("reader");
        assertThat(Role.byArn(roles, "arn:aws-cn:iam::000000000000:role/team/ci/writer")).map(Role::id).contains("writer");
        assertThat(Role.byArn(roles, "arn:aws:iam::1:role/reader/")).isEmpty();
        assertThat(Role.byArn(roles, "arn:aws:sts::1:role/reader")).isEmpty();
        assertThat(Role.byArn(roles, "arn:aws:iam::1:user/reader")).isEmpty();
        assertThat(Role.byArn(roles, "arn:aws:iam:us-east-1:1:role/reader")).isEmpty();
        assertThat(Role.byArn(roles, "arn::iam::1:role/reader")).isEmpty();
        assertThat(Role.byArn(roles, "Reader")).isEmpty();
        assertThat(Role.byArn(roles, "arn:aws:iam::1:role/readers")).isEmpty();
    }

    @Test
    void clampsSessionDurationToTheRoleRange() {
        Role r = role("r", List.of());
        assertThat(r.clampSession(Duration.ofSeconds(1))).isEqualTo(Duration.ofSeconds(900));
        assertThat(r.clampSession(Duration.ofSeconds(901))).isEqualTo(Duration.ofSeconds(901));
        assertThat(r.clampSession(Duration.ofHours(12))).isEqualTo(Duration.ofHours(2));
    }

    @Test
    void refusesConfigurationThatCannotWork() {
        assertThatThrownBy(() -> new Role("r", List.of(), List.of("a"), List.of(), Duration.ofHours(1), List.of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Role("r", List.of("i"), List.of(), List.of(), Duration.ofHours(1), List.of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Role("r", List.of("i"), List.of("a"), List.of(), Duration.ofSeconds(899), List.of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Role("a/b", List.of("i"), List.of("a"), List.of(), Duration.ofHours(1), List.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    // ---- scope templates ----

    private static final Set<Action> READ = Set.of(Action.GET_OBJECT, Action.LIST_BUCKET);

    @Test
    void substitutesClaimsIntoProductAndPrefixes() {
        ScopeTemplate t = new ScopeTemplate("acme/{team}", List.of("home/{sub}/", "shared"), READ);
        assertThat(t.resolve(Map.of("sub", "repo:acme/data", "team", "data")))
                .contains(new Scope("acme/data", List.of("home/repo:acme/data/", "shared"), READ));
    }

    @Test
    void templatesWithoutPlaceholdersResolveAsWritten() {
        ScopeTemplate t = new ScopeTemplate("acme/*", List.of(), READ);
        assertThat(t.resolve(Map.of())).contains(new Scope("acme/*", List.of(), READ));
    }

    @Test
    void dropsTheGrantWhenAClaimIsMissingOrNotAString() {
        ScopeTemplate t = new ScopeTemplate("acme/data", List.of("home/{sub}/"), READ);
        assertThat(t.resolve(Map.of())).isEmpty();
        assertThat(t.resolve(Map.of("sub", 42))).isEmpty();
        assertThat(t.resolve(Map.of("sub", List.of("a")))).isEmpty();
    }

    @Test
    void dropsTheGrantRatherThanWidenIt() {
        ScopeTemplate product = new ScopeTemplate("acme/{repo}", List.of(), READ);
        assertThat(product.resolve(Map.of("repo", "*"))).isEmpty();
        assertThat(product.resolve(Map.of("repo", "data/x"))).isEmpty();
        assertThat(product.resolve(Map.of("repo", ""))).isEmpty();
        ScopeTemplate prefix = new ScopeTemplate("acme/data", List.of("home/{sub}"), READ);
        assertThat(prefix.resolve(Map.of("sub", "a*"))).isEmpty();
        assertThat(prefix.resolve(Map.of("sub", ""))).isEmpty();
        assertThat(prefix.resolve(Map.of("sub", "a\nb"))).isEmpty();
        assertThat(prefix.resolve(Map.of("sub", "a\u2028b"))).isEmpty();
        assertThat(prefix.resolve(Map.of("sub", "a\u0085b"))).isEmpty();
        assertThat(prefix.resolve(Map.of("sub", "team/alice"))).map(Scope::prefixes).contains(List.of("home/team/alice"));
        ScopeTemplate whole = new ScopeTemplate("{account}", List.of(), READ);
        assertThat(whole.resolve(Map.of("account", "acme"))).isEmpty();
    }

    @Test
    void insertsClaimValuesLiterallyWithoutExpandingThemAgain() {
        ScopeTemplate t = new ScopeTemplate("acme/data", List.of("{a}"), READ);
        assertThat(t.resolve(Map.of("a", "{b}", "b", "x"))).map(Scope::prefixes).contains(List.of("{b}"));
        assertThat(t.resolve(Map.of("a", "$1\\"))).map(Scope::prefixes).contains(List.of("$1\\"));
    }
}
