package io.loupe.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import io.loupe.hooks.HookKind;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;
import io.loupe.model.LanguageModel;
import io.loupe.model.Runtime;
import io.loupe.model.TokenBatch;
import io.loupe.optim.AdamW;
import io.loupe.optim.GradientNorm;
import io.loupe.optim.TrainingState;
import io.loupe.tensor.Tensors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * Trains a language model in place: next-token cross-entropy over each sequence's target tokens (a loss mask for
 * question/answer rows), AdamW with warm-up and cosine decay, global-norm clipping, gradient accumulation, and
 * optionally ProSparse's staged L1 penalty on {@code mlp.hook_post}.
 *
 * <pre>
 *   loss(step) = Σ_{micro-batches} Σ_{target tokens} −log p(x_t | x_&lt;t) / (target tokens in the step)
 *              + λ(step) · Σ_l Σ_{real tokens, neurons} |mlp.hook_post_l| / (real tokens in the step · d_mlp)
 * </pre>
 *
 * Each micro-batch is backpropagated on its share of that sum, so accumulation equals one large batch. The run is
 * deterministic for a config, data and starting weights; a run resumed from a {@link TrainingState} ends with
 * exactly the weights of an uninterrupted one (data order is a function of the step, and nothing else is random).
 */
public final class LmTrainer {

    /** Called as training goes. */
    public interface Listener {
        void onStep(StepLog log);

        /** After step {@code step} of the checkpoint list; the model holds that step's weights. */
        void onCheckpoint(int step, long tokensSeen) throws IOException;
    }

    /**
     * Where to keep training states: saved every {@code TrainConfig.stateEvery} steps and at each checkpoint (not after
     * the last step), then {@code afterSave} is called with the step (to copy it to durable storage).
     */
    public record Resume(Path dir, IntConsumer afterSave) {
    }

    /**
     * @param log       every step's log, including those a resumed run took before it was killed
     * @param firstStep the step this call started from (0 unless it resumed)
     */
    public record Result(List<StepLog> log, long tokensSeen, double seconds, int firstStep) {
        /** Training tokens per second of this call. */
        public double tokensPerSecond() {
            long before = firstStep == 0 ? 0 : log.get(firstStep - 1).tokens();
            return (tokensSeen - before) / seconds;
        }
    }

    private LmTrainer() {
    }

    public static Result train(LanguageModel model, TrainData data, TrainConfig cfg, Listener listener, Resume resume) {
        Map<String, NDArray> named = model.parameters();
        List<NDArray> params = new ArrayList<>(named.values());
        boolean[] decay = new boolean[params.size()];
        for (int i = 0; i < decay.length; i++) {
            decay[i] = params.get(i).getShape().dimension() >= 2;   // matrices and embeddings; not norms or biases
        }
        params.forEach(p -> p.setRequiresGradient(true));
        try {
            return run(model, data, cfg, listener, resume, named, params, decay);
        } finally {
            params.forEach(p -> p.setRequiresGradient(false));
        }
    }

    private static Result run(LanguageModel model, TrainData data, TrainConfig cfg, Listener listener, Resume resume, Map<String, NDArray> named,
                              List<NDArray> params, boolean[] decay) {
        long[] perStep = data.tokensPerStep(cfg.seed(), cfg.steps(), cfg.gradAccum(), cfg.batchSize());
        String key = cfg + "|" + data.fingerprint() + "|" + model.config();
        List<StepLog> log = new ArrayList<>();
        try (NDManager state = model.manager().newSubManager()) {
            AdamW adam = new AdamW(params, decay, cfg.adam(), state);
            int first = resume == null ? 0 : restore(resume.dir(), key, named, adam, log, state);
            long tokens = first == 0 ? 0 : log.get(first - 1).tokens();
            long start = System.nanoTime();
            java.util.Set<Integer> checkpoints = new java.util.HashSet<>();
            for (int c : cfg.checkpointSteps()) {
                checkpoints.add(c);
            }
            for (int step = first; step < cfg.steps(); step++) {
                double lr = cfg.schedule().at(step), lambda = cfg.activationL1().at(step);
                double nll = accumulateGradients(model, data, cfg, step, lambda, perStep[step]);
                double norm = GradientNorm.of(params);
                if (!Double.isFinite(nll) || !Double.isFinite(norm)) {
                    throw new IllegalStateException("training diverged at step " + (step + 1) + ": loss " + nll + ", gradient norm " + norm
                            + "; lower the learning rate (" + lr + ") or check the data");
                }
                adam.step(lr, GradientNorm.clipFactor(norm, cfg.clipNorm()));
                tokens += perStep[step];
                int done = step + 1;
                boolean checkpoint = checkpoints.contains(done);
                boolean evalNow = !data.heldOut().isEmpty()
                        && (checkpoint || done == cfg.steps() || (cfg.evalEvery() > 0 && done % cfg.evalEvery() == 0));
                double heldOut = evalNow ? heldOutLoss(model, data.heldOut(), cfg.evalSequences(), cfg.batchSize()) : Double.NaN;
                StepLog l = new StepLog(done, tokens, nll, heldOut, lr, norm, lambda);
                log.add(l);
                listener.onStep(l);
                if (checkpoint) {
                    try {
                        listener.onCheckpoint(done, tokens);
                    } catch (IOException e) {
                        throw new UncheckedIOException("could not write the checkpoint after step " + done, e);
                    }
                }
                boolean saveState = done < cfg.steps() && (checkpoint || (cfg.stateEvery() > 0 && done % cfg.stateEvery() == 0));
                if (resume != null && saveState) {
                    save(resume.dir(), key, done, named, adam, log);
                    resume.afterSave().accept(done);
                }
            }
            return new Result(log, tokens, (System.nanoTime() - start) / 1e9, first);
        }
    }

    /**
     * Forward and backward over the step's micro-batches, adding to the parameters' gradients; returns the step's mean
     * NLL per target token.
     */
    static double accumulateGradients(LanguageModel model, TrainData data, TrainConfig cfg, int step, double lambda, long realTokens) {
        List<List<TrainSequence>> micro = new ArrayList<>();
        long targets = 0;
        for (int j = 0; j < cfg.gradAccum(); j++) {
            List<TrainSequence> b = data.microBatch(cfg.seed(), step, j, cfg.gradAccum(), cfg.batchSize());
            micro.add(b);
            for (TrainSequence s : b) {
                targets += s.targets();
            }
        }
        List<HookPoint> mlp = new ArrayList<>();
        for (int l = 0; lambda > 0 && l < model.config().numLayers(); l++) {
            mlp.add(HookPoint.of(l, HookKind.MLP_POST));
        }
        double nllSum = 0;
        synchronized (Runtime.AUTOGRAD) {
            try (GradientCollector gc = Runtime.engine().newGradientCollector()) {
                for (List<TrainSequence> b : micro) {
                    try (NDScope scope = new NDScope(); NDManager m = model.manager().newSubManager()) {
                        TokenBatch batch = LmLoss.batch(m, b);
                        Hooks hooks = Hooks.none().capture(mlp);
                        NDArray nll = LmLoss.summedNll(model, batch, b, hooks);
                        NDArray loss = nll.div(targets);
                        if (lambda > 0) {
                            NDArray real = batch.mask().toType(nll.getDataType(), false).expandDims(2);
                            for (HookPoint p : mlp) {
                                NDArray l1 = hooks.captured(p).abs().mul(real).sum();
                                loss = loss.add(l1.mul(lambda / ((double) realTokens * model.config().dMlp())));
                            }
                        }
                        gc.backward(loss);
                        nllSum += Tensors.scalar(nll);
                    }
                }
            }
        }
        return nllSum / targets;
    }

    /** Mean NLL per target token over {@code sequences} (the first {@code limit}; 0 = all), no gradients. */
    public static double heldOutLoss(LanguageModel model, List<TrainSequence> sequences, int limit, int batchSize) {
        List<TrainSequence> use = limit > 0 && limit < sequences.size() ? sequences.subList(0, limit) : sequences;
        double sum = 0;
        long n = 0;
        for (int from = 0; from < use.size(); from += batchSize) {
            List<TrainSequence> b = use.subList(from, Math.min(use.size(), from + batchSize));
            try (NDScope scope = new NDScope(); NDManager m = model.manager().newSubManager()) {
                sum += Tensors.scalar(LmLoss.summedNll(model, LmLoss.batch(m, b), b, Hooks.none()));
            }
            for (TrainSequence s : b) {
                n += s.targets();
            }
        }
        return sum / n;
    }

    /** Parameters (detached views, so a restore writes through), AdamW's moments; the log and step ride as scalars. */
    private static Map<String, NDArray> stateTensors(Map<String, NDArray> named, AdamW adam, NDManager views) {
        Map<String, NDArray> t = new LinkedHashMap<>();
        int i = 0;
        for (var e : named.entrySet()) {
            NDArray view = e.getValue().stopGradient();
            view.attach(views);
            t.put("param." + e.getKey(), view);
            t.put("adam_m." + e.getKey(), adam.firstMoments().get(i));
            t.put("adam_v." + e.getKey(), adam.secondMoments().get(i));
            i++;
        }
        return t;
    }

    private static void save(Path dir, String key, int step, Map<String, NDArray> named, AdamW adam, List<StepLog> log) {
        try (NDManager views = adam.firstMoments().get(0).getManager().newSubManager()) {
            TrainingState.save(dir, key, step, stateTensors(named, adam, views), Map.of("log", StepLog.toJson(log)));
        } catch (IOException e) {
            throw new UncheckedIOException("could not save the training state to " + dir, e);
        }
    }

    private static int restore(Path dir, String key, Map<String, NDArray> named, AdamW adam, List<StepLog> log, NDManager m) {
        try {
            if (!TrainingState.exists(dir, key)) {
                return 0;
            }
            try (NDManager views = m.newSubManager()) {
                TrainingState.Restored r = TrainingState.restore(dir, stateTensors(named, adam, views), views);
                adam.restoreSteps(r.step());
                log.addAll(StepLog.fromJson(r.scalars().get("log")));
                if (log.size() != r.step()) {
                    throw new IllegalStateException(dir + ": the training state's log has " + log.size() + " steps but its step is " + r.step());
                }
                return r.step();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the training state in " + dir, e);
        }
    }
}
