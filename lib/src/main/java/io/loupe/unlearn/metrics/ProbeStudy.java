package io.loupe.unlearn.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Linear probes for the forget answers, by layer (the "a linear probe still reads it" test of unlearning). Features are
 * the residual stream at the token just before the fact in each QA row's answer (where the model predicts it); the label
 * is the fact. The forget QA
 * rows are split into k folds; for each fold a {@link RidgeProbe} is trained on the retain QA rows and the other
 * forget folds, and tested on the fold's rows as the model represents them:
 * <ul>
 *   <li>frozen: the probe is trained on the target's features (it reads the target's code for the answers);</li>
 *   <li>refitted: the probe is trained on the model's own features (is the answer still linearly recoverable at all?).</li>
 * </ul>
 * Accuracy is pooled over the folds. For the target both are the same probe; for the retrain model they show what a
 * model that never saw the facts gives.
 */
public final class ProbeStudy {
    /** Per layer, the frozen and refitted accuracies on the forget rows. */
    public record Result(double[] frozen, double[] refit) {
    }

    private ProbeStudy() {
    }

    /**
     * @param target      the target's features by example id, {@code [layer][d]}
     * @param model       the model's features, same ids
     * @param forgetIds   forget QA rows, in a fixed order (folds are taken round-robin over it)
     * @param retainIds   retain QA rows (always in training)
     * @param labels      each id's answer value
     */
    public static Result run(Map<String, float[][]> target, Map<String, float[][]> model, List<String> forgetIds, List<String> retainIds,
                             Map<String, String> labels, int folds, double ridge) {
        if (forgetIds.size() < 2) {
            return new Result(new double[0], new double[0]);
        }
        int layers = target.get(forgetIds.get(0)).length, k = Math.min(folds, forgetIds.size());
        double[] frozen = new double[layers], refit = new double[layers];
        for (int l = 0; l < layers; l++) {
            int rightFrozen = 0, rightRefit = 0;
            for (int f = 0; f < k; f++) {
                List<String> train = new ArrayList<>(retainIds), test = new ArrayList<>();
                for (int i = 0; i < forgetIds.size(); i++) {
                    (i % k == f ? test : train).add(forgetIds.get(i));
                }
                List<String> y = train.stream().map(labels::get).toList();
                RidgeProbe onTarget = RidgeProbe.fit(rows(target, train, l), y, ridge), onModel = RidgeProbe.fit(rows(model, train, l), y, ridge);
                double[][] testRows = rows(model, test, l);
                for (int i = 0; i < test.size(); i++) {
                    String want = labels.get(test.get(i));
                    rightFrozen += onTarget.predict(testRows[i]).equals(want) ? 1 : 0;
                    rightRefit += onModel.predict(testRows[i]).equals(want) ? 1 : 0;
                }
            }
            frozen[l] = (double) rightFrozen / forgetIds.size();
            refit[l] = (double) rightRefit / forgetIds.size();
        }
        return new Result(frozen, refit);
    }

    private static double[][] rows(Map<String, float[][]> features, List<String> ids, int layer) {
        double[][] out = new double[ids.size()][];
        for (int i = 0; i < ids.size(); i++) {
            float[][] f = features.get(ids.get(i));
            if (f == null) {
                throw new IllegalStateException("no probe features for example " + ids.get(i));
            }
            float[] v = f[layer];
            out[i] = new double[v.length];
            for (int j = 0; j < v.length; j++) {
                out[i][j] = v[j];
            }
        }
        return out;
    }
}
