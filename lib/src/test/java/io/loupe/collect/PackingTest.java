package io.loupe.collect;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PackingTest {
    private static final List<Example> DOCS = List.of(
            new Example("a", new long[]{1, 10, 11, 12, 13}),
            new Example("b", new long[]{1, 20}),
            new Example("c", new long[]{1, 30, 31, 32, 33, 34, 35}));

    @Test
    void packsIntoFullWindowsWithStableIdsAndDropsNothing() {
        List<Example> w = Packing.pack(DOCS, 4);
        assertEquals(List.of("a@0", "a@4", "c@1", "c@5"), w.stream().map(Example::id).toList());
        assertArrayEquals(new long[]{1, 10, 11, 12}, w.get(0).tokens());
        assertArrayEquals(new long[]{13, 1, 20, 1}, w.get(1).tokens());
        assertArrayEquals(new long[]{30, 31, 32, 33}, w.get(2).tokens());
        assertArrayEquals(new long[]{34, 35}, w.get(3).tokens());          // the last window may be shorter
        assertEquals(14, w.stream().mapToInt(e -> e.tokens().length).sum());
    }

    @Test
    void windowLargerThanEverythingAndEdgeCases() {
        assertEquals(1, Packing.pack(DOCS, 100).size());
        assertEquals(List.of(), Packing.pack(List.of(), 4));
        assertEquals(14, Packing.pack(DOCS, 1).size());
        assertThrows(IllegalArgumentException.class, () -> Packing.pack(DOCS, 0));
    }

    @Test
    void truncationKeepsTheFirstTokens() {
        List<Example> t = Packing.truncate(DOCS, 3);
        assertArrayEquals(new long[]{1, 10, 11}, t.get(0).tokens());
        assertArrayEquals(new long[]{1, 20}, t.get(1).tokens());
        assertEquals(DOCS, Packing.truncate(DOCS, 0));
    }
}
