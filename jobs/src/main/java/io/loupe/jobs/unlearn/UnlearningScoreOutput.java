package io.loupe.jobs.unlearn;

import io.loupe.jobs.JobFiles;
import io.loupe.plot.LinePlot;
import io.loupe.unlearn.metrics.ExampleScores;
import io.loupe.unlearn.metrics.FeaturePersistence;
import io.loupe.unlearn.metrics.LinearCka;
import io.loupe.unlearn.metrics.ModelSummary;
import io.loupe.unlearn.metrics.ProbeStudy;
import io.loupe.unlearn.metrics.RepresentationPass;
import io.loupe.unlearn.metrics.ScoreExample;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the score job's task outputs into the files researchers open: {@code examples.parquet} (one row per model,
 * split and example), {@code summary.json} (per model every metric under the names the issue and README use),
 * {@code leaderboard.csv} (one row per model, one CSV file) and {@code plots/*.png}. The per-model arithmetic is in
 * lib ({@link ModelSummary}, {@link ProbeStudy}, {@link FeaturePersistence}); this class only gathers and writes.
 */
public final class UnlearningScoreOutput {
    /** The leaderboard's columns, in order (from each model's summary). */
    static final List<String> LEADERBOARD = List.of("forget_quality", "model_utility", "privleak", "auc_loss", "truth_ratio_forget", "verbmem_f1",
            "knowmem_f1_forget", "knowmem_f1_retain", "nll_forget", "nll_retain", "nll_holdout", "cka_forget_vs_target", "cka_forget_vs_retrain",
            "probe_frozen_max", "probe_refit_max", "concept_cosine", "concept_jaccard", "relearn_steps", "feature_persistence");

    private UnlearningScoreOutput() {
    }

    /** Per model, the summary map (ordered as the models were given). */
    public static Map<String, Map<String, Object>> write(SparkSession spark, String out, UnlearningScoreJob.Models models,
                                                         Map<String, List<ScoreExample>> splits, List<UnlearningScoreJob.Shard> shards,
                                                         List<ModelExtras> extras, UnlearningScoreJob.Settings s, Map<String, Object> settings)
            throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        int n = models.names().size();
        // gather per (model, split), in each split's example order
        List<Map<String, List<ExampleScores>>> scores = new ArrayList<>();
        List<Map<String, RepresentationPass.Result>> reps = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            scores.add(new LinkedHashMap<>());
            reps.add(new LinkedHashMap<>());
        }
        for (UnlearningScoreJob.Shard sh : shards) {
            scores.get(sh.model()).computeIfAbsent(sh.split(), k -> new ArrayList<>()).addAll(sh.scores());
            if (sh.representations() != null) {
                reps.get(sh.model()).merge(sh.split(), sh.representations(), RepresentationPass.Result::merge);
            }
        }
        for (var perModel : scores) {
            for (String split : UnlearningScoreJob.SPLITS) {
                perModel.computeIfAbsent(split, k -> new ArrayList<>()).sort(java.util.Comparator.comparing(ExampleScores::id));
            }
        }
        writeExamples(spark, out, models, scores, s.minK());

        int retrain = models.uris().indexOf(models.retrain()), target = models.uris().indexOf(models.target());
        Map<String, List<ExampleScores>> ret = scores.get(retrain);
        double[] retrainForgetR = ret.get("forget").stream().mapToDouble(ExampleScores::truthRatio).filter(v -> !Double.isNaN(v)).toArray();
        Map<String, Double> retrainAucs = ModelSummary.aucs(ret.get("forget"), ret.get("holdout"), s.minK());
        List<String> forgetQa = new ArrayList<>(), retainQa = new ArrayList<>();
        Map<String, String> labels = new LinkedHashMap<>();
        for (ScoreExample e : splits.get("forget")) {
            if (e.isQa() && e.value() != null) {
                forgetQa.add(e.id());
                labels.put(e.id(), e.value());
            }
        }
        for (ScoreExample e : splits.get("retain")) {
            if (e.isQa() && e.value() != null) {
                retainQa.add(e.id());
                labels.put(e.id(), e.value());
            }
        }
        Map<String, Map<String, Object>> summaries = new LinkedHashMap<>();
        ModelExtras targetExtras = extras.stream().filter(x -> x.model() == target).findFirst().orElseThrow();
        for (int i = 0; i < n; i++) {
            Map<String, List<ExampleScores>> sc = scores.get(i);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("path", models.uris().get(i));
            m.put("role", i == target ? "target" : i == retrain ? "retrain" : "unlearned");
            m.putAll(ModelSummary.of(sc.get("forget"), sc.get("retain"), sc.get("holdout"), s.minK(), retrainForgetR, retrainAucs));
            Map<String, Object> cka = new LinkedHashMap<>();
            for (String split : List.of("forget", "retain")) {
                Map<String, Object> bySplit = new LinkedHashMap<>();
                RepresentationPass.Result r = reps.get(i).get(split);
                for (int a = 0; a < 2; a++) {
                    Map<String, Object> rows = new LinkedHashMap<>();
                    for (int k = 0; k < 2; k++) {
                        double[] perLayer = new double[r.cka().length];
                        for (int l = 0; l < perLayer.length; l++) {
                            perLayer[l] = r.cka()[l][a][k].value();
                        }
                        rows.put(RepresentationPass.ROWS[k], perLayer);
                    }
                    bySplit.put(RepresentationPass.AGAINST[a], rows);
                }
                cka.put(split, bySplit);
            }
            m.put("cka", cka);
            m.put("cka_forget_vs_target", mean((double[]) ((Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) cka.get("forget")).get("target"))).get("tokens")));
            m.put("cka_forget_vs_retrain", mean((double[]) ((Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) cka.get("forget")).get("retrain"))).get("tokens")));
            Map<String, float[][]> features = new LinkedHashMap<>(reps.get(i).get("forget").features());
            features.putAll(reps.get(i).get("retain").features());
            Map<String, float[][]> targetFeatures = new LinkedHashMap<>(reps.get(target).get("forget").features());
            targetFeatures.putAll(reps.get(target).get("retain").features());
            ProbeStudy.Result probe = ProbeStudy.run(targetFeatures, features, forgetQa, retainQa, labels, s.probeFolds(), s.probeRidge());
            m.put("probe", Map.of("frozen", probe.frozen(), "refit", probe.refit(), "rows", "the token before the fact in each forget QA row's answer, "
                    + Math.min(s.probeFolds(), forgetQa.size()) + "-fold"));
            m.put("probe_frozen_max", Arrays.stream(probe.frozen()).max().orElse(Double.NaN));
            m.put("probe_refit_max", Arrays.stream(probe.refit()).max().orElse(Double.NaN));
            final int model = i;
            ModelExtras x = extras.stream().filter(e -> e.model() == model).findFirst().orElseThrow();
            m.put("concept_vectors", x.concepts());
            m.put("concept_cosine", x.concepts().meanCosine());
            m.put("concept_jaccard", x.concepts().meanJaccard());
            if (x.relearning() != null) {
                m.put("relearning", Map.of("forget_nll_before", x.relearning().before(), "forget_nll_curve", x.relearning().curve(),
                        "target_forget_nll", x.targetForgetNll(), "steps_to_target", x.relearning().stepsToTarget()));
                m.put("relearn_steps", x.relearning().stepsToTarget());
            }
            if (x.forgetFiring() != null) {
                FeaturePersistence.Result fp = FeaturePersistence.of(targetExtras.forgetFiring(), targetExtras.retainFiring(), x.forgetFiring(), 0.02, 2);
                m.put("features", fp);
                m.put("feature_persistence", fp.persistence());
            }
            m.put("skipped", ModelSummary.skipped(sc.get("forget"), sc.get("retain")));
            summaries.put(models.names().get(i), m);
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("settings", settings);
        summary.put("examples", Map.of("forget", splits.get("forget").size(), "retain", splits.get("retain").size(), "holdout",
                splits.get("holdout").size()));
        summary.put("models", summaries);
        JobFiles.writeJson(conf, new Path(out, "summary.json"), summary);
        writeLeaderboard(conf, new Path(out, "leaderboard.csv"), summaries);
        plots(conf, out, summaries, s.minK());
        io.loupe.jobs.RunReport.write(conf, out, "unlearning score");
        return summaries;
    }

    private static void writeExamples(SparkSession spark, String out, UnlearningScoreJob.Models models, List<Map<String, List<ExampleScores>>> scores,
                                      double[] minK) {
        StructType schema = new StructType().add("model", DataTypes.StringType).add("split", DataTypes.StringType).add("example_id", DataTypes.StringType)
                .add("tokens", DataTypes.IntegerType).add("nll", DataTypes.DoubleType).add("zlib", DataTypes.DoubleType);
        for (double k : minK) {
            schema = schema.add(ModelSummary.scoreName("min_k", k), DataTypes.DoubleType);
        }
        for (double k : minK) {
            schema = schema.add(ModelSummary.scoreName("min_k_pp", k), DataTypes.DoubleType);
        }
        schema = schema.add("ref", DataTypes.DoubleType).add("answer_loss", DataTypes.DoubleType).add("answer_prob", DataTypes.DoubleType)
                .add("paraphrased_loss", DataTypes.DoubleType).add("perturbed_loss", DataTypes.DoubleType).add("truth_ratio", DataTypes.DoubleType)
                .add("rouge_l_recall", DataTypes.DoubleType).add("knowmem_f1", DataTypes.DoubleType).add("verbmem_f1", DataTypes.DoubleType)
                .add("generated", DataTypes.StringType);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < scores.size(); i++) {
            for (String split : UnlearningScoreJob.SPLITS) {
                for (ExampleScores e : scores.get(i).get(split)) {
                    List<Object> v = new ArrayList<>(List.of(models.names().get(i), split, e.id(), e.tokens(), e.nll(), e.zlib()));
                    Arrays.stream(e.minK()).forEach(v::add);
                    Arrays.stream(e.minKPlusPlus()).forEach(v::add);
                    v.addAll(Arrays.asList(e.referenceScore(), e.answerLoss(), e.answerProb(), e.paraphrasedLoss(), e.perturbedLoss(), e.truthRatio(),
                            e.rougeRecall(), e.knowMemF1(), e.verbMemF1(), e.generated()));
                    rows.add(RowFactory.create(v.toArray()));
                }
            }
        }
        spark.createDataFrame(rows, schema).coalesce(1).write().mode(SaveMode.Overwrite).parquet(out + "/examples.parquet");
    }

    /** One CSV file (not a folder of part files): a header and one row per model. */
    static void writeLeaderboard(Configuration conf, Path file, Map<String, Map<String, Object>> summaries) throws IOException {
        List<String> header = new ArrayList<>(List.of("model", "role"));
        header.addAll(LEADERBOARD);
        List<List<Object>> rows = new ArrayList<>();
        for (var e : summaries.entrySet()) {
            List<Object> row = new ArrayList<>(List.of(e.getKey(), e.getValue().get("role")));
            for (String c : LEADERBOARD) {   // six significant digits: a table people read
                Object v = e.getValue().get(c);
                row.add(v instanceof Double d && !d.isNaN() ? String.format("%.6g", d) : v);
            }
            rows.add(row);
        }
        io.loupe.jobs.JobFiles.writeCsv(conf, file, header, rows);
    }

    private static void plots(Configuration conf, String out, Map<String, Map<String, Object>> summaries, double[] minK) throws IOException {
        LinePlot tradeoff = new LinePlot("forget quality vs model utility", "model utility", "forget quality (KS p vs retrain)").yAxis(LinePlot.Axis.LOG);
        LinePlot cka = new LinePlot("CKA with the target, forget set (token rows)", "layer", "linear CKA").xAxis(LinePlot.Axis.INTEGER);
        LinePlot ckaRetrain = new LinePlot("CKA with the retrain model, forget set (token rows)", "layer", "linear CKA").xAxis(LinePlot.Axis.INTEGER);
        LinePlot probes = new LinePlot("probe accuracy on forget answers (solid: target's probe; dashed points: refitted)", "layer", "accuracy")
                .xAxis(LinePlot.Axis.INTEGER);
        LinePlot auc = new LinePlot("membership AUC, forget vs holdout, per score", "score (see summary.json order)", "AUC").xAxis(LinePlot.Axis.INTEGER);
        for (var e : summaries.entrySet()) {
            Map<String, Object> m = e.getValue();
            double fq = (Double) m.get("forget_quality"), mu = (Double) m.get("model_utility");
            if (Double.isFinite(fq) && Double.isFinite(mu) && fq > 0) {
                tradeoff.add(new LinePlot.Series(e.getKey(), new double[]{mu}, new double[]{fq}, false, true));
            }
            @SuppressWarnings("unchecked")
            Map<String, Map<String, Map<String, double[]>>> c = (Map<String, Map<String, Map<String, double[]>>>) m.get("cka");
            double[] vsTarget = c.get("forget").get("target").get("tokens"), vsRetrain = c.get("forget").get("retrain").get("tokens");
            cka.add(new LinePlot.Series(e.getKey(), layers(vsTarget.length), vsTarget, true, true));
            ckaRetrain.add(new LinePlot.Series(e.getKey(), layers(vsRetrain.length), vsRetrain, true, true));
            @SuppressWarnings("unchecked")
            Map<String, Object> p = (Map<String, Object>) m.get("probe");
            double[] frozen = (double[]) p.get("frozen"), refit = (double[]) p.get("refit");
            if (frozen.length > 0) {
                probes.add(new LinePlot.Series(e.getKey() + " frozen", layers(frozen.length), frozen, true, true));
                probes.add(new LinePlot.Series(e.getKey() + " refit", layers(refit.length), refit, false, true));
            }
            List<Double> aucs = new ArrayList<>();
            for (var k : m.keySet()) {
                if (k.startsWith("auc_")) {
                    aucs.add((Double) m.get(k));
                }
            }
            double[] y = aucs.stream().mapToDouble(Double::doubleValue).toArray();
            auc.add(new LinePlot.Series(e.getKey(), layers(y.length), y, false, true));
        }
        java.nio.file.Path plots = java.nio.file.Files.createTempDirectory("loupe-unlearning-plots-");
        for (var e : Map.of("forget_quality_vs_utility.png", tradeoff, "cka_forget_vs_target.png", cka, "cka_forget_vs_retrain.png", ckaRetrain,
                "probe_accuracy.png", probes, "auc_per_score.png", auc).entrySet()) {
            try {
                e.getValue().write(plots.resolve(e.getKey()));
            } catch (IllegalArgumentException empty) {   // nothing finite to draw (e.g. no forget quality without perturbed answers)
            }
        }
        io.loupe.jobs.JobFiles.replaceWithLocal(conf, plots, new Path(out, "plots"));
    }

    private static double[] layers(int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = i;
        }
        return x;
    }

    private static double mean(double[] v) {
        return Arrays.stream(v).filter(d -> !Double.isNaN(d)).average().orElse(Double.NaN);
    }
}
