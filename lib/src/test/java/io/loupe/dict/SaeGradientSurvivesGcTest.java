package io.loupe.dict;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.loupe.model.Runtime;
import io.loupe.tensor.GcChurn;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The dictionary's training loss ({@link SaeTrainer#stepLoss}, with half the latents dead so AuxK runs) gives the same
 * gradients, byte for byte, when the garbage collector runs between forward and backward ({@link GcChurn}). Before
 * {@code Tensors.constant}, λ, α and JumpReLU's 1/ε were DJL-made constants, freed before the backward pass read them:
 * JumpReLU's threshold gradient went NaN in runs that trained two dictionaries at once.
 */
class SaeGradientSurvivesGcTest {
    @ParameterizedTest
    @EnumSource(Architecture.class)
    void stepLossGradients(Architecture a) {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            Runtime.engine().setRandomSeed(4);
            NDArray x = m.randomNormal(0, 1, new Shape(64, 16), DataType.FLOAT32);
            NDArray dead = m.arange(32).lt(16);
            SaeConfig cfg = SaeConfig.defaults(a, 16, 32, 4).withSparsity(0.3, 0.08).withJump(0.1, 0.1).withSeed(2);
            List<byte[]> plain = gradients(cfg, x, dead, m, false), churned = gradients(cfg, x, dead, m, true);
            for (int i = 0; i < plain.size(); i++) {
                assertArrayEquals(plain.get(i), churned.get(i), a + ": gradient of parameter " + i + " changed when the GC ran before backward");
            }
        }
    }

    private static List<byte[]> gradients(SaeConfig cfg, NDArray x, NDArray dead, NDManager m, boolean churn) {
        List<byte[]> out = new ArrayList<>();
        try (SparseAutoencoder sae = SparseAutoencoder.init(cfg, m, x)) {
            sae.parameters().forEach(p -> p.setRequiresGradient(true));
            synchronized (Runtime.AUTOGRAD) {
                try (GradientCollector real = Runtime.engine().newGradientCollector()) {
                    GradientCollector gc = churn ? GcChurn.around(real) : real;
                    gc.backward(SaeTrainer.stepLoss(cfg, sae, x, x, dead).total());
                }
            }
            for (NDArray p : sae.parameters()) {
                ByteBuffer b = p.getGradient().toByteBuffer();
                byte[] bytes = new byte[b.remaining()];
                b.get(bytes);
                out.add(bytes);
            }
        }
        return out;
    }
}
