package io.loupe.collect;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.loupe.model.Runtime;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenStatsTest {
    private static final double LN2 = Math.log(2), LN3 = Math.log(3);

    @Test
    void handComputedLogprobAndEntropy() {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            // t0: uniform over 3 -> log p = -ln 3, H = ln 3; t1: p = [1/4, 1/2, 1/4] -> H = 1.5 ln 2.
            float[] l = {0, 0, 0, 0, (float) LN2, 0, 5, 1, -2};
            var logits = m.create(l, new Shape(1, 3, 3));
            var ids = m.create(new long[][]{{2, 0, 1}});
            var mask = m.create(new long[][]{{1, 1, 1}});
            float[] lp = TokenStats.nextTokenLogprob(logits, ids, mask)[0];
            assertEquals(-LN3, lp[0], 1e-6);        // next token 0 under uniform
            assertEquals(-LN2, lp[1], 1e-6);        // next token 1 has p = 1/2
            assertTrue(Float.isNaN(lp[2]), "last position has no next token");
            float[] h = TokenStats.entropy(logits)[0];
            assertEquals(LN3, h[0], 1e-6);
            assertEquals(1.5 * LN2, h[1], 1e-6);
        }
    }

    @Test
    void paddingAndOneTokenSequencesGiveNaN() {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            var logits = m.zeros(new Shape(1, 3, 4));
            float[] lp = TokenStats.nextTokenLogprob(logits, m.create(new long[][]{{1, 2, 0}}), m.create(new long[][]{{1, 1, 0}}))[0];
            assertEquals(-Math.log(4), lp[0], 1e-6);
            assertTrue(Float.isNaN(lp[1]), "next position is padding");
            var one = m.zeros(new Shape(1, 1, 4));
            assertTrue(Float.isNaN(TokenStats.nextTokenLogprob(one, m.create(new long[][]{{1}}), m.create(new long[][]{{1}}))[0][0]));
            assertEquals(Math.log(4), TokenStats.entropy(one)[0][0], 1e-6);
        }
    }
}
