package io.loupe.jobs.fit;

import io.loupe.dict.ScalingLaws;
import io.loupe.jobs.JobFiles;
import io.loupe.plot.LinePlot;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code loupe fit-laws}: the SAE scaling laws of {@link ScalingLaws} fitted to a fit sweep's {@code results.parquet}, per
 * (hook, architecture) of the TopK family: L(n) for every k with 4+ widths, and the joint L(n, k) with 7+ points over 2+ values
 * of k and of n. The loss is the held-out FVU (normalized MSE); where a sweep has several learning rates (or seeds) for one
 * (n, k), the best is taken, as scaling laws are stated at the best setting. Writes {@code scaling.json} and
 * {@code plots/scaling_<hook>_<architecture>.png}.
 */
public final class FitLawsJob {
    private static final double[] LAW_N_GRID = logGrid();

    /** One (hook, architecture): its scaling.json entry and the fitted laws (per k, and joint or null) for the plot. */
    private record GroupFit(Map<String, Object> json, Map<Integer, ScalingLaws.Law> perK, ScalingLaws.Law joint) {
    }

    private FitLawsJob() {
    }

    /** @return scaling.json's content */
    public static Map<String, Object> run(SparkSession spark, String results, String out) throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Path table = new Path(results, "results.parquet");
        if (!table.getFileSystem(conf).exists(table)) {
            throw new IllegalArgumentException(results + ": no results.parquet; give the --out folder of a fit sweep");
        }
        // (hook, architecture) -> k -> n -> best FVU
        Map<String, TreeMap<Integer, TreeMap<Integer, Double>>> groups = new TreeMap<>();
        List<String> skipped = new ArrayList<>();
        for (Row r : spark.read().parquet(table.toString()).select("hook", "architecture", "d_sae", "k", "fvu").collectAsList()) {
            String arch = r.getString(1);
            double fvu = r.getDouble(4);
            if (!arch.equals("topk") && !arch.equals("batchtopk")) {
                skipped.add(r.getString(0) + " " + arch + ": the laws are stated for k-sparse dictionaries");
                continue;
            }
            if (!(fvu > 0) || !Double.isFinite(fvu)) {
                skipped.add(r.getString(0) + " " + arch + " n=" + r.getLong(2) + " k=" + r.getLong(3) + ": FVU " + fvu + " is not a positive loss");
                continue;
            }
            groups.computeIfAbsent(r.getString(0) + "\t" + arch, g -> new TreeMap<>()).computeIfAbsent((int) r.getLong(3), k -> new TreeMap<>())
                    .merge((int) r.getLong(2), fvu, Math::min);
        }
        List<Map<String, Object>> fitted = new ArrayList<>();
        java.nio.file.Path plots = java.nio.file.Files.createTempDirectory("loupe-scaling-plots-");
        for (var g : groups.entrySet()) {
            String[] key = g.getKey().split("\t");
            GroupFit group = fitGroup(key[0], key[1], g.getValue(), skipped);
            if (group != null) {
                fitted.add(group.json());
                plot(plots.resolve("scaling_" + key[0] + "_" + key[1] + ".png"), key[0], key[1], g.getValue(), group);
            }
        }
        if (fitted.isEmpty()) {
            throw new IllegalArgumentException(results + ": nothing to fit. A law needs 4 or more widths at one k of a topk or batchtopk sweep"
                    + (skipped.isEmpty() ? "" : "; skipped: " + String.join("; ", skipped)));
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("source", table.toString());
        json.put("loss", "held-out FVU (normalized MSE), the best over learning rates and seeds at each (n, k)");
        json.put("forms", Map.of("latents", "L(n) = a * n^(-b) + c, at fixed k",
                "joint", "L(n, k) = exp(alpha + beta_k ln k + beta_n ln n + gamma ln k ln n) + exp(zeta + eta ln k)  (Gao et al. 2024)"));
        json.put("groups", fitted);
        json.put("skipped", skipped);
        JobFiles.writeJson(conf, new Path(out, "scaling.json"), json);
        JobFiles.copyFilesInto(conf, plots, new Path(out, "plots"));
        io.loupe.jobs.RunReport.write(conf, out, "fit-laws");
        return json;
    }

    private static GroupFit fitGroup(String hook, String arch, TreeMap<Integer, TreeMap<Integer, Double>> byK, List<String> skipped) {
        Map<String, Object> group = new LinkedHashMap<>();
        group.put("hook", hook);
        group.put("architecture", arch);
        List<double[]> points = new ArrayList<>();
        List<Map<String, Object>> perK = new ArrayList<>();
        Map<Integer, ScalingLaws.Law> laws = new TreeMap<>();
        TreeSet<Integer> widths = new TreeSet<>();
        byK.forEach((k, byN) -> {
            byN.forEach((n, l) -> {
                points.add(new double[]{n, k, l});
                widths.add(n);
            });
            if (byN.size() >= 4) {
                double[] n = byN.keySet().stream().mapToDouble(Integer::doubleValue).toArray();
                double[] l = byN.values().stream().mapToDouble(Double::doubleValue).toArray();
                ScalingLaws.Law law = ScalingLaws.latents(n, l);
                laws.put(k, law);
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("k", k);
                e.putAll(describe(law, "a", "b", "c"));
                perK.add(e);
            } else {
                skipped.add(hook + " " + arch + " k=" + k + ": " + byN.size() + " width(s), the latents law needs 4");
            }
        });
        group.put("points", points);
        group.put("latents", perK);
        ScalingLaws.Law joint = null;
        if (points.size() >= 7 && byK.size() >= 2 && widths.size() >= 2) {
            double[] n = points.stream().mapToDouble(p -> p[0]).toArray(), k = points.stream().mapToDouble(p -> p[1]).toArray();
            double[] l = points.stream().mapToDouble(p -> p[2]).toArray();
            joint = ScalingLaws.joint(n, k, l);
            group.put("joint", describe(joint, "alpha", "beta_k", "beta_n", "gamma", "zeta", "eta"));
        } else {
            group.put("joint", null);
            skipped.add(hook + " " + arch + ": the joint law needs 7+ points over 2+ values of k and of n; this sweep has " + points.size());
        }
        return laws.isEmpty() && joint == null ? null : new GroupFit(group, laws, joint);
    }

    private static Map<String, Object> describe(ScalingLaws.Law law, String... names) {
        Map<String, Object> params = new LinkedHashMap<>(), se = new LinkedHashMap<>();
        for (int i = 0; i < names.length; i++) {
            params.put(names[i], law.params()[i]);
            se.put(names[i], law.stdErrors()[i]);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("params", params);
        m.put("std_errors", se);
        m.put("mse", law.mse());
        return m;
    }

    /** FVU against latents (both axes log): the points of each k and its fitted curve (the joint law where fitted, else that k's own). */
    private static void plot(java.nio.file.Path png, String hook, String arch, TreeMap<Integer, TreeMap<Integer, Double>> byK, GroupFit fit)
            throws IOException {
        LinePlot p = new LinePlot("scaling: " + hook + " " + arch + " (points: best FVU; lines: fitted laws)", "latents n", "FVU")
                .xAxis(LinePlot.Axis.LOG2).yAxis(spansDecade(byK) ? LinePlot.Axis.LOG : LinePlot.Axis.LINEAR);
        int lo = byK.values().stream().mapToInt(TreeMap::firstKey).min().orElse(1), hi = byK.values().stream().mapToInt(TreeMap::lastKey).max().orElse(2);
        double[] ns = java.util.Arrays.stream(LAW_N_GRID).filter(n -> n >= lo && n <= hi).toArray();
        for (var e : byK.entrySet()) {
            int k = e.getKey();
            p.add(new LinePlot.Series("k=" + k, e.getValue().keySet().stream().mapToDouble(Integer::doubleValue).toArray(),
                    e.getValue().values().stream().mapToDouble(Double::doubleValue).toArray(), false, true));
            ScalingLaws.Law law = fit.joint() != null ? fit.joint() : fit.perK().get(k);
            if (law != null) {
                p.add(new LinePlot.Series("fit k=" + k, ns,
                        java.util.Arrays.stream(ns).map(n -> law.at(n, k)).toArray(), true, false));
            }
        }
        p.write(png);
    }

    /** Whether the FVUs span a factor of ten or more (a log axis then helps; below that its ticks are too sparse). */
    private static boolean spansDecade(TreeMap<Integer, TreeMap<Integer, Double>> byK) {
        var all = byK.values().stream().flatMap(m -> m.values().stream()).mapToDouble(Double::doubleValue).summaryStatistics();
        return all.getMax() >= 10 * all.getMin();
    }

    private static double[] logGrid() {
        double[] g = new double[241];
        for (int i = 0; i < g.length; i++) {
            g[i] = Math.pow(2, i / 10.0);
        }
        return g;
    }
}
