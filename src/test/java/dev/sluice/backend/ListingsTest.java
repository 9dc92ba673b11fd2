package dev.sluice.backend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.s3.ObjectSummary;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

class ListingsTest {
    private static final Instant T = Instant.parse("2024-06-03T10:15:30Z");

    private static List<ObjectSummary> objects(String... keys) {
        List<ObjectSummary> out = new ArrayList<>();
        for (String k : keys) {
            out.add(new ObjectSummary(k, k.length(), T, "\"" + k.hashCode() + "\""));
        }
        out.sort((a, b) -> KeyOrder.compare(a.key(), b.key()));
        return out;
    }

    private static final List<ObjectSummary> TREE = objects(
            "a.txt", "dir/b.txt", "dir/sub/c.txt", "dir/sub/d.txt", "dir2/e.txt", "dirx.txt", "z--y--x", "z--w");

    private static ListPage page(String prefix, String delimiter, int maxKeys, ListPosition position) {
        return Listings.page(TREE, new ListQuery(prefix, Optional.ofNullable(delimiter), maxKeys, position));
    }

    private static List<String> keys(ListPage page) {
        return page.objects().stream().map(ObjectSummary::key).toList();
    }

    @Test
    void withoutDelimiterListsEveryKeyUnderThePrefixInOrder() {
        ListPage all = page("", null, 1000, new ListPosition.Start());
        ListPage dir = page("dir/", null, 1000, new ListPosition.Start());

        assertThat(keys(all)).hasSize(TREE.size());
        assertThat(all.commonPrefixes()).isEmpty();
        assertThat(all.next()).isEmpty();
        assertThat(keys(dir)).containsExactly("dir/b.txt", "dir/sub/c.txt", "dir/sub/d.txt");
    }

    @Test
    void summariesPassThroughUnchanged() {
        assertThat(page("", null, 1000, new ListPosition.Start()).objects()).containsExactlyElementsOf(TREE);
    }

    @Test
    void delimiterRollsUpTheFirstSegmentAfterThePrefix() {
        ListPage top = page("", "/", 1000, new ListPosition.Start());
        ListPage dir = page("dir/", "/", 1000, new ListPosition.Start());
        ListPage partial = page("dir", "/", 1000, new ListPosition.Start());

        assertThat(keys(top)).containsExactly("a.txt", "dirx.txt", "z--w", "z--y--x");
        assertThat(top.commonPrefixes()).containsExactly("dir/", "dir2/");
        assertThat(keys(dir)).containsExactly("dir/b.txt");
        assertThat(dir.commonPrefixes()).containsExactly("dir/sub/");
        assertThat(keys(partial)).containsExactly("dirx.txt");
        assertThat(partial.commonPrefixes()).containsExactly("dir/", "dir2/");
    }

    @Test
    void aMultiCharacterDelimiterRollsUpOnTheWholeDelimiter() {
        ListPage page = page("z", "--", 1000, new ListPosition.Start());

        assertThat(keys(page)).isEmpty();
        assertThat(page.commonPrefixes()).containsExactly("z--");
        assertThat(page("z--", "--", 1000, new ListPosition.Start()).commonPrefixes()).containsExactly("z--y--");
        assertThat(keys(page("z--", "--", 1000, new ListPosition.Start()))).containsExactly("z--w");
    }

    @Test
    void anObjectAndACommonPrefixEachCountAsOneEntry() {
        ListPage first = page("", "/", 2, new ListPosition.Start());
        ListPage second = page("", "/", 2, first.next().orElseThrow());

        assertThat(keys(first)).containsExactly("a.txt");
        assertThat(first.commonPrefixes()).containsExactly("dir/");
        assertThat(first.next()).contains(new ListPosition.After("dir/"));
        assertThat(keys(second)).containsExactly("dirx.txt");
        assertThat(second.commonPrefixes()).containsExactly("dir2/");
        assertThat(second.next()).contains(new ListPosition.After("dirx.txt"));
    }

    @Test
    void truncatesOnlyWhenSomethingIsLeft() {
        assertThat(page("dir/", null, 3, new ListPosition.Start()).next()).isEmpty();
        assertThat(page("dir/", null, 2, new ListPosition.Start()).next()).contains(new ListPosition.After("dir/sub/c.txt"));
    }

    @Test
    void afterAKeyStartsStrictlyAfterIt() {
        assertThat(keys(page("", null, 1000, new ListPosition.After("dir/sub/c.txt"))))
                .containsExactly("dir/sub/d.txt", "dir2/e.txt", "dirx.txt", "z--w", "z--y--x");
        assertThat(keys(page("", null, 1000, new ListPosition.After("dir/sub/c")))).startsWith("dir/sub/c.txt");
    }

    @Test
    void afterACommonPrefixSkipsEverythingUnderIt() {
        ListPage page = page("", "/", 1000, new ListPosition.After("dir/"));

        assertThat(page.commonPrefixes()).containsExactly("dir2/");
        assertThat(keys(page)).containsExactly("dirx.txt", "z--w", "z--y--x");
    }

    @Test
    void resumeIsTreatedAsAKeyPosition() {
        assertThat(page("", "/", 1000, new ListPosition.Resume("dir/")))
                .isEqualTo(page("", "/", 1000, new ListPosition.After("dir/")));
    }

    @Test
    void pagingVisitsEveryEntryExactlyOnce() {
        for (String delimiter : new String[] {null, "/", "--"}) {
            List<String> expected = new ArrayList<>();
            ListPage whole = page("", delimiter, 1000, new ListPosition.Start());
            expected.addAll(keys(whole));
            expected.addAll(whole.commonPrefixes());
            expected.sort(KeyOrder.COMPARATOR);
            for (int maxKeys = 1; maxKeys <= TREE.size() + 1; maxKeys++) {
                List<String> seen = new ArrayList<>();
                ListPosition position = new ListPosition.Start();
                while (true) {
                    ListPage p = page("", delimiter, maxKeys, position);
                    List<String> entries = new ArrayList<>(keys(p));
                    entries.addAll(p.commonPrefixes());
                    entries.sort(KeyOrder.COMPARATOR);
                    assertThat(entries.size()).isBetween(1, maxKeys);
                    seen.addAll(entries);
                    if (p.next().isEmpty()) {
                        break;
                    }
                    position = p.next().get();
                }
                assertThat(seen).as("delimiter %s, max-keys %d", delimiter, maxKeys).containsExactlyElementsOf(expected);
            }
        }
    }

    @Test
    void maxKeysZeroListsNothingAndResumesWhereItStarted() {
        for (ListPosition position : List.of(new ListPosition.Start(), new ListPosition.After("dir/b.txt"))) {
            ListPage p = page("", "/", 0, position);
            assertThat(p.objects()).isEmpty();
            assertThat(p.commonPrefixes()).isEmpty();
            assertThat(p.next()).as("truncated: entries are left").contains(position);
        }
        assertThat(page("", "/", 0, new ListPosition.After("z--y--x")).next()).as("nothing left").isEmpty();
    }

    @Test
    void nothingToListIsAnEmptyCompletePage() {
        ListPage p = Listings.page(List.of(), new ListQuery("", Optional.of("/"), 1000, new ListPosition.Start()));

        assertThat(p).isEqualTo(new ListPage(List.of(), List.of(), Optional.empty()));
        assertThat(page("nope/", "/", 1000, new ListPosition.Start()).next()).isEmpty();
    }

    @Test
    void aKeyEqualToThePrefixIsAnObject() {
        List<ObjectSummary> marker = objects("dir/", "dir/a");

        ListPage p = Listings.page(marker, new ListQuery("dir/", Optional.of("/"), 1000, new ListPosition.Start()));

        assertThat(keys(p)).containsExactly("dir/", "dir/a");
    }
}
