package io.loupe.dict;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.GsonBuilder;
import io.loupe.hooks.HookPoint;
import io.loupe.model.LanguageModel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * One dictionary from stored activation rows: split by example, train, evaluate on the held-out
 * examples (reconstruction metrics and, through the model, CE loss recovered), save. Shared by the
 * driver-side and the Spark-task side of {@code loupe fit}.
 */
public final class FitRun {
    /** One stored activation row: which token it is and its values (for a transcoder, the input's then the target's). */
    public record Row(String exampleId, int position, int tokenId, float[] values) {
    }

    private FitRun() {
    }

    /** True if this example belongs to the held-out split: a well-mixed hash of (id, seed), not String.hashCode. */
    public static boolean heldOut(String exampleId, long seed, double fraction) {
        long h = UUID.nameUUIDFromBytes((exampleId + "#" + seed).getBytes(StandardCharsets.UTF_8)).getLeastSignificantBits();
        return Math.floorMod(h, 1000) < fraction * 1000;
    }

    /**
     * @param rows   every row of one hook (a transcoder: input then target values per row), in any order
     * @param hook   the hook the dictionary reads
     * @param target the hook a transcoder reconstructs; null for a sparse autoencoder (it reconstructs {@code hook})
     * @param model  the model the rows came from, for CE loss recovered (null to skip it)
     * @param out    checkpoint folder (null to not save)
     * @param extraCfg SAELens metadata for cfg.json (model_name, dataset_path, context_size, prepend_bos)
     * @param resume periodic training states to continue a killed run from (null for none)
     * @return the metrics written to {@code metrics.json}
     */
    public static Map<String, Object> run(SaeConfig cfg, List<Row> rows, HookPoint hook, HookPoint target, LanguageModel model, double evalFraction,
                                          Path out, Map<String, Object> extraCfg, NDManager manager, Consumer<String> log,
                                          SaeTrainer.Resume resume) throws IOException {
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("no rows for " + hook);
        }
        if ((target != null) != cfg.transcoder()) {
            throw new IllegalArgumentException("a transcoder needs a target hook and d_out > 0; a sparse autoencoder neither");
        }
        if (target != null && !hook.before(target)) {
            throw new IllegalArgumentException("a transcoder reads a hook and rebuilds a later one in the same pass; " + hook + " does not come before "
                    + target);
        }
        List<Row> sorted = new ArrayList<>(rows);
        sorted.sort(java.util.Comparator.comparing(Row::exampleId).thenComparingInt(Row::position));
        Split split = new Split(cfg, hook, evalFraction, true);
        sorted.forEach(split::add);
        split.check(log, target == null ? hook.name() : hook + " -> " + target);
        try (NDManager m = manager.newSubManager()) {
            NDArray trainX = matrix(m, split.train, cfg.rowWidth());
            return trainAndEvaluate(cfg, new InMemorySource(trainX, cfg.seed()), trainX, split, hook, target, model, out,
                    extraCfg, m, log, resume);
        }
    }

    /**
     * One sparse autoencoder from a row stream larger than memory: a first pass validates every row and
     * keeps the held-out ones; training then streams the other rows through a {@link ShuffleBufferSource}
     * of {@code bufferRows} rows (reopening the stream each epoch).
     *
     * @param rows opens the stream from its start; it must give the same rows in the same order each time
     */
    public static Map<String, Object> runStreaming(SaeConfig cfg, java.util.function.Supplier<java.util.Iterator<Row>> rows, HookPoint hook,
                                                   LanguageModel model, double evalFraction, int bufferRows, Path out,
                                                   Map<String, Object> extraCfg, NDManager manager, Consumer<String> log,
                                                   SaeTrainer.Resume resume) throws IOException {
        if (cfg.transcoder()) {
            throw new IllegalArgumentException("transcoders pair two hooks' rows by token and train from memory; stream only autoencoders");
        }
        Split split = new Split(cfg, hook, evalFraction, false);
        rows.get().forEachRemaining(split::add);
        split.check(log, hook.name());
        java.util.function.Supplier<java.util.Iterator<float[]>> train = () -> java.util.stream.StreamSupport
                .stream(java.util.Spliterators.spliteratorUnknownSize(rows.get(), java.util.Spliterator.ORDERED), false)
                .filter(r -> !heldOut(r.exampleId(), cfg.seed(), evalFraction)).map(Row::values).iterator();
        int capacity = (int) Math.max(1, Math.min(bufferRows, split.trainCount));
        log.accept(String.format("%s: streaming %d training tokens through a shuffle buffer of %d rows", hook, split.trainCount, capacity));
        try (NDManager m = manager.newSubManager()) {
            return trainAndEvaluate(cfg, new ShuffleBufferSource(train, cfg.rowWidth(), capacity, cfg.seed()), matrix(m, split.sample, cfg.rowWidth()),
                    split, hook, null, model, out, extraCfg, m, log, resume);
        }
    }

    /** Sorts rows into training and held-out, checking widths and counting NaN/Inf rows (refused). */
    private static final class Split {
        private static final int SAMPLE = 4096;
        final List<float[]> train = new ArrayList<>();
        final List<float[]> eval = new ArrayList<>();
        final List<float[]> sample = new ArrayList<>();
        final Map<String, List<Long>> evalTokens = new TreeMap<>();
        long trainCount;
        long bad;
        private final SaeConfig cfg;
        private final HookPoint hook;
        private final double evalFraction;
        private final boolean keepTrain;

        Split(SaeConfig cfg, HookPoint hook, double evalFraction, boolean keepTrain) {
            this.cfg = cfg;
            this.hook = hook;
            this.evalFraction = evalFraction;
            this.keepTrain = keepTrain;
        }

        void add(Row r) {
            if (r.values().length != cfg.rowWidth()) {
                throw new IllegalArgumentException("a row of " + hook + " has width " + r.values().length + ", the dictionary's d_in is " + cfg.dIn()
                        + (cfg.transcoder() ? " and its d_out " + cfg.dOut() : ""));
            }
            for (float x : r.values()) {
                if (!Float.isFinite(x)) {
                    bad++;
                    break;
                }
            }
            if (heldOut(r.exampleId(), cfg.seed(), evalFraction)) {
                eval.add(r.values());
                evalTokens.computeIfAbsent(r.exampleId(), x -> new ArrayList<>()).add((long) r.tokenId());
            } else {
                trainCount++;
                if (keepTrain) {
                    train.add(r.values());
                }
                if (sample.size() < SAMPLE) {
                    sample.add(r.values());
                }
            }
        }

        void check(Consumer<String> log, String what) {
            if (bad > 0) {
                throw new IllegalArgumentException(bad + " rows of " + hook + " hold NaN or Inf; refusing to train on them");
            }
            if (trainCount == 0 || eval.isEmpty()) {
                throw new IllegalArgumentException("need both training and held-out rows; got " + trainCount + " and " + eval.size()
                        + " (adjust the eval fraction)");
            }
            log.accept(String.format("%s: %d training and %d held-out tokens (%d prompts), d_in %d, d_out %d", what, trainCount, eval.size(),
                    evalTokens.size(), cfg.dIn(), cfg.outWidth()));
        }
    }

    /** @param sampleRows training rows (input, then target for a transcoder) that set the activation scales and initialise b_dec */
    private static Map<String, Object> trainAndEvaluate(SaeConfig cfg, ActivationSource source, NDArray sampleRows, Split split, HookPoint hook,
                                                        HookPoint target, LanguageModel model, Path out, Map<String, Object> extraCfg,
                                                        NDManager m, Consumer<String> log, SaeTrainer.Resume resume) throws IOException {
        NDArray evalRows = matrix(m, split.eval, cfg.rowWidth());
        NDArray evalX = SaeTrainer.input(cfg, evalRows), evalY = SaeTrainer.target(cfg, evalRows);
        Map<String, List<Long>> evalTokens = split.evalTokens;
        long trainTokens = split.trainCount;
        int steps = cfg.steps();
        SaeTrainer.Result r = SaeTrainer.train(cfg, source, sampleRows, m, Math.max(1, steps / 10),
                l -> log.accept(String.format("step %d/%d loss %.4g (recon %.4g, sparsity %.4g, aux %.3g), L0 %.1f, dead %d",
                        l.step() + 1, steps, l.loss(), l.reconstruction(), l.sparsity(), l.aux(), l.meanL0(), l.dead())), resume);
        return evaluateAndSave(cfg, r, evalX, evalY, evalTokens.values().stream().map(t -> t.stream().mapToLong(Long::longValue).toArray()).toList(),
                hook, target, model, trainTokens, out, extraCfg, Map.of());
    }

    /**
     * A trained dictionary's held-out metrics (FVU, L0, dead and dense latents, CE loss recovered and KL through the
     * model), then its checkpoint and metrics.json in {@code out}; closes the dictionary.
     *
     * @param evalX         held-out inputs {@code [n, d_in]}; {@code evalY} their targets
     * @param evalSequences held-out token sequences for the splice evaluation
     * @param extraMetrics  added to the metrics before the timings (e.g. the objective of an end-to-end run)
     */
    static Map<String, Object> evaluateAndSave(SaeConfig cfg, SaeTrainer.Result r, NDArray evalX, NDArray evalY, List<long[]> evalSequences,
                                               HookPoint hook, HookPoint target, LanguageModel model, long trainTokens, Path out,
                                               Map<String, Object> extraCfg, Map<String, Object> extraMetrics) throws IOException {
        SparseAutoencoder sae = r.sae();
        long heldOutTokens = evalX.getShape().get(0);
        NDArray f = sae.encode(evalX), xHat = sae.decode(f);
        float[] freq = SaeMetrics.frequencies(f);
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("hook", hook.name());
        if (target != null) {
            metrics.put("hook_out", target.name());
        }
        metrics.put("architecture", cfg.architecture().saeLensName());
        metrics.put("d_sae", cfg.dSae());
        metrics.put("k", cfg.k());
        metrics.put("l1", cfg.l1());
        metrics.put("lr", cfg.lr());
        metrics.put("train_tokens", trainTokens);
        metrics.put("activation_scale_in", r.scale().in());
        metrics.put("activation_scale_out", r.scale().out());
        metrics.put("resumed_from_step", r.firstStep());
        metrics.put("held_out_tokens", heldOutTokens);
        metrics.put("mse", SaeMetrics.mse(evalY, xHat));
        metrics.put("fvu", SaeMetrics.fvu(evalY, xHat));
        metrics.put("mean_l0", SaeMetrics.meanL0(f));
        metrics.put("dead_latents", SaeMetrics.dead(freq));
        metrics.put("dense_latents", SaeMetrics.dense(freq, 0.1));
        metrics.put("warnings", SaeMetrics.warnings((double) metrics.get("fvu"), (int) metrics.get("dead_latents"), cfg.dSae()));
        metrics.put("density_histogram_log10", Map.of("lo", -6, "bins", 12, "counts", SaeMetrics.densityHistogram(freq, -6, 12)));
        if (model != null) {
            SpliceEval.Result ce = SpliceEval.evaluate(model, sae, hook, target == null ? hook : target, evalSequences, 8);
            metrics.put("ce_clean", ce.ceClean());
            metrics.put("ce_recon", ce.ceRecon());
            metrics.put("ce_zero_ablation", ce.ceZero());
            metrics.put("ce_loss_recovered", ce.ceRecovered());
            metrics.put("kl_to_clean", ce.kl());
        }
        metrics.putAll(extraMetrics);
        metrics.put("train_seconds", r.seconds());
        metrics.put("train_tokens_per_second", r.tokensPerSecond());
        if (out != null) {
            Map<String, Object> meta = new LinkedHashMap<>(extraCfg);
            meta.put("hook_name", hook.name());
            meta.put("hook_layer", hook.layer());
            if (target != null) {
                meta.put("hook_name_out", target.name());
                meta.put("hook_layer_out", target.layer());
            }
            sae.save(out, meta, Map.of("loupe_activation_scale", Map.of("in", r.scale().in(), "out", r.scale().out(), "folded", true)));
            Files.writeString(out.resolve("metrics.json"),
                    new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create().toJson(metrics) + "\n");
        }
        sae.close();
        return metrics;
    }

    private static NDArray matrix(NDManager m, List<float[]> rows, int d) {
        float[] flat = new float[rows.size() * d];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(rows.get(i), 0, flat, i * d, d);
        }
        return m.create(flat, new Shape(rows.size(), d));
    }
}
