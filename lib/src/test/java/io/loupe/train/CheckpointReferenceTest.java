package io.loupe.train;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.loupe.TestData;
import io.loupe.hooks.Hooks;
import io.loupe.model.LanguageModel;
import io.loupe.model.MlpActivation;
import io.loupe.model.ModelCheckpoint;
import io.loupe.model.ModelConfig;
import io.loupe.model.ModelLoader;
import io.loupe.model.TokenBatch;
import io.loupe.tensor.SafetensorsFile;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A trained checkpoint is a plain Hugging Face directory: the independent numpy reference
 * ({@code ../shared/peers/refmodel.py}) reads it and computes the same logits as Loupe (1e-4). Fails if a weight is
 * written under the wrong name, split from its stack in the wrong order, or the config misdescribes the model.
 */
class CheckpointReferenceTest {
    @Test
    void numpyReferenceReadsTrainedCheckpoint(@TempDir Path dir) throws Exception {
        Path peers = TestData.shared().resolve("peers");
        Assumptions.assumeTrue(python("import numpy") == 0, "python3 with numpy not found: skipping the numpy cross-check");
        ModelConfig cfg = TinyModels.config(true, MlpActivation.SILU);   // refmodel.py reads tied SiLU Llamas
        Path ckpt = dir.resolve("step5");
        List<long[]> prompts = List.of(new long[]{1, 9, 33, 12, 40, 7}, new long[]{1, 50, 3});
        float[][] loupe = new float[2][];
        try (LanguageModel model = TinyModels.fresh(cfg, 11)) {
            TrainData data = TrainData.trainOnly(TinyModels.randomSequences(8, 12, 64, 6));
            LmTrainer.train(model, data, TrainConfig.defaults(1e-2, 4, 5, 0), new LmTrainer.Listener() {
                @Override
                public void onStep(StepLog log) {
                }

                @Override
                public void onCheckpoint(int step, long tokensSeen) throws java.io.IOException {
                    ModelCheckpoint.write(model, cfg.toJson(), null, tokensSeen, ckpt);
                }
            }, null);
        }
        assertFalse(Files.list(dir).anyMatch(p -> p.getFileName().toString().contains("partial")), "no partial directory is left");
        JsonObject written = JsonParser.parseString(Files.readString(ckpt.resolve("config.json"))).getAsJsonObject();
        assertEquals(5 * 4 * 12, written.get("tokens_seen").getAsLong());
        try (LanguageModel reloaded = ModelLoader.load(ckpt, Device.cpu()); NDManager m = reloaded.manager().newSubManager()) {
            for (int i = 0; i < prompts.size(); i++) {
                loupe[i] = reloaded.forward(TokenBatch.of(m, List.of(prompts.get(i)), 0), Hooks.none()).get(new NDIndex("0")).toFloatArray();
            }
        }
        Path out = dir.resolve("ref.safetensors");
        String script = "import sys; sys.path.insert(0, '" + peers + "'); import refmodel as r\n"
                + "out = {}\n"
                + "for i, ids in enumerate([[1, 9, 33, 12, 40, 7], [1, 50, 3]]):\n"
                + "    out['p%d' % i] = r.forward('" + ckpt + "', ids)[0]\n"
                + "r.save_safetensors('" + out + "', out)\n";
        assertEquals(0, python(script), "refmodel.py failed on the checkpoint");
        SafetensorsFile ref = SafetensorsFile.open(out);
        for (int i = 0; i < prompts.size(); i++) {
            double diff = TestData.maxAbsDiff(loupe[i], TestData.floats(ref, "p" + i));
            assertTrue(diff < 1e-4, "prompt " + i + ": max |loupe - numpy| = " + diff);
        }
    }

    /**
     * The same for every other family: a fixture trained for 3 steps and written as a checkpoint is read by the numpy
     * reference of its family ({@code refarch.py}) and gives Loupe's logits (1e-4). Fails on any wrong transpose,
     * regrouping or name in the family's writer.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"tiny-gpt2", "tiny-neox", "tiny-neox-seq", "tiny-gemma2"})
    void familyCheckpointsReadByTheirReference(String fixture, @TempDir Path dir) throws Exception {
        Path shared = TestData.shared(), peers = shared.resolve("peers"), source = shared.resolve("models").resolve(fixture);
        Assumptions.assumeTrue(python("import numpy") == 0, "python3 with numpy not found: skipping the numpy cross-check");
        Path ckpt = dir.resolve("step3");
        long[] ids = {403, 407, 261, 378, 432, 383, 286, 261, 376};
        float[] loupe;
        try (LanguageModel model = ModelLoader.load(source, Device.cpu())) {
            JsonObject cfg = JsonParser.parseString(Files.readString(source.resolve("config.json"))).getAsJsonObject();
            LmTrainer.train(model, TrainData.trainOnly(TinyModels.randomSequences(8, 12, 512, 9)), TrainConfig.defaults(1e-2, 4, 3, 0),
                    new LmTrainer.Listener() {
                        @Override
                        public void onStep(StepLog log) {
                        }

                        @Override
                        public void onCheckpoint(int step, long tokensSeen) throws java.io.IOException {
                            ModelCheckpoint.write(model, cfg, source, tokensSeen, ckpt);
                        }
                    }, null);
            try (LanguageModel reloaded = ModelLoader.load(ckpt, Device.cpu()); NDManager m = reloaded.manager().newSubManager()) {
                loupe = reloaded.forward(TokenBatch.of(m, List.of(ids), 0), Hooks.none()).get(new NDIndex("0")).toFloatArray();
            }
        }
        Path out = dir.resolve("ref.safetensors");
        String script = "import sys; sys.path.insert(0, '" + peers + "'); import refarch, refmodel\n"
                + "refmodel.save_safetensors('" + out + "', {'p': refarch.forward('" + ckpt + "', " + java.util.Arrays.toString(ids) + ")[0]})\n";
        assertEquals(0, python(script), "refarch.py failed on the checkpoint");
        double diff = TestData.maxAbsDiff(loupe, TestData.floats(SafetensorsFile.open(out), "p"));
        assertTrue(diff < 1e-4, fixture + ": max |loupe - numpy| = " + diff);
    }

    private static int python(String code) throws Exception {
        try {
            Process p = new ProcessBuilder("python3", "-c", code).inheritIO().start();
            return p.waitFor(120, TimeUnit.SECONDS) ? p.exitValue() : -1;
        } catch (java.io.IOException e) {
            return -1;
        }
    }
}
