package io.loupe.dict;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.loupe.TestData;
import io.loupe.forward.Prompt;
import io.loupe.forward.PromptReader;
import io.loupe.hooks.HookPoint;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelLoader;
import io.loupe.tensor.SafetensorsFile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SpliceEvalTest {
    @Test
    void ceRecoveredFormula() {
        assertEquals(0.75, new SpliceEval.Result(1.0, 1.5, 3.0, 0.1, 10).ceRecovered(), 1e-12);   // (3 − 1.5) / (3 − 1)
        assertEquals(1.0, new SpliceEval.Result(1.0, 1.0, 3.0, 0, 10).ceRecovered(), 1e-12);
        assertEquals(0.0, new SpliceEval.Result(1.0, 3.0, 3.0, 0, 10).ceRecovered(), 1e-12);
    }

    @Test
    void cleanLossIsTheReferenceNextTokenLoss() throws IOException {
        TestData.shared();
        SafetensorsFile ref = SafetensorsFile.open(TestData.vectors().resolve("reference.safetensors"));
        List<Prompt> prompts = PromptReader.readJsonl(TestData.vectors().resolve("prompts.jsonl"));
        double nll = 0;
        long n = 0;
        for (Prompt p : prompts) {
            float[] logits = TestData.floats(ref, p.id() + ".logits");
            long[] ids = p.tokenIds();
            for (int t = 0; t + 1 < ids.length; t++) {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int v = 0; v < 512; v++) {
                    max = Math.max(max, logits[t * 512 + v]);
                }
                for (int v = 0; v < 512; v++) {
                    sum += Math.exp(logits[t * 512 + v] - max);
                }
                nll -= logits[t * 512 + (int) ids[t + 1]] - max - Math.log(sum);
                n++;
            }
        }
        try (LanguageModel model = ModelLoader.load(TestData.stories(), Device.cpu()); NDManager m = model.manager().newSubManager()) {
            NDArray sample = m.randomNormal(0, 1, new ai.djl.ndarray.types.Shape(64, 64), ai.djl.ndarray.types.DataType.FLOAT32);
            SparseAutoencoder sae = SparseAutoencoder.init(SaeConfig.defaults(Architecture.TOPK, 64, 128, 8), m, sample);
            SpliceEval.Result r = SpliceEval.evaluate(model, sae, HookPoint.parse("blocks.2.hook_resid_post"), HookPoint.parse("blocks.2.hook_resid_post"),
                    prompts.stream().map(Prompt::tokenIds).toList(), 3);
            assertEquals(n, r.tokens());
            assertEquals(nll / n, r.ceClean(), 1e-4);
            assertTrue(r.ceZero() > r.ceClean() && r.kl() > 0, "ablating the residual stream must hurt");
        }
    }
}
