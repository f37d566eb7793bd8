package io.loupe.model;

import ai.djl.ndarray.NDArray;
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

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Llama family (Llama 2/3 without rope scaling, TinyLlama, llama2.c exports, Qwen2 with its q/k/v
 * bias) over DJL NDArrays, in Hugging Face's weight layout.
 *
 * <pre>
 * x = embed[ids]                                   [B, T, D]
 * for each block l:
 *   resid_pre  = x
 *   h = rmsnorm(x) * g_attn
 *   q, k, v = h Wq^T (+bq), h Wk^T (+bk), h Wv^T (+bv)   per head, rotary on q and k (rotate-half layout)
 *   pattern = softmax(q k^T / sqrt(d_head) + causal_and_padding_mask)   [B, H, Tq, Tk]
 *   z = pattern v                                   [B, T, H, d_head]  (k, v shared by groupSize query heads)
 *   attn_out = z Wo^T;  resid_mid = x + attn_out
 *   h = rmsnorm(resid_mid) * g_mlp
 *   mlp_post = act(h Wgate^T) * (h Wup^T)            [B, T, d_mlp]   act = hidden_act (silu, relu, gelu)
 *   mlp_out = mlp_post Wdown^T;  resid_post = resid_mid + mlp_out
 * logits = (rmsnorm(x) * g_final) Wunembed^T         [B, T, V]
 * </pre>
 *
 * Positions count real tokens only (cumulative sum of the mask), so left and right padding give
 * the same values at real positions. With a {@link KvCache}, only the new positions run and attend over
 * the cached ones as well.
 *
 * <p>For training, {@link #parameters()} are the tensors the forward pass reads (q/k/v and gate/up stacked,
 * which makes each group one matmul); {@link #huggingFaceWeights} splits them back into the file's names.
 */
public final class LlamaModel implements LanguageModel {
    /** Added to disallowed attention scores; finite so a row with no allowed key stays NaN-free. */
    private static final float MASKED = -1e30f;

    /** One block's weights; q/k/v and gate/up are stacked so each group is one matmul. */
    private record Block(NDArray attnNorm, NDArray wQkv, NDArray bQkv, NDArray wo, NDArray mlpNorm, NDArray wGateUp,
                         NDArray wDown) {
    }

    private final ModelConfig cfg;
    private final NDManager manager;
    private final DataType dtype;
    private final NDArray embed;
    private final NDArray finalNorm;
    private final NDArray unembed;
    private final NDArray invFreq;
    private final List<Block> blocks = new ArrayList<>();
    private final Map<String, NDArray> parameters = new LinkedHashMap<>();

    /** Builds the model from weights already checked against {@link #expectedTensors}. */
    LlamaModel(ModelConfig cfg, Map<String, NDArray> w, NDManager manager) {
        this.cfg = cfg;
        this.manager = manager;
        this.embed = w.get("model.embed_tokens.weight");
        this.dtype = embed.getDataType();
        this.finalNorm = w.get("model.norm.weight");
        this.unembed = cfg.tieWordEmbeddings() ? embed : w.get("lm_head.weight");
        for (int l = 0; l < cfg.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            NDArray qkv = stack(w, p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight");
            NDArray qkvBias = cfg.attentionBias()
                    ? stack(w, p + "self_attn.q_proj.bias", p + "self_attn.k_proj.bias", p + "self_attn.v_proj.bias") : null;
            blocks.add(new Block(w.get(p + "input_layernorm.weight"), qkv, qkvBias, w.get(p + "self_attn.o_proj.weight"),
                    w.get(p + "post_attention_layernorm.weight"), stack(w, p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"),
                    w.get(p + "mlp.down_proj.weight")));
        }
        float[] inv = new float[cfg.dHead() / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = (float) (1.0 / Math.pow(cfg.ropeTheta(), (2.0 * i) / cfg.dHead()));
        }
        this.invFreq = manager.create(inv).toType(dtype, false);
        parameters.put("model.embed_tokens.weight", embed);
        for (int l = 0; l < blocks.size(); l++) {
            String p = "model.layers." + l + ".";
            Block b = blocks.get(l);
            parameters.put(p + "input_layernorm.weight", b.attnNorm());
            parameters.put(p + "self_attn.qkv_proj.weight", b.wQkv());
            if (b.bQkv() != null) {
                parameters.put(p + "self_attn.qkv_proj.bias", b.bQkv());
            }
            parameters.put(p + "self_attn.o_proj.weight", b.wo());
            parameters.put(p + "post_attention_layernorm.weight", b.mlpNorm());
            parameters.put(p + "mlp.gate_up_proj.weight", b.wGateUp());
            parameters.put(p + "mlp.down_proj.weight", b.wDown());
        }
        parameters.put("model.norm.weight", finalNorm);
        if (!cfg.tieWordEmbeddings()) {
            parameters.put("lm_head.weight", unembed);
        }
    }

    @Override
    public Map<String, NDArray> parameters() {
        return java.util.Collections.unmodifiableMap(parameters);
    }

    @Override
    public Map<String, NDArray> huggingFaceWeights(NDManager m) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        long q = (long) cfg.numHeads() * cfg.dHead(), kv = (long) cfg.numKvHeads() * cfg.dHead();
        for (var e : parameters.entrySet()) {
            String name = e.getKey();
            NDArray value = e.getValue().stopGradient();
            value.attach(m);
            if (name.endsWith("qkv_proj.weight") || name.endsWith("qkv_proj.bias")) {
                String suffix = name.endsWith("weight") ? "weight" : "bias";
                String prefix = name.substring(0, name.indexOf("qkv_proj"));
                NDList parts = value.split(new long[]{q, q + kv}, 0);
                out.put(prefix + "q_proj." + suffix, parts.get(0));
                out.put(prefix + "k_proj." + suffix, parts.get(1));
                out.put(prefix + "v_proj." + suffix, parts.get(2));
            } else if (name.endsWith("gate_up_proj.weight")) {
                String prefix = name.substring(0, name.indexOf("gate_up_proj"));
                NDList parts = value.split(2, 0);
                out.put(prefix + "gate_proj.weight", parts.get(0));
                out.put(prefix + "up_proj.weight", parts.get(1));
            } else {
                out.put(name, value);
            }
        }
        return out;
    }

    /** Concatenates weights along the output axis and frees the parts. */
    private static NDArray stack(Map<String, NDArray> w, String... names) {
        NDList parts = new NDList();
        for (String n : names) {
            parts.add(w.get(n));
        }
        NDArray stacked = ai.djl.ndarray.NDArrays.concat(parts, 0);
        parts.close();
        return stacked;
    }

    /** Tensor name to shape, for every weight this architecture reads. */
    static Map<String, long[]> expectedTensors(ModelConfig c) {
        Map<String, long[]> t = new LinkedHashMap<>();
        long d = c.dModel(), q = (long) c.numHeads() * c.dHead(), kv = (long) c.numKvHeads() * c.dHead();
        t.put("model.embed_tokens.weight", new long[]{c.vocabSize(), d});
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            t.put(p + "input_layernorm.weight", new long[]{d});
            t.put(p + "self_attn.q_proj.weight", new long[]{q, d});
            t.put(p + "self_attn.k_proj.weight", new long[]{kv, d});
            t.put(p + "self_attn.v_proj.weight", new long[]{kv, d});
            if (c.attentionBias()) {
                t.put(p + "self_attn.q_proj.bias", new long[]{q});
                t.put(p + "self_attn.k_proj.bias", new long[]{kv});
                t.put(p + "self_attn.v_proj.bias", new long[]{kv});
            }
            t.put(p + "self_attn.o_proj.weight", new long[]{d, q});
            t.put(p + "post_attention_layernorm.weight", new long[]{d});
            t.put(p + "mlp.gate_proj.weight", new long[]{c.dMlp(), d});
            t.put(p + "mlp.up_proj.weight", new long[]{c.dMlp(), d});
            t.put(p + "mlp.down_proj.weight", new long[]{d, c.dMlp()});
        }
        t.put("model.norm.weight", new long[]{d});
        if (!c.tieWordEmbeddings()) {
            t.put("lm_head.weight", new long[]{c.vocabSize(), d});
        }
        return t;
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
        if (layer < 0 || layer >= blocks.size()) {
            throw new IllegalArgumentException("start layer " + layer + " outside 0.." + (blocks.size() - 1));
        }
        Shape want = new Shape(batch.batchSize(), batch.seqLen(), cfg.dModel());
        if (!residPre.getShape().equals(want)) {
            throw new IllegalArgumentException("resid_pre of layer " + layer + " must be " + want + ", got " + residPre.getShape());
        }
        return run(batch, layer, residPre, hooks, null);
    }

    /**
     * Blocks {@code first..L-1} then the head; x enters block {@code first} (the embeddings when null). With a
     * cache, the batch holds the positions after the cached ones, which it attends over too.
     */
    private NDArray run(TokenBatch batch, int first, NDArray start, Hooks hooks, KvCache cache) {
        validate(hooks.points());
        NDManager m = batch.manager();
        long bsz = batch.batchSize(), seq = batch.seqLen();
        NDArray x;
        NDArray mask;
        NDArray cos;
        NDArray sin;
        try (NDScope setup = new NDScope()) {
            x = start != null ? start : embed.get(m, new NDIndex("{}", batch.ids().flatten())).reshape(bsz, seq, cfg.dModel());
            NDArray real = batch.maskAs(dtype);
            boolean cached = cache != null && cache.length() > 0;
            NDArray keyReal = cached ? cache.keyMask().toType(dtype, false).concat(real, 1) : real;   // [B, past + T]
            mask = attentionMask(keyReal, seq);
            NDArray positions = real.cumSum(1).sub(1).maximum(0);                       // [B, T]
            if (cached) {
                positions = positions.add(cache.realTokens().toType(dtype, false).expandDims(1));
            }
            NDArray angles = positions.expandDims(-1).mul(invFreq.reshape(1, 1, -1));  // [B, T, d_head/2]
            angles = angles.concat(angles, 2).expandDims(2);                           // [B, T, 1, d_head]
            cos = angles.cos();
            sin = angles.sin();
            NDScope.unregister(x, mask, cos, sin);
        }
        for (int l = first; l < blocks.size(); l++) {
            try (NDScope layer = new NDScope()) {
                x = block(l, blocks.get(l), x, mask, cos, sin, hooks, cache);
                NDScope.unregister(x);
            }
        }
        if (cache != null) {
            cache.advance(batch.mask());
        }
        try (NDScope head = new NDScope()) {
            NDArray logits = Linear.linear(rmsNorm(x, finalNorm), unembed).singletonOrThrow();
            NDScope.unregister(logits);
            return logits;
        }
    }

    private NDArray block(int l, Block w, NDArray x, NDArray mask, NDArray cos, NDArray sin, Hooks hooks, KvCache cache) {
        long bsz = x.getShape().get(0), seq = x.getShape().get(1);
        int heads = cfg.numHeads(), kvHeads = cfg.numKvHeads(), dHead = cfg.dHead();
        x = hooks.apply(HookPoint.of(l, HookKind.RESID_PRE), x);

        NDArray h = rmsNorm(x, w.attnNorm());
        long qWidth = (long) heads * dHead, kvWidth = (long) kvHeads * dHead;
        NDList qkv = linear(h, w.wQkv(), w.bQkv()).split(new long[]{qWidth + kvWidth}, 2);
        // Rotary on q and k together (one pass over [B, T, H + kv, dh]), then split.
        NDList qk = rotate(qkv.get(0).reshape(bsz, seq, heads + kvHeads, dHead), cos, sin).split(new long[]{heads}, 2);
        NDArray q = qk.get(0).transpose(0, 2, 1, 3);                                    // [B, H, T, dh]
        NDArray k = repeatKv(qk.get(1)).transpose(0, 2, 1, 3);                          // [B, H, T, dh]
        NDArray v = repeatKv(qkv.get(1).reshape(bsz, seq, kvHeads, dHead)).transpose(0, 2, 1, 3);   // [B, H, T, dh]
        if (cache != null) {
            NDArray[] all = cache.append(l, k, v);                          // [B, H, past + T, dh]
            k = all[0];
            v = all[1];
        }
        // Scale q (T·dh values) rather than the scores (T·T): fewer values to touch forward and backward.
        NDArray scores = q.mul(1.0 / Math.sqrt(dHead)).matMul(k.transpose(0, 1, 3, 2)).add(mask);
        NDArray pattern = hooks.apply(HookPoint.of(l, HookKind.ATTN_PATTERN), scores.softmax(-1));
        NDArray z = hooks.apply(HookPoint.of(l, HookKind.ATTN_Z), pattern.matMul(v).transpose(0, 2, 1, 3));
        NDArray attnOut = linear(z.reshape(bsz, seq, (long) heads * dHead), w.wo(), null);
        attnOut = hooks.apply(HookPoint.of(l, HookKind.ATTN_OUT), attnOut);
        x = hooks.apply(HookPoint.of(l, HookKind.RESID_MID), x.add(attnOut));

        h = rmsNorm(x, w.mlpNorm());
        NDList gateUp = linear(h, w.wGateUp(), null).split(2, 2);
        NDArray post = cfg.hiddenAct().apply(gateUp.get(0)).mul(gateUp.get(1));
        post = hooks.apply(HookPoint.of(l, HookKind.MLP_POST), post);
        NDArray mlpOut = hooks.apply(HookPoint.of(l, HookKind.MLP_OUT), linear(post, w.wDown(), null));
        return hooks.apply(HookPoint.of(l, HookKind.RESID_POST), x.add(mlpOut));
    }

    /**
     * Additive mask {@code [B, 1, Tq, Tk]}: 0 where key k is real and k &lt;= q, MASKED elsewhere. The queries are
     * the last {@code queries} of the {@code Tk} positions (all of them without a cache).
     */
    private NDArray attentionMask(NDArray keyReal, long queries) {
        long keys = keyReal.getShape().get(1), past = keys - queries;
        NDManager m = keyReal.getManager();
        NDArray qIdx = m.arange((int) past, (int) keys, 1, DataType.INT64), kIdx = m.arange(0, (int) keys, 1, DataType.INT64);
        NDArray causal = qIdx.reshape(queries, 1).gte(kIdx.reshape(1, keys));               // [Tq, Tk]
        NDArray realKey = keyReal.gt(0).reshape(keyReal.getShape().get(0), 1, 1, keys);     // [B, 1, 1, Tk]
        NDArray allowed = causal.reshape(1, 1, queries, keys).logicalAnd(realKey).toType(dtype, false);
        return allowed.neg().add(1).mul(MASKED);
    }

    /** RMSNorm: {@code x / sqrt(mean(x^2) + eps) * g} over the last axis. */
    private NDArray rmsNorm(NDArray x, NDArray g) {
        NDArray ms = x.square().mean(new int[]{-1}, true);
        return x.div(ms.add(cfg.rmsNormEps()).sqrt()).mul(g);
    }

    /** Rotary embedding in the rotate-half layout: {@code x cos + [-x2, x1] sin}. x: {@code [B, T, heads, d_head]}. */
    private static NDArray rotate(NDArray x, NDArray cos, NDArray sin) {
        NDList halves = x.split(2, 3);
        NDArray rotated = halves.get(1).neg().concat(halves.get(0), 3);
        return x.mul(cos).add(rotated.mul(sin));
    }

    /** Repeats each key/value head for the query heads of its group: {@code [B, T, kv, dh] -> [B, T, H, dh]}. */
    private NDArray repeatKv(NDArray kv) {
        return cfg.groupSize() == 1 ? kv : kv.repeat(2, cfg.groupSize());
    }

    private static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        return bias == null ? Linear.linear(x, weight).singletonOrThrow() : Linear.linear(x, weight, bias).singletonOrThrow();
    }

    @Override
    public NDArray mlpDown(int layer) {
        return blocks.get(layer).wDown();
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
