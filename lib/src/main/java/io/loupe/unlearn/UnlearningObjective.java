package io.loupe.unlearn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import io.loupe.hooks.HookKind;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;
import io.loupe.model.LanguageModel;
import io.loupe.model.NextTokenLoss;
import io.loupe.model.TokenBatch;
import io.loupe.tensor.Tensors;
import io.loupe.train.LmLoss;
import io.loupe.train.NextTokenObjective;
import io.loupe.train.Objective;
import io.loupe.train.TrainData;
import io.loupe.train.TrainSequence;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Predicate;

/**
 * One unlearning method as a trainer {@link Objective}: each step takes a batch of forget sequences (and of retain
 * sequences where the method has a retain term), computes the method's loss from {@link UnlearningLosses}, and
 * backpropagates it. The frozen reference (the target before unlearning) supplies NPO's likelihoods, KL's
 * distributions and RMU's retain activations. The evaluation logged after updates is the forget set's mean NLL per
 * target token, the figure unlearning drives up.
 */
public final class UnlearningObjective implements Objective {
    private final UnlearnSettings s;
    private final TrainData forget;
    private final TrainData retain;
    private final LanguageModel reference;
    private final float[] control;

    /**
     * @param forget    forget sequences (all trained on; none held out)
     * @param retain    retain sequences, or null when the method has no retain term
     * @param reference the frozen target, or null when the method needs none
     */
    public UnlearningObjective(UnlearnSettings s, TrainData forget, TrainData retain, LanguageModel reference) {
        if (s.method().usesRetain() && (retain == null || retain.train().isEmpty())) {
            throw new IllegalArgumentException(s.method().cliName() + " needs retain data");
        }
        if (s.method().usesReference() && reference == null) {
            throw new IllegalArgumentException(s.method().cliName() + " needs the target as a reference model");
        }
        if (s.method() == Method.RMU && reference != null && s.rmuLayer() >= reference.config().numLayers()) {
            throw new IllegalArgumentException("RMU layer " + s.rmuLayer() + " is outside the model's " + reference.config().numLayers() + " layers");
        }
        this.s = s;
        this.forget = forget;
        this.retain = retain;
        this.reference = reference;
        this.control = s.method() == Method.RMU ? controlVector(reference.config().dModel(), s.rmuSteering(), s.seed()) : null;
    }

    /**
     * RMU's {@code c·u}: u uniform in [0, 1)^D (as the WMDP code draws it), normalised to unit length, from the seed.
     */
    public static float[] controlVector(int d, double c, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] u = new float[d];
        double norm = 0;
        for (int i = 0; i < d; i++) {
            u[i] = (float) r.nextDouble();
            norm += (double) u[i] * u[i];
        }
        for (int i = 0; i < d; i++) {
            u[i] = (float) (u[i] / Math.sqrt(norm) * c);
        }
        return u;
    }

    /** The parameters the method updates: for RMU the MLPs of layers ℓ−2..ℓ (as the WMDP code does), else all. */
    public Predicate<String> trainable() {
        if (s.method() != Method.RMU) {
            return name -> true;
        }
        return name -> {
            for (int l = Math.max(0, s.rmuLayer() - 2); l <= s.rmuLayer(); l++) {
                if (name.startsWith("blocks." + l + ".mlp.")) {
                    return true;
                }
            }
            return false;
        };
    }

    @Override
    public double accumulate(LanguageModel model, int step, double activationL1, GradientCollector gc) {
        List<TrainSequence> f = forget.microBatch(s.seed(), step, 0, 1, s.batchSize());
        List<TrainSequence> r = s.method().usesRetain() ? retain.microBatch(s.seed() + 1, step, 0, 1, s.batchSize()) : null;
        try (NDScope scope = new NDScope(); NDManager m = model.manager().newSubManager()) {
            NDArray loss = loss(model, m, f, r);
            gc.backward(loss);
            return Tensors.scalar(loss);
        }
    }

    /** The method's loss on one forget batch (and retain batch), keeping the graph. */
    NDArray loss(LanguageModel model, NDManager m, List<TrainSequence> f, List<TrainSequence> r) {
        TokenBatch fb = LmLoss.batch(m, f);
        long fTargets = targets(f);
        switch (s.method()) {
            case GA:
                return UnlearningLosses.gradientAscent(LmLoss.summedNll(model, fb, f, Hooks.none()), fTargets);
            case GRAD_DIFF: {
                TokenBatch rb = LmLoss.batch(m, r);
                return UnlearningLosses.gradientDifference(LmLoss.summedNll(model, fb, f, Hooks.none()), fTargets,
                        LmLoss.summedNll(model, rb, r, Hooks.none()), targets(r), s.alpha());
            }
            case KL: {
                TokenBatch rb = LmLoss.batch(m, r);
                NDArray logProbs = NextTokenLoss.logProbs(model.forward(rb, Hooks.none()));
                NDArray refLogProbs = NextTokenLoss.logProbs(reference.forward(rb, Hooks.none())).stopGradient();
                NDArray kl = UnlearningLosses.klToReference(logProbs, refLogProbs, LmLoss.targetWeights(m, r, rb.seqLen()));
                return UnlearningLosses.klRegularisedAscent(LmLoss.summedNll(model, fb, f, Hooks.none()), fTargets, kl, s.alpha());
            }
            case NPO:
            case NPO_RT: {
                NDArray logp = LmLoss.sequenceNll(model.forward(fb, Hooks.none()), fb, f).neg();
                NDArray refLogp = LmLoss.sequenceNll(reference.forward(fb, Hooks.none()), fb, f).neg().stopGradient();
                NDArray npo = UnlearningLosses.npo(logp, refLogp, s.beta());
                if (s.method() == Method.NPO) {
                    return npo;
                }
                TokenBatch rb = LmLoss.batch(m, r);
                return UnlearningLosses.npoWithRetain(npo, LmLoss.summedNll(model, rb, r, Hooks.none()), targets(r), s.alpha());
            }
            case RMU: {
                HookPoint at = HookPoint.of(s.rmuLayer(), HookKind.RESID_POST);
                TokenBatch rb = LmLoss.batch(m, r);
                Hooks hf = Hooks.none().capture(at), hr = Hooks.none().capture(at), href = Hooks.none().capture(at);
                model.forward(fb, hf);
                model.forward(rb, hr);
                reference.forward(rb, href);
                NDArray c = m.create(control).toType(hf.captured(at).getDataType(), false);
                return UnlearningLosses.rmu(hf.captured(at), fb.mask(), c, hr.captured(at), href.captured(at).stopGradient(), rb.mask(), s.alpha());
            }
            default:
                throw new IllegalStateException("unhandled method " + s.method());
        }
    }

    private static long targets(List<TrainSequence> seqs) {
        return seqs.stream().mapToLong(TrainSequence::targets).sum();
    }

    @Override
    public long[] tokensPerStep(int steps) {
        long[] t = new long[steps];
        for (int step = 0; step < steps; step++) {
            for (TrainSequence q : forget.microBatch(s.seed(), step, 0, 1, s.batchSize())) {
                t[step] += q.ids().length;
            }
            if (s.method().usesRetain()) {
                for (TrainSequence q : retain.microBatch(s.seed() + 1, step, 0, 1, s.batchSize())) {
                    t[step] += q.ids().length;
                }
            }
        }
        return t;
    }

    @Override
    public boolean evaluates() {
        return true;
    }

    @Override
    public double evaluate(LanguageModel model) {
        return NextTokenObjective.meanNll(model, forget.train(), 0, s.batchSize());
    }

    @Override
    public String fingerprint() {
        return "unlearn|" + s + "|" + forget.fingerprint() + "|" + (retain == null ? "-" : retain.fingerprint());
    }
}
