package io.loupe.dict;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.loupe.hooks.HookPoint;
import io.loupe.model.LanguageModel;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One end-to-end dictionary, as one fit task: {@link EndToEndTrainer} on the training sequences, then the held-out
 * evaluation and checkpoint of a local dictionary ({@link FitRun#evaluateAndSave}), so the two kinds compare on the
 * same figures (FVU and L0 on held-out activations, CE loss recovered and KL through the model).
 */
public final class EndToEndRun {
    private static final int EVAL_BATCH = 8;

    private EndToEndRun() {
    }

    /** A log entry as one line: the loss and its parts (KL, sparsity, downstream), L0 and dead latents. */
    public static String describe(SaeTrainer.StepLog l, int steps) {
        return String.format("step %d/%d loss %.4g (KL %.4g, sparsity %.4g, downstream %.4g), L0 %.1f, dead %d",
                l.step() + 1, steps, l.loss(), l.reconstruction(), l.sparsity(), l.aux(), l.meanL0(), l.dead());
    }

    /** @return the metrics written to {@code out/metrics.json} (null {@code out}: nothing written) */
    public static Map<String, Object> run(SaeConfig cfg, EndToEndTrainer.Settings settings, LanguageModel model, HookPoint hook,
                                          List<long[]> train, List<long[]> heldOut, Path out, Map<String, Object> extraCfg, NDManager m,
                                          Consumer<SaeTrainer.StepLog> progress) throws IOException {
        if (heldOut.isEmpty()) {
            throw new IllegalArgumentException("no held-out sequences to evaluate on; raise the eval fraction or add prompts");
        }
        SaeTrainer.Result r = EndToEndTrainer.train(cfg, settings, model, hook, train, m, Math.max(1, cfg.steps() / 10), progress);
        NDList parts = new NDList();
        for (int from = 0; from < heldOut.size(); from += EVAL_BATCH) {
            parts.add(EndToEndTrainer.cleanRows(model, hook, heldOut.subList(from, Math.min(heldOut.size(), from + EVAL_BATCH)), m));
        }
        NDArray evalX = parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 0);
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("objective", settings.objective());
        extra.put("kl_coeff", settings.klCoeff());
        extra.put("ds_coeff", settings.downstream().isEmpty() ? 0.0 : settings.dsCoeff());
        extra.put("downstream_hooks", settings.downstream().stream().map(HookPoint::name).toList());
        extra.put("sequences_per_step", settings.sequences());
        Map<String, Object> meta = new LinkedHashMap<>(extraCfg);
        return FitRun.evaluateAndSave(cfg, r, evalX, evalX, heldOut, hook, null, model, r.tokens(), out, meta, extra);
    }
}
