package io.loupe.dict;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import io.loupe.model.Runtime;
import io.loupe.tensor.Tensors;
import io.loupe.tensor.SafetensorsFile;
import io.loupe.tensor.SafetensorsWriter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A sparse dictionary: {@code pre = (x − b_dec) W_enc + b_enc}, {@code f = σ(pre)}, {@code x̂ = f W_dec + b_dec},
 * with σ one of the {@link Architecture}s. Shapes: x {@code [n, d_in]}, W_enc {@code [d_in, d_sae]},
 * b_enc {@code [d_sae]}, W_dec {@code [d_sae, d_in]} (unit-norm rows), b_dec {@code [d_in]}; JumpReLU keeps
 * {@code log θ} {@code [d_sae]}; BatchTopK and Matryoshka keep the global inference threshold; Gated keeps
 * b_enc as its gate bias b_gate, and {@code r_mag}, {@code b_mag} {@code [d_sae]} for the magnitude path. A transcoder
 * reads x of one hook and rebuilds another ({@code W_dec [d_sae, d_out]}, {@code b_dec [d_out]}, no input centring).
 * The weights use SAELens' names and layout, so {@link #save} writes a checkpoint SAELens 6 loads ({@link SaeLensConfig}).
 */
public final class SparseAutoencoder implements AutoCloseable {
    private final SaeConfig cfg;
    private final NDManager manager;
    final NDArray wEnc;
    final NDArray bEnc;
    final NDArray wDec;
    final NDArray bDec;
    final NDArray logThreshold;     // JumpReLU only
    final NDArray rMag;             // Gated only: per-latent log scale of the magnitude path
    final NDArray bMag;             // Gated only: the magnitude path's bias
    private double batchThreshold;  // BatchTopK and Matryoshka inference threshold (EMA of the smallest kept activation)

    private SparseAutoencoder(SaeConfig cfg, NDManager manager, NDArray wEnc, NDArray bEnc, NDArray wDec, NDArray bDec, NDArray logThreshold,
                              NDArray rMag, NDArray bMag, double batchThreshold) {
        this.cfg = cfg;
        this.manager = manager;
        this.wEnc = wEnc;
        this.bEnc = bEnc;
        this.wDec = wDec;
        this.bDec = bDec;
        this.logThreshold = logThreshold;
        this.rMag = rMag;
        this.bMag = bMag;
        this.batchThreshold = batchThreshold;
    }

    /**
     * Random unit-norm decoder rows, encoder tied to the decoder's transpose (a transcoder's input and
     * output spaces differ, so its encoder gets its own random unit-norm columns), b_enc = 0, b_dec from
     * {@code sample} ({@code [n, out_width]}, the reconstruction targets) as the config says.
     */
    public static SparseAutoencoder init(SaeConfig cfg, NDManager parent, NDArray sample) {
        NDManager m = parent.newSubManager();
        Runtime.engine().setRandomSeed((int) cfg.seed());
        NDArray wDec, wEnc, bDec;
        try (NDScope scope = new NDScope()) {   // the unnormalised draws and their norms are weight-sized: freed here
            wDec = m.randomNormal(0, 1, new Shape(cfg.dSae(), cfg.outWidth()), DataType.FLOAT32);
            wDec = wDec.div(wDec.square().sum(new int[]{1}, true).sqrt());
            if (cfg.transcoder()) {
                wEnc = m.randomNormal(0, 1, new Shape(cfg.dIn(), cfg.dSae()), DataType.FLOAT32);
                wEnc = wEnc.div(wEnc.square().sum(new int[]{0}, true).sqrt());
            } else {
                wEnc = wDec.transpose().duplicate();
            }
            bDec = switch (cfg.bDecInit()) {
                case "mean" -> sample.mean(new int[]{0});
                case "median" -> geometricMedian(sample, 50);
                default -> m.zeros(new Shape(cfg.outWidth()));
            };
            NDScope.unregister(wDec, wEnc, bDec);
        }
        bDec.attach(m);
        NDArray logT = cfg.architecture() == Architecture.JUMPRELU
                ? m.full(new Shape(cfg.dSae()), (float) Math.log(cfg.initThreshold())) : null;
        boolean gated = cfg.architecture() == Architecture.GATED;
        return new SparseAutoencoder(cfg, m, wEnc, m.zeros(new Shape(cfg.dSae())), wDec, bDec, logT, gated ? m.zeros(new Shape(cfg.dSae())) : null,
                gated ? m.zeros(new Shape(cfg.dSae())) : null, 0);
    }

    /**
     * Weiszfeld's iterations for the point minimising the summed Euclidean distance to the rows of {@code x}. Each
     * iteration makes sample-sized temporaries; the scope frees them, so only the result stays on x's manager.
     */
    static NDArray geometricMedian(NDArray x, int iterations) {
        try (NDScope scope = new NDScope()) {
            NDArray y = x.mean(new int[]{0});
            for (int i = 0; i < iterations; i++) {
                NDArray w = x.sub(y).square().sum(new int[]{1}).sqrt().maximum(1e-8f).pow(-1);     // [n]
                y = x.mul(w.expandDims(1)).sum(new int[]{0}).div(w.sum());
            }
            NDScope.unregister(y);
            return y;
        }
    }

    /** The parameters the optimizer updates. */
    List<NDArray> parameters() {
        List<NDArray> p = new java.util.ArrayList<>(List.of(wEnc, bEnc, wDec, bDec));
        for (NDArray extra : new NDArray[]{logThreshold, rMag, bMag}) {
            if (extra != null) {
                p.add(extra);
            }
        }
        return p;
    }

    public SaeConfig config() {
        return cfg;
    }

    /**
     * {@code pre = (x − b_dec) W_enc + b_enc}: x {@code [n, d_in]} to {@code [n, d_sae]}. A transcoder's b_dec
     * lives in the output space, so its input is not centred: {@code pre = x W_enc + b_enc} (as SAELens's
     * transcoders, {@code apply_b_dec_to_input = false}).
     */
    public NDArray preActivations(NDArray x) {
        return centred(x).matMul(wEnc).add(bEnc);
    }

    /**
     * Codes at inference: {@code [n, d_in] → [n, d_sae]}, on x's manager. Ops on the dictionary's own parameters (θ =
     * exp(log θ), e^{r_mag}) put their results on the dictionary's manager, so the intermediates are freed here, not left
     * there once per encoded batch.
     */
    public NDArray encode(NDArray x) {
        try (NDScope scope = new NDScope()) {
            NDArray f = activate(preActivations(x), false);
            NDScope.unregister(f);
            return f;
        }
    }

    /**
     * σ(pre). In training, BatchTopK keeps the k·n largest over the batch and updates its inference
     * threshold; JumpReLU passes straight-through gradients to θ.
     */
    NDArray activate(NDArray pre, boolean training) {
        return switch (cfg.architecture()) {
            case RELU -> Activation.relu(pre);   // relu, not maximum(pre, 0): its backward is one fused pass
            case TOPK -> scatterTopK(pre, cfg.k());
            case BATCH_TOPK, MATRYOSHKA -> training ? batchTopK(Activation.relu(pre)) : Activation.relu(pre).mul(pre.gt(batchThreshold));
            case JUMPRELU -> jump(pre, training);
            case GATED -> gated(pre);
        };
    }

    /** Keeps each row's k largest entries (ties at the k-th value kept too), zeroing the rest. {@code [n, m] → [n, m]} */
    static NDArray keepTopK(NDArray a, int k) {
        NDArray kth = a.stopGradient().topK(k, 1, true, true).get(0).get(":, -1:");          // [n, 1]
        return a.mul(a.stopGradient().gte(kth));   // bool mask: libtorch promotes it without a float copy
    }

    /**
     * TopK as the field trains it: relu of each row's k largest pre-activations, scattered into zeros
     * ({@code [n, m] → [n, m]}). Exactly k slots per row (ties broken by index), and its backward touches
     * only those k values, where masking the dense tensor would cost several full passes per step.
     */
    static NDArray scatterTopK(NDArray pre, int k) {
        NDList top = pre.topK(k, 1, true, false);
        return pre.zerosLike().scatter(top.get(1), Activation.relu(top.get(0)), 1);
    }

    private NDArray batchTopK(NDArray post) {
        long n = post.getShape().get(0);
        int keep = (int) Math.min(post.size(), n * cfg.k());
        float t = post.stopGradient().flatten().topK(keep, 0, true, true).get(0).get(-1).getFloat();
        recordBatchThreshold(t);
        return post.mul(post.stopGradient().gte(t).toType(post.getDataType(), false).mul(post.stopGradient().gt(0).toType(post.getDataType(), false)));
    }

    /** Folds a training batch's threshold t (its n·k-th activation) into the inference threshold: an EMA, positive t only. */
    void recordBatchThreshold(double t) {
        if (t > 0) {
            batchThreshold = batchThreshold == 0 ? t : 0.99 * batchThreshold + 0.01 * t;
        }
    }

    /**
     * {@code pre·H(pre − θ)}; in training the gradient goes to pre through H, to θ as {@code −(θ/ε)·rect((pre − θ)/ε)}
     * (a straight-through term whose value is 0; at inference it is left out).
     */
    private NDArray jump(NDArray pre, boolean training) {
        NDArray theta = logThreshold.exp();
        if (!training) {   // where, not pre·h: a negative pre times 0 would be −0
            return NDArrays.where(pre.gt(theta), pre, Tensors.constant(pre, 0));
        }
        NDArray h = pre.stopGradient().gt(theta.stopGradient()).toType(pre.getDataType(), false);
        NDArray rect = SaeLosses.rect(pre, theta, cfg.bandwidth());
        NDArray surrogate = Tensors.over(theta.square().mul(rect), -2 * cfg.bandwidth());     // d/dθ = −(θ/ε)·rect
        return pre.mul(h).add(surrogate).sub(surrogate.stopGradient());
    }

    /**
     * {@code 1[π_gate > 0] · ReLU((π_gate − b_gate)·e^{r_mag} + b_mag)} with {@code pre = π_gate}: the magnitude path
     * reuses the gate's product x̃ W_enc, rescaled per latent. No gradient passes the gate's step.
     */
    private NDArray gated(NDArray pre) {
        NDArray magnitude = Activation.relu(pre.sub(bEnc).mul(rMag.exp()).add(bMag));
        return magnitude.mul(pre.stopGradient().gt(0));
    }

    /**
     * The encoder's input: {@code x − b_dec} for an autoencoder, x itself for a transcoder. {@code [n, d_in] → [n, d_in]}
     */
    NDArray centred(NDArray x) {
        return cfg.transcoder() ? x : x.sub(bDec);
    }

    /** {@code x̂ = f W_dec + b_dec}: {@code [n, d_sae] → [n, out_width]}. */
    public NDArray decode(NDArray f) {
        return f.matMul(wDec).add(bDec);
    }

    /** Decoder rows back to unit norm (after each optimizer step). */
    void normalizeDecoder() {
        try (NDArray data = wDec.stopGradient()) {   // in place on the storage, outside autograd (see SaeTrainer)
            data.divi(data.square().sum(new int[]{1}, true).sqrt().maximum(1e-12f));
        }
    }

    /**
     * Folds the scales the dictionary trained with into its weights, so that it reads raw activations x and writes raw
     * targets: with x' = s_in·x and y' = s_out·y, {@code W_enc ← s_in·W_enc}, {@code W_dec ← W_dec / s_out},
     * {@code b_dec ← b_dec / s_out} leave every pre-activation (and so θ and the BatchTopK threshold) unchanged and
     * give ŷ = ŷ' / s_out. (An autoencoder has s_in = s_out, so its centring x − b_dec folds consistently too.)
     * The decoder rows then have norm 1/s_out.
     */
    void foldScale(ActivationScale s) {
        if (s.equals(ActivationScale.NONE)) {
            return;
        }
        wEnc.muli(s.in());
        wDec.divi(s.out());
        bDec.divi(s.out());
    }

    double batchThreshold() {
        return batchThreshold;
    }

    /** Restores BatchTopK's inference threshold from a saved training state. */
    void restoreBatchThreshold(double t) {
        batchThreshold = t;
    }

    /** The learned atoms: decoder rows {@code [d_sae, d_in]}. */
    public NDArray decoder() {
        return wDec;
    }

    /**
     * {@code sae_weights.safetensors} and {@code cfg.json} (SAELens 6's schema, {@link SaeLensConfig}) into {@code dir}.
     *
     * @param metadata SAELens' metadata fields (hook_name, model_name, …)
     * @param loupe    Loupe's own top-level fields (SAELens ignores them)
     */
    public void save(Path dir, Map<String, Object> metadata, Map<String, Object> loupe) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter().put("W_enc", wEnc).put(rMag != null ? "b_gate" : "b_enc", bEnc).put("W_dec", wDec).put("b_dec", bDec);
        if (rMag != null) {
            w.put("r_mag", rMag).put("b_mag", bMag);
        }
        NDArray t = thresholdVector();
        if (t != null) {
            w.put("threshold", t);
        }
        java.nio.file.Files.createDirectories(dir);
        w.write(dir.resolve("sae_weights.safetensors"));
        java.nio.file.Files.writeString(dir.resolve("cfg.json"), SaeLensConfig.write(cfg, metadata, loupe));
    }

    private NDArray thresholdVector() {
        if (logThreshold != null) {
            return logThreshold.exp();
        }
        if (cfg.architecture() == Architecture.BATCH_TOPK || cfg.architecture() == Architecture.MATRYOSHKA) {
            return manager.full(new Shape(cfg.dSae()), (float) batchThreshold);
        }
        return null;
    }

    /** Loads a checkpoint written by {@link #save} (the config is given; the weights are checked against it). */
    public static SparseAutoencoder load(Path dir, SaeConfig cfg, NDManager parent) throws IOException {
        NDManager m = parent.newSubManager();
        SafetensorsFile f = SafetensorsFile.open(dir.resolve("sae_weights.safetensors"));
        boolean gated = cfg.architecture() == Architecture.GATED;
        NDArray wEnc = f.load(m, "W_enc", DataType.FLOAT32), bEnc = f.load(m, gated ? "b_gate" : "b_enc", DataType.FLOAT32);
        NDArray wDec = f.load(m, "W_dec", DataType.FLOAT32), bDec = f.load(m, "b_dec", DataType.FLOAT32);
        if (!wEnc.getShape().equals(new Shape(cfg.dIn(), cfg.dSae()))) {
            throw new IllegalArgumentException(dir + ": W_enc is " + wEnc.getShape() + ", config says (" + cfg.dIn() + ", " + cfg.dSae() + ")");
        }
        if (!wDec.getShape().equals(new Shape(cfg.dSae(), cfg.outWidth()))) {
            throw new IllegalArgumentException(dir + ": W_dec is " + wDec.getShape() + ", config says (" + cfg.dSae() + ", " + cfg.outWidth() + ")");
        }
        NDArray logT = null;
        double bt = 0;
        if (f.entries().containsKey("threshold")) {
            NDArray t = f.load(m, "threshold", DataType.FLOAT32);
            if (cfg.architecture() == Architecture.JUMPRELU) {
                logT = t.log();
            } else {
                bt = t.get(0).getFloat();
            }
        }
        return new SparseAutoencoder(cfg, m, wEnc, bEnc, wDec, bDec, logT, gated ? f.load(m, "r_mag", DataType.FLOAT32) : null,
                gated ? f.load(m, "b_mag", DataType.FLOAT32) : null, bt);
    }

    @Override
    public void close() {
        manager.close();
    }
}
