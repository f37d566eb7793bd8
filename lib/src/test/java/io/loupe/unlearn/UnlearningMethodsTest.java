package io.loupe.unlearn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.loupe.model.LanguageModel;
import io.loupe.model.MlpActivation;
import io.loupe.model.Runtime;
import io.loupe.tensor.Tensors;
import io.loupe.train.LmTrainer;
import io.loupe.train.NextTokenObjective;
import io.loupe.train.StepLog;
import io.loupe.train.TinyModels;
import io.loupe.train.TrainConfig;
import io.loupe.train.TrainData;
import io.loupe.train.TrainSequence;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The methods on a tiny fixture: a model that memorised forget and retain sequences, then unlearned. Each test says
 * what it would catch.
 */
class UnlearningMethodsTest {
    private static final LmTrainer.Listener QUIET = new LmTrainer.Listener() {
        @Override
        public void onStep(StepLog log) {
        }

        @Override
        public void onCheckpoint(int step, long tokensSeen) {
        }
    };
    private static List<TrainSequence> forgetSeqs;
    private static List<TrainSequence> retainSeqs;
    private static Map<String, byte[]> target;

    /** The target: a tiny model trained until it knows 4 forget and 12 retain sequences. */
    @BeforeAll
    static void trainTarget() {
        List<TrainSequence> all = TinyModels.randomSequences(16, 12, 64, 11);
        forgetSeqs = all.subList(0, 4);
        retainSeqs = all.subList(4, 16);
        try (LanguageModel m = model()) {
            LmTrainer.train(m, TrainData.trainOnly(all), TrainConfig.defaults(1e-2, 8, 200, 0).withOptimizer(0, 1, 10, 0.1), QUIET, null);
            target = TinyModels.parameterBytes(m);
        }
    }

    /** A fresh copy of the target. */
    private static LanguageModel model() {
        LanguageModel m = TinyModels.fresh(TinyModels.config(false, MlpActivation.SILU), 3);
        if (target != null) {
            TinyModels.load(m, target);
        }
        return m;
    }

    @Test
    void gradientAscentRaisesForgetNllAndGradDiffKeepsRetain() {
        TrainData forget = TrainData.trainOnly(forgetSeqs), retain = TrainData.trainOnly(retainSeqs);
        double forgetBefore, retainBefore;
        try (LanguageModel m = model()) {
            forgetBefore = nll(m, forgetSeqs);
            retainBefore = nll(m, retainSeqs);
        }
        assertTrue(forgetBefore < 0.5 && retainBefore < 0.5, "the target knows both sets: " + forgetBefore + ", " + retainBefore);
        double[] ga = unlearn(Method.GA, forget, retain, 20), gd = unlearn(Method.GRAD_DIFF, forget, retain, 20);
        assertTrue(ga[0] > forgetBefore + 2, "GA raises forget NLL by > 2 nats: " + forgetBefore + " -> " + ga[0]);
        assertTrue(gd[0] > forgetBefore + 2, "GradDiff raises forget NLL by > 2 nats: " + forgetBefore + " -> " + gd[0]);
        // the stated margin: GradDiff's retain NLL stays within 1 nat of the target's and below GA's
        assertTrue(gd[1] < retainBefore + 1.0, "GradDiff keeps retain NLL within 1 nat: " + retainBefore + " -> " + gd[1]);
        assertTrue(gd[1] < ga[1], "GradDiff damages retain less than GA: " + gd[1] + " vs " + ga[1]);
    }

    /** With the model as its own reference, NPO's loss is (2/β) log 2 and KL's retain term is 0: both exact identities. */
    @Test
    void referenceIdentities() {
        try (LanguageModel m = model(); NDManager s = m.manager().newSubManager()) {
            UnlearnSettings npo = new UnlearnSettings(Method.NPO, 1, 0.7, 1, 5, 4, 0);
            assertEquals(2 / 0.7 * Math.log(2), Tensors.scalar(new UnlearningObjective(npo, TrainData.trainOnly(forgetSeqs), null, m)
                    .loss(m, s, forgetSeqs, null)), 1e-5);
            UnlearnSettings kl = new UnlearnSettings(Method.KL, 3, 1, 1, 5, 4, 0), ga = new UnlearnSettings(Method.GA, 1, 1, 1, 5, 4, 0);
            double klLoss = Tensors.scalar(new UnlearningObjective(kl, TrainData.trainOnly(forgetSeqs), TrainData.trainOnly(retainSeqs), m)
                    .loss(m, s, forgetSeqs, retainSeqs));
            double gaLoss = Tensors.scalar(new UnlearningObjective(ga, TrainData.trainOnly(forgetSeqs), null, null).loss(m, s, forgetSeqs, null));
            assertEquals(-nll(m, forgetSeqs), gaLoss, 1e-5, "GA's loss is minus the forget NLL per target token");
            assertEquals(gaLoss, klLoss, 1e-5);
        }
    }

    /**
     * As β → 0, NPO's gradient tends to that of gradient ascent on sequence likelihoods, mean_i ∇ log π_θ(y_i|x_i)
     * (Zhang et al. 2024): equal at β = 1e-4, and clearly not at β = 8 (so the check can fail). The model is the target
     * after a few ascent steps, so its likelihood ratios to the target differ from sequence to sequence.
     */
    @Test
    void npoApproachesAscentAsBetaVanishes() {
        try (LanguageModel m = model(); LanguageModel ref = model()) {
            UnlearningObjective ga = new UnlearningObjective(new UnlearnSettings(Method.GA, 1, 1, 1, 5, 1, 0), TrainData.trainOnly(forgetSeqs), null, null);
            LmTrainer.train(m, ga, TrainConfig.defaults(3e-3, 1, 3, 0).withOptimizer(0, 1, 0, 1), ga.trainable(), QUIET, null);
            float[] ascent = gradient(m, s -> {
                NDArray seqLogp = io.loupe.train.LmLoss.sequenceNll(m.forward(io.loupe.train.LmLoss.batch(s, forgetSeqs), io.loupe.hooks.Hooks.none()),
                        io.loupe.train.LmLoss.batch(s, forgetSeqs), forgetSeqs).neg();
                return seqLogp.mean();
            });
            double small = cosine(ascent, gradient(m, s -> npoLoss(m, ref, s, 1e-4)));
            double large = cosine(ascent, gradient(m, s -> npoLoss(m, ref, s, 8)));
            assertTrue(small > 0.99999, "cosine at beta 1e-4: " + small);
            assertTrue(large < 0.999, "cosine at beta 8: " + large);
        }
    }

    /** A killed unlearning run resumes from its saved state to the weights of an uninterrupted one. */
    @Test
    void killedUnlearningRunResumes(@TempDir Path dir) {
        UnlearnSettings s = new UnlearnSettings(Method.NPO_RT, 1, 0.5, 1, 5, 4, 0);
        TrainConfig cfg = TrainConfig.defaults(1e-3, 4, 8, 0).withStateEvery(3).withCheckpoints(8);
        Map<String, byte[]> clean;
        try (LanguageModel m = model(); LanguageModel ref = model()) {
            UnlearningObjective o = new UnlearningObjective(s, TrainData.trainOnly(forgetSeqs), TrainData.trainOnly(retainSeqs), ref);
            LmTrainer.train(m, o, cfg, o.trainable(), QUIET, null);
            clean = TinyModels.weightBytes(m);
        }
        try (LanguageModel m = model(); LanguageModel ref = model()) {
            UnlearningObjective o = new UnlearningObjective(s, TrainData.trainOnly(forgetSeqs), TrainData.trainOnly(retainSeqs), ref);
            assertThrows(IllegalStateException.class, () -> LmTrainer.train(m, o, cfg, o.trainable(), QUIET, new LmTrainer.Resume(dir, step -> {
                if (step == 6) {
                    throw new IllegalStateException("killed");
                }
            })));
        }
        try (LanguageModel m = model(); LanguageModel ref = model()) {
            UnlearningObjective o = new UnlearningObjective(s, TrainData.trainOnly(forgetSeqs), TrainData.trainOnly(retainSeqs), ref);
            LmTrainer.Result r = LmTrainer.train(m, o, cfg, o.trainable(), QUIET, new LmTrainer.Resume(dir, step -> { }));
            assertEquals(6, r.firstStep());
            Map<String, byte[]> after = TinyModels.weightBytes(m);
            for (String k : clean.keySet()) {
                assertArrayEquals(clean.get(k), after.get(k), k);
            }
        }
    }

    /** RMU trains only the MLPs of layers ℓ−2..ℓ; the rest of the model stays bit-identical. */
    @Test
    void rmuTouchesOnlyItsMlps() {
        UnlearnSettings s = new UnlearnSettings(Method.RMU, 10, 1, 0, 5, 4, 0);
        try (LanguageModel m = model(); LanguageModel ref = model()) {
            UnlearningObjective o = new UnlearningObjective(s, TrainData.trainOnly(forgetSeqs), TrainData.trainOnly(retainSeqs), ref);
            LmTrainer.train(m, o, TrainConfig.defaults(1e-3, 4, 5, 0), o.trainable(), QUIET, null);
            Map<String, byte[]> after = TinyModels.parameterBytes(m);
            for (String k : target.keySet()) {
                boolean trained = k.startsWith("blocks.0.mlp.");
                assertEquals(!trained, java.util.Arrays.equals(target.get(k), after.get(k)), k);
            }
        }
    }

    private static NDArray npoLoss(LanguageModel m, LanguageModel ref, NDManager s, double beta) {
        var b = io.loupe.train.LmLoss.batch(s, forgetSeqs);
        NDArray logp = io.loupe.train.LmLoss.sequenceNll(m.forward(b, io.loupe.hooks.Hooks.none()), b, forgetSeqs).neg();
        NDArray refLogp = io.loupe.train.LmLoss.sequenceNll(ref.forward(b, io.loupe.hooks.Hooks.none()), b, forgetSeqs).neg().stopGradient();
        return UnlearningLosses.npo(logp, refLogp, beta);
    }

    private static float[] gradient(LanguageModel m, java.util.function.Function<NDManager, NDArray> loss) {
        List<NDArray> params = new ArrayList<>(m.parameters().values());
        params.forEach(p -> p.setRequiresGradient(true));
        List<Float> out = new ArrayList<>();
        synchronized (Runtime.AUTOGRAD) {
            try (NDManager s = m.manager().newSubManager(); GradientCollector gc = Runtime.engine().newGradientCollector()) {
                gc.backward(loss.apply(s));
                for (NDArray p : params) {
                    for (float v : p.getGradient().toFloatArray()) {
                        out.add(v);
                    }
                }
            }
        }
        params.forEach(p -> p.setRequiresGradient(false));
        float[] g = new float[out.size()];
        for (int i = 0; i < g.length; i++) {
            g[i] = out.get(i);
        }
        return g;
    }

    private static double cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    /** {forget NLL, retain NLL} after {@code steps} of {@code method} from the target. */
    private static double[] unlearn(Method method, TrainData forget, TrainData retain, int steps) {
        UnlearnSettings s = new UnlearnSettings(method, 1, 0.5, 1, 5, 4, 0);
        try (LanguageModel m = model(); LanguageModel ref = model()) {
            UnlearningObjective o = new UnlearningObjective(s, forget, retain, ref);
            LmTrainer.train(m, o, TrainConfig.defaults(3e-3, 4, steps, 0).withOptimizer(0, 1, 0, 1), o.trainable(), QUIET, null);
            return new double[]{nll(m, forgetSeqs), nll(m, retainSeqs)};
        }
    }

    private static double nll(LanguageModel m, List<TrainSequence> seqs) {
        return NextTokenObjective.meanNll(m, seqs, 0, 8);
    }


}
