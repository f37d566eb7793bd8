package io.loupe.jobs.fit;

import io.loupe.dict.Architecture;
import io.loupe.dict.SaeConfig;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * One point of a fit grid: one dictionary, one Spark task.
 *
 * @param name       the checkpoint folder under the output, e.g. {@code blocks.2.hook_resid_post__topk_w512_k16_lr0.001}
 * @param hook       the hook the dictionary reads
 * @param targetHook the hook a transcoder reconstructs, or null for a sparse autoencoder
 * @param dOut       the target hook's width (0 for a sparse autoencoder)
 */
public record FitTask(String name, String hook, String targetHook, Architecture architecture, int dIn, int dOut, int width, int k, double l1,
                      double l0, double lr, int steps, int batchSize, long seed) implements Serializable {

    public SaeConfig config() {
        return SaeConfig.defaults(architecture, dIn, width, Math.min(k, width))
                .withTraining(lr, steps, batchSize, Math.min(100, steps / 10), steps / 5)
                .withSparsity(l1, l0).withSeed(seed).withDeadAfter(Math.max(10L * batchSize, 100_000L)).withTranscoderOut(dOut);
    }

    /**
     * One architecture's grid points for one hook: width × k (the first k only, where the architecture has none) × l1 × l0 ×
     * lr, each validated before any task starts. The caller picks the l1 and l0 lists (its defaults where they do not apply).
     *
     * @param spec the hook as given, {@code source:target} for a transcoder; it names the checkpoints
     */
    public static List<FitTask> grid(String spec, String hook, String target, Architecture arch, int dIn, int dOut, List<Integer> widths,
                                     List<Integer> ks, List<Double> l1s, List<Double> l0s, List<Double> lrs, int steps, int batchSize, long seed) {
        List<FitTask> out = new ArrayList<>();
        for (int w : widths) {
            for (int k : arch.usesK() ? ks : List.of(ks.get(0))) {
                for (double l1 : l1s) {
                    for (double l0 : l0s) {
                        for (double lr : lrs) {
                            FitTask t = new FitTask(nameOf(spec, arch, w, k, l1, l0, lr), hook, target, arch, dIn, dOut, w, k, l1, l0, lr, steps,
                                    batchSize, seed);
                            t.config();
                            out.add(t);
                        }
                    }
                }
            }
        }
        return out;
    }

    /** @param hook a hook name, or {@code source:target} for a transcoder (named {@code source__to__target}) */
    public static String nameOf(String hook, Architecture a, int width, int k, double l1, double l0, double lr) {
        String sparsity = switch (a) {
            case TOPK, BATCH_TOPK, MATRYOSHKA -> "_k" + k;
            case RELU, GATED -> "_l1" + l1;
            case JUMPRELU -> "_l0" + l0;
        };
        return hook.replace(":", "__to__") + "__" + a.saeLensName() + "_w" + width + sparsity + "_lr" + lr;
    }
}
