package io.loupe.dict;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import io.loupe.model.Runtime;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * Encoding batch after batch (the feature table and the DataFrame encoder run it per batch of a partition) leaves
 * nothing on the dictionary's own manager: JumpReLU's θ = exp(log θ) and its terms, Gated's e^{r_mag}, once stayed
 * there per batch, ~8·n·d_sae bytes for JumpReLU.
 */
class EncodeFreesItsWorkTest {
    @ParameterizedTest
    @EnumSource(Architecture.class)
    void encodingBatchesLeavesTheDictionaryAsItWas(Architecture a) {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            NDArray sample = m.randomNormal(new Shape(64, 16));
            SaeConfig cfg = SaeConfig.defaults(a, 16, 40, 4).withJump(0.1, 0.3);
            SparseAutoencoder sae = SparseAutoencoder.init(cfg, m, sample);
            NDManager own = sae.wEnc.getManager();
            int before = own.getManagedArrays().size();
            for (int batch = 0; batch < 3; batch++) {
                try (NDManager b = m.newSubManager()) {
                    NDArray x = b.randomNormal(new Shape(32, 16));
                    NDArray f = sae.encode(x);
                    assertSame(b, f.getManager(), "codes belong to the batch");
                    assertEquals(new Shape(32, 40), f.getShape());
                    if (a == Architecture.JUMPRELU) {   // inference is pre·H(pre − θ), with no straight-through term
                        try (NDScope check = new NDScope()) {
                            NDArray pre = sae.preActivations(x);
                            float[] expected = pre.mul(pre.gt(sae.logThreshold.exp())).toFloatArray();
                            for (int i = 0; i < expected.length; i++) {
                                expected[i] += 0f;   // −0 (negative pre times 0) to +0, as codes are written
                            }
                            assertArrayEquals(expected, f.toFloatArray());
                        }
                    }
                }
            }
            assertEquals(before, own.getManagedArrays().size(), a + ": arrays left on the dictionary's manager");
        }
    }

    /**
     * Setting up a fit keeps nothing sample-sized beyond the dictionary: the activation scales (squares, a transcoder's
     * column copies) and b_dec's geometric median (50 Weiszfeld iterations, each with sample-sized temporaries) are freed.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void fitSetupLeavesOnlyTheDictionary(boolean transcoder) {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            SaeConfig cfg = SaeConfig.defaults(Architecture.TOPK, 16, 40, 4).withBDecInit("median").withNormalize(true);
            if (transcoder) {
                cfg = cfg.withTranscoderOut(8);
            }
            NDArray sample = m.randomNormal(new Shape(256, cfg.rowWidth()));
            int before = m.getManagedArrays().size();
            ActivationScale scale = ActivationScale.estimate(cfg, sample);
            assertEquals(before, m.getManagedArrays().size(), "the scales' temporaries were freed");
            SparseAutoencoder sae = SparseAutoencoder.init(cfg, m, sample);
            assertEquals(before + sae.parameters().size(), m.getManagedArrays().size(), "only the dictionary's parameters were added");
            assertEquals(true, scale.in() > 0);
        }
    }
}
