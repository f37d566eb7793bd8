package io.loupe.sparsity;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.loupe.TestData;
import io.loupe.forward.Prompt;
import io.loupe.forward.PromptReader;
import io.loupe.model.LanguageModel;
import io.loupe.model.ModelLoader;
import io.loupe.model.RandomModelWriter;
import io.loupe.tensor.TensorDtype;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pass-based protocol (what the Spark job runs) against the exact in-memory search, and shard merging. */
class SparsitySearchTest {
    @Test
    void shardsMergeToTheSingleShardSums(@TempDir Path dir) throws IOException {
        new RandomModelWriter(2, 64, 4, 2, 128, 320, 5, false, false, TensorDtype.F32, 1).write(dir);
        List<long[]> seqs = randomSequences(10, 320, 3);
        try (LanguageModel m = ModelLoader.load(dir, Device.cpu())) {
            SparsityPass.Request req = new SparsityPass.Request(true, new double[][]{{1e-4, 1e-3, 1e-2}, {1e-3, 1e-2, 1e-1}}, new double[]{1e-3, 1e-2});
            // batch size 1 everywhere, so every activation is bit-identical and only the summation order differs
            SparsityPass.Sums whole = SparsityPass.run(m, seqs, 1, 0, req);
            SparsityPass.Sums merged = SparsityPass.run(m, seqs.subList(0, 3), 1, 0, req).merge(SparsityPass.run(m, seqs.subList(3, 10), 1, 0, req));
            assertEquals(whole.tokens, merged.tokens);
            assertEquals(whole.lossPositions, merged.lossPositions);
            assertArrayEquals(whole.nonzero, merged.nonzero);
            assertArrayEquals(whole.live, merged.live);
            for (int l = 0; l < 2; l++) {
                assertArrayEquals(whole.neuronActive[l], merged.neuronActive[l]);
                assertArrayEquals(whole.absHist[l], merged.absHist[l]);
                assertArrayEquals(whole.top3[l], merged.top3[l]);
                assertArrayEquals(whole.above[l], merged.above[l]);
                assertArrayEquals(whole.cettSum[l], merged.cettSum[l], 1e-9 * whole.tokens);
            }
            assertEquals(whole.nllDense, merged.nllDense, 1e-6 * Math.abs(whole.nllDense));
            assertEquals(whole.nllSparse, merged.nllSparse, 1e-6 * Math.abs(whole.nllSparse));
        }
    }

    @Test
    void gridRefinementMatchesTheExactSearchOnStories() throws IOException {
        TestData.shared();
        List<long[]> seqs = PromptReader.readJsonl(TestData.vectors().resolve("prompts.jsonl")).stream().map(Prompt::tokenIds).toList();
        try (LanguageModel model = ModelLoader.load(TestData.stories(), Device.cpu()); NDManager m = model.manager().newSubManager()) {
            SparsityRunner exact = new SparsityRunner(model, seqs, 2, 0.0, m);
            SparsityRunner.Report want = exact.atCett(0.2);
            SparsityRunner.Report got = SparsitySearch.local(model, seqs, 2, 0.0, 0.2, null, 1e-3);
            assertEquals(want.tokens(), got.tokens());
            assertEquals(want.lossDense(), got.lossDense(), 1e-6);
            assertEquals(want.lossSparse(), got.lossSparse(), 2e-3);
            assertEquals(want.overallActivationRatio(), got.overallActivationRatio(), 2e-3);
            for (int l = 0; l < want.layers().size(); l++) {
                SparsityRunner.Layer a = want.layers().get(l), b = got.layers().get(l);
                assertEquals(a.nonzeroFraction(), b.nonzeroFraction(), 1e-12);
                assertEquals(a.deadNeurons(), b.deadNeurons());
                assertArrayEquals(a.massiveTop3(), b.massiveTop3());
                assertEquals(a.massiveMedian(), b.massiveMedian(), 0.025 * a.massiveMedian(), "median to the histogram's resolution");
                assertEquals(a.threshold(), b.threshold(), 5e-3 * a.threshold(), "layer " + l);
                assertEquals(a.activationRatio(), b.activationRatio(), 2e-3, "layer " + l);
                assertTrue(b.cett() <= 0.2 + 1e-9, "never above the target: " + b.cett());
                assertEquals(a.cett(), b.cett(), 2e-3);
            }
            SparsityRunner.Report p = SparsitySearch.local(model, seqs, 4, 0.0, null, 0.01, 1e-2);
            double ratio = Math.exp(p.lossSparse() - p.lossDense());
            assertTrue(ratio <= 1.01 && p.cettTarget() > 0, "PPL-1%: ratio " + ratio + " at " + p.cettTarget());
            // On 89 tokens the loss ratio is not monotone near 1.01 (1.0094 at CETT 0.10, 1.0098 by the grid, 1.0095 at 0.125), so
            // bisections may settle on different targets; the exact search at the target found must agree with what was reported.
            SparsityRunner.Report q = exact.atCett(p.cettTarget());
            // (PPL-p% thresholds come from one refinement round, about 1% of a threshold; on 89 tokens that moves the loss ratio by < 1%.)
            assertEquals(Math.exp(q.lossSparse() - q.lossDense()), ratio, 1e-2);
            assertEquals(q.overallActivationRatio(), p.overallActivationRatio(), 5e-3);
        }
    }

    private static List<long[]> randomSequences(int n, int vocab, long seed) {
        Random r = new Random(seed);
        List<long[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long[] s = new long[3 + r.nextInt(12)];
            for (int t = 0; t < s.length; t++) {
                s[t] = 3 + r.nextInt(vocab - 3);
            }
            out.add(s);
        }
        return out;
    }
}
