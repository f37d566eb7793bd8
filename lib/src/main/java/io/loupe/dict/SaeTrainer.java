package io.loupe.dict;

import io.loupe.tensor.Tensors;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Activation;
import io.loupe.model.Runtime;
import io.loupe.optim.AdamW;
import io.loupe.optim.TrainingState;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Trains a {@link SparseAutoencoder} with Adam (β = 0.9, 0.999), the config's warm-up and decay, and
 * unit-norm decoder rows after every step. Loss = reconstruction + sparsity term of the architecture
 * (+ AuxK for TopK and BatchTopK). Deterministic for a given config seed and data order.
 */
public final class SaeTrainer {
    private static final double BETA1 = 0.9, BETA2 = 0.999, EPS = 1e-8;

    /** One logged step. */
    public record StepLog(int step, double loss, double reconstruction, double sparsity, double aux, double meanL0, long dead) {
    }

    /**
     * Periodic training states for resuming a killed run: every {@code every} steps the state goes to
     * {@code dir} ({@link TrainingState}) and {@code afterSave} is called with the step reached (to copy it to
     * durable storage). A run that finds a state saved under the same config continues from it and ends
     * with exactly the weights an uninterrupted run would have.
     */
    public record Resume(java.nio.file.Path dir, int every, java.util.function.IntConsumer afterSave) {
        public Resume {
            if (every < 1) {
                throw new IllegalArgumentException("checkpoint interval must be >= 1 step");
            }
        }
    }

    /**
     * A finished run: the dictionary (scales folded in: it reads raw activations), its log (losses on scaled activations),
     * where the time went, the step it started from (0 unless it resumed) and the activation scales it trained with.
     */
    public record Result(SparseAutoencoder sae, List<StepLog> log, double seconds, double dataSeconds, long tokens, int firstStep,
                         ActivationScale scale) {
        public double tokensPerSecond() {
            return tokens / seconds;
        }
    }

    /**
     * One step's loss, differentiable: {@code total = reconstruction + sparsity + aux}; and, without gradients, which
     * latents fired in the batch ({@code [d_sae]} boolean) and the mean number active per row (a scalar).
     */
    public record StepLoss(NDArray total, NDArray reconstruction, NDArray sparsity, NDArray aux, NDArray fired, NDArray meanL0) {
        static StepLoss fromCodes(NDArray total, NDArray reconstruction, NDArray sparsity, NDArray aux, NDArray f) {
            NDArray on = f.stopGradient().gt(0);
            return new StepLoss(total, reconstruction, sparsity, aux, on.sum(new int[]{0}).gt(0),
                    on.sum(new int[]{1}).toType(DataType.FLOAT32, false).mean());
        }
    }

    private SaeTrainer() {
    }

    /**
     * The training loss on one batch: reconstruction, plus the architecture's sparsity term, plus an auxiliary term,
     * as a dense autograd graph. Training uses it unless the config {@link SaeConfig#trainsSparsely}; then it is the
     * reference that {@link TopKGradients} is tested against.
     * <ul>
     *   <li>ReLU: λ₁ · Σ_i f_i‖W_dec[i]‖; JumpReLU: λ₀ · L0 (straight-through);</li>
     *   <li>Gated: λ₁ · Σ_i ReLU(π_gate)_i‖W_dec[i]‖, and aux = ‖y − (ReLU(π_gate) W_dec + b_dec)‖² through a frozen
     *   (detached) decoder, as the paper trains the gate (SAELens' current code does not detach);</li>
     *   <li>TopK, BatchTopK, Matryoshka: α · AuxK;</li>
     *   <li>Matryoshka's reconstruction is the sum over its nested widths m of ‖y − (f[:, :m] W_dec[:m] + b_dec)‖²,
     *   the full width included (SAELens' {@code matryoshka_batchtopk}).</li>
     * </ul>
     * Updates the BatchTopK threshold.
     *
     * @param x    the dictionary's input {@code [n, d_in]}
     * @param y    the reconstruction target {@code [n, out_width]}
     * @param dead {@code [d_sae]} true for latents that have not fired for {@code dead_after} tokens
     */
    public static StepLoss stepLoss(SaeConfig cfg, SparseAutoencoder sae, NDArray x, NDArray y, NDArray dead) {
        Architecture a = cfg.architecture();
        NDArray pre = sae.preActivations(x);
        NDArray f = sae.activate(pre, true);
        NDArray xHat, recon;
        if (a == Architecture.MATRYOSHKA) {
            xHat = sae.bDec;
            recon = null;
            int from = 0;
            for (int to : cfg.nestedWidths()) {   // one pass over the decoder: each prefix adds its group to the last
                NDIndex group = new NDIndex("{}:{}", from, to);
                xHat = Tensors.slice(f, 1, from, to).matMul(sae.wDec.get(group)).add(xHat);
                NDArray part = SaeLosses.reconstruction(y, xHat);
                recon = recon == null ? part : recon.add(part);
                from = to;
            }
        } else {
            xHat = sae.decode(f);
            recon = SaeLosses.reconstruction(y, xHat);
        }
        NDArray zero = Tensors.constant(recon, 0);
        NDArray sparsity = switch (a) {
            case RELU -> Tensors.times(SaeLosses.weightedL1(f, sae.wDec), cfg.l1());
            case GATED -> Tensors.times(SaeLosses.weightedL1(Activation.relu(pre), sae.wDec), cfg.l1());
            case JUMPRELU -> Tensors.times(SaeLosses.jumpL0(pre, sae.logThreshold.exp(), cfg.bandwidth()), cfg.l0());
            default -> zero;
        };
        NDArray aux = switch (a) {
            case TOPK, BATCH_TOPK, MATRYOSHKA ->
                    Tensors.times(SaeLosses.auxK(y.sub(xHat).stopGradient(), pre, dead, sae.wDec, cfg.auxK()), cfg.auxCoeff());
            case GATED -> SaeLosses.reconstruction(y, Activation.relu(pre).matMul(sae.wDec.stopGradient()).add(sae.bDec.stopGradient()));
            default -> zero;
        };
        return StepLoss.fromCodes(recon.add(sparsity).add(aux), recon, sparsity, aux, f);
    }

    /**
     * @param sample    training rows {@code [n, row_width]} (input, then target for a transcoder): they set the activation
     *                  scales and initialise b_dec
     * @param logEvery  log a step every this many (the last step is always logged)
     */
    public static Result train(SaeConfig cfg, ActivationSource data, NDArray sample, NDManager manager, int logEvery,
                               Consumer<StepLog> progress) {
        return train(cfg, data, sample, manager, logEvery, progress, null);
    }

    /** @param resume where to save and find training states; null for none */
    public static Result train(SaeConfig cfg, ActivationSource data, NDArray sample, NDManager manager, int logEvery,
                               Consumer<StepLog> progress, Resume resume) {
        if (data.width() != cfg.rowWidth()) {
            throw new IllegalArgumentException("the data has width " + data.width() + " but the dictionary's rows are " + cfg.rowWidth()
                    + (cfg.transcoder() ? " (d_in " + cfg.dIn() + " + d_out " + cfg.dOut() + ")" : " wide (d_in)"));
        }
        if (sample.getShape().dimension() != 2 || sample.getShape().get(1) != cfg.rowWidth()) {
            throw new IllegalArgumentException("the sample rows are " + sample.getShape() + "; expected [n, " + cfg.rowWidth() + "]");
        }
        ActivationScale scale = ActivationScale.estimate(cfg, sample);
        NDArray targets = target(cfg, sample), scaledTargets = Tensors.times(targets, scale.out());
        SparseAutoencoder sae = SparseAutoencoder.init(cfg, manager, scaledTargets);
        scaledTargets.close();   // b_dec's start is computed; the copies need not live through training
        if (targets != sample) {
            targets.close();
        }
        List<NDArray> params = sae.parameters();
        params.forEach(p -> p.setRequiresGradient(true));
        NDManager state = manager.newSubManager();
        AdamW adam = optimizer(params, state);
        NDArray sinceFired = state.zeros(new Shape(cfg.dSae()), DataType.INT64);
        List<StepLog> log = new ArrayList<>();
        int first = 0;
        if (resume != null) {
            first = restore(resume, cfg, sae, adam, sinceFired, state);
            data.skip(state, (long) first * cfg.batchSize());
        }
        long start = System.nanoTime(), dataNanos = 0;
        for (int step = first; step < cfg.steps(); step++) {
            // The scope frees every temporary of the step, including those that ops on the weights create in the
            // weights' own manager (decoder norms, Adam terms); state is updated in place and survives.
            try (NDScope scope = new NDScope(); NDManager s = manager.newSubManager()) {
                long t0 = System.nanoTime();
                NDArray rows = data.next(s, cfg.batchSize());
                dataNanos += System.nanoTime() - t0;
                NDArray x = Tensors.times(input(cfg, rows), scale.in()), y = Tensors.times(target(cfg, rows), scale.out());
                NDArray dead = sinceFired.gte(cfg.deadAfter());
                boolean logged = step % logEvery == 0 || step == cfg.steps() - 1;
                StepLoss l;
                if (cfg.trainsSparsely()) {   // backward by hand, active latents only
                    TopKGradients.Result r = TopKGradients.compute(cfg, sae, x, y, dead);
                    l = r.loss();
                    adam.step(cfg.lrAt(step), 1.0, r.gradients());
                } else {
                    synchronized (Runtime.AUTOGRAD) {
                        try (GradientCollector gc = Runtime.engine().newGradientCollector()) {
                            l = stepLoss(cfg, sae, x, y, dead);
                            gc.backward(l.total());
                        }
                    }
                    adam.step(cfg.lrAt(step), 1.0);
                }
                double[] parts = logged ? new double[]{Tensors.scalar(l.total()), Tensors.scalar(l.reconstruction()),
                    Tensors.scalar(l.sparsity()), Tensors.scalar(l.aux())} : new double[4];
                sae.normalizeDecoder();
                NDArray fired = l.fired();
                sinceFired.addi(cfg.batchSize()).muli(fired.logicalNot().toType(DataType.INT64, false));
                if (logged) {
                    if (!Double.isFinite(parts[0])) {
                        throw new IllegalStateException("training diverged: the loss is " + parts[0] + " at step " + (step + 1)
                                + "; lower the learning rate or check the activations' scale");
                    }
                    StepLog entry = new StepLog(step, parts[0], parts[1], parts[2], parts[3], Tensors.scalar(l.meanL0()),
                            dead.sum().toType(DataType.INT64, false).getLong());
                    log.add(entry);
                    progress.accept(entry);
                }
            }
            if (resume != null && (step + 1) % resume.every() == 0 && step + 1 < cfg.steps()) {
                save(resume, cfg, step + 1, sae, adam, sinceFired);
            }
        }
        params.forEach(p -> p.setRequiresGradient(false));
        state.close();
        sae.foldScale(scale);
        return new Result(sae, log, (System.nanoTime() - start) / 1e9, dataNanos / 1e9, (long) (cfg.steps() - first) * cfg.batchSize(), first,
                scale);
    }

    /** Adam as every dictionary trains with it (β 0.9, 0.999, ε 1e-8, no weight decay), its moments in {@code state}. */
    static AdamW optimizer(List<NDArray> params, NDManager state) {
        return new AdamW(params, new boolean[params.size()], new AdamW.Settings(BETA1, BETA2, EPS, 0), state);
    }

    /** The arrays a training state holds: parameters, Adam's moments and the steps since each latent fired. */
    private static java.util.Map<String, NDArray> stateTensors(AdamW adam, NDArray sinceFired, NDManager views) {
        java.util.Map<String, NDArray> t = new java.util.LinkedHashMap<>();
        for (int i = 0; i < adam.parameters().size(); i++) {
            NDArray view = adam.parameters().get(i).stopGradient();   // a detached view: restores write through
            view.attach(views);
            t.put("param." + i, view);
            t.put("adam_m." + i, adam.firstMoments().get(i));
            t.put("adam_v." + i, adam.secondMoments().get(i));
        }
        t.put("since_fired", sinceFired);
        return t;
    }

    private static int restore(Resume r, SaeConfig cfg, SparseAutoencoder sae, AdamW adam, NDArray sinceFired, NDManager m) {
        try {
            if (!TrainingState.exists(r.dir(), cfg.toString())) {
                return 0;
            }
            TrainingState.Restored s = TrainingState.restore(r.dir(), stateTensors(adam, sinceFired, m), m);
            sae.restoreBatchThreshold(Double.parseDouble(s.scalars().get("batch_threshold")));
            adam.restoreSteps(s.step());
            return s.step();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("could not read the training state in " + r.dir(), e);
        }
    }

    private static void save(Resume r, SaeConfig cfg, int step, SparseAutoencoder sae, AdamW adam, NDArray sinceFired) {
        try (NDManager views = sinceFired.getManager().newSubManager()) {
            TrainingState.save(r.dir(), cfg.toString(), step, stateTensors(adam, sinceFired, views),
                    java.util.Map.of("batch_threshold", Double.toString(sae.batchThreshold())));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("could not save the training state to " + r.dir(), e);
        }
        r.afterSave().accept(step);
    }

    /**
     * The dictionary's input: the row, or its first d_in columns for a transcoder. {@code [n, width] → [n, d_in]}
     * (The column slices are copied, so the matmuls read contiguous memory that the step owns.)
     */
    public static NDArray input(SaeConfig cfg, NDArray rows) {
        return cfg.transcoder() ? rows.get(new ai.djl.ndarray.index.NDIndex(":, :{}", cfg.dIn())).duplicate() : rows;
    }

    /** What the dictionary reconstructs: the row, or its last d_out columns for a transcoder. {@code [n, width] → [n, out_width]} */
    public static NDArray target(SaeConfig cfg, NDArray rows) {
        return cfg.transcoder() ? rows.get(new ai.djl.ndarray.index.NDIndex(":, {}:", cfg.dIn())).duplicate() : rows;
    }
}
