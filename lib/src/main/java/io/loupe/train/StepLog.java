package io.loupe.train;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;

import java.util.ArrayList;
import java.util.List;

/**
 * One optimizer step of a language-model run.
 *
 * @param step         1-based step count
 * @param tokens       training tokens seen after this step (padding excluded)
 * @param trainLoss    the step's mean next-token NLL over its target tokens (nats), before the update
 * @param heldOutLoss  the objective's evaluation after the update (for language modelling the mean NLL over held-out target tokens),
 *                     or NaN where not evaluated
 * @param lr           the learning rate used
 * @param gradNorm     the global gradient norm before clipping
 * @param activationL1 the ProSparse penalty factor λ used (0 without one)
 */
public record StepLog(int step, long tokens, double trainLoss, double heldOutLoss, double lr, double gradNorm, double activationL1) {

    /** Compact JSON ({@code [[step, tokens, train, heldOut, lr, norm, l1], …]}, NaN as null) for training states. */
    public static String toJson(List<StepLog> log) {
        JsonArray a = new JsonArray();
        for (StepLog l : log) {
            JsonArray r = new JsonArray();
            r.add(l.step);
            r.add(l.tokens);
            for (double d : new double[]{l.trainLoss, l.heldOutLoss, l.lr, l.gradNorm, l.activationL1}) {
                if (Double.isFinite(d)) {
                    r.add(d);
                } else {
                    r.add((String) null);
                }
            }
            a.add(r);
        }
        return a.toString();
    }

    public static List<StepLog> fromJson(String json) {
        List<StepLog> out = new ArrayList<>();
        for (JsonElement e : com.google.gson.JsonParser.parseString(json).getAsJsonArray()) {
            JsonArray r = e.getAsJsonArray();
            double[] d = new double[5];
            for (int i = 0; i < 5; i++) {
                d[i] = r.get(i + 2).isJsonNull() ? Double.NaN : r.get(i + 2).getAsDouble();
            }
            out.add(new StepLog(r.get(0).getAsInt(), r.get(1).getAsLong(), d[0], d[1], d[2], d[3], d[4]));
        }
        return out;
    }
}
