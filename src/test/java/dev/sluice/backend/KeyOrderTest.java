package dev.sluice.backend;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

class KeyOrderTest {
    private static final String CLEF = "𝄞";            // U+1D11E, a surrogate pair in UTF-16
    private static final String REPLACEMENT = "\uFFFD"; // the last BMP code points sort after surrogates in UTF-16

    private static int utf8Compare(String a, String b) {
        return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void ordersSupplementaryCharactersAfterTheWholeBmpAsUtf8Does() {
        assertThat(KeyOrder.compare(CLEF, REPLACEMENT)).isPositive();
        assertThat(KeyOrder.compare(REPLACEMENT, CLEF)).isNegative();
        assertThat(KeyOrder.compare("a" + CLEF, "a\uFF5A")).isPositive();
        // ...which is exactly where Java's UTF-16 order disagrees.
        assertThat(CLEF.compareTo(REPLACEMENT)).isNegative();
    }

    @Test
    void agreesWithUtf8ByteOrderOnEveryPair() {
        List<String> keys = List.of("", "a", "A", "a/", "a/b", "a-b", "a.b", "a0", "ab", "z", "~", "\u007F", "ü", "ü/x", "文件", "文件/x",
                "\uE000", "\uFF5A", REPLACEMENT, CLEF, CLEF + "a", "a" + CLEF, "😀", "data/", "data-v2/", "data.old/");

        for (String a : keys) {
            for (String b : keys) {
                assertThat(Integer.signum(KeyOrder.compare(a, b))).as("[%s] vs [%s]", a, b).isEqualTo(Integer.signum(utf8Compare(a, b)));
            }
        }
    }

    @Test
    void aPrefixSortsBeforeItsExtensions() {
        assertThat(KeyOrder.compare("dir", "dir/")).isNegative();
        assertThat(KeyOrder.compare("", "a")).isNegative();
        assertThat(KeyOrder.compare("a" + CLEF, "a")).isPositive();
    }

    @Test
    void equalKeysCompareEqual() {
        assertThat(KeyOrder.compare("ünïcødé/文件.txt", "ünïcødé/文件.txt")).isZero();
        assertThat(KeyOrder.compare("", "")).isZero();
    }

    @Test
    void theComparatorSortsLikeCompare() {
        List<String> keys = new ArrayList<>(List.of(CLEF, "b", REPLACEMENT, "a", "文件", "ü"));

        keys.sort(KeyOrder.COMPARATOR);

        assertThat(keys).containsExactly("a", "b", "ü", "文件", REPLACEMENT, CLEF);
    }
}
