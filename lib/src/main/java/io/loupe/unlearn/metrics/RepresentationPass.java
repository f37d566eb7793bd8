package io.loupe.unlearn.metrics;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import io.loupe.hooks.HookKind;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;
import io.loupe.model.LanguageModel;
import io.loupe.model.TokenBatch;
import io.loupe.tokenize.PromptTokenizer;
import io.loupe.train.QaFormat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One pass over examples that reads the residual stream ({@code blocks.l.hook_resid_post}, every layer) of a model and
 * of the two comparison models (target, retrain) on the same tokens, and accumulates:
 * <ul>
 *   <li>linear CKA sums per layer against each comparison model, with rows as tokens (every real token) and as
 *       examples (each example's tokens mean-pooled);</li>
 *   <li>probe features: for QA examples with a {@code value}, the model's activation at the token just before the value
 *       in the answer (where the model predicts the fact, e.g. after "Bimo has a pet"), every layer.</li>
 * </ul>
 */
public final class RepresentationPass {
    /** Comparisons: 0 = target, 1 = retrain; row kinds: 0 = tokens, 1 = mean-pooled examples. */
    public static final String[] AGAINST = {"target", "retrain"};
    public static final String[] ROWS = {"tokens", "examples"};

    /** {@code cka[layer][against][rows]} and {@code features.get(id)[layer]}. */
    public record Result(LinearCka[][][] cka, Map<String, float[][]> features) implements java.io.Serializable {
        public Result merge(Result o) {
            for (int l = 0; l < cka.length; l++) {
                for (int a = 0; a < 2; a++) {
                    for (int r = 0; r < 2; r++) {
                        cka[l][a][r].merge(o.cka[l][a][r]);
                    }
                }
            }
            features.putAll(o.features);
            return this;
        }
    }

    private RepresentationPass() {
    }

    public static Result empty(int layers, int d) {
        LinearCka[][][] cka = new LinearCka[layers][2][2];
        for (int l = 0; l < layers; l++) {
            for (int a = 0; a < 2; a++) {
                for (int r = 0; r < 2; r++) {
                    cka[l][a][r] = new LinearCka(d, d);
                }
            }
        }
        return new Result(cka, new LinkedHashMap<>());
    }

    /** @param target the first comparison model, {@code retrain} the second (the model itself may be either) */
    public static Result run(LanguageModel model, LanguageModel target, LanguageModel retrain, PromptTokenizer tok, List<ScoreExample> examples,
                             int batchSize) {
        int layers = model.config().numLayers(), d = model.config().dModel();
        Result out = empty(layers, d);
        List<HookPoint> points = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            points.add(HookPoint.of(l, HookKind.RESID_POST));
        }
        for (int from = 0; from < examples.size(); from += batchSize) {
            List<ScoreExample> b = examples.subList(from, Math.min(examples.size(), from + batchSize));
            List<long[]> ids = new ArrayList<>();
            int[] answerStart = new int[b.size()];
            for (int i = 0; i < b.size(); i++) {
                ScoreExample e = b.get(i);
                ids.add(tok.encode(e.text()));
                answerStart[i] = e.isQa() && e.value() != null ? valueStart(tok, e, ids.get(i)) : -1;
            }
            try (NDScope scope = new NDScope(); NDManager m = model.manager().newSubManager()) {
                TokenBatch batch = TokenBatch.of(m, ids, 0);
                float[][][] mine = capture(model, batch, points), vsTarget = model == target ? mine : capture(target, batch, points),
                        vsRetrain = model == retrain ? mine : capture(retrain, batch, points);
                for (int l = 0; l < layers; l++) {
                    for (int i = 0; i < b.size(); i++) {
                        int len = ids.get(i).length;
                        float[] x = java.util.Arrays.copyOfRange(mine[l][i], 0, len * d);
                        float[][] others = {java.util.Arrays.copyOfRange(vsTarget[l][i], 0, len * d), java.util.Arrays.copyOfRange(vsRetrain[l][i], 0, len * d)};
                        for (int a = 0; a < 2; a++) {
                            out.cka[l][a][0].add(x, others[a], len);
                            out.cka[l][a][1].add(meanRows(x, len, d), meanRows(others[a], len, d), 1);
                        }
                        if (answerStart[i] > 0) {
                            out.features.computeIfAbsent(b.get(i).id(), k -> new float[layers][])[l] =
                                    java.util.Arrays.copyOfRange(mine[l][i], (answerStart[i] - 1) * d, answerStart[i] * d);
                        }
                    }
                }
            }
        }
        return out;
    }

    /**
     * The index of the value's first token in the example's tokens: where the encoding of the text up to the value stops
     * agreeing with the whole text's (-1 if the answer does not contain the value).
     */
    static int valueStart(PromptTokenizer tok, ScoreExample e, long[] ids) {
        int at = e.answer().lastIndexOf(e.value());
        if (at < 0) {
            return -1;
        }
        long[] head = tok.encode(QaFormat.prompt(e.question()) + " " + e.answer().substring(0, at).stripTrailing());
        int shared = 0;
        while (shared < Math.min(head.length, ids.length) && head[shared] == ids[shared]) {
            shared++;
        }
        return shared > 0 && shared < ids.length ? shared : -1;
    }

    /** {@code [layer][example][seq · d]} activations. */
    private static float[][][] capture(LanguageModel model, TokenBatch batch, List<HookPoint> points) {
        Hooks h = Hooks.none().capture(points);
        model.forward(batch, h);
        float[][][] out = new float[points.size()][batch.batchSize()][];
        for (int l = 0; l < points.size(); l++) {
            NDArray a = h.captured(points.get(l));
            float[] all = a.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
            int per = all.length / batch.batchSize();
            for (int i = 0; i < batch.batchSize(); i++) {
                out[l][i] = java.util.Arrays.copyOfRange(all, i * per, (i + 1) * per);
            }
        }
        return out;
    }

    private static float[] meanRows(float[] x, int rows, int d) {
        float[] m = new float[d];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < d; j++) {
                m[j] += x[r * d + j] / rows;
            }
        }
        return m;
    }
}
