package dev.sluice.registry;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The hand-written name check agrees with the pattern it replaced, {@code [A-Za-z0-9][A-Za-z0-9._-]{0,254}}. */
class ValidNameTest {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,254}");

    @ParameterizedTest
    @ValueSource(strings = {"", "a", "Z9", "city-trees", "lidar_2024.v2", ".hidden", "-x", "_x", "a/b", "..", "a..b", "a b",
            "é", "a%2F", "A-Za-z0-9._-", "a\u0000", "ab\n", "a:b", "a+b"})
    void agreesWithThePattern(String name) {
        assertThat(ControlPlaneRegistry.validName(name)).isEqualTo(NAME.matcher(name).matches());
    }

    @ParameterizedTest
    @ValueSource(ints = {254, 255, 256, 300})
    void agreesOnLength(int length) {
        String name = "a".repeat(length);
        assertThat(ControlPlaneRegistry.validName(name)).isEqualTo(NAME.matcher(name).matches());
    }
}
