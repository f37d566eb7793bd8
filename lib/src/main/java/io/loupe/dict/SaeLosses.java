package io.loupe.dict;

import ai.djl.ndarray.NDArray;
import io.loupe.tensor.Tensors;

/**
 * Training losses as pure functions of tensors. Shapes: x, x̂, e {@code [n, d_in]}; pre, f {@code [n, d_sae]};
 * W_dec {@code [d_sae, d_in]}; θ {@code [d_sae]}. Each returns a scalar that autograd can differentiate.
 */
public final class SaeLosses {
    private SaeLosses() {
    }

    /** Reconstruction: {@code mean_n Σ_d (x − x̂)²} (summed over dimensions, averaged over tokens, as the TopK papers train). */
    public static NDArray reconstruction(NDArray x, NDArray xHat) {
        return x.sub(xHat).square().sum(new int[]{1}).mean();
    }

    /** L1 weighted by decoder norms: {@code mean_n Σ_i f_i·‖W_dec[i]‖₂}, so shrinking decoder rows cannot game it. */
    public static NDArray weightedL1(NDArray f, NDArray wDec) {
        NDArray norms = wDec.square().sum(new int[]{1}).sqrt();                  // [d_sae]
        return f.abs().mul(norms).sum(new int[]{1}).mean();
    }

    /**
     * AuxK (Gao et al. 2024): reconstruct the residual {@code e = x − x̂} from the {@code auxK} largest
     * pre-activations among dead latents, {@code Σ(ê − e)² / Σ(e − ē)²}; zero when no latent is dead.
     *
     * @param dead {@code [d_sae]} 1 for dead latents, 0 otherwise
     */
    public static NDArray auxK(NDArray e, NDArray pre, NDArray dead, NDArray wDec, int auxK) {
        int nDead = (int) dead.sum().toType(ai.djl.ndarray.types.DataType.INT64, false).getLong();
        if (nDead == 0 || auxK == 0) {
            return e.getManager().zeros(new ai.djl.ndarray.types.Shape());
        }
        NDArray masked = pre.maximum(Tensors.constant(pre, 0)).mul(dead.toType(pre.getDataType(), false));     // only dead latents compete
        NDArray codes = SparseAutoencoder.keepTopK(masked, Math.min(auxK, nDead));
        return auxKRatio(e, codes.matMul(wDec));
    }

    /**
     * AuxK's ratio once the dead latents' reconstruction {@code ê} of the residual e is made:
     * {@code Σ(ê − e)² / Σ(e − ē)²} ({@link #auxK} dense, or from the chosen latents only).
     */
    public static NDArray auxKRatio(NDArray e, NDArray eHat) {
        NDArray centred = e.sub(e.mean(new int[]{0}, true));
        return eHat.sub(e).square().sum().div(centred.square().sum().add(1e-12));
    }

    /**
     * JumpReLU L0 with straight-through gradients: value {@code mean_n Σ_i H(pre − θ)}, and
     * {@code ∂/∂θ = −(1/ε)·rect((pre − θ)/ε)} per token and latent (rectangle kernel of width ε).
     */
    public static NDArray jumpL0(NDArray pre, NDArray theta, double eps) {
        NDArray h = pre.stopGradient().gt(theta.stopGradient()).toType(pre.getDataType(), false);
        NDArray rect = rect(pre, theta, eps);
        NDArray surrogate = Tensors.over(theta.mul(rect), -eps);                                  // d/dθ = −rect/ε
        return h.add(surrogate).sub(surrogate.stopGradient()).sum(new int[]{1}).mean();
    }

    /** {@code 1} where {@code |pre − θ| < ε/2}, else 0; no gradient. */
    static NDArray rect(NDArray pre, NDArray theta, double eps) {
        return pre.stopGradient().sub(theta.stopGradient()).abs().lt(eps / 2).toType(pre.getDataType(), false);
    }
}
