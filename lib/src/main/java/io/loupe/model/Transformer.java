package io.loupe.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import io.loupe.hooks.HookKind;
import io.loupe.hooks.HookPoint;
import io.loupe.hooks.Hooks;
import io.loupe.tensor.Tensors;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one decoder-only transformer every family is assembled from ({@link TransformerParts}), over DJL NDArrays:
 *
 * <pre>
 * x = embed[ids] · embedScale (+ pos_embed[positions])                       [B, T, D]
 * for each block l:
 *   resid_pre = x
 *   h = norm1(x)
 *   q, k, v = h Wqkv^T (+ b)                   per head; rotary on the first rotaryDims of q and k (rotate-half)
 *   scores = q k^T · attnScale (/ (l + 1));  cap · tanh(scores / cap);  + causal, padding and sliding-window mask
 *   pattern = softmax(scores)                   [B, H, Tq, Tk]   (k, v shared by groupSize query heads;
 *                                               built only when a hook reads it, else causal query blocks)
 *   z = pattern v                               [B, T, H, d_head]
 *   attn_out = z Wo^T (+ b)  (then post-norm: Gemma-2)
 *   sequential: resid_mid = x + attn_out;  m = mlp(norm2(resid_mid));  resid_post = resid_mid + m
 *   parallel:   m = mlp(norm2(x));  resid_post = x + attn_out + m      (GPT-NeoX; no resid_mid)
 *   mlp(h): gated act(h Wgate^T) ⊙ (h Wup^T) or plain act(h Win^T + b) = mlp.hook_post;  then Wout (+ b) (then post-norm)
 * logits = norm_f(x) Wunembed^T;  cap · tanh(logits / cap)                   [B, T, V]
 * </pre>
 *
 * Positions count real tokens only (cumulative sum of the mask), so left and right padding give the same values at
 * real positions. With a {@link KvCache}, only the new positions run and attend over the cached ones as well.
 * Parameters ({@link #parameterShapes}) stack q/k/v and gate/up so that each group is one matmul; families map file
 * tensors to and from them.
 */
public final class Transformer implements LanguageModel {
    /** Added to disallowed attention scores; finite so a row with no allowed key stays NaN-free. */
    private static final float MASKED = -1e30f;
    /** Queries per block of {@link #blockCausalAttention}: on the 25M model at T = 256, 64 measured faster than 32 and 128. */
    private static final long QUERY_BLOCK = 64;

    private final ModelConfig cfg;
    private final TransformerParts parts;
    private final NDManager manager;
    private final DataType dtype;
    private final Map<String, NDArray> params;
    private final NDArray invFreq;

    /** Builds the model from parameters named and shaped as {@link #parameterShapes} says (checked). */
    public Transformer(ModelConfig cfg, Map<String, NDArray> parameters, NDManager manager) {
        this.cfg = cfg;
        this.parts = cfg.parts();
        this.manager = manager;
        Map<String, long[]> want = parameterShapes(cfg);
        if (!parameters.keySet().equals(want.keySet())) {
            throw new IllegalArgumentException("transformer parameters differ from those the config needs: missing "
                    + minus(want.keySet(), parameters.keySet()) + ", unexpected " + minus(parameters.keySet(), want.keySet()));
        }
        this.params = new LinkedHashMap<>();
        for (String name : want.keySet()) {
            NDArray p = parameters.get(name);
            if (!p.getShape().equals(new Shape(want.get(name)))) {
                throw new IllegalArgumentException("parameter " + name + " is " + p.getShape() + ", the config implies " + new Shape(want.get(name)));
            }
            params.put(name, p);
        }
        this.dtype = params.get("embed.weight").getDataType();
        int r = parts.rotaryDims();
        float[] inv = new float[r / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = (float) (1.0 / Math.pow(parts.rotaryBase(), (2.0 * i) / r));
        }
        this.invFreq = manager.create(inv).toType(dtype, false);
    }

    private static java.util.Set<String> minus(java.util.Set<String> a, java.util.Set<String> b) {
        java.util.Set<String> out = new java.util.TreeSet<>(a);
        out.removeAll(b);
        return out;
    }

    /** The parameters a config needs: name to shape, in forward order. */
    public static Map<String, long[]> parameterShapes(ModelConfig c) {
        TransformerParts p = c.parts();
        Map<String, long[]> t = new LinkedHashMap<>();
        long d = c.dModel(), qkv = (long) (c.numHeads() + 2 * c.numKvHeads()) * c.dHead(), o = (long) c.numHeads() * c.dHead();
        t.put("embed.weight", new long[]{c.vocabSize(), d});
        if (p.learnedPositions()) {
            t.put("pos_embed.weight", new long[]{p.maxPositions(), d});
        }
        for (int l = 0; l < c.numLayers(); l++) {
            String b = "blocks." + l + ".";
            norm(t, b + "norm1", p, d);
            t.put(b + "attn.qkv.weight", new long[]{qkv, d});
            if (p.qkvBias()) {
                t.put(b + "attn.qkv.bias", new long[]{qkv});
            }
            t.put(b + "attn.out.weight", new long[]{d, o});
            if (p.outBias()) {
                t.put(b + "attn.out.bias", new long[]{d});
            }
            if (p.postNorms()) {
                norm(t, b + "attn.post_norm", p, d);
            }
            norm(t, b + "norm2", p, d);
            long in = (p.gatedMlp() ? 2L : 1L) * c.dMlp();
            t.put(b + "mlp.in.weight", new long[]{in, d});
            if (p.mlpBias()) {
                t.put(b + "mlp.in.bias", new long[]{in});
            }
            t.put(b + "mlp.out.weight", new long[]{d, c.dMlp()});
            if (p.mlpBias()) {
                t.put(b + "mlp.out.bias", new long[]{d});
            }
            if (p.postNorms()) {
                norm(t, b + "mlp.post_norm", p, d);
            }
        }
        norm(t, "final_norm", p, d);
        if (!c.tieWordEmbeddings()) {
            t.put("unembed.weight", new long[]{c.vocabSize(), d});
        }
        return t;
    }

    private static void norm(Map<String, long[]> t, String name, TransformerParts p, long d) {
        t.put(name + ".weight", new long[]{d});
        if (p.norm().hasBias()) {
            t.put(name + ".bias", new long[]{d});
        }
    }

    @Override
    public Map<String, NDArray> parameters() {
        return Collections.unmodifiableMap(params);
    }

    @Override
    public Map<String, NDArray> huggingFaceWeights(NDManager m) {
        Map<String, NDArray> detached = new LinkedHashMap<>();
        for (var e : params.entrySet()) {
            NDArray v = e.getValue().stopGradient();
            v.attach(m);
            detached.put(e.getKey(), v);
        }
        return ModelRegistry.family(cfg.architecture()).toFile(cfg, detached);
    }

    @Override
    public List<HookPoint> hookPoints() {
        List<HookPoint> all = new ArrayList<>(LanguageModel.super.hookPoints());
        if (parts.parallelResidual()) {
            all.removeIf(p -> p.kind() == HookKind.RESID_MID);
        }
        return all;
    }

    @Override
    public void validate(Iterable<HookPoint> points) {
        LanguageModel.super.validate(points);
        for (HookPoint p : points) {
            if (parts.parallelResidual() && p.kind() == HookKind.RESID_MID) {
                throw new IllegalArgumentException("hook " + p + " does not exist in this model: with a parallel residual (" + cfg.architecture()
                        + ", use_parallel_residual) attention and MLP both read hook_resid_pre, so there is no hook_resid_mid (as in TransformerLens)");
            }
        }
    }

    @Override
    public NDArray forward(TokenBatch batch, Hooks hooks) {
        return run(batch, 0, null, hooks, null);
    }

    @Override
    public NDArray forward(TokenBatch batch, Hooks hooks, KvCache cache) {
        return run(batch, 0, null, hooks, cache);
    }

    @Override
    public NDArray forwardFrom(TokenBatch batch, int layer, NDArray residPre, Hooks hooks) {
        if (layer < 0 || layer >= cfg.numLayers()) {
            throw new IllegalArgumentException("start layer " + layer + " outside 0.." + (cfg.numLayers() - 1));
        }
        Shape want = new Shape(batch.batchSize(), batch.seqLen(), cfg.dModel());
        if (!residPre.getShape().equals(want)) {
            throw new IllegalArgumentException("resid_pre of layer " + layer + " must be " + want + ", got " + residPre.getShape());
        }
        return run(batch, layer, residPre, hooks, null);
    }

    /** What every block of one pass shares: masks and rotary tables. */
    private record Context(NDArray fullMask, NDArray slidingMask, NDArray cos, NDArray signedSin) {
    }

    /**
     * Blocks {@code first..L-1} then the head; x enters block {@code first} (the embeddings when null). With a cache, the
     * batch holds the positions after the cached ones, which it attends over too.
     */
    private NDArray run(TokenBatch batch, int first, NDArray start, Hooks hooks, KvCache cache) {
        validate(hooks.points());
        NDManager m = batch.manager();
        long bsz = batch.batchSize(), seq = batch.seqLen();
        NDArray x;
        Context ctx;
        try (NDScope setup = new NDScope()) {
            NDArray real = batch.maskAs(dtype);
            boolean cached = cache != null && cache.length() > 0;
            NDArray keyReal = cached ? cache.keyMask().toType(dtype, false).concat(real, 1) : real;   // [B, past + T]
            long past = keyReal.getShape().get(1) - seq;
            NDArray keyPos = keyReal.cumSum(1).sub(1).maximum(0);                                     // [B, past + T]
            NDArray positions = keyPos.get(new NDIndex(":, {}:", past));                              // [B, T]
            x = start != null ? start : embed(m, batch, positions);
            NDArray full = attentionMask(keyReal, seq, null, null);
            NDArray sliding = parts.slidingWindow() > 0 ? attentionMask(keyReal, seq, keyPos, positions) : null;
            NDArray cos = null, signedSin = null;
            if (parts.rotaryDims() > 0) {
                NDArray angles = positions.expandDims(-1).mul(invFreq.reshape(1, 1, -1)).expandDims(1);   // [B, 1, T, r/2]
                NDArray c = angles.cos(), s = angles.sin();
                cos = c.concat(c, 3);                                                                   // [B, 1, T, r]
                signedSin = s.neg().concat(s, 3);                                                       // rotate-half's sign, folded in
                NDScope.unregister(cos, signedSin);
            }
            NDScope.unregister(x, full);
            if (sliding != null) {
                NDScope.unregister(sliding);
            }
            ctx = new Context(full, sliding, cos, signedSin);
        }
        for (int l = first; l < cfg.numLayers(); l++) {
            try (NDScope layer = new NDScope()) {
                x = block(l, x, ctx, hooks, cache);
                NDScope.unregister(x);
            }
        }
        if (cache != null) {
            cache.advance(batch.mask());
        }
        try (NDScope head = new NDScope()) {
            NDArray h = norm("final_norm", x);
            double cap = parts.finalSoftcap();
            if (cap > 0) {
                h = Tensors.over(h, cap);   // the soft-cap's division, on [B, T, D] rather than the logits' [B, T, V]
            }
            NDArray logits = Linear.linear(h, params.getOrDefault("unembed.weight", params.get("embed.weight"))).singletonOrThrow();
            if (cap > 0) {
                logits = capped(logits, cap);
            }
            NDScope.unregister(logits);
            return logits;
        }
    }

    /** Token embeddings times the embedding scale, plus learned position embeddings where the family has them. */
    private NDArray embed(NDManager m, TokenBatch batch, NDArray positions) {
        long bsz = batch.batchSize(), seq = batch.seqLen();
        NDArray x = params.get("embed.weight").get(m, new NDIndex("{}", batch.ids().flatten())).reshape(bsz, seq, cfg.dModel());
        if (parts.embedScale() != 1f) {
            x = Tensors.times(x, parts.embedScale());
        }
        if (parts.learnedPositions()) {
            NDArray pos = positions.toType(DataType.INT64, false);
            long needed = pos.max().getLong() + 1;
            if (needed > parts.maxPositions()) {
                throw new IllegalArgumentException("a sequence of " + needed + " tokens exceeds the model's " + parts.maxPositions()
                        + " learned positions (n_positions)");
            }
            x = x.add(params.get("pos_embed.weight").get(m, new NDIndex("{}", pos.flatten())).reshape(bsz, seq, cfg.dModel()));
        }
        return x;
    }

    private NDArray block(int l, NDArray x, Context ctx, Hooks hooks, KvCache cache) {
        String b = "blocks." + l + ".";
        x = hooks.apply(HookPoint.of(l, HookKind.RESID_PRE), x);
        NDArray attnOut;
        // Sub-scopes free each half's intermediates (scores, gate/up, ...) as soon as it ends: the pass's peak
        // memory is one half's, not a whole block's.
        try (NDScope scope = new NDScope()) {
            attnOut = attention(l, norm(b + "norm1", x), ctx, hooks, cache);
            if (parts.postNorms()) {
                attnOut = norm(b + "attn.post_norm", attnOut);
            }
            attnOut = hooks.apply(HookPoint.of(l, HookKind.ATTN_OUT), attnOut);
            NDScope.unregister(attnOut);
        }
        NDArray mlpIn = x;
        if (!parts.parallelResidual()) {
            x = hooks.apply(HookPoint.of(l, HookKind.RESID_MID), x.add(attnOut));
            mlpIn = x;
        }
        NDArray mlpOut;
        try (NDScope scope = new NDScope()) {
            mlpOut = mlp(l, norm(b + "norm2", mlpIn), hooks);
            if (parts.postNorms()) {
                mlpOut = norm(b + "mlp.post_norm", mlpOut);
            }
            mlpOut = hooks.apply(HookPoint.of(l, HookKind.MLP_OUT), mlpOut);
            NDScope.unregister(mlpOut);
        }
        NDArray out = parts.parallelResidual() ? x.add(attnOut).add(mlpOut) : x.add(mlpOut);
        return hooks.apply(HookPoint.of(l, HookKind.RESID_POST), out);
    }

    /** Self-attention of block l over the normed input h {@code [B, T, D]}: q/k/v, rotary, scores, pattern, z, out. */
    private NDArray attention(int l, NDArray h, Context ctx, Hooks hooks, KvCache cache) {
        String b = "blocks." + l + ".";
        long bsz = h.getShape().get(0), seq = h.getShape().get(1);
        int heads = cfg.numHeads(), kvHeads = cfg.numKvHeads(), dHead = cfg.dHead();
        long qWidth = (long) heads * dHead, kvWidth = (long) kvHeads * dHead;
        NDList qkv = linear(h, b + "attn.qkv").split(new long[]{qWidth + kvWidth}, 2);
        NDList qk = qkv.get(0).reshape(bsz, seq, heads + kvHeads, dHead).split(new long[]{heads}, 2);
        // Head-major [B, H, T, dh], made once: every product below (and each query block's slice) then reads them in place.
        NDArray q = headMajor(qk.get(0), ctx);
        NDArray k = repeatKv(headMajor(qk.get(1), ctx));
        NDArray v = repeatKv(Tensors.contiguous(qkv.get(1).reshape(bsz, seq, kvHeads, dHead).transpose(0, 2, 1, 3)));
        if (cache != null) {
            NDArray[] all = cache.append(l, k, v);                                                       // [B, H, past + T, dh]
            k = all[0];
            v = all[1];
        }
        // A soft-cap's division by the cap is folded into q's scale: the scores come out as s / cap (see attentionPattern).
        double scale = parts.attnScale() / (parts.attnScaleByLayer() ? l + 1 : 1) / (parts.attnSoftcap() > 0 ? parts.attnSoftcap() : 1);
        // Scale q (T·dh values) rather than the scores (T·T): fewer values to touch forward and backward. In place when
        // grad mode is off: q is the rotation's output or a copy, or (one head or one position) a slice of qkv nothing else reads.
        q = Tensors.mulInto(q, Tensors.constant(q, scale));
        NDArray mask = parts.sliding(l) ? ctx.slidingMask() : ctx.fullMask();
        HookPoint patternPoint = HookPoint.of(l, HookKind.ATTN_PATTERN);
        NDArray z = hooks.touches(patternPoint)
                ? hooks.apply(patternPoint, attentionPattern(q, k, mask)).matMul(v).transpose(0, 2, 1, 3)
                : blockCausalAttention(q, k, v, mask);                                                   // [B, T, H, dh]
        z = hooks.apply(HookPoint.of(l, HookKind.ATTN_Z), z);
        return linear(z.reshape(bsz, seq, qWidth), b + "attn.out");
    }

    /**
     * {@code softmax(cap(q k^T) + mask)}: q already scaled (and, with a soft-cap, divided by the cap), {@code [B, H, Tq, dh]};
     * keys {@code [B, H, Tk, dh]}; mask {@code [B, 1, Tq, Tk]}.
     */
    private NDArray attentionPattern(NDArray q, NDArray k, NDArray mask) {
        NDArray scores = q.matMul(k.transpose(0, 1, 3, 2));
        if (parts.attnSoftcap() > 0) {
            scores = capped(scores, parts.attnSoftcap());
        }
        return Tensors.addInto(scores, mask).softmax(-1);
    }

    /**
     * z {@code [B, Tq, H, dh]} without the full pattern, for when no hook reads it: queries go in blocks of
     * {@link #QUERY_BLOCK}, and block {@code [a, e)} scores only the keys a causal mask can allow, the first
     * {@code past + e}. That skips most of the upper triangle (at T = 256, 4 blocks compute 62.5% of the scores) and
     * holds at most {@code QUERY_BLOCK × keys} scores per head at once. Every allowed score is the same as in
     * {@link #attentionPattern}; the keys left out are masked there, so their weights are exactly 0. Only fully masked
     * rows (queries at padding, read by nobody) differ: uniform over fewer keys.
     */
    private NDArray blockCausalAttention(NDArray q, NDArray k, NDArray v, NDArray mask) {
        long queries = q.getShape().get(2), past = k.getShape().get(2) - queries;
        NDList zs = new NDList();
        // q's blocks as views by split: under autograd their gradients are one concatenation (key prefixes overlap, so
        // k and v take slices).
        long a = 0;
        for (NDArray qBlock : q.split(queryBlockEnds(queries), 2)) {
            long e = a + qBlock.getShape().get(2), keys = past + e;
            NDArray pattern = attentionPattern(qBlock, Tensors.slice(k, 2, 0, keys),
                    Tensors.slice(Tensors.slice(mask, 2, a, e), 3, 0, keys));
            zs.add(pattern.matMul(Tensors.slice(v, 2, 0, keys)).transpose(0, 2, 1, 3));               // [B, e - a, H, dh]
            a = e;
        }
        return zs.size() == 1 ? zs.singletonOrThrow() : NDArrays.concat(zs, 1);
    }

    /** Where each query block but the last ends, for {@code split}: 64, 128, ... below {@code queries}. */
    private static long[] queryBlockEnds(long queries) {
        long[] ends = new long[(int) ((queries - 1) / QUERY_BLOCK)];
        for (int i = 0; i < ends.length; i++) {
            ends[i] = (i + 1) * QUERY_BLOCK;
        }
        return ends;
    }

    /** The MLP of block l over the normed input h {@code [B, T, D]}, through mlp.hook_post. */
    private NDArray mlp(int l, NDArray h, Hooks hooks) {
        String b = "blocks." + l + ".";
        NDArray post;
        if (parts.gatedMlp()) {
            // Two products over the stacked weight's halves, not one product whose output is split: each output is
            // contiguous, which the elementwise product reads faster, and MKL measured faster at these widths (dMlp vs
            // 2·dMlp columns). The halves are split views, not slices: under autograd their gradients are then one
            // concatenation, where each slice's backward would zero-fill and copy a whole stacked-weight-sized gradient.
            NDArray w = params.get(b + "mlp.in.weight"), bias = params.get(b + "mlp.in.bias");
            long[] halves = {cfg.dMlp()};
            NDList ws = w.split(halves, 0), bs = bias == null ? null : bias.split(halves, 0);
            post = Tensors.mulInto(parts.act().apply(linear(h, ws.get(0), bs == null ? null : bs.get(0))),
                    linear(h, ws.get(1), bs == null ? null : bs.get(1)));
        } else {
            post = parts.act().apply(linear(h, b + "mlp.in"));
        }
        post = hooks.apply(HookPoint.of(l, HookKind.MLP_POST), post);
        return linear(post, b + "mlp.out");
    }

    /**
     * Additive mask {@code [B, 1, Tq, Tk]}: 0 where key k is real and k &lt;= q (and, for a sliding window, fewer than
     * {@code window} real positions back), MASKED elsewhere. The queries are the last {@code queries} of the Tk positions.
     */
    private NDArray attentionMask(NDArray keyReal, long queries, NDArray keyPos, NDArray queryPos) {
        long keys = keyReal.getShape().get(1), past = keys - queries, bsz = keyReal.getShape().get(0);
        NDManager m = keyReal.getManager();
        NDArray qIdx = m.arange((int) past, (int) keys, 1, DataType.INT64), kIdx = m.arange(0, (int) keys, 1, DataType.INT64);
        NDArray causal = qIdx.reshape(queries, 1).gte(kIdx.reshape(1, keys)).reshape(1, 1, queries, keys);   // [1, 1, Tq, Tk]
        NDArray allowed = causal.logicalAnd(keyReal.gt(0).reshape(bsz, 1, 1, keys));                          // [B, 1, Tq, Tk]
        if (keyPos != null) {
            NDArray back = queryPos.reshape(bsz, 1, queries, 1).sub(keyPos.reshape(bsz, 1, 1, keys));         // real positions back
            allowed = allowed.logicalAnd(back.lt(parts.slidingWindow()));
        }
        return allowed.toType(dtype, false).neg().add(1).mul(MASKED);
    }

    private NDArray norm(String name, NDArray x) {
        return parts.norm().apply(x, params.get(name + ".weight"), params.get(name + ".bias"), parts.normEps());
    }

    /**
     * {@code [B, T, n, dh] -> [B, n, T, dh]}, contiguous, with rotary applied where the family has it: the rotation's
     * own output is the head-major copy (with grad mode off), so q and k are not copied a second time.
     */
    private NDArray headMajor(NDArray x, Context ctx) {
        NDArray t = x.transpose(0, 2, 1, 3);
        return Tensors.contiguous(ctx.cos() == null ? t : rotate(t, ctx.cos(), ctx.signedSin()));
    }

    /**
     * Rotary embedding in the rotate-half layout on the first rotaryDims of the last axis: {@code x cos + [-x2, x1] sin},
     * computed as {@code x cos + [x2, x1] [-sin, sin]} with the sign in the table ({@code signedSin}), one pass fewer.
     */
    private NDArray rotate(NDArray x, NDArray cos, NDArray signedSin) {
        int r = parts.rotaryDims();
        long dh = x.getShape().get(3);
        NDArray rot = r == dh ? x : Tensors.slice(x, 3, 0, r);
        NDList halves = rot.split(2, 3);
        // The concatenation is a new contiguous tensor in x's logical order: the result lands there.
        NDArray rotated = Tensors.addInto(Tensors.mulInto(halves.get(1).concat(halves.get(0), 3), signedSin), rot.mul(cos));
        return r == dh ? rotated : rotated.concat(Tensors.slice(x, 3, r, dh), 3);
    }

    /**
     * A soft-cap {@code cap · tanh(s / cap)} given {@code s / cap} (the division folded into what produced it), written
     * over that fresh tensor when grad mode is off.
     */
    private static NDArray capped(NDArray sOverCap, double cap) {
        return Tensors.mulInto(Tensors.tanhInto(sOverCap), Tensors.constant(sOverCap, cap));
    }

    /** Repeats each key/value head for the query heads of its group: {@code [B, kv, T, dh] -> [B, H, T, dh]}. */
    private NDArray repeatKv(NDArray kv) {
        return cfg.groupSize() == 1 ? kv : kv.repeat(1, cfg.groupSize());
    }

    private NDArray linear(NDArray x, String name) {
        return linear(x, params.get(name + ".weight"), params.get(name + ".bias"));
    }

    private static NDArray linear(NDArray x, NDArray w, NDArray bias) {
        return bias == null ? Linear.linear(x, w).singletonOrThrow() : Linear.linear(x, w, bias).singletonOrThrow();
    }

    @Override
    public NDArray mlpDown(int layer) {
        return params.get("blocks." + layer + ".mlp.out.weight");
    }

    @Override
    public ModelConfig config() {
        return cfg;
    }

    @Override
    public NDManager manager() {
        return manager;
    }

    @Override
    public DataType dataType() {
        return dtype;
    }

    @Override
    public void close() {
        manager.close();
    }
}
