package io.loupe.jobs.train;

import io.loupe.model.MlpActivation;
import io.loupe.train.TrainConfig;
import io.loupe.unlearn.UnlearnSettings;

/**
 * One point of a sweep: one model, one Spark task.
 *
 * @param name      the run's name: its folder under the output, e.g. {@code relu_lr0.001_seed1}
 * @param hiddenAct the MLP activation to train with, or null for the source's own
 * @param l1Spec    ProSparse stages as given ({@code 1e-4:5e-4}), or "" for none
 * @param config    how it trains
 * @param data      which of the job's data sets it trains on (language modelling), e.g. {@code corpus}
 * @param unlearn   an unlearning method instead of language modelling (it reads the {@code forget} and {@code retain}
 *                  data sets and uses the source model as the frozen reference), or null
 * @param finalOnly write only the final model, as the Hugging Face directory {@code OUT/<name>} itself, instead of a
 *                  {@code OUT/<name>/step<N>} series
 */
public record TrainRun(String name, MlpActivation hiddenAct, String l1Spec, TrainConfig config, String data, UnlearnSettings unlearn,
                       boolean finalOnly) implements java.io.Serializable {

    /** A language-modelling run of a train sweep on the {@code corpus} data set, writing a checkpoint series. */
    public static TrainRun series(String name, MlpActivation act, String l1Spec, TrainConfig config) {
        return new TrainRun(name, act, l1Spec, config, "corpus", null, false);
    }

    /** e.g. {@code relu_lr0.001_seed0} or, with a ProSparse penalty, {@code relu_lr0.001_seed0_l1-0.05-0.1}. */
    public static String nameOf(MlpActivation act, double lr, long seed, String l1Spec) {
        boolean penalty = io.loupe.train.ActivationL1.parse(l1Spec, 1).active();
        return (act == null ? "" : act.hfName() + "_") + "lr" + lr + "_seed" + seed + (penalty ? "_l1-" + l1Spec.replace(':', '-') : "");
    }
}
