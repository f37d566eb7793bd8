package io.loupe.dict;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.loupe.TestData;
import io.loupe.hooks.HookKind;
import io.loupe.hooks.HookPoint;
import io.loupe.model.Generator;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelLoader;
import io.loupe.model.Runtime;
import io.loupe.tensor.Tensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** End-to-end dictionaries: the losses on hand-computed cases, and training through stories260k that lowers the KL it targets. */
class EndToEndTrainerTest {
    @Test
    void klAndDownstreamMatchHandComputedValues() {
        try (NDManager m = Runtime.newManager(Device.cpu())) {
            // One valid position with p = (0.5, 0.5) and p̂ = (0.25, 0.75); one padded position that must not count.
            NDArray lp = m.create(new float[]{(float) Math.log(0.5), (float) Math.log(0.5), 0f, 0f}, new Shape(1, 2, 2));
            NDArray lpHat = m.create(new float[]{(float) Math.log(0.25), (float) Math.log(0.75), -5f, -5f}, new Shape(1, 2, 2));
            NDArray valid = m.create(new float[]{1, 0}, new Shape(1, 2));
            double expected = 0.5 * Math.log(0.5 / 0.25) + 0.5 * Math.log(0.5 / 0.75);
            assertEquals(expected, Tensors.scalar(EndToEndLosses.kl(lp, lpHat, valid)), 1e-6);
            assertEquals(0, Tensors.scalar(EndToEndLosses.kl(lp, lp, valid)), 1e-7, "no divergence from itself");

            // Two layers, one token each (a second, padded token ignored): relative errors 1/4 and 0, mean 1/8.
            NDArray a1 = m.create(new float[]{2, 0, 9, 9}, new Shape(1, 2, 2)), b1 = m.create(new float[]{2, 1, 0, 0}, new Shape(1, 2, 2));
            NDArray a2 = m.create(new float[]{1, 1, 9, 9}, new Shape(1, 2, 2));
            NDArray mask = m.create(new float[]{1, 0}, new Shape(1, 2));
            assertEquals(0.125, Tensors.scalar(EndToEndLosses.downstream(List.of(a1, a2), List.of(b1, a2), mask)), 1e-7);
            assertThrows(IllegalArgumentException.class, () -> EndToEndLosses.downstream(List.of(), List.of(), mask));
        }
    }

    @Test
    void trainingThroughTheModelLowersTheKlItTargets(@TempDir Path dir) throws Exception {
        try (LanguageModel model = ModelLoader.load(TestData.stories(), Device.cpu()); NDManager m = model.manager().newSubManager()) {
            List<long[]> seqs = new ArrayList<>();
            for (int seed = 0; seed < 6; seed++) {
                seqs.addAll(Generator.sample(model, new long[]{1}, 8, 31, 1.0, seed));
            }
            List<long[]> train = seqs.subList(0, 40), heldOut = seqs.subList(40, 48);
            HookPoint hook = HookPoint.of(2, HookKind.RESID_POST);
            SaeConfig cfg = SaeConfig.defaults(Architecture.TOPK, 64, 128, 8).withTraining(3e-3, 60, 256, 5, 12).withSeed(1);
            List<SaeTrainer.StepLog> log = new ArrayList<>();
            EndToEndTrainer.Settings e2e = new EndToEndTrainer.Settings(List.of(), 1.0, 0, 8);
            Map<String, Object> metrics = EndToEndRun.run(cfg, e2e, model, hook, train, heldOut, dir.resolve("e2e"), Map.of(), m, log::add);
            double firstKl = log.get(0).reconstruction(), lastKl = log.get(log.size() - 1).reconstruction();
            assertTrue(lastKl < 0.5 * firstKl, "the KL falls: " + firstKl + " -> " + lastKl);
            assertEquals(8.0, log.get(log.size() - 1).meanL0(), 1e-6, "TopK keeps k latents per token");
            assertEquals("e2e", metrics.get("objective"));
            double recovered = (double) metrics.get("ce_loss_recovered");
            assertTrue(recovered > 0.5 && recovered <= 1.05, "held-out CE loss recovered " + recovered);
            assertTrue(Files.exists(dir.resolve("e2e/sae_weights.safetensors")) && Files.exists(dir.resolve("e2e/metrics.json")));

            // e2e+ds: the downstream term is on, positive, and falls too.
            List<HookPoint> later = EndToEndTrainer.Settings.laterResidPosts(hook, model.config().numLayers());
            assertEquals(List.of(HookPoint.of(3, HookKind.RESID_POST), HookPoint.of(4, HookKind.RESID_POST)), later);
            List<SaeTrainer.StepLog> ds = new ArrayList<>();
            SaeConfig relu = SaeConfig.defaults(Architecture.RELU, 64, 128, 0).withTraining(3e-3, 40, 256, 4, 8).withSparsity(1e-3, 0).withSeed(1);
            EndToEndTrainer.train(relu, new EndToEndTrainer.Settings(later, 1.0, 1.0, 8), model, hook, train, m, 10, ds::add).sae().close();
            assertTrue(ds.get(0).aux() > 0 && ds.get(ds.size() - 1).aux() < ds.get(0).aux(), "downstream error falls: " + ds);
            assertTrue(ds.get(0).sparsity() > 0, "ReLU pays its L1");

            assertThrows(IllegalArgumentException.class, () -> EndToEndTrainer.train(SaeConfig.defaults(Architecture.GATED, 64, 128, 0), e2e, model,
                    hook, train, m, 10, l -> { }));
            assertThrows(IllegalArgumentException.class, () -> EndToEndTrainer.train(cfg, e2e, model, HookPoint.of(1, HookKind.ATTN_Z), train, m,
                    10, l -> { }));
        }
    }
}
