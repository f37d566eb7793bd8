package io.loupe.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

import java.util.ArrayList;
import java.util.List;

/**
 * AdamW (Loshchilov &amp; Hutter 2019, "Decoupled Weight Decay Regularization"), exactly as
 * {@code torch.optim.AdamW} computes it, on gradients scaled by {@code s} (a clipping factor and/or 1/accumulation):
 *
 * <pre>
 *   g ← s · ∇p
 *   p ← p − lr · λ · p                               (decoupled decay; only parameters marked for it)
 *   m ← β1 m + (1 − β1) g ;   v ← β2 v + (1 − β2) g²
 *   p ← p − lr · (m / c1) / (sqrt(v / c2) + ε)       c1 = 1 − β1^t, c2 = 1 − β2^t
 * </pre>
 *
 * Each parameter is one fused native update (DJL's {@code adamUpdate}, which divides by {@code sqrt(v) + ε'} and
 * scales by a corrected rate): passing {@code lr·sqrt(c2)/c1} and {@code ε' = ε·sqrt(c2)} gives the formula above
 * exactly. The parameters' gradients are cleared after the update. With λ = 0 this is Adam.
 */
public final class AdamW {
    /**
     * @param beta1       first-moment decay β1
     * @param beta2       second-moment decay β2
     * @param eps         ε added to sqrt of the bias-corrected second moment
     * @param weightDecay λ, decoupled weight decay per unit learning rate
     */
    public record Settings(double beta1, double beta2, double eps, double weightDecay) {
        public Settings {
            if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps > 0) || !(weightDecay >= 0)) {
                throw new IllegalArgumentException("AdamW needs 0 <= beta < 1, eps > 0 and weight decay >= 0; got " + this);
            }
        }

        /** Adam's usual β = (0.9, 0.999), ε = 1e-8, with the given decay. */
        public static Settings standard(double weightDecay) {
            return new Settings(0.9, 0.999, 1e-8, weightDecay);
        }
    }

    private final List<NDArray> params;
    private final boolean[] decay;
    private final List<NDArray> m1 = new ArrayList<>();
    private final List<NDArray> m2 = new ArrayList<>();
    private final Settings settings;
    private int steps;

    /**
     * @param params parameters that require gradients, updated in place
     * @param decay  per parameter, whether weight decay applies to it
     * @param state  manager that owns the moments (they live as long as it)
     */
    public AdamW(List<NDArray> params, boolean[] decay, Settings settings, NDManager state) {
        if (decay.length != params.size()) {
            throw new IllegalArgumentException(params.size() + " parameters but " + decay.length + " decay flags");
        }
        this.params = List.copyOf(params);
        this.decay = decay.clone();
        this.settings = settings;
        for (NDArray p : params) {
            m1.add(state.zeros(p.getShape(), p.getDataType()));
            m2.add(state.zeros(p.getShape(), p.getDataType()));
        }
    }

    /** One update of every parameter at learning rate {@code lr}, with the gradients multiplied by {@code gradScale}. */
    public void step(double lr, double gradScale) {
        update(lr, gradScale, null);
    }

    /**
     * One update from gradients given explicitly, one per parameter in order (a hand-written backward pass, which
     * leaves the parameters' own gradients untouched).
     */
    public void step(double lr, double gradScale, List<NDArray> gradients) {
        if (gradients.size() != params.size()) {
            throw new IllegalArgumentException(gradients.size() + " gradients for " + params.size() + " parameters");
        }
        update(lr, gradScale, gradients);
    }

    private void update(double lr, double gradScale, List<NDArray> gradients) {
        steps++;
        double c1 = 1 - Math.pow(settings.beta1(), steps), c2 = 1 - Math.pow(settings.beta2(), steps);
        float rate = (float) (lr * Math.sqrt(c2) / c1), eps = (float) (settings.eps() * Math.sqrt(c2));
        for (int i = 0; i < params.size(); i++) {
            NDArray p = params.get(i);
            NDArray g = gradients == null ? p.getGradient() : gradients.get(i);
            // With no decay, the native update's plain-Adam branch: its AdamW branch would still compute w·lr·0 (two passes).
            boolean decays = decay[i] && settings.weightDecay() != 0;
            p.getNDArrayInternal().adamUpdate(new NDList(p, g, m1.get(i), m2.get(i)), new NDList(p), (float) lr, rate,
                    decays ? (float) settings.weightDecay() : 0f, (float) gradScale, -1f, (float) settings.beta1(),
                    (float) settings.beta2(), eps, false, decays);
            if (gradients == null) {
                g.muli(0);
                g.close();
            }
        }
    }

    /** Updates taken so far (t in the bias corrections). */
    public int steps() {
        return steps;
    }

    public List<NDArray> parameters() {
        return params;
    }

    public List<NDArray> firstMoments() {
        return m1;
    }

    public List<NDArray> secondMoments() {
        return m2;
    }

    /** Sets the update count after the moments were restored from a saved state. */
    public void restoreSteps(int t) {
        this.steps = t;
    }
}
