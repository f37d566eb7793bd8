package io.loupe.train;

import io.loupe.model.LanguageModel;
import io.loupe.model.MlpActivation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LmTrainerTest {
    private static final LmTrainer.Listener QUIET = new LmTrainer.Listener() {
        @Override
        public void onStep(StepLog log) {
        }

        @Override
        public void onCheckpoint(int step, long tokensSeen) {
        }
    };

    /** Fails if the loss, the optimizer or the data order is broken: a tiny model must learn 4 fixed sequences by heart. */
    @Test
    void memorisesASmallRepeatedCorpus() {
        TrainData data = TrainData.trainOnly(TinyModels.randomSequences(4, 16, 64, 1));
        try (LanguageModel model = TinyModels.fresh(TinyModels.config(false, MlpActivation.SILU), 7)) {
            TrainConfig cfg = TrainConfig.defaults(1e-2, 4, 300, 0).withOptimizer(0.0, 1.0, 10, 0.1);
            LmTrainer.Result r = LmTrainer.train(model, data, cfg, QUIET, null);
            double first = r.log().get(0).trainLoss(), last = r.log().get(r.log().size() - 1).trainLoss();
            assertTrue(first > 3.5, "a fresh model starts near ln(64) = 4.16, got " + first);
            assertTrue(last < 0.1, "after 300 steps the corpus should be memorised, loss " + last);
            assertEquals(300L * 4 * 16, r.tokensSeen());
        }
    }

    /**
     * A step must free everything it made: the model's manager holds as many arrays after step 8 as after step 2 (the
     * optimizer's moments exist from the start), with a held-out evaluation every other step. Fails on a per-step leak,
     * which on the 25M model was one model's worth of memory a step (the gradient norm's squares).
     */
    @Test
    void stepsLeaveNoArraysBehind() {
        List<TrainSequence> seqs = TinyModels.randomSequences(6, 16, 64, 1);
        TrainData data = TrainData.of(seqs.subList(0, 4), seqs.subList(4, 6));
        try (LanguageModel model = TinyModels.fresh(TinyModels.config(false, MlpActivation.SILU), 7)) {
            List<Integer> held = new ArrayList<>();
            LmTrainer.train(model, data, TrainConfig.defaults(1e-3, 4, 8, 0).withEval(2, 0), new LmTrainer.Listener() {
                @Override
                public void onStep(StepLog log) {
                    assertEquals(log.step() % 2 == 0, Double.isFinite(log.heldOutLoss()), "held-out loss at step " + log.step());
                    held.add(model.manager().getManagedArrays().size());
                }

                @Override
                public void onCheckpoint(int step, long tokensSeen) {
                }
            }, null);
            assertEquals(8, held.size());
            assertEquals(held.get(1), held.get(7), "arrays held by the model's manager after each step: " + held);
        }
    }

    /**
     * Kill after a saved state, resume: the weights equal an uninterrupted run's byte for byte, the resumed call
     * started at the saved step (not from 0), and the log has every step once. Fails if any of params, moments,
     * step count or data position were not restored.
     */
    @Test
    void resumedRunEqualsUninterruptedOne(@TempDir Path dir) {
        TrainData data = TrainData.split(TinyModels.randomSequences(24, 12, 64, 2), 0.2, 0);
        TrainConfig cfg = TrainConfig.defaults(3e-3, 4, 12, 3).withStateEvery(5).withEval(4, 0).withCheckpoints(6, 12);
        Map<String, byte[]> clean;
        List<StepLog> cleanLog;
        try (LanguageModel model = TinyModels.fresh(TinyModels.config(true, MlpActivation.SILU), 5)) {
            cleanLog = LmTrainer.train(model, data, cfg, QUIET, null).log();
            clean = TinyModels.weightBytes(model);
        }
        int[] saves = {0};
        try (LanguageModel model = TinyModels.fresh(TinyModels.config(true, MlpActivation.SILU), 5)) {
            IllegalStateException killed = assertThrows(IllegalStateException.class, () -> LmTrainer.train(model, data, cfg, QUIET,
                    new LmTrainer.Resume(dir, step -> {
                        saves[0]++;
                        if (step == 6) {
                            throw new IllegalStateException("killed after step 6");
                        }
                    })));
            assertEquals("killed after step 6", killed.getMessage());
        }
        assertEquals(2, saves[0], "states after steps 5 and 6 (a checkpoint) before the kill");
        try (LanguageModel model = TinyModels.fresh(TinyModels.config(true, MlpActivation.SILU), 5)) {
            LmTrainer.Result resumed = LmTrainer.train(model, data, cfg, QUIET, new LmTrainer.Resume(dir, step -> { }));
            assertEquals(6, resumed.firstStep(), "the second call continues from the state saved after step 6");
            assertEquals(cleanLog, resumed.log());
            Map<String, byte[]> after = TinyModels.weightBytes(model);
            assertEquals(clean.keySet(), after.keySet());
            for (String k : clean.keySet()) {
                assertArrayEquals(clean.get(k), after.get(k), k);
            }
        }
    }

    /**
     * Two micro-batches of 2 must give the gradient of one batch of 4 (same sequences, one normalisation over the
     * step's targets). Compared before any optimizer (Adam is nearly scale-invariant and would hide a wrong divisor).
     */
    @Test
    void accumulationEqualsOneLargeBatch() {
        TrainData data = TrainData.trainOnly(TinyModels.randomSequences(8, 10, 64, 3));
        try (LanguageModel model = TinyModels.fresh(TinyModels.config(false, MlpActivation.SILU), 1)) {
            List<ai.djl.ndarray.NDArray> params = new ArrayList<>(model.parameters().values());
            params.forEach(p -> p.setRequiresGradient(true));
            double lossBig = accumulate(model, data, TrainConfig.defaults(1e-3, 4, 2, 0));
            List<float[]> big = new ArrayList<>();
            for (var p : params) {
                big.add(p.getGradient().toFloatArray());
                p.getGradient().muli(0);
            }
            double lossAcc = accumulate(model, data, TrainConfig.defaults(1e-3, 2, 2, 0).withGradAccum(2));
            assertEquals(lossBig, lossAcc, 1e-6);
            double maxRel = 0;
            for (int i = 0; i < params.size(); i++) {
                float[] a = big.get(i), b = params.get(i).getGradient().toFloatArray();
                double scale = 0;
                for (float v : a) {
                    scale = Math.max(scale, Math.abs(v));
                }
                for (int j = 0; j < a.length; j++) {
                    maxRel = Math.max(maxRel, Math.abs(a[j] - b[j]) / scale);
                }
            }
            assertTrue(maxRel < 1e-5, "accumulated gradients differ by " + maxRel + " of the largest entry");
            params.forEach(p -> p.setRequiresGradient(false));
        }
    }

    /** A weight that is NaN makes step 1's loss NaN: the run stops there with a message naming the step. */
    @Test
    void nanLossStopsWithAClearError() {
        TrainData data = TrainData.trainOnly(TinyModels.randomSequences(4, 8, 64, 4));
        try (LanguageModel model = TinyModels.fresh(TinyModels.config(false, MlpActivation.RELU), 1)) {
            model.parameters().get("final_norm.weight").stopGradient().set(new ai.djl.ndarray.index.NDIndex("0"), Float.NaN);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> LmTrainer.train(model, data, TrainConfig.defaults(1e-3, 4, 3, 0), QUIET, null));
            assertTrue(e.getMessage().contains("diverged at step 1"), e.getMessage());
        }
    }

    /** Question/answer rows train on answer tokens only: a change to a prompt token's target cannot move the loss. */
    @Test
    void lossMaskIgnoresPromptTokens() {
        List<TrainSequence> seqs = new ArrayList<>(TinyModels.randomSequences(2, 12, 64, 5));
        long[] other = seqs.get(1).ids().clone();
        other[3] = other[3] == 10 ? 11 : 10;   // a prompt token (first target is 6)
        List<TrainSequence> a = List.of(new TrainSequence("a", seqs.get(1).ids(), 6)), b = List.of(new TrainSequence("b", other, 6));
        try (LanguageModel model = TinyModels.fresh(TinyModels.config(false, MlpActivation.SILU), 2);
             var m = model.manager().newSubManager()) {
            ai.djl.ndarray.NDArray wa = LmLoss.targetNll(model.forward(LmLoss.batch(m, a), io.loupe.hooks.Hooks.none()), LmLoss.batch(m, a), a);
            float[] nll = wa.toFloatArray();
            for (int t = 0; t < 4; t++) {
                assertEquals(0f, nll[t], "position " + t + " predicts a prompt token");
            }
            for (int t = 5; t < 11; t++) {
                assertTrue(nll[t] > 0, "position " + t + " predicts an answer token");
            }
            assertEquals(6, a.get(0).targets());
            assertTrue(Arrays.equals(b.get(0).ids(), other));
        }
    }


    /** One step's gradients through the trainer's objective, inside a gradient collector. */
    private static double accumulate(LanguageModel model, TrainData data, TrainConfig cfg) {
        synchronized (io.loupe.model.Runtime.AUTOGRAD) {
            try (var gc = io.loupe.model.Runtime.engine().newGradientCollector()) {
                return new NextTokenObjective(data, cfg).accumulate(model, 1, 0, gc);
            }
        }
    }
}
