package io.loupe.circuits;

import java.util.List;

/**
 * Per-example metrics of one batch under patching or its attribution estimate.
 *
 * @param nodes    the nodes, in the order of {@code patched}
 * @param mClean   logit difference of each clean run {@code [B]}
 * @param mCorrupt logit difference of each corrupted run {@code [B]}
 * @param patched  {@code [node][B]}: the metric with the node patched (activation patching), or its
 *                 first-order estimate {@code m_target + attribution} (attribution patching)
 * @param valid    {@code [node][B]}: false where the node does not exist in an example (a residual position past its end)
 */
public record PatchResult(List<Node> nodes, double[] mClean, double[] mCorrupt, double[][] patched, boolean[][] valid) {

    /** Marks residual positions past each example's length as not valid. */
    static boolean[][] validity(List<Node> nodes, List<TaskExample> examples) {
        boolean[][] v = new boolean[nodes.size()][examples.size()];
        for (int n = 0; n < nodes.size(); n++) {
            for (int b = 0; b < examples.size(); b++) {
                Node node = nodes.get(n);
                v[n][b] = node.type() != NodeType.RESID_POS || node.index() < examples.get(b).length();
            }
        }
        return v;
    }
}
