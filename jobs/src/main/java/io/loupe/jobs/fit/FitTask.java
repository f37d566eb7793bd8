package io.loupe.jobs.fit;

import io.loupe.dict.Architecture;
import io.loupe.dict.SaeConfig;

import java.io.Serializable;

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
