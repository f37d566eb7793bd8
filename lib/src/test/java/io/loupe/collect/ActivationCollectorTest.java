package io.loupe.collect;

import ai.djl.Device;
import io.loupe.TestData;
import io.loupe.forward.Prompt;
import io.loupe.forward.PromptReader;
import io.loupe.hooks.HookPoint;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelLoader;
import io.loupe.tensor.SafetensorsFile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The rows collect stores, against the reference vectors, without Spark. */
class ActivationCollectorTest {
    private static final List<HookPoint> HOOKS = HookPoint.parseList(
            "blocks.0.hook_resid_pre,blocks.2.attn.hook_z,blocks.3.mlp.hook_post,blocks.4.hook_resid_post");

    @Test
    void float32RowsMatchTheReferenceAndCountExactly() throws IOException {
        check(ValueDtype.FLOAT32, 1e-4, 0);
    }

    @Test
    void bfloat16RowsAreCorrectlyRounded() throws IOException {
        // Round-to-nearest into bfloat16's 8-bit significand errs by at most half an ulp, 2^-8 of the value (truncation errs by up
        // to 2^-7 and fails here), on top of float32's own 1e-4 against the reference (which dominates near zero).
        check(ValueDtype.BFLOAT16, 1e-4 * (1 + 0x1p-8), 0x1p-8);
    }

    private void check(ValueDtype dtype, double absTol, double relTol) throws IOException {
        TestData.shared();
        SafetensorsFile ref = SafetensorsFile.open(TestData.vectors().resolve("reference.safetensors"));
        List<Example> examples = new ArrayList<>();
        for (Prompt p : PromptReader.readJsonl(TestData.vectors().resolve("prompts.jsonl"))) {
            examples.add(new Example(p.id(), p.tokenIds()));
        }
        try (LanguageModel model = ModelLoader.load(TestData.stories(), Device.cpu())) {
            ActivationCollector c = new ActivationCollector(model, HOOKS, dtype, 3, 5);
            Map<String, float[]> refCache = new HashMap<>();
            long rows = 0;
            for (Iterator<ActivationRow> it = c.collect(examples); it.hasNext(); rows++) {
                ActivationRow r = it.next();
                String key = r.exampleId() + "." + r.hook();
                float[] all = refCache.computeIfAbsent(key, k -> {
                    try {
                        return TestData.floats(ref, k);
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                float[] got = dtype.decode(r.values());
                for (int i = 0; i < got.length; i++) {
                    float want = all[r.position() * got.length + i];
                    double err = Math.abs(got[i] - want);
                    assertTrue(err <= absTol + relTol * Math.abs(want), key + " pos " + r.position() + "[" + i + "]: " + got[i] + " vs " + want);
                }
                assertEquals(5, r.topkIds().length);
                assertTrue(Float.isFinite(r.entropy()) && r.entropy() >= 0);
            }
            long tokens = examples.stream().mapToLong(e -> e.tokens().length).sum();
            assertEquals(tokens * HOOKS.size(), rows);
            assertEquals(tokens, c.tokens());
        }
    }

    @Test
    void logprobAndTopKAgreeWithTheReferenceLogits() throws IOException {
        TestData.shared();
        SafetensorsFile ref = SafetensorsFile.open(TestData.vectors().resolve("reference.safetensors"));
        Prompt p = PromptReader.readJsonl(TestData.vectors().resolve("prompts.jsonl")).get(2);
        float[] logits = TestData.floats(ref, p.id() + ".logits");
        int v = 512;
        try (LanguageModel model = ModelLoader.load(TestData.stories(), Device.cpu())) {
            Iterator<ActivationRow> it = new ActivationCollector(model, HOOKS.subList(0, 1), ValueDtype.FLOAT32, 1, 3)
                    .collect(List.of(new Example(p.id(), p.tokenIds())));
            while (it.hasNext()) {
                ActivationRow r = it.next();
                int t = r.position();
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int i = 0; i < v; i++) {
                    max = Math.max(max, logits[t * v + i]);
                }
                for (int i = 0; i < v; i++) {
                    sum += Math.exp(logits[t * v + i] - max);
                }
                double lse = max + Math.log(sum);
                if (t + 1 < p.tokenIds().length) {
                    assertEquals(logits[t * v + (int) p.tokenIds()[t + 1]] - lse, r.nextTokenLogprob(), 1e-4);
                } else {
                    assertTrue(Float.isNaN(r.nextTokenLogprob()));
                }
                assertEquals(max, r.topkLogits()[0], 1e-4);
                assertEquals(max, logits[t * v + r.topkIds()[0]], 1e-4);
            }
        }
    }

    @Test
    void refusesPatternsAndEmptyHookLists() throws IOException {
        TestData.shared();
        try (LanguageModel model = ModelLoader.load(TestData.stories(), Device.cpu())) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> new ActivationCollector(model,
                    HookPoint.parseList("blocks.0.attn.hook_pattern"), ValueDtype.FLOAT32, 1, 0)).getMessage().contains("forward"));
            assertThrows(IllegalArgumentException.class, () -> new ActivationCollector(model, List.of(), ValueDtype.FLOAT32, 1, 0));
            assertThrows(IllegalArgumentException.class, () -> new ActivationCollector(model, HookPoint.parseList("blocks.9.hook_resid_pre"),
                    ValueDtype.FLOAT32, 1, 0));
        }
    }
}
