package io.loupe.jobs.sparsity;

import io.loupe.jobs.JobFiles;
import io.loupe.plot.LinePlot;
import io.loupe.sparsity.LawFit;
import io.loupe.sparsity.SparsityRunner;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a sparsity result: {@code layers.parquet} (one row per checkpoint × layer), {@code summary.json}
 * (the last checkpoint's figures at the top level, every checkpoint under {@code checkpoints}, and the
 * law fits of the overall activation ratio against training tokens when at least four checkpoints carry
 * {@code tokens_seen}), and {@code plots/} (activation ratio per layer; A against D with the fitted laws).
 * Every file is replaced whole, so a re-run leaves one copy.
 */
public final class SparsityOutput {
    public static final StructType SCHEMA = new StructType()
            .add("checkpoint", DataTypes.IntegerType, false)
            .add("model", DataTypes.StringType, false)
            .add("tokens_seen", DataTypes.DoubleType, true)
            .add("layer", DataTypes.IntegerType, false)
            .add("nonzero_fraction", DataTypes.DoubleType, false)
            .add("cett_target", DataTypes.DoubleType, false)
            .add("threshold", DataTypes.DoubleType, false)
            .add("cett", DataTypes.DoubleType, false)
            .add("activation_ratio", DataTypes.DoubleType, false)
            .add("dead_neurons", DataTypes.IntegerType, false)
            .add("massive_top1", DataTypes.FloatType, false)
            .add("massive_top2", DataTypes.FloatType, false)
            .add("massive_top3", DataTypes.FloatType, false)
            .add("massive_median", DataTypes.DoubleType, false)
            .add("massive_flagged", DataTypes.BooleanType, false);

    private SparsityOutput() {
    }

    /**
     * @param tokensSeen per checkpoint, training tokens (NaN where unknown)
     * @return the summary written to summary.json
     */
    public static Map<String, Object> write(SparkSession spark, List<String> models, double[] tokensSeen, List<SparsityRunner.Report> reports,
                                            String out, double seconds) throws IOException {
        List<Row> rows = new ArrayList<>();
        List<Map<String, Object>> entries = new ArrayList<>();
        for (int c = 0; c < reports.size(); c++) {
            SparsityRunner.Report r = reports.get(c);
            for (SparsityRunner.Layer l : r.layers()) {
                float[] t = l.massiveTop3();
                rows.add(RowFactory.create(c, models.get(c), Double.isNaN(tokensSeen[c]) ? null : tokensSeen[c], l.layer(), l.nonzeroFraction(),
                        r.cettTarget(), l.threshold(), l.cett(), l.activationRatio(), l.deadNeurons(), top(t, 0), top(t, 1), top(t, 2),
                        l.massiveMedian(), l.massiveFlagged()));
            }
            entries.add(entry(models.get(c), tokensSeen[c], r));
        }
        spark.createDataFrame(rows, SCHEMA).coalesce(1).write().mode(SaveMode.Overwrite).parquet(out + "/layers.parquet");

        Map<String, Object> summary = new LinkedHashMap<>(entries.get(entries.size() - 1));
        summary.put("checkpoints", entries);
        java.nio.file.Path plots = Files.createTempDirectory("loupe-sparsity-plots-");
        LinePlot perLayer = new LinePlot("activation ratio per layer (CETT target per checkpoint)", "layer", "activation ratio")
                .xAxis(LinePlot.Axis.INTEGER);
        for (int c = 0; c < reports.size(); c++) {
            List<SparsityRunner.Layer> ls = reports.get(c).layers();
            perLayer.add(new LinePlot.Series(reports.size() == 1 ? "activation ratio" : label(models.get(c), tokensSeen[c]),
                    ls.stream().mapToDouble(SparsityRunner.Layer::layer).toArray(), ls.stream().mapToDouble(SparsityRunner.Layer::activationRatio).toArray(),
                    true, true));
        }
        perLayer.write(plots.resolve("activation_ratio_per_layer.png"));
        summary.put("law_fit", lawFit(tokensSeen, reports, plots));
        summary.put("seconds", seconds);
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        JobFiles.writeJson(conf, new Path(out, "summary.json"), summary);
        JobFiles.replaceWithLocal(conf, plots, new Path(out, "plots"));
        io.loupe.jobs.RunReport.write(conf, out, "sparsity");
        return summary;
    }

    /** Fits both laws to (D in billions, overall activation ratio) when four or more checkpoints have tokens_seen. */
    private static Map<String, Object> lawFit(double[] tokensSeen, List<SparsityRunner.Report> reports, java.nio.file.Path plots) throws IOException {
        List<double[]> points = new ArrayList<>();
        for (int c = 0; c < reports.size(); c++) {
            if (tokensSeen[c] > 0) {
                points.add(new double[]{tokensSeen[c] / 1e9, reports.get(c).overallActivationRatio()});
            }
        }
        Map<String, Object> fit = new LinkedHashMap<>();
        if (points.size() < 4) {
            fit.put("skipped", "needs at least 4 checkpoints with tokens_seen (the ReLU form has 4 parameters); have " + points.size());
            return fit;
        }
        points.sort((a, b) -> Double.compare(a[0], b[0]));
        double[] d = points.stream().mapToDouble(p -> p[0]).toArray(), a = points.stream().mapToDouble(p -> p[1]).toArray();
        boolean decades = d[d.length - 1] / d[0] >= 100;   // a log axis once D spans two decades
        LinePlot plot = new LinePlot("activation ratio A against training tokens D", "D (billions of tokens)", "A")
                .xAxis(decades ? LinePlot.Axis.LOG : LinePlot.Axis.LINEAR);
        plot.add(new LinePlot.Series("measured", d, a, false, true));
        for (String form : new String[]{"relu", "silu"}) {
            try {
                LawFit.Result r = form.equals("relu") ? LawFit.reluFromData(d, a) : LawFit.siluFromData(d, a);
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("formula", form.equals("relu") ? "A(D) = exp(-c*D^alpha + b) + A0" : "A(D) = -c*D^(-alpha) + A0");
                String[] names = form.equals("relu") ? new String[]{"c", "alpha", "b", "A0"} : new String[]{"c", "alpha", "A0"};
                for (int i = 0; i < names.length; i++) {
                    f.put(names[i], r.params()[i]);
                    f.put(names[i] + "_stderr", r.stdErrors()[i]);
                }
                f.put("mse", r.mse());
                fit.put(form, f);
                double[] xs = new double[100], ys = new double[100];
                for (int i = 0; i < xs.length; i++) {
                    double t = i / (xs.length - 1.0);
                    xs[i] = decades ? d[0] * Math.pow(d[d.length - 1] / d[0], t) : d[0] + (d[d.length - 1] - d[0]) * t;
                    ys[i] = r.at(xs[i]);
                }
                plot.add(new LinePlot.Series(form + " fit", xs, ys, true, false));
            } catch (RuntimeException e) {
                fit.put(form, Map.of("failed", String.valueOf(e.getMessage())));
            }
        }
        plot.write(plots.resolve("activation_ratio_vs_tokens.png"));
        return fit;
    }

    private static Map<String, Object> entry(String model, double tokensSeen, SparsityRunner.Report r) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("model", model);
        e.put("tokens_seen", Double.isNaN(tokensSeen) ? null : tokensSeen);
        e.put("tokens", r.tokens());
        e.put("cett_target", r.cettTarget());
        e.put("ppl_p", r.pplP());
        e.put("loss_dense", r.lossDense());
        e.put("loss_sparse", r.lossSparse());
        e.put("ppl_ratio", Math.exp(r.lossSparse() - r.lossDense()));
        e.put("activation_ratio", r.overallActivationRatio());
        List<Map<String, Object>> layers = new ArrayList<>();
        for (SparsityRunner.Layer l : r.layers()) {
            Map<String, Object> lm = new LinkedHashMap<>();
            lm.put("layer", l.layer());
            lm.put("nonzero_fraction", l.nonzeroFraction());
            lm.put("threshold", l.threshold());
            lm.put("cett", l.cett());
            lm.put("activation_ratio", l.activationRatio());
            lm.put("dead_neurons", l.deadNeurons());
            lm.put("massive_top3", l.massiveTop3());
            lm.put("massive_median", l.massiveMedian());
            lm.put("massive_flagged", l.massiveFlagged());
            layers.add(lm);
        }
        e.put("layers", layers);
        return e;
    }

    private static String label(String model, double tokensSeen) {
        String name = new Path(model).getName();
        return Double.isNaN(tokensSeen) ? name : String.format("%s (%.3g B)", name, tokensSeen / 1e9);
    }

    private static float top(float[] t, int i) {
        return i < t.length ? t[i] : Float.NaN;
    }
}
