package io.loupe.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import io.loupe.TestData;
import io.loupe.hooks.HookKind;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With no hook on {@code attn.hook_pattern}, attention runs in query blocks that skip the keys a causal mask forbids;
 * with one, the full pattern is built (the form {@link FamilyReferenceTest} checks against the numpy reference). The two
 * must agree at every real position: logits and {@code attn.hook_z} of every layer, over sequences several blocks
 * long, right- and left-padded, with grouped-query heads (the random Llama), soft-caps and a sliding window (Gemma-2),
 * partial rotary and both residual forms (NeoX), and through a {@link KvCache} whose second chunk starts mid-block.
 */
class BlockCausalAttentionTest {
    private static final double TOL = 1e-5;
    /** Several 64-query blocks long, with ragged ends. */
    private static final int[] LENGTHS = {300, 171, 129};

    @Test
    void blockedEqualsFullOnTheRandomLlama(@TempDir Path dir) throws Exception {
        try (LanguageModel model = ModelLoader.load(RandomModels.write(dir, 3), Device.cpu())) {
            compare(model, "random llama (GQA)");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-gemma2", "tiny-neox", "tiny-neox-seq"})
    void blockedEqualsFullOnFamilyFixtures(String fixture) throws Exception {
        try (LanguageModel model = ModelLoader.load(TestData.shared().resolve("models").resolve(fixture), Device.cpu())) {
            compare(model, fixture);
        }
    }

    private static void compare(LanguageModel model, String what) {
        int vocab = model.config().vocabSize(), layers = model.config().numLayers();
        Random random = new Random(7);
        List<long[]> seqs = new ArrayList<>();
        for (int len : LENGTHS) {
            long[] s = new long[len];
            for (int t = 0; t < len; t++) {
                s[t] = 3 + random.nextInt(vocab - 3);
            }
            seqs.add(s);
        }
        List<HookPoint> zs = new ArrayList<>(), patterns = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            zs.add(HookPoint.of(l, HookKind.ATTN_Z));
            patterns.add(HookPoint.of(l, HookKind.ATTN_PATTERN));
        }
        try (NDManager m = model.manager().newSubManager()) {
            for (boolean left : new boolean[]{false, true}) {
                TokenBatch batch = left ? TokenBatch.leftPadded(m, seqs, 0) : TokenBatch.of(m, seqs, 0);
                Hooks blocked = Hooks.none().capture(zs), full = Hooks.none().capture(zs).capture(patterns);
                NDArray a = model.forward(batch, blocked), b = model.forward(batch, full);
                for (int i = 0; i < seqs.size(); i++) {
                    NDIndex real = realPositions(batch, i, left);
                    String where = what + (left ? ", left-padded" : ", right-padded") + ", row " + i;
                    assertClose(a.get(real), b.get(real), where + ", logits");
                    for (HookPoint z : zs) {
                        assertClose(blocked.captured(z).get(real), full.captured(z).get(real), where + ", " + z);
                    }
                }
            }
            // A cached pass whose second chunk (150 queries after 150 cached keys) starts inside a block.
            long[] first = java.util.Arrays.copyOf(seqs.get(0), 150), second = java.util.Arrays.copyOfRange(seqs.get(0), 150, 300);
            try (KvCache cache = new KvCache(model)) {
                model.forward(TokenBatch.of(m, List.of(first), 0), Hooks.none(), cache);
                NDArray cached = model.forward(TokenBatch.of(m, List.of(second), 0), Hooks.none(), cache);
                NDArray whole = model.forward(TokenBatch.of(m, List.of(seqs.get(0)), 0), Hooks.none().capture(patterns));
                assertClose(cached.get(new NDIndex("0")), whole.get(new NDIndex("0, 150:")), what + ", cached second chunk");
            }
        }
    }

    private static NDIndex realPositions(TokenBatch batch, int row, boolean left) {
        int len = batch.lengths()[row], pad = batch.seqLen() - len;
        return left ? new NDIndex("{}, {}:", row, pad) : new NDIndex("{}, :{}", row, len);
    }

    private static void assertClose(NDArray a, NDArray b, String what) {
        double err = TestData.maxAbsDiff(a.toFloatArray(), b.toFloatArray());
        assertTrue(err <= TOL, what + ": blocked and full attention differ by " + err);
    }
}
