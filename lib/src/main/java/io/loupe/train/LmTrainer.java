package io.loupe.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.loupe.model.LanguageModel;
import io.loupe.model.Runtime;
import io.loupe.optim.AdamW;
import io.loupe.optim.GradientNorm;
import io.loupe.optim.TrainingState;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;
import java.util.function.Predicate;

/**
 * Trains a language model in place on an {@link Objective} (language modelling by default): AdamW with warm-up and
 * cosine decay, global-norm clipping, a held-out figure at checkpoints, checkpoints and training states.
 *
 * <p>The run is deterministic for a config, objective and starting weights; a run resumed from a {@link TrainingState}
 * ends with exactly the weights of an uninterrupted one (an objective's data order is a function of the step, and
 * nothing else is random). The state holds the trained parameters, AdamW's moments, the step and the log.
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

    /** Language modelling on {@code data}: {@link NextTokenObjective}, every parameter trained. */
    public static Result train(LanguageModel model, TrainData data, TrainConfig cfg, Listener listener, Resume resume) {
        return train(model, new NextTokenObjective(data, cfg), cfg, name -> true, listener, resume);
    }

    /**
     * Minimises {@code objective} over the parameters whose names {@code trainable} accepts (the others stay frozen).
     */
    public static Result train(LanguageModel model, Objective objective, TrainConfig cfg, Predicate<String> trainable, Listener listener,
                               Resume resume) {
        Map<String, NDArray> named = new LinkedHashMap<>();
        model.parameters().forEach((k, v) -> {
            if (trainable.test(k)) {
                named.put(k, v);
            }
        });
        if (named.isEmpty()) {
            throw new IllegalArgumentException("no parameter of the model is selected for training");
        }
        List<NDArray> params = new ArrayList<>(named.values());
        boolean[] decay = new boolean[params.size()];
        for (int i = 0; i < decay.length; i++) {
            decay[i] = params.get(i).getShape().dimension() >= 2;   // matrices and embeddings; not norms or biases
        }
        params.forEach(p -> p.setRequiresGradient(true));
        try {
            return run(model, objective, cfg, listener, resume, named, params, decay);
        } finally {
            params.forEach(p -> p.setRequiresGradient(false));
        }
    }

    private static Result run(LanguageModel model, Objective objective, TrainConfig cfg, Listener listener, Resume resume,
                              Map<String, NDArray> named, List<NDArray> params, boolean[] decay) {
        long[] perStep = objective.tokensPerStep(cfg.steps());
        String key = cfg + "|" + objective.fingerprint() + "|" + model.config() + "|" + named.keySet();
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
                double loss;
                synchronized (Runtime.AUTOGRAD) {
                    try (GradientCollector gc = Runtime.engine().newGradientCollector()) {
                        loss = objective.accumulate(model, step, lambda, gc);
                    }
                }
                double norm = GradientNorm.of(params);
                if (!Double.isFinite(loss) || !Double.isFinite(norm)) {
                    throw new IllegalStateException("training diverged at step " + (step + 1) + ": loss " + loss + ", gradient norm " + norm
                            + "; lower the learning rate (" + lr + ") or check the data");
                }
                adam.step(lr, GradientNorm.clipFactor(norm, cfg.clipNorm()));
                tokens += perStep[step];
                int done = step + 1;
                boolean checkpoint = checkpoints.contains(done);
                boolean evalNow = objective.evaluates()
                        && (checkpoint || done == cfg.steps() || (cfg.evalEvery() > 0 && done % cfg.evalEvery() == 0));
                StepLog l = new StepLog(done, tokens, loss, evalNow ? objective.evaluate(model) : Double.NaN, lr, norm, lambda);
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
