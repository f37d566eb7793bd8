package io.loupe.dict;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.loupe.model.Runtime;
import io.loupe.tensor.Tensors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hand-written sparse backward pass ({@link TopKGradients}: active latents only, sparse products) gives the loss and
 * every parameter gradient that autograd gets from the dense form (codes as a [n, d_sae] array, decoded by a full matmul,
 * AuxK over dense pre-activations; {@link SaeTrainer#stepLoss}), with half the latents dead so AuxK runs, for an
 * autoencoder and a transcoder, TopK, BatchTopK and Matryoshka (nested widths). BatchTopK's threshold and L0 must match
 * too, also when one row holds more latents than its first candidates ({@link TopKGradients.Active#perBatch}).
 */
class SparseTopKTest {
    @ParameterizedTest
    @CsvSource({"TOPK, false, 1", "TOPK, true, 1", "BATCH_TOPK, false, 1", "BATCH_TOPK, true, 1", "MATRYOSHKA, false, 1",
        "MATRYOSHKA, true, 1", "BATCH_TOPK, false, 100"})   // one row 100× larger holds more than its 4k candidates: the widening search
    void sameLossAndGradientsAsTheDenseForm(Architecture arch, boolean transcoder, float loudRow) {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            Runtime.engine().setRandomSeed(11);
            SaeConfig cfg = SaeConfig.defaults(arch, 24, 96, 5).withSeed(4).withTranscoderOut(transcoder ? 16 : 0);
            NDArray rows = m.randomNormal(0, 1, new Shape(200, cfg.rowWidth()), DataType.FLOAT32);
            rows.set(new NDIndex("7"), rows.get("7").mul(loudRow));
            NDArray x = SaeTrainer.input(cfg, rows), y = SaeTrainer.target(cfg, rows);
            NDArray dead = m.arange(96).lt(48);
            List<float[]> sparse = new ArrayList<>(), dense = new ArrayList<>();
            double lossSparse, thresholdSparse, l0Sparse;
            try (SparseAutoencoder sae = SparseAutoencoder.init(cfg, m, SaeTrainer.target(cfg, rows))) {
                TopKGradients.Result r = TopKGradients.compute(cfg, sae, x, y, dead);
                lossSparse = Tensors.scalar(r.loss().total());
                r.gradients().forEach(g -> sparse.add(g.toFloatArray()));
                assertEquals(Tensors.scalar(r.loss().reconstruction()) + Tensors.scalar(r.loss().aux()), lossSparse, 1e-6 * lossSparse);
                assertTrue(Tensors.scalar(r.loss().aux()) > 0, "AuxK must run: half the latents are dead");
                thresholdSparse = sae.batchThreshold();
                l0Sparse = Tensors.scalar(r.loss().meanL0());
            }
            double[] thresholdDense = new double[1], l0Dense = new double[1], loudL0 = new double[1];
            double lossDense = gradients(cfg, rows, m, dense, sae -> {   // autograd through the dense form
                SaeTrainer.StepLoss l = SaeTrainer.stepLoss(cfg, sae, x, y, dead);
                thresholdDense[0] = sae.batchThreshold();
                l0Dense[0] = Tensors.scalar(l.meanL0());
                loudL0[0] = Tensors.scalar(sae.preActivations(x).get(7).stopGradient().gte(thresholdDense[0]).sum().toType(DataType.FLOAT32, false));
                return l.total();
            });
            assertEquals(lossDense, lossSparse, 1e-5 * Math.abs(lossDense));
            assertEquals(thresholdDense[0], thresholdSparse, 1e-6, "the BatchTopK inference threshold");
            assertEquals(l0Dense[0], l0Sparse, 1e-9, "mean L0");
            if (loudRow > 1) {
                assertTrue(loudL0[0] > 4 * 5, "the loud row must hold more than its 4k first candidates, but holds " + loudL0[0]);
            }
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

    @org.junit.jupiter.api.Test
    void onlyWideTopKCodesTrainSparsely() {
        assertTrue(SaeConfig.defaults(Architecture.TOPK, 512, 8192, 32).trainsSparsely());
        assertTrue(SaeConfig.defaults(Architecture.MATRYOSHKA, 64, 1024, 32).trainsSparsely());
        assertTrue(!SaeConfig.defaults(Architecture.BATCH_TOPK, 512, 512, 32).trainsSparsely(), "too few latents per active one");
        assertTrue(!SaeConfig.defaults(Architecture.RELU, 512, 8192, 32).trainsSparsely(), "ReLU codes have no top-k support");
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
