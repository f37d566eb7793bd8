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
            // The reported ratio is the perplexity ratio of the reported thresholds: recomputed here independently of the search (zero
            // mlp.hook_post wherever |x_i|·||W_down[:, i]|| <= t_l, through plain replace hooks), to 1e-5. The search's own ±1e-2 check
            // against the exact search at the same target was as wide as the whole effect (~0.0095): with one refinement round
            // the thresholds differ by ~1%, which on 89 tokens moves the ratio by up to 0.009, so that comparison could not fail.
            double[] t = p.layers().stream().mapToDouble(SparsityRunner.Layer::threshold).toArray();
            java.util.function.Supplier<io.loupe.hooks.Hooks> sparsify = () -> {
                io.loupe.hooks.Hooks h = io.loupe.hooks.Hooks.none();
                for (int l = 0; l < t.length; l++) {
                    ai.djl.ndarray.NDArray norms = model.mlpDown(l).square().sum(new int[]{0}).sqrt();
                    double threshold = t[l];
                    h.replace(io.loupe.hooks.HookPoint.of(l, io.loupe.hooks.HookKind.MLP_POST),
                            (x, q) -> x.mul(x.abs().mul(norms).gt(threshold).toType(x.getDataType(), false)));
                }
                return h;
            };
            double dense = io.loupe.model.NextTokenLoss.mean(model, seqs, io.loupe.hooks.Hooks::none, 4);
            double sparse = io.loupe.model.NextTokenLoss.mean(model, seqs, sparsify, 4);
            assertEquals(Math.exp(sparse - dense), ratio, 1e-5, "the reported PPL ratio is that of the reported thresholds");
            // At the boundary: within one tolerance above the reported target, perplexity rises past 1% (four points: the ratio is
            // not monotone on 89 tokens, so the bisection's upper end can be any of them).
            boolean exceeds = false;
            for (double f : new double[]{0.25, 0.5, 0.75, 1.0}) {
                SparsityRunner.Report above = exact.atCett(p.cettTarget() + f * 1e-2);
                exceeds |= Math.exp(above.lossSparse() - above.lossDense()) > 1.01;
            }
            assertTrue(exceeds, "a CETT target up to one tolerance above " + p.cettTarget() + " exceeds 1% perplexity");
            SparsityRunner.Report q = exact.atCett(p.cettTarget());
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
