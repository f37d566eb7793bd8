package io.loupe.jobs.train;

import io.loupe.model.MlpActivation;
import io.loupe.train.TrainConfig;

/**
 * One point of a train sweep: one model, one Spark task.
 *
 * @param name      the run's folder under the output, e.g. {@code relu_lr0.001_seed1}
 * @param hiddenAct the MLP activation to train with, or null for the source's own
 * @param l1Spec    ProSparse stages as given ({@code 1e-4:5e-4}), or "" for none
 * @param config    how it trains
 */
public record TrainRun(String name, MlpActivation hiddenAct, String l1Spec, TrainConfig config) implements java.io.Serializable {

    public static String nameOf(MlpActivation act, double lr, long seed, String l1Spec) {
        return (act == null ? "" : act.hfName() + "_") + "lr" + lr + "_seed" + seed + (l1Spec.isEmpty() ? "" : "_l1-" + l1Spec.replace(':', '-'));
    }
}
