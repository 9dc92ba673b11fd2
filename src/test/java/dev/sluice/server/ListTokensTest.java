package dev.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.backend.ListPosition;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ListTokensTest {

    private static String raw(String text) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static void assertInvalid(String token) {
        assertThatThrownBy(() -> ListTokens.decode(token)).isInstanceOfSatisfying(S3Exception.class, e -> {
            assertThat(e.error()).isEqualTo(S3Error.INVALID_ARGUMENT);
            assertThat(e.error().status()).isEqualTo(400);
            assertThat(e.clientMessage()).isEqualTo("The continuation token provided is incorrect");
        });
    }

    @Test
    void roundTripsEachPositionKind() {
        List<ListPosition> positions = List.of(
                new ListPosition.Start(),
                new ListPosition.After("nested/deeper/file.txt"),
                new ListPosition.After("dir/"),
                new ListPosition.After(""),
                new ListPosition.After("ünïcødé/文件/𝄞 a+b 100%.txt"),
                new ListPosition.After("line\nbreak\nkey"),
                new ListPosition.Resume("1Gv7oqzdxMJOgZ/+=="),
                new ListPosition.Resume(""));

        for (ListPosition position : positions) {
            String token = ListTokens.encode("hello", position);
            assertThat(ListTokens.decode(token)).as("%s", position).isEqualTo(new ListTokens.Token("hello", position));
        }
    }

    @Test
    void tokensAreUrlSafe() {
        String token = ListTokens.encode("my-data.v2_x", new ListPosition.After("ünï/文件 ?&=+/.txt"));

        assertThat(token).matches("[A-Za-z0-9_-]+");
    }

    @Test
    void theProductIsKept() {
        assertThat(ListTokens.decode(ListTokens.encode("census", new ListPosition.Start())).product()).isEqualTo("census");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "!!!!", "not a token", "abc", "a", "====", "AAAA", "aGVsbG8", "eyJ0b2tlbiI6MX0"})
    void garbageIsInvalidArgument(String token) {
        assertInvalid(token);
    }

    @Test
    void standardBase64AlphabetIsInvalidArgument() {
        // '+' and '/' belong to the standard alphabet, never to a token this class wrote.
        String token = Base64.getEncoder().encodeToString("1\nhello\nA\u00fb\u00ff\u00fe".getBytes(StandardCharsets.ISO_8859_1));
        assertThat(token).containsAnyOf("+", "/");
        assertInvalid(token);
    }

    @Test
    void anotherVersionIsInvalidArgument() {
        assertInvalid(raw("2\nhello\nS"));
        assertInvalid(raw("0\nhello\nAkey"));
        assertInvalid(raw("\nhello\nS"));
    }

    @Test
    void aMissingOrUnknownPositionKindIsInvalidArgument() {
        assertInvalid(raw("1\nhello\n"));
        assertInvalid(raw("1\nhello"));
        assertInvalid(raw("1\nhello\nXkey"));
        assertInvalid(raw("1"));
    }
}
