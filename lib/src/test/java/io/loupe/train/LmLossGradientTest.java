package io.loupe.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import io.loupe.hooks.Hooks;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelLoader;
import io.loupe.model.RandomModelWriter;
import io.loupe.model.Runtime;
import io.loupe.tensor.Tensors;
import io.loupe.tensor.TensorDtype;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The training loss's gradient with respect to the model's own parameters (the path {@link LmTrainer} trains through:
 * embeddings, stacked q/k/v, rotary attention, gated MLP, norms, untied head) against central finite differences,
 * in float64 (relative error below 1e-5: round-off in a loss of ~30 alone is ~3e-10 over 2h), on sequences with loss masks. Fails if any part of the forward pass is not differentiated correctly
 * or if the mask leaks.
 */
class LmLossGradientTest {
    @Test
    void parameterGradientsMatchFiniteDifferences(@TempDir Path dir) throws Exception {
        new RandomModelWriter(2, 16, 4, 2, 24, 40, 3, false, false, TensorDtype.F32, 1).write(dir);
        List<TrainSequence> seqs = List.of(
                new TrainSequence("a", new long[]{1, 5, 9, 12, 30, 7, 8, 21}, 1),
                new TrainSequence("b", new long[]{1, 33, 4, 17, 6}, 3));   // a QA-style row: only the last 2 tokens are targets
        try (LanguageModel model = ModelLoader.load(dir, Device.cpu(), DataType.FLOAT64)) {
            Map<String, NDArray> params = model.parameters();
            params.values().forEach(p -> p.setRequiresGradient(true));
            String[][] probes = {{"embed.weight", "5, 3"}, {"embed.weight", "17, 0"},
                {"blocks.0.attn.qkv.weight", "2, 7"}, {"blocks.0.attn.qkv.weight", "20, 1"},
                {"blocks.1.attn.out.weight", "4, 9"}, {"blocks.1.mlp.in.weight", "30, 2"},
                {"blocks.0.mlp.out.weight", "3, 11"}, {"blocks.1.norm1.weight", "6"},
                {"final_norm.weight", "2"}, {"unembed.weight", "21, 5"}};
            double[] analytic = new double[probes.length];
            synchronized (Runtime.AUTOGRAD) {
                try (NDManager m = model.manager().newSubManager(); GradientCollector gc = Runtime.engine().newGradientCollector()) {
                    gc.backward(LmLoss.summedNll(model, LmLoss.batch(m, seqs), seqs, Hooks.none()));
                    for (int i = 0; i < probes.length; i++) {
                        analytic[i] = params.get(probes[i][0]).getGradient().get(probes[i][1]).getDouble();
                    }
                }
            }
            params.values().forEach(p -> p.setRequiresGradient(false));
            double h = 1e-5;
            for (int i = 0; i < probes.length; i++) {
                NDArray p = params.get(probes[i][0]);
                NDIndex at = new NDIndex(probes[i][1]);
                double x = p.get(at).getDouble();
                p.set(at, x + h);
                double up = loss(model, seqs);
                p.set(at, x - h);
                double down = loss(model, seqs);
                p.set(at, x);
                double numeric = (up - down) / (2 * h);
                double err = Math.abs(numeric - analytic[i]) / Math.max(1e-8, Math.abs(numeric));
                assertTrue(Math.abs(numeric) > 1e-6, probes[i][0] + probes[i][1] + ": gradient " + numeric + " too small to test");
                assertTrue(err < 1e-5, probes[i][0] + "[" + probes[i][1] + "]: autograd " + analytic[i] + ", finite differences " + numeric);
            }
        }
    }

    private static double loss(LanguageModel model, List<TrainSequence> seqs) {
        try (NDManager m = model.manager().newSubManager()) {
            return Tensors.scalar(LmLoss.summedNll(model, LmLoss.batch(m, seqs), seqs, Hooks.none()));
        }
    }
}
