package io.loupe.dict;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.loupe.model.Runtime;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bounded shuffle buffer: each row once per epoch, mixed, seeded, and skippable for resumes. */
class ShuffleBufferSourceTest {
    /** Rows {i, -i} for i in [0, n). */
    private static Supplier<Iterator<float[]>> stream(int n) {
        return () -> new Iterator<>() {
            int i;

            public boolean hasNext() {
                return i < n;
            }

            public float[] next() {
                float[] r = {i, -i};
                i++;
                return r;
            }
        };
    }

    private static float[] draw(ShuffleBufferSource s, NDManager m, int n) {
        return s.next(m, n).toFloatArray();
    }

    @Test
    void servesEachRowOncePerEpochInAMixedSeededOrder() {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            int n = 1000, cap = 100;
            ShuffleBufferSource s = new ShuffleBufferSource(stream(n), 2, cap, 3);
            float[] rows = draw(s, m, n);
            Set<Float> firstEpoch = new HashSet<>();
            for (int i = 0; i < n - cap; i++) {
                assertEquals(0f, rows[2 * i] + rows[2 * i + 1], "rows stay whole");
                assertTrue(firstEpoch.add(rows[2 * i]), "row " + rows[2 * i] + " served twice before the stream came round again");
            }
            assertEquals(1, s.epochs(), "the stream reopened once the first epoch's rows had all entered");
            int inOrder = 0;
            for (int i = 0; i < 100; i++) {
                inOrder += rows[2 * i] == i ? 1 : 0;
            }
            assertTrue(inOrder < 10, "mixed, not the stream order: " + inOrder);
            assertArrayEquals(rows, draw(new ShuffleBufferSource(stream(n), 2, cap, 3), m, n), "same seed, same order");
            assertFalse(java.util.Arrays.equals(rows, draw(new ShuffleBufferSource(stream(n), 2, cap, 4), m, n)), "another seed, another order");
        }
    }

    @Test
    void skippingEqualsDrawingAndBadStreamsFailClearly() {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            ShuffleBufferSource a = new ShuffleBufferSource(stream(50), 2, 16, 1), b = new ShuffleBufferSource(stream(50), 2, 16, 1);
            draw(a, m, 137);
            b.skip(m, 137);
            assertArrayEquals(draw(a, m, 20), draw(b, m, 20));

            ShuffleBufferSource small = new ShuffleBufferSource(stream(5), 2, 64, 0);
            assertEquals(5, small.held(), "a stream smaller than the buffer is held whole");
            assertEquals(30, draw(small, m, 15).length);
            assertThrows(IllegalArgumentException.class, () -> new ShuffleBufferSource(stream(0), 2, 8, 0), "empty stream");
            List<float[]> wrong = new ArrayList<>(List.of(new float[]{1, 2, 3}));
            assertThrows(IllegalArgumentException.class, () -> new ShuffleBufferSource(wrong::iterator, 2, 8, 0), "width mismatch");
        }
    }
}
