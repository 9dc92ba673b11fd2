package dev.sluice.observe;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogTextTest {
    @Test
    void escapesEverythingThatCouldEndOrRewriteALogLine() {
        assertThat(LogText.escape("user:a\n{\"forged\":true}")).isEqualTo("user:a\\u000a{\"forged\":true}");
        assertThat(LogText.escape("a\rb\u0000c\u001b[31md\u007fe\u0085f\u2028g\u2029h"))
                .isEqualTo("a\\u000db\\u0000c\\u001b[31md\\u007fe\\u0085f\\u2028g\\u2029h");
    }

    @Test
    void escapesBackslashesSoAnEscapeCannotBeForged() {
        assertThat(LogText.escape("a\\u000ab")).isEqualTo("a\\\\u000ab");
    }

    @Test
    void leavesOrdinaryTextAloneAndBoundsLongText() {
        assertThat(LogText.escape("repo:acme/data:ref:refs/heads/main é ✓")).isEqualTo("repo:acme/data:ref:refs/heads/main é ✓");
        assertThat(LogText.escape(null)).isEqualTo("null");
        String escaped = LogText.escape("x".repeat(10_000));
        assertThat(escaped).startsWith("x".repeat(LogText.MAX_CHARS)).endsWith("...(10000 chars)").hasSizeLessThan(600);
    }
}
