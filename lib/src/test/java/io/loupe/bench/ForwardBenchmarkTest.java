package io.loupe.bench;

import io.loupe.model.ModelConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ForwardBenchmarkTest {
    @Test
    void flopCountMatchesAHandCount() {
        // d=4, 2 heads of 2, 1 kv head, d_mlp=8, vocab 10, 1 layer; batch 1, seq 3.
        ModelConfig c = ModelConfig.llama("LlamaForCausalLM", 4, 8, 1, 2, 1, 2, 10, 1e-5, 1e4, false, false, 1, 2, io.loupe.model.MlpActivation.SILU);
        double perLayer = 4 * 4 + 2 * 4 * 2 + 4 * 4 + 3 * 4 * 8;        // q, k+v, o, gate+up+down = 144
        double linear = 2 * 3 * (perLayer + 4 * 10);                     // 2 * tokens * (144 + 40) = 1104
        double attention = 4 * 1 * 1 * 4 * (3 * 4 / 2);                  // 4 * B * L * (H*dh) * T(T+1)/2 = 96
        assertEquals(linear + attention, ForwardBenchmark.flops(c, 1, 3), 1e-9);
        double shapes = 0;
        for (long[] s : ForwardBenchmark.linearShapes(c)) {
            shapes += s[0] * s[1] * s[2];
        }
        assertEquals(linear, 2 * 3 * shapes, 1e-9, "the timed products are the pass's linear FLOPs");
    }

    @Test
    void pairedShareIsTheMedianOfEachPassAgainstItsOwnCeiling() {
        // 10 GFLOP in 1 s against 20 GFLOP/s: 0.5; in 0.5 s against 40: 0.5; in 2 s against 8: 0.625. Median 0.5, while
        // the best pass (0.5 s, 20 GFLOP/s) against the best ceiling (40) would also say 0.5 and against the worst 2.5.
        assertEquals(0.5, ForwardBenchmark.pairedShare(10, new double[]{1, 0.5, 2}, new double[]{20, 40, 8}), 1e-12);
        // Even count: the mean of the middle two shares (2.0, 0.25, 0.5, 1.0 -> 0.75).
        assertEquals(0.75, ForwardBenchmark.pairedShare(8, new double[]{1, 2, 4, 1}, new double[]{4, 16, 4, 8}), 1e-12);
        assertEquals(0.25, ForwardBenchmark.pairedShare(1, new double[]{2}, new double[]{2}), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> ForwardBenchmark.pairedShare(1, new double[0], new double[0]));
        assertThrows(IllegalArgumentException.class, () -> ForwardBenchmark.pairedShare(1, new double[]{1}, new double[]{1, 2}));
    }

    @Test
    void refusesNegativeWarmupsAndNoTimedPassesBeforeAnyWork() {
        // Checked before the model is touched: no model is needed to be refused.
        assertThrows(IllegalArgumentException.class, () -> ForwardBenchmark.forward("m", null, 1, 1, -1, 1, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> ForwardBenchmark.forward("m", null, 1, 1, 0, 0, 0, 1));
    }
}
