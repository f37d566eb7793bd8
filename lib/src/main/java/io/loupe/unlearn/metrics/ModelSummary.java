package io.loupe.unlearn.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * One model's behavioural metrics from its per-example scores on the three splits, each computed once here from
 * exact pools (token-weighted NLL, per-example means), never from averages of averages:
 * <ul>
 *   <li>{@code nll_<split>}: NLL per scored token over the split.</li>
 *   <li>{@code auc_<score>} for each membership score: forget (members) against holdout, {@link Auc}; and
 *       {@code privleak_<score>} against the retrain model's AUC ({@link Auc#privLeak}). The headline {@code privleak} is
 *       MUSE's choice, Min-K% at k = 0.4 when scored, else LOSS.</li>
 *   <li>TOFU: {@code truth_ratio_forget} (mean min(R, 1/R)), {@code forget_quality} (exact KS p-value between this model's and
 *       the retrain model's forget R), {@code model_utility} (harmonic mean of the retain split's mean answer probability,
 *       mean ROUGE-L recall and mean max(0, 1 − R)), and the parts.</li>
 *   <li>MUSE: {@code verbmem_f1} (forget rows with prompt/gt), {@code knowmem_f1_forget}, {@code knowmem_f1_retain}.</li>
 * </ul>
 * Metrics that need fields a split lacks are NaN, and {@link #skipped} says why.
 */
public final class ModelSummary {
    private ModelSummary() {
    }

    /**
     * @param minK            the Min-K% ratios the scores were computed with
     * @param retainForgetR   the retrain model's forget-split truth ratios (for forget quality), or empty
     * @param retainAucs      the retrain model's {@code auc_<score>} values (for PrivLeak), or empty
     */
    public static Map<String, Object> of(List<ExampleScores> forget, List<ExampleScores> retain, List<ExampleScores> holdout, double[] minK,
                                         double[] retainForgetR, Map<String, Double> retainAucs) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("nll_forget", pooledNll(forget));
        m.put("nll_retain", pooledNll(retain));
        m.put("nll_holdout", pooledNll(holdout));
        Map<String, Double> aucs = aucs(forget, holdout, minK);
        for (var e : aucs.entrySet()) {
            m.put("auc_" + e.getKey(), e.getValue());
        }
        for (var e : aucs.entrySet()) {
            Double r = retainAucs.get(e.getKey());
            m.put("privleak_" + e.getKey(), r == null ? Double.NaN : Auc.privLeak(e.getValue(), r));
        }
        String headline = contains(minK, 0.4) ? scoreName("min_k", 0.4) : "loss";
        m.put("privleak", m.get("privleak_" + headline));
        double[] forgetR = ratios(forget);
        m.put("truth_ratio_forget", mean(forgetR, TruthRatio::forgetStatistic));
        m.put("forget_quality", forgetR.length == 0 || retainForgetR.length == 0 ? Double.NaN : KsTest.twoSided(forgetR, retainForgetR).pValue());
        double prob = mean(retain, ExampleScores::answerProb), rouge = mean(retain, ExampleScores::rougeRecall),
                truth = mean(ratios(retain), TruthRatio::retainStatistic);
        m.put("utility_answer_prob", prob);
        m.put("utility_rouge_recall", rouge);
        m.put("utility_truth_ratio", truth);
        m.put("model_utility", TruthRatio.harmonicMean(prob, rouge, truth));
        m.put("forget_answer_prob", mean(forget, ExampleScores::answerProb));
        m.put("forget_rouge_recall", mean(forget, ExampleScores::rougeRecall));
        m.put("verbmem_f1", mean(forget, ExampleScores::verbMemF1));
        m.put("knowmem_f1_forget", mean(forget, ExampleScores::knowMemF1));
        m.put("knowmem_f1_retain", mean(retain, ExampleScores::knowMemF1));
        return m;
    }

    /** Each membership score's AUC, forget against holdout, by name ({@code loss}, {@code zlib}, {@code min_k_0.4}, …). */
    public static Map<String, Double> aucs(List<ExampleScores> forget, List<ExampleScores> holdout, double[] minK) {
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("loss", Auc.of(values(forget, ExampleScores::nll), values(holdout, ExampleScores::nll)));
        out.put("zlib", Auc.of(values(forget, ExampleScores::zlib), values(holdout, ExampleScores::zlib)));
        for (int k = 0; k < minK.length; k++) {
            final int i = k;
            out.put(scoreName("min_k", minK[k]), Auc.of(values(forget, e -> e.minK()[i]), values(holdout, e -> e.minK()[i])));
            out.put(scoreName("min_k_pp", minK[k]), Auc.of(values(forget, e -> e.minKPlusPlus()[i]), values(holdout, e -> e.minKPlusPlus()[i])));
        }
        double ref = Auc.of(values(forget, ExampleScores::referenceScore), values(holdout, ExampleScores::referenceScore));
        if (!Double.isNaN(ref)) {
            out.put("ref", ref);
        }
        return out;
    }

    /** What was skipped and why, for the summary. */
    public static List<String> skipped(List<ExampleScores> forget, List<ExampleScores> retain) {
        List<String> s = new ArrayList<>();
        if (ratios(forget).length == 0) {
            s.add("truth ratio and forget quality: no forget QA row has a paraphrased answer and perturbed answers");
        }
        if (ratios(retain).length == 0) {
            s.add("utility truth-ratio component: no retain QA row has perturbed answers");
        }
        if (forget.stream().allMatch(e -> Double.isNaN(e.verbMemF1()))) {
            s.add("VerbMem: no forget row has prompt and gt");
        }
        if (forget.stream().allMatch(e -> Double.isNaN(e.knowMemF1()))) {
            s.add("KnowMem: no forget row has question and answer");
        }
        return s;
    }

    public static String scoreName(String kind, double k) {
        return kind + "_" + k;
    }

    /** NLL per token pooled over the split: Σ nll_i · tokens_i / Σ tokens_i. */
    static double pooledNll(List<ExampleScores> s) {
        double sum = 0;
        long n = 0;
        for (ExampleScores e : s) {
            sum += e.nll() * e.tokens();
            n += e.tokens();
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    static double[] ratios(List<ExampleScores> s) {
        return s.stream().mapToDouble(ExampleScores::truthRatio).filter(v -> !Double.isNaN(v)).toArray();
    }

    private static double[] values(List<ExampleScores> s, ToDoubleFunction<ExampleScores> f) {
        return s.stream().mapToDouble(f).toArray();
    }

    private static double mean(List<ExampleScores> s, ToDoubleFunction<ExampleScores> f) {
        return s.stream().mapToDouble(f).filter(v -> !Double.isNaN(v)).average().orElse(Double.NaN);
    }

    private static double mean(double[] v, java.util.function.DoubleUnaryOperator f) {
        return java.util.Arrays.stream(v).map(f).average().orElse(Double.NaN);
    }

    private static boolean contains(double[] a, double v) {
        for (double x : a) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }
}
