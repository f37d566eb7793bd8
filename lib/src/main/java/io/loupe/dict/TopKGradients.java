package io.loupe.dict;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.loupe.tensor.Tensors;

import java.util.ArrayList;
import java.util.List;

/**
 * TopK's, BatchTopK's and Matryoshka's training loss and parameter gradients, written out by hand so that everything after the
 * encoder's one dense matmul touches only the active latents (k per row on average), as EleutherAI's sparsify does with
 * its fused encoder and {@code embedding_bag} (Gao et al. 2024, appendix). No autograd graph, and no [n, d_sae] array
 * after the encoder's.
 *
 * <p>Forward, with x̃ = x − b_dec for an autoencoder and x̃ = x for a transcoder:
 * <pre>
 *   pre = x̃ W_enc + b_enc                        [n, d_sae]   the one dense product
 *   (I, p) = top_k(pre) per row;  v = relu(p)     [n, k]       (BatchTopK: the n·k largest relu(pre) of the batch,
 *                                                              any number per row; see {@link Active#perBatch})
 *   x̂ = S W_dec + b_dec,  S = Σ_bj v_bj e_b e_{I_bj}ᵀ   (sparse [n, d_sae], nnz n·k; decoded from gathered rows)
 *   L_rec = (1/n) Σ_b ‖y_b − x̂_b‖²               (Matryoshka: summed over nested widths; see {@link Decoded#nested})
 *   AuxK: r = y − x̂ (held constant); (J, a) = top_kaux(relu(pre) ⊙ dead);  ê = A W_dec
 *   L_aux = α Σ(ê − r)² / (Σ(r − r̄)² + 1e-12)
 * </pre>
 * Backward, with G = ∂L/∂x̂ = (2/n)(x̂ − y) and Ĝ = ∂L/∂ê = 2α(ê − r)/(Σ(r − r̄)² + 1e-12):
 * <pre>
 *   ∂W_dec = Sᵀ G + Aᵀ Ĝ                                          sparse × dense
 *   ∂v_bj = 1[v_bj > 0] · G_b · W_dec[I_bj];  ∂a_bj = 1[a_bj > 0] · Ĝ_b · W_dec[J_bj]   gathered rows, in chunks
 *                                                  (the rows gathered for ∂v also decode x̂: one gather for both)
 *   D = the sparse [n, d_sae] holding ∂v at I and ∂a at J (duplicates add)
 *   [∂W_encᵀ | ∂b_enc] = Dᵀ [x̃ | 1]                              sparse × dense
 *   ∂b_dec = Σ_b G_b − W_enc ∂b_enc   (autoencoder: b_dec also centres the input; a transcoder drops the second term)
 * </pre>
 * The values and gradients are the dense autograd form's to rounding ({@code SparseTopKTest}).
 */
final class TopKGradients {
    /** Gathered decoder rows per chunk: about 8 MB of floats, so a chunk is still in cache when it is used again. */
    private static final long GATHER_FLOATS = 1L << 21;

    /** The step's losses (as {@link SaeTrainer.StepLoss}) and ∂L/∂θ for each of {@code sae.parameters()}, in order. */
    record Result(SaeTrainer.StepLoss loss, List<NDArray> gradients) {
    }

    private TopKGradients() {
    }

    /**
     * @param x    the dictionary's input {@code [n, d_in]}
     * @param y    the reconstruction target {@code [n, out_width]}
     * @param dead {@code [d_sae]} true for latents that have not fired for {@code dead_after} tokens
     */
    static Result compute(SaeConfig cfg, SparseAutoencoder sae, NDArray x, NDArray y, NDArray dead) {
        NDArray wEnc = sae.wEnc.stopGradient(), bEnc = sae.bEnc.stopGradient(), wDec = sae.wDec.stopGradient(), bDec = sae.bDec.stopGradient();
        long n = x.getShape().get(0);
        int dSae = cfg.dSae();
        NDArray xTilde = sae.centred(x).stopGradient();                                                    // [n, d_in]
        NDArray pre = xTilde.matMul(wEnc).addi(bEnc);                                                      // [n, d_sae]
        Active act = cfg.architecture() == Architecture.TOPK ? Active.perRow(pre, cfg.k()) : Active.perBatch(pre, cfg.k(), sae);
        Decoded dec = cfg.architecture() == Architecture.MATRYOSHKA ? Decoded.nested(act, wDec, bDec, y, cfg.nestedWidths())
                : Decoded.plain(act, wDec, bDec, y, cfg.k());
        NDArray recon = dec.recon(), diff = dec.diff();
        NDArray on = act.values().gt(0);
        NDArray dv = dec.dots().muli(on);                                                                  // ∂v, [nnz]
        NDArray gradDec = sparse(act.cols(), dec.hRows(), act.values(), dSae, dec.h().getShape().get(0)).matMul(dec.h());   // Sᵀ H
        NDArray aux = recon.zerosLike();
        NDArray dRows = act.rows(), dCols = act.cols(), dVals = dv;
        NDArray deadIdx = dead.nonzero().flatten();
        if (deadIdx.size() > 0 && cfg.auxK() > 0) {
            int kAux = (int) Math.min(cfg.auxK(), deadIdx.size());
            NDList auxTop = Activation.relu(pre.get(new NDIndex(":, {}", deadIdx))).topK(kAux, 1, true, false);  // among dead latents only
            NDArray aIdx = deadIdx.get(auxTop.get(1).flatten()), a = auxTop.get(0).flatten();             // [n·kAux]
            NDArray aRows = rowIndex(x.getManager(), n, kAux);
            NDArray r = diff.neg();                                                                        // y − x̂
            NDArray eHat = sparse(aRows, aIdx, a, n, dSae).matMul(wDec);
            NDArray denominator = r.sub(r.mean(new int[]{0}, true)).square().sum().add(1e-12f);
            NDArray eDiff = eHat.sub(r);
            aux = eDiff.square().sum().div(denominator).muli((float) cfg.auxCoeff());
            NDArray gAux = eDiff.muli(2 * cfg.auxCoeff()).div(denominator);                                // Ĝ, [n, out]
            NDArray da = rowDots(gAux, wDec, aIdx.reshape(n, kAux)).flatten().muli(a.gt(0));
            gradDec.addi(sparse(aIdx, aRows, a, dSae, n).matMul(gAux));
            dRows = dRows.concat(aRows);
            dCols = dCols.concat(aIdx);
            dVals = dVals.concat(da);
        }
        NDArray withOnes = xTilde.concat(x.getManager().ones(new Shape(n, 1)), 1);                        // [x̃ | 1], [n, d_in + 1]
        NDArray encoderT = sparse(dCols, dRows, dVals, dSae, n).matMul(withOnes);                          // [d_sae, d_in + 1]
        int dIn = cfg.dIn();
        NDArray gradEnc = Tensors.contiguous(encoderT.get(new NDIndex(":, :{}", dIn)).transpose(1, 0));           // [d_in, d_sae]
        NDArray gradBEnc = Tensors.contiguous(encoderT.get(new NDIndex(":, {}", dIn)));                           // [d_sae]
        NDArray gradBDec = dec.h().get(new NDIndex(":{}", n)).sum(new int[]{0});                           // Σ_b G_b
        if (!cfg.transcoder()) {
            gradBDec.subi(wEnc.matMul(gradBEnc));
        }
        NDArray firedIdx = act.cols().get(on);
        NDArray fired = bEnc.zerosLike().scatter(firedIdx, firedIdx.onesLike().toType(DataType.FLOAT32, false), 0).gt(0);
        NDArray meanL0 = on.sum().toType(DataType.FLOAT32, false).div(n);
        return new Result(new SaeTrainer.StepLoss(recon.add(aux), recon, recon.zerosLike(), aux, fired, meanL0),
                List.of(gradEnc, gradBEnc, gradDec, gradBDec));
    }

    /**
     * The reconstruction loss, the full reconstruction's error {@code x̂ − y [n, out]}, and what the backward pass needs:
     * the upstream gradients H (rows {@code hRows[e]} of H multiply entry e, and H's first n rows sum to ∂L/∂b_dec) and
     * {@code dots[e] = H[hRows[e]] · W_dec[cols[e]]}, ∂L/∂v before the relu mask. {@code [nnz]} each.
     */
    record Decoded(NDArray recon, NDArray diff, NDArray h, NDArray hRows, NDArray dots) {
        /** One reconstruction: H = G = (2/n)(x̂ − y), one row per batch row. */
        static Decoded plain(Active act, NDArray wDec, NDArray bDec, NDArray y, int k) {
            long n = y.getShape().get(0);
            NDArray diff, dots;
            if (act.block() != null) {
                NDList decoded = decodeWithDots(act.values().reshape(n, k), act.block(), wDec, bDec, y);
                diff = decoded.get(0);
                dots = decoded.get(1).flatten();
            } else {
                diff = sparse(act.rows(), act.cols(), act.values(), n, wDec.getShape().get(0)).matMul(wDec).addi(bDec).subi(y);
                dots = entryDots(diff, wDec, act.rows(), act.cols());
            }
            return new Decoded(diff.square().sum(new int[]{1}).mean(), diff, diff.mul(2f / n), act.rows(), dots.muli(2f / n));
        }

        /**
         * Matryoshka: for each nested width m, {@code x̂_m = b_dec + Σ_{entries with latent < m} v·W_dec[latent]},
         * {@code L_rec = Σ_m (1/n) Σ_b ‖y_b − x̂_m,b‖²}. Group g (latents from the previous width up to m_g) is decoded
         * once and added to the running sum. A latent in group g feeds every x̂_m with m ≥ m_g, so its upstream gradient
         * is the suffix sum {@code H_g = Σ_{g' ≥ g} (2/n)(x̂_g' − y)}; H stacks the H_g, [groups·n, out].
         */
        static Decoded nested(Active act, NDArray wDec, NDArray bDec, NDArray y, List<Integer> widths) {
            long n = y.getShape().get(0), dSae = wDec.getShape().get(0);
            NDArray group = act.cols().zerosLike();                                                        // each entry's group
            for (int w : widths.subList(0, widths.size() - 1)) {
                group.addi(act.cols().gte(w));
            }
            NDArray running = bDec.sub(y), recon = null;                                                   // x̂_m − y
            List<NDArray> diffs = new ArrayList<>();
            for (int g = 0; g < widths.size(); g++) {
                NDArray in = group.eq(g);
                running = running.add(sparse(act.rows().get(in), act.cols().get(in), act.values().get(in), n, dSae).matMul(wDec));
                diffs.add(running);
                NDArray part = running.square().sum(new int[]{1}).mean();
                recon = recon == null ? part : recon.add(part);
            }
            List<NDArray> suffix = new ArrayList<>(diffs);
            for (int g = widths.size() - 2; g >= 0; g--) {
                suffix.set(g, diffs.get(g).add(suffix.get(g + 1)));
            }
            NDArray h = NDArrays.concat(new NDList(suffix)).muli(2f / n);                                  // [groups·n, out]
            NDArray hRows = group.mul(n).addi(act.rows());
            return new Decoded(recon, diffs.get(widths.size() - 1), h, hRows, entryDots(h, wDec, hRows, act.cols()));
        }
    }

    /**
     * The batch's active latents as entries: row, latent and value {@code relu(pre)} of each ({@code [nnz]} each); for
     * TopK also the {@code [n, k]} latents per row ({@code block}), which lets decoding gather rows a block at a time.
     */
    record Active(NDArray rows, NDArray cols, NDArray values, NDArray block) {
        /** TopK: each row's k largest pre-activations (ties broken by index, as {@code topk}). */
        static Active perRow(NDArray pre, int k) {
            NDList top = pre.topK(k, 1, true, false);
            long n = pre.getShape().get(0);
            return new Active(rowIndex(pre.getManager(), n, k), top.get(1).flatten(), Activation.relu(top.get(0)).flatten(), top.get(1));
        }

        /**
         * BatchTopK (Bussmann et al. 2024): the n·k largest of relu(pre) over the whole batch, every entry ≥ the
         * threshold t (the n·k-th value) and > 0 kept, ties included, exactly as the dense form keeps them; records t
         * for the inference threshold. The n·k largest are found among each row's m largest (m = 4k at first, one
         * per-row top-k and one small flat top-k instead of a top-k over all n·d_sae values); if some row's m-th value
         * still reaches t, that row may hold more, so m grows until no row does (m = d_sae is the exact dense search).
         */
        static Active perBatch(NDArray pre, int k, SparseAutoencoder sae) {
            long n = pre.getShape().get(0), width = pre.getShape().get(1);
            long keep = Math.min(n * width, n * k);
            for (long m = Math.min(width, 4L * k); ; m = Math.min(width, 4 * m)) {
                NDList cand = pre.topK((int) m, 1, true, false);                                           // [n, m]
                NDArray values = cand.get(0);
                float t = values.flatten().topK((int) keep, 0, true, false).get(0).min().getFloat();
                if (m < width && values.min(new int[]{1}).max().getFloat() >= t) {
                    continue;   // a row's candidates all reach t: it may have more outside them
                }
                sae.recordBatchThreshold(t);
                NDArray kept = values.gte(t).logicalAnd(values.gt(0));                                     // [n, m]
                NDArray rows = rowIndex(pre.getManager(), n, (int) m).reshape(n, m);
                return new Active(rows.get(kept), cand.get(1).get(kept), values.get(kept), null);
            }
        }
    }

    /** {@code [b b … b]} k times for each row b: the row of each of n·k entries. → {@code [n·k]} int64 */
    private static NDArray rowIndex(NDManager m, long n, int k) {
        return m.arange(0, (int) n, 1, DataType.INT64).expandDims(1).repeat(1, k).flatten();
    }

    /** The sparse COO matrix {@code [rows, cols]} with {@code values} at ({@code at0}, {@code at1}); duplicates add. */
    private static NDArray sparse(NDArray at0, NDArray at1, NDArray values, long rows, long cols) {
        NDArray indices = NDArrays.stack(new NDList(at0, at1));                                            // [2, nnz]
        return JniUtils.createSparseCoo((PtNDArray) indices, (PtNDArray) values, new Shape(rows, cols));
    }

    /**
     * The decoder and the dot products ∂v needs, from one gather: a chunk of rows at a time, the chunk's decoder rows
     * {@code W_dec[I]} give {@code x̂ = v·W_dec[I] + b_dec} and then, still in cache, {@code W_dec[I]·(x̂ − y)}.
     * {@code v, idx [n, k]}, {@code y [n, out]} → {@code [x̂ − y [n, out], W_dec[I_bj]·(x̂_b − y_b) [n, k]]}
     */
    static NDList decodeWithDots(NDArray v, NDArray idx, NDArray wDec, NDArray bDec, NDArray y) {
        long n = idx.getShape().get(0), k = idx.getShape().get(1), d = wDec.getShape().get(1);
        long chunk = Math.max(1, GATHER_FLOATS / (k * d));
        List<NDArray> diffs = new ArrayList<>(), dots = new ArrayList<>();
        for (long from = 0; from < n; from += chunk) {
            long to = Math.min(n, from + chunk);
            NDIndex part = new NDIndex("{}:{}", from, to);
            NDArray block = rowsAt(wDec, idx.get(part)).reshape(to - from, k, d);                            // [c, k, d]
            NDArray diff = v.get(part).expandDims(1).matMul(block).reshape(to - from, d).addi(bDec).subi(y.get(part));
            dots.add(block.matMul(diff.expandDims(2)).reshape(to - from, k));
            diffs.add(diff);
            block.close();
        }
        return new NDList(concat(diffs), concat(dots));
    }

    /**
     * {@code out[b, j] = g_b · w[idx[b, j]]} from gathered rows of w, a chunk of rows at a time so the gathered block is
     * reused from cache. {@code g [n, d]}, {@code w [V, d]}, {@code idx [n, m]} → {@code [n, m]}
     */
    static NDArray rowDots(NDArray g, NDArray w, NDArray idx) {
        long n = idx.getShape().get(0), m = idx.getShape().get(1), d = w.getShape().get(1);
        long chunk = Math.max(1, GATHER_FLOATS / (m * d));
        List<NDArray> parts = new ArrayList<>();
        for (long from = 0; from < n; from += chunk) {
            long to = Math.min(n, from + chunk);
            NDArray block = rowsAt(w, idx.get(new NDIndex("{}:{}", from, to))).reshape(to - from, m, d);     // [c, m, d]
            parts.add(block.matMul(g.get(new NDIndex("{}:{}", from, to)).expandDims(2)).reshape(to - from, m));
            block.close();
        }
        return concat(parts);
    }

    /**
     * {@code out[e] = g[rows[e]] · w[cols[e]]} for each entry e, from gathered rows of both, a chunk of entries at a time.
     * {@code g [n, d]}, {@code w [V, d]}, {@code rows, cols [nnz]} → {@code [nnz]}
     */
    static NDArray entryDots(NDArray g, NDArray w, NDArray rows, NDArray cols) {
        long nnz = rows.size(), d = w.getShape().get(1);
        long chunk = Math.max(1, GATHER_FLOATS / (2 * d));
        List<NDArray> parts = new ArrayList<>();
        for (long from = 0; from < nnz; from += chunk) {
            NDIndex part = new NDIndex("{}:{}", from, Math.min(nnz, from + chunk));
            NDArray gathered = rowsAt(w, cols.get(part));
            parts.add(gathered.muli(rowsAt(g, rows.get(part))).sum(new int[]{1}));
            gathered.close();
        }
        return parts.isEmpty() ? g.getManager().zeros(new Shape(0)) : concat(parts);
    }

    /** Rows {@code idx} (any shape, flattened) of {@code w [V, d]}: libtorch's embedding, one row copy each. → {@code [N, d]} */
    private static NDArray rowsAt(NDArray w, NDArray idx) {
        return w.getNDArrayInternal().embedding(idx.flatten(), w, SparseFormat.DENSE).singletonOrThrow();
    }

    private static NDArray concat(List<NDArray> parts) {
        return parts.size() == 1 ? parts.get(0) : NDArrays.concat(new NDList(parts));
    }
}
