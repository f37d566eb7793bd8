package io.loupe.sparsity;

import java.util.ArrayList;
import java.util.List;

/**
 * The sparsity protocol over many models (e.g. checkpoints) whose data passes run elsewhere (Spark tasks
 * over model × prompt shard): each pass is a {@link Passes} call that returns exactly merged
 * {@link SparsityPass.Sums} per model. Thresholds are found by grid refinement instead of binary
 * search, since each CETT evaluation is a pass over the data: a log grid (8 points per decade over
 * 1e-8..1e4) brackets each layer's threshold, then two rounds of {@value #REFINE} evenly spaced points
 * inside the bracket narrow it to 1/{@value #REFINE}² of a grid step (about 0.03%); the threshold is the
 * largest evaluated t with CETT(t) ≤ target, as in {@link Cett#threshold}. PPL-p% bisects the CETT
 * target (to {@code tolerance}); each candidate costs two passes (one refinement round for its
 * thresholds, about 1% of a threshold, then its sparse loss); the accepted target's thresholds are found
 * again the same way and its loss recomputed, so the reported ratio is the accepted one, at most 1 + p.
 */
public final class SparsitySearch {
    static final int REFINE = 32;

    /** Runs one pass for every model with its request (null: the model sits this pass out). */
    @FunctionalInterface
    public interface Passes {
        List<SparsityPass.Sums> run(List<SparsityPass.Request> requests);
    }

    private SparsitySearch() {
    }

    static double[] coarseGrid() {
        double[] g = new double[12 * 8 + 1];
        for (int i = 0; i < g.length; i++) {
            g[i] = Math.pow(10, -8 + i / 8.0);
        }
        return g;
    }

    /** Every figure for each model, at a fixed CETT target ({@code pplP} null) or at the target reaching PPL-p%. */
    public static List<SparsityRunner.Report> run(Passes passes, int models, int layers, Double cett, Double pplP, double tolerance) {
        double[] coarse = coarseGrid();
        List<SparsityPass.Request> first = new ArrayList<>();
        for (int m = 0; m < models; m++) {
            first.add(new SparsityPass.Request(true, repeat(coarse, layers), null));
        }
        List<SparsityPass.Sums> stats = passes.run(first);
        double[] targets = new double[models];
        if (pplP == null) {
            java.util.Arrays.fill(targets, cett);
        } else {
            double[] lo = new double[models], hi = new double[models];
            java.util.Arrays.fill(hi, 1);
            while (hi[0] - lo[0] > tolerance) {
                double[] mid = new double[models];
                for (int m = 0; m < models; m++) {
                    mid[m] = (lo[m] + hi[m]) / 2;
                }
                double[][] t = thresholds(passes, stats, coarse, mid, layers, 1);
                List<SparsityPass.Request> req = new ArrayList<>();
                for (int m = 0; m < models; m++) {
                    req.add(new SparsityPass.Request(false, null, t[m]));
                }
                List<SparsityPass.Sums> r = passes.run(req);
                for (int m = 0; m < models; m++) {
                    if (pplRatio(stats.get(m), r.get(m)) <= 1 + pplP) {
                        lo[m] = mid[m];
                    } else {
                        hi[m] = mid[m];
                    }
                }
            }
            targets = lo;
        }
        // PPL-p%: the accepted candidate's own thresholds (the same deterministic single refinement), so the reported
        // loss ratio is the one the bisection accepted, never above 1 + p. A fixed target gets two rounds.
        double[][] best = thresholds(passes, stats, coarse, targets, layers, pplP == null ? 2 : 1);
        List<SparsityPass.Request> last = new ArrayList<>();
        for (int m = 0; m < models; m++) {
            double[][] at = new double[layers][];
            for (int l = 0; l < layers; l++) {
                at[l] = new double[]{best[m][l]};
            }
            last.add(new SparsityPass.Request(false, at, best[m]));
        }
        List<SparsityPass.Sums> fin = passes.run(last);
        List<SparsityRunner.Report> reports = new ArrayList<>();
        for (int m = 0; m < models; m++) {
            reports.add(report(stats.get(m), fin.get(m), best[m], targets[m], pplP));
        }
        return reports;
    }

    private static SparsityRunner.Report report(SparsityPass.Sums stats, SparsityPass.Sums fin, double[] thresholds, double target, Double pplP) {
        List<SparsityRunner.Layer> layers = new ArrayList<>();
        double active = 0, total = 0;
        for (int l = 0; l < thresholds.length; l++) {
            int dead = 0;
            for (long c : stats.neuronActive[l]) {
                dead += c < 0.001 * stats.tokens ? 1 : 0;
            }
            double ratio = fin.activationRatio(l, 0);
            double median = stats.residMedian(l);
            float[] top = stats.top3[l];
            layers.add(new SparsityRunner.Layer(l, stats.nonzero[l] / ((double) stats.tokens * stats.dMlp), thresholds[l], fin.cett(l)[0], ratio,
                    dead, top, median, top.length > 0 && ActivationSparsity.massiveFlag(top[0], median)));
            active += fin.above[l][0];
            total += (double) stats.tokens * stats.dMlp;
        }
        return new SparsityRunner.Report(layers, target, active / total, pplP, stats.nllDense / stats.lossPositions,
                fin.nllSparse / fin.lossPositions, stats.tokens);
    }

    private static double pplRatio(SparsityPass.Sums dense, SparsityPass.Sums sparse) {
        return Math.exp(sparse.nllSparse / sparse.lossPositions - dense.nllDense / dense.lossPositions);
    }

    /**
     * Each model's per-layer thresholds for its target: the coarse bracket from the first pass, narrowed by
     * {@code rounds} passes of {@value #REFINE} points each.
     */
    private static double[][] thresholds(Passes passes, List<SparsityPass.Sums> stats, double[] coarse, double[] targets, int layers,
                                         int rounds) {
        int models = targets.length;
        double[][] best = new double[models][layers], upper = new double[models][layers];
        for (int m = 0; m < models; m++) {
            for (int l = 0; l < layers; l++) {
                narrow(stats.get(m).cett(l), coarse, targets[m], best[m], upper[m], l, true);
            }
        }
        for (int round = 0; round < rounds; round++) {
            List<SparsityPass.Request> req = new ArrayList<>();
            double[][][] grids = new double[models][layers][];
            for (int m = 0; m < models; m++) {
                for (int l = 0; l < layers; l++) {
                    grids[m][l] = between(best[m][l], upper[m][l]);
                }
                req.add(new SparsityPass.Request(false, grids[m], null));
            }
            List<SparsityPass.Sums> r = passes.run(req);
            for (int m = 0; m < models; m++) {
                for (int l = 0; l < layers; l++) {
                    narrow(r.get(m).cett(l), grids[m][l], targets[m], best[m], upper[m], l, false);
                }
            }
        }
        return best;
    }

    /**
     * Narrows layer l's bracket with CETT values at {@code grid}: points with CETT ≤ target raise the lower
     * end (0 when none does, i.e. even the smallest norm overshoots), points above lower the upper end.
     */
    static void narrow(double[] cett, double[] grid, double target, double[] lo, double[] hi, int l, boolean first) {
        if (first) {
            lo[l] = 0;
            hi[l] = Double.POSITIVE_INFINITY;
        }
        for (int g = 0; g < grid.length; g++) {
            if (cett[g] <= target) {
                lo[l] = Math.max(lo[l], grid[g]);
            } else {
                hi[l] = Math.min(hi[l], grid[g]);
            }
        }
    }

    /** {@value #REFINE} evenly spaced points strictly inside (lo, hi); just lo when hi is unbounded. */
    static double[] between(double lo, double hi) {
        if (Double.isInfinite(hi)) {
            return new double[]{lo};
        }
        double[] out = new double[REFINE];
        for (int i = 0; i < REFINE; i++) {
            out[i] = lo + (hi - lo) * (i + 1) / (REFINE + 1);
        }
        return out;
    }

    private static double[][] repeat(double[] g, int layers) {
        double[][] out = new double[layers][];
        for (int l = 0; l < layers; l++) {
            out[l] = g.clone();
        }
        return out;
    }

    /** Convenience for one model on this machine: the passes run in-process over all of {@code sequences}. */
    public static SparsityRunner.Report local(io.loupe.model.LanguageModel model, List<long[]> sequences, int batchSize, double eps,
                                              Double cett, Double pplP, double tolerance) {
        return run(reqs -> List.of(SparsityPass.run(model, sequences, batchSize, eps, reqs.get(0))), 1, model.config().numLayers(), cett, pplP,
                tolerance).get(0);
    }
}
