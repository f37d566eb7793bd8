package io.loupe.unlearn;

import io.loupe.model.LanguageModel;
import io.loupe.train.LmTrainer;
import io.loupe.train.StepLog;
import io.loupe.train.TrainConfig;
import io.loupe.train.TrainData;
import io.loupe.train.TrainSequence;

import java.util.ArrayList;
import java.util.List;

/**
 * The relearning test of removal against suppression (Lynch et al. 2024; Deeb &amp; Roger 2024): fine-tune a model for up
 * to K steps on a slice of the forget set (every other forget row, in id order) and, after every step, measure the mean
 * NLL per target token on the whole forget set. A model that only suppressed the data regains the target's forget NLL
 * in a few steps; one that removed it needs about as many as the retrain model, which never saw it.
 */
public final class Relearning {
    /**
     * @param curve         forget NLL after each step (index 0 = after step 1)
     * @param before        forget NLL before relearning
     * @param stepsToTarget the first step whose forget NLL is at or below the target's, or -1 if none within K
     */
    public record Result(double before, double[] curve, int stepsToTarget) implements java.io.Serializable {
    }

    private Relearning() {
    }

    /** Relearns {@code model} in place. */
    public static Result run(LanguageModel model, List<TrainSequence> forget, double targetForgetNll, int steps, double lr, int batchSize) {
        if (forget.size() < 2) {
            throw new IllegalArgumentException("relearning needs at least 2 forget rows");
        }
        List<TrainSequence> slice = new ArrayList<>();
        for (int i = 0; i < forget.size(); i += 2) {
            slice.add(forget.get(i));
        }
        double before = io.loupe.train.NextTokenObjective.meanNll(model, forget, 0, batchSize);
        TrainConfig cfg = new TrainConfig(lr, 1.0, 0, 0.0, 0.9, 0.999, 1e-8, 1.0, batchSize, 1, steps, 0, 1, 0, 0, new int[0],
                io.loupe.train.ActivationL1.none(steps));
        LmTrainer.Result r = LmTrainer.train(model, TrainData.of(slice, forget), cfg, new LmTrainer.Listener() {
            @Override
            public void onStep(StepLog log) {
            }

            @Override
            public void onCheckpoint(int step, long tokensSeen) {
            }
        }, null);
        double[] curve = r.log().stream().mapToDouble(StepLog::heldOutLoss).toArray();
        int reached = -1;
        if (before <= targetForgetNll) {
            reached = 0;
        } else {
            for (int i = 0; i < curve.length && reached < 0; i++) {
                if (curve[i] <= targetForgetNll) {
                    reached = i + 1;
                }
            }
        }
        return new Result(before, curve, reached);
    }
}
