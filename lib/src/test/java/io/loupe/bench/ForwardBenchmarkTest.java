package io.loupe.bench;

import io.loupe.model.ModelConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
