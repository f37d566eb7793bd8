package io.loupe.model;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import io.loupe.TestData;
import io.loupe.hooks.Hooks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Decoding with a {@link KvCache} against the full forward pass: each incremental step's logits equal the full pass's
 * at that position, and a left-padded batch of prompts of different lengths decodes each row as it decodes alone.
 * Fails if cached keys, positions or the key mask are off by one anywhere.
 */
class GeneratorTest {
    @Test
    void cachedStepsEqualTheFullForward(@TempDir Path dir) throws Exception {
        RandomModels.write(dir, 4);
        try (LanguageModel model = ModelLoader.load(dir, Device.cpu()); NDManager m = model.manager().newSubManager();
             KvCache cache = new KvCache(model)) {
            long[] ids = {1, 40, 77, 5, 300, 12, 9, 200, 33};
            float[] full = model.forward(TokenBatch.of(m, List.of(ids), 0), Hooks.none()).get(new NDIndex("0")).toFloatArray();
            int vocab = model.config().vocabSize();
            float[] first = model.forward(TokenBatch.of(m, List.of(java.util.Arrays.copyOf(ids, 4)), 0), Hooks.none(), cache)
                    .get(new NDIndex("0")).toFloatArray();
            assertClose(java.util.Arrays.copyOfRange(full, 0, 4 * vocab), first, "prompt positions");
            for (int t = 4; t < ids.length; t++) {
                float[] step = model.forward(TokenBatch.of(m, List.of(new long[]{ids[t]}), 0), Hooks.none(), cache)
                        .get(new NDIndex("0, 0")).toFloatArray();
                assertClose(java.util.Arrays.copyOfRange(full, t * vocab, (t + 1) * vocab), step, "position " + t);
            }
            assertEquals(ids.length, cache.length());
        }
    }

    @Test
    void leftPaddedBatchDecodesLikeSingles(@TempDir Path dir) throws Exception {
        RandomModels.write(dir, 5);
        try (LanguageModel model = ModelLoader.load(dir, Device.cpu())) {
            List<long[]> prompts = List.of(new long[]{1, 7, 90, 4, 61, 8}, new long[]{1, 250}, new long[]{1, 3, 3, 3});
            List<long[]> batched = Generator.greedy(model, prompts, 6, -1);
            long[][] alone = new long[prompts.size()][];
            for (int i = 0; i < prompts.size(); i++) {
                alone[i] = uncachedGreedy(model, prompts.get(i), 6);
                assertArrayEquals(alone[i], batched.get(i), "prompt " + i);
            }
            // Logits, not only argmaxes: each cached step of the padded batch equals the row's own full forward pass.
            int vocab = model.config().vocabSize();
            try (NDManager m = model.manager().newSubManager(); KvCache cache = new KvCache(model)) {
                float[] first = model.forward(TokenBatch.leftPadded(m, prompts, 0), Hooks.none(), cache).get(new NDIndex(":, -1, :")).toFloatArray();
                for (int t = 0; t < 6; t++) {
                    float[] step = first;
                    if (t > 0) {
                        List<long[]> next = new ArrayList<>();
                        for (long[] a : alone) {
                            next.add(new long[]{a[t - 1]});
                        }
                        step = model.forward(TokenBatch.of(m, next, 0), Hooks.none(), cache).get(new NDIndex(":, -1, :")).toFloatArray();
                    }
                    for (int i = 0; i < prompts.size(); i++) {
                        long[] seq = java.util.Arrays.copyOf(prompts.get(i), prompts.get(i).length + t);
                        System.arraycopy(alone[i], 0, seq, prompts.get(i).length, t);
                        float[] want = model.forward(TokenBatch.of(m, List.of(seq), 0), Hooks.none()).get(new NDIndex("0, -1")).toFloatArray();
                        assertClose(want, java.util.Arrays.copyOfRange(step, i * vocab, (i + 1) * vocab), "row " + i + " step " + t);
                    }
                }
            }
        }
    }

    /** stories260k's greedy story through the cached decoder (the known opening). */
    @Test
    void storiesGreedyTextThroughTheCache() throws Exception {
        Path dir = TestData.stories();
        try (LanguageModel model = ModelLoader.load(dir, Device.cpu());
             var tok = io.loupe.tokenize.PromptTokenizer.load(dir, model.config())) {
            long[] ids = Generator.greedy(model, new long[]{1}, 16, 2);
            assertTrue(tok.decode(ids).startsWith("Once upon a time, there was a little girl named Lily."), tok.decode(ids));
        }
    }

    private static long[] uncachedGreedy(LanguageModel model, long[] prompt, int n) {
        List<Long> out = new ArrayList<>();
        long[] ids = prompt.clone();
        for (int i = 0; i < n; i++) {
            try (NDManager m = model.manager().newSubManager()) {
                long next = model.forward(TokenBatch.of(m, List.of(ids), 0), Hooks.none()).get(new NDIndex("0, -1")).argMax().getLong();
                out.add(next);
                ids = java.util.Arrays.copyOf(ids, ids.length + 1);
                ids[ids.length - 1] = next;
            }
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    private static void assertClose(float[] want, float[] got, String what) {
        double d = io.loupe.TestData.maxAbsDiff(want, got);
        assertTrue(d < 1e-4, what + ": max abs difference " + d);
    }
}
