package io.loupe.model;

import ai.djl.ndarray.NDArray;
import com.google.gson.JsonObject;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code GPTNeoXForCausalLM} (Pythia): LayerNorm with bias, rotate-half rotary on the first
 * {@code int(d_head · rotary_pct)} dimensions of each head with base {@code rotary_emb_base}, a plain MLP with
 * {@code hidden_act} (gelu = erf form), biases, an untied {@code embed_out}, and a parallel
 * ({@code use_parallel_residual}, no {@code hook_resid_mid}) or sequential residual. The fused
 * {@code query_key_value} rows are grouped per head as {@code [q | k | v]} ({@code [heads, 3, d_head]}); they are
 * regrouped to {@code [q of all heads | k | v]} here, and back on writing.
 */
final class NeoxFamily implements Family {
    private static final String P = "gpt_neox.";

    @Override
    public ModelConfig parse(JsonObject c, String arch) {
        ConfigJson.refuseRopeScaling(c);
        int d = ConfigJson.integer(c, "hidden_size"), heads = ConfigJson.integer(c, "num_attention_heads");
        int dHead = d / heads;
        JsonObject rp = c.has("rope_parameters") && c.get("rope_parameters").isJsonObject() ? c.getAsJsonObject("rope_parameters") : new JsonObject();
        double pct = c.has("rotary_pct") ? c.get("rotary_pct").getAsDouble()
                : ConfigJson.number(c, "partial_rotary_factor", ConfigJson.number(rp, "partial_rotary_factor", 0.25));
        double base = c.has("rotary_emb_base") ? c.get("rotary_emb_base").getAsDouble() : ConfigJson.ropeTheta(c, "rope_theta", 10000);
        int rot = (int) (dHead * pct);
        if (rot % 2 != 0) {
            throw new IllegalArgumentException("rotary_pct " + pct + " of head_dim " + dHead + " gives " + rot + " rotary dimensions; an even number is needed");
        }
        boolean bias = ConfigJson.bool(c, "attention_bias", true);
        TransformerParts parts = new TransformerParts(NormKind.LAYER_NORM, ConfigJson.number(c, "layer_norm_eps", 1e-5), false, rot, base, 0, false,
                ConfigJson.activation(c, "hidden_act", "gelu"), bias, bias, true, ConfigJson.bool(c, "use_parallel_residual", true), false,
                1 / Math.sqrt(dHead), false, 0, 0, 0, List.of(), 1f);
        return new ModelConfig(arch, d, ConfigJson.integer(c, "intermediate_size"), ConfigJson.integer(c, "num_hidden_layers"), heads, heads, dHead,
                ConfigJson.integer(c, "vocab_size"), ConfigJson.bool(c, "tie_word_embeddings", false), ConfigJson.optionalId(c, "bos_token_id"),
                ConfigJson.optionalId(c, "eos_token_id"), parts);
    }

    @Override
    public Map<String, long[]> expectedTensors(ModelConfig c, Set<String> present) {
        Map<String, long[]> t = new LinkedHashMap<>();
        long d = c.dModel(), m = c.dMlp();
        boolean bias = c.parts().qkvBias();
        t.put(P + "embed_in.weight", new long[]{c.vocabSize(), d});
        for (int l = 0; l < c.numLayers(); l++) {
            String p = P + "layers." + l + ".";
            t.put(p + "input_layernorm.weight", new long[]{d});
            t.put(p + "input_layernorm.bias", new long[]{d});
            t.put(p + "attention.query_key_value.weight", new long[]{3 * d, d});
            t.put(p + "attention.dense.weight", new long[]{d, d});
            if (bias) {
                t.put(p + "attention.query_key_value.bias", new long[]{3 * d});
                t.put(p + "attention.dense.bias", new long[]{d});
            }
            t.put(p + "post_attention_layernorm.weight", new long[]{d});
            t.put(p + "post_attention_layernorm.bias", new long[]{d});
            t.put(p + "mlp.dense_h_to_4h.weight", new long[]{m, d});
            t.put(p + "mlp.dense_h_to_4h.bias", new long[]{m});
            t.put(p + "mlp.dense_4h_to_h.weight", new long[]{d, m});
            t.put(p + "mlp.dense_4h_to_h.bias", new long[]{d});
        }
        t.put(P + "final_layer_norm.weight", new long[]{d});
        t.put(P + "final_layer_norm.bias", new long[]{d});
        if (!c.tieWordEmbeddings()) {
            t.put("embed_out.weight", new long[]{c.vocabSize(), d});
        }
        return t;
    }

    @Override
    public Map<String, NDArray> toParameters(ModelConfig c, Map<String, NDArray> f) {
        Map<String, NDArray> p = new LinkedHashMap<>();
        p.put("embed.weight", f.get(P + "embed_in.weight"));
        for (int l = 0; l < c.numLayers(); l++) {
            String h = P + "layers." + l + ".", b = "blocks." + l + ".";
            p.put(b + "norm1.weight", f.get(h + "input_layernorm.weight"));
            p.put(b + "norm1.bias", f.get(h + "input_layernorm.bias"));
            p.put(b + "attn.qkv.weight", regroup(f.get(h + "attention.query_key_value.weight"), c, true));
            p.put(b + "attn.out.weight", f.get(h + "attention.dense.weight"));
            if (c.parts().qkvBias()) {
                p.put(b + "attn.qkv.bias", regroup(f.get(h + "attention.query_key_value.bias"), c, true));
                p.put(b + "attn.out.bias", f.get(h + "attention.dense.bias"));
            }
            p.put(b + "norm2.weight", f.get(h + "post_attention_layernorm.weight"));
            p.put(b + "norm2.bias", f.get(h + "post_attention_layernorm.bias"));
            p.put(b + "mlp.in.weight", f.get(h + "mlp.dense_h_to_4h.weight"));
            p.put(b + "mlp.in.bias", f.get(h + "mlp.dense_h_to_4h.bias"));
            p.put(b + "mlp.out.weight", f.get(h + "mlp.dense_4h_to_h.weight"));
            p.put(b + "mlp.out.bias", f.get(h + "mlp.dense_4h_to_h.bias"));
        }
        p.put("final_norm.weight", f.get(P + "final_layer_norm.weight"));
        p.put("final_norm.bias", f.get(P + "final_layer_norm.bias"));
        if (!c.tieWordEmbeddings()) {
            p.put("unembed.weight", f.get("embed_out.weight"));
        }
        return p;
    }

    @Override
    public Map<String, NDArray> toFile(ModelConfig c, Map<String, NDArray> p) {
        Map<String, NDArray> f = new LinkedHashMap<>();
        f.put(P + "embed_in.weight", p.get("embed.weight"));
        for (int l = 0; l < c.numLayers(); l++) {
            String h = P + "layers." + l + ".", b = "blocks." + l + ".";
            f.put(h + "input_layernorm.weight", p.get(b + "norm1.weight"));
            f.put(h + "input_layernorm.bias", p.get(b + "norm1.bias"));
            f.put(h + "attention.query_key_value.weight", regroup(p.get(b + "attn.qkv.weight"), c, false));
            f.put(h + "attention.dense.weight", p.get(b + "attn.out.weight"));
            if (c.parts().qkvBias()) {
                f.put(h + "attention.query_key_value.bias", regroup(p.get(b + "attn.qkv.bias"), c, false));
                f.put(h + "attention.dense.bias", p.get(b + "attn.out.bias"));
            }
            f.put(h + "post_attention_layernorm.weight", p.get(b + "norm2.weight"));
            f.put(h + "post_attention_layernorm.bias", p.get(b + "norm2.bias"));
            f.put(h + "mlp.dense_h_to_4h.weight", p.get(b + "mlp.in.weight"));
            f.put(h + "mlp.dense_h_to_4h.bias", p.get(b + "mlp.in.bias"));
            f.put(h + "mlp.dense_4h_to_h.weight", p.get(b + "mlp.out.weight"));
            f.put(h + "mlp.dense_4h_to_h.bias", p.get(b + "mlp.out.bias"));
        }
        f.put(P + "final_layer_norm.weight", p.get("final_norm.weight"));
        f.put(P + "final_layer_norm.bias", p.get("final_norm.bias"));
        if (!c.tieWordEmbeddings()) {
            f.put("embed_out.weight", p.get("unembed.weight"));
        }
        return f;
    }

    /**
     * Per-head {@code [heads, 3, d_head, …]} rows to {@code [3, heads, d_head, …]} (q of all heads, then k, then v), or back.
     * Works for the weight {@code [3d, d]} and the bias {@code [3d]}.
     */
    static NDArray regroup(NDArray a, ModelConfig c, boolean toStacked) {
        long h = c.numHeads(), dh = c.dHead();
        boolean bias = a.getShape().dimension() == 1;
        long[] from = bias ? (toStacked ? new long[]{h, 3, dh} : new long[]{3, h, dh})
                : (toStacked ? new long[]{h, 3, dh, c.dModel()} : new long[]{3, h, dh, c.dModel()});
        NDArray r = a.reshape(from);
        r = bias ? r.transpose(1, 0, 2) : r.transpose(1, 0, 2, 3);
        return r.reshape(a.getShape()).duplicate();
    }

    @Override
    public JsonObject toJson(ModelConfig c) {
        TransformerParts p = c.parts();
        JsonObject o = Family.configHeader(c, "gpt_neox");
        o.addProperty("hidden_size", c.dModel());
        o.addProperty("intermediate_size", c.dMlp());
        o.addProperty("num_hidden_layers", c.numLayers());
        o.addProperty("num_attention_heads", c.numHeads());
        o.addProperty("vocab_size", c.vocabSize());
        o.addProperty("layer_norm_eps", p.normEps());
        o.addProperty("hidden_act", p.act().hfName());
        o.addProperty("rotary_pct", (double) p.rotaryDims() / c.dHead());
        o.addProperty("rotary_emb_base", p.rotaryBase());
        o.addProperty("use_parallel_residual", p.parallelResidual());
        o.addProperty("attention_bias", p.qkvBias());
        o.addProperty("tie_word_embeddings", c.tieWordEmbeddings());
        o.addProperty("max_position_embeddings", 2048);
        o.addProperty("bos_token_id", c.bosTokenId());
        o.addProperty("eos_token_id", c.eosTokenId());
        return o;
    }
}
