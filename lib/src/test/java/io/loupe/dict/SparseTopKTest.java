package io.loupe.dict;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.loupe.model.Runtime;
import io.loupe.tensor.Tensors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sparse TopK training path ({@link SaeTrainer#sparseTopK}: k latents per row gathered and decoded) gives the loss
 * and every parameter gradient of the dense form it replaces (TopK scattered into a [n, d_sae] array, decoded by a full
 * matmul, AuxK over dense pre-activations), with half the latents dead so AuxK runs, for an autoencoder and a transcoder.
 */
class SparseTopKTest {
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void sameLossAndGradientsAsTheDenseForm(boolean transcoder) {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            Runtime.engine().setRandomSeed(11);
            SaeConfig cfg = SaeConfig.defaults(Architecture.TOPK, 24, 96, 5).withSeed(4).withTranscoderOut(transcoder ? 16 : 0);
            NDArray rows = m.randomNormal(0, 1, new Shape(200, cfg.rowWidth()), DataType.FLOAT32);
            NDArray x = SaeTrainer.input(cfg, rows), y = SaeTrainer.target(cfg, rows);
            NDArray dead = m.arange(96).lt(48);
            List<float[]> sparse = new ArrayList<>(), dense = new ArrayList<>();
            double lossSparse = gradients(cfg, rows, m, sparse, sae -> SaeTrainer.sparseTopK(cfg, sae, x, y, dead).total());
            double lossDense = gradients(cfg, rows, m, dense, sae -> {
                NDArray pre = sae.preActivations(x);
                NDArray xHat = sae.decode(SparseAutoencoder.scatterTopK(pre, cfg.k()));
                NDArray aux = SaeLosses.auxK(y.sub(xHat).stopGradient(), pre, dead, sae.wDec, cfg.auxK());
                return SaeLosses.reconstruction(y, xHat).add(Tensors.times(aux, cfg.auxCoeff()));
            });
            assertEquals(lossDense, lossSparse, 1e-5 * Math.abs(lossDense));
            for (int i = 0; i < dense.size(); i++) {
                float scale = 0, err = 0;
                for (int j = 0; j < dense.get(i).length; j++) {
                    scale = Math.max(scale, Math.abs(dense.get(i)[j]));
                    err = Math.max(err, Math.abs(dense.get(i)[j] - sparse.get(i)[j]));
                }
                assertTrue(scale > 0, "parameter " + i + " has no gradient to compare");
                assertTrue(err <= 1e-5 * scale, "parameter " + i + ": sparse and dense gradients differ by " + err + " (scale " + scale + ")");
            }
        }
    }

    private static double gradients(SaeConfig cfg, NDArray rows, NDManager m, List<float[]> out,
                                     java.util.function.Function<SparseAutoencoder, NDArray> loss) {
        try (SparseAutoencoder sae = SparseAutoencoder.init(cfg, m, SaeTrainer.target(cfg, rows))) {
            sae.parameters().forEach(p -> p.setRequiresGradient(true));
            double value;
            synchronized (Runtime.AUTOGRAD) {
                try (GradientCollector gc = Runtime.engine().newGradientCollector()) {
                    NDArray l = loss.apply(sae);
                    gc.backward(l);
                    value = Tensors.scalar(l);
                }
            }
            for (NDArray p : sae.parameters()) {
                out.add(p.getGradient().toFloatArray());
            }
            return value;
        }
    }
}
