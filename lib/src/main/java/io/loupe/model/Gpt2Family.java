package io.loupe.model;

import ai.djl.ndarray.NDArray;
import com.google.gson.JsonObject;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code GPT2LMHeadModel}: LayerNorm with bias, learned positions ({@code wpe}), a plain MLP with
 * {@code activation_function} (gelu_new), biases everywhere, scores scaled by 1/sqrt(d_head) ({@code scale_attn_weights})
 * and by 1/(layer + 1) with {@code scale_attn_by_inverse_layer_idx}, the head tied to {@code wte} unless
 * {@code tie_word_embeddings} is false. The files store Conv1D weights as {@code [in, out]} (transposed here).
 * Both layouts load: {@code transformer.h.{l}.…} and the hub's older one without the prefix, whose
 * {@code h.{l}.attn.bias} / {@code masked_bias} causal-mask buffers are ignored (they are not weights).
 */
final class Gpt2Family implements Family {
    private static final String PREFIX = "transformer.";

    @Override
    public ModelConfig parse(JsonObject c, String arch) {
        int d = ConfigJson.integer(c, "n_embd"), heads = ConfigJson.integer(c, "n_head");
        int inner = c.has("n_inner") && !c.get("n_inner").isJsonNull() ? c.get("n_inner").getAsInt() : 4 * d;
        double scale = ConfigJson.bool(c, "scale_attn_weights", true) ? 1 / Math.sqrt(d / (double) heads) : 1.0;
        TransformerParts parts = new TransformerParts(NormKind.LAYER_NORM, ConfigJson.number(c, "layer_norm_epsilon", 1e-5), true, 0, 10000,
                ConfigJson.integer(c, "n_positions"), false, ConfigJson.activation(c, "activation_function", "gelu_new"), true, true, true, false, false,
                scale, ConfigJson.bool(c, "scale_attn_by_inverse_layer_idx", false), 0, 0, 0, List.of(), 1f);
        return new ModelConfig(arch, d, inner, ConfigJson.integer(c, "n_layer"), heads, heads, d / heads, ConfigJson.integer(c, "vocab_size"),
                ConfigJson.bool(c, "tie_word_embeddings", true), ConfigJson.optionalId(c, "bos_token_id"), ConfigJson.optionalId(c, "eos_token_id"), parts);
    }

    @Override
    public Map<String, long[]> expectedTensors(ModelConfig c, Set<String> present) {
        String pre = present.contains("wte.weight") && !present.contains(PREFIX + "wte.weight") ? "" : PREFIX;
        Map<String, long[]> t = new LinkedHashMap<>();
        long d = c.dModel(), m = c.dMlp();
        t.put(pre + "wte.weight", new long[]{c.vocabSize(), d});
        t.put(pre + "wpe.weight", new long[]{c.parts().maxPositions(), d});
        for (int l = 0; l < c.numLayers(); l++) {
            String p = pre + "h." + l + ".";
            t.put(p + "ln_1.weight", new long[]{d});
            t.put(p + "ln_1.bias", new long[]{d});
            t.put(p + "attn.c_attn.weight", new long[]{d, 3 * d});
            t.put(p + "attn.c_attn.bias", new long[]{3 * d});
            t.put(p + "attn.c_proj.weight", new long[]{d, d});
            t.put(p + "attn.c_proj.bias", new long[]{d});
            t.put(p + "ln_2.weight", new long[]{d});
            t.put(p + "ln_2.bias", new long[]{d});
            t.put(p + "mlp.c_fc.weight", new long[]{d, m});
            t.put(p + "mlp.c_fc.bias", new long[]{m});
            t.put(p + "mlp.c_proj.weight", new long[]{m, d});
            t.put(p + "mlp.c_proj.bias", new long[]{d});
        }
        t.put(pre + "ln_f.weight", new long[]{d});
        t.put(pre + "ln_f.bias", new long[]{d});
        if (!c.tieWordEmbeddings()) {
            t.put("lm_head.weight", new long[]{c.vocabSize(), d});
        }
        return t;
    }

    @Override
    public Map<String, NDArray> toParameters(ModelConfig c, Map<String, NDArray> f) {
        String pre = f.containsKey(PREFIX + "wte.weight") ? PREFIX : "";
        Map<String, NDArray> p = new LinkedHashMap<>();
        p.put("embed.weight", f.get(pre + "wte.weight"));
        p.put("pos_embed.weight", f.get(pre + "wpe.weight"));
        for (int l = 0; l < c.numLayers(); l++) {
            String h = pre + "h." + l + ".", b = "blocks." + l + ".";
            p.put(b + "norm1.weight", f.get(h + "ln_1.weight"));
            p.put(b + "norm1.bias", f.get(h + "ln_1.bias"));
            p.put(b + "attn.qkv.weight", f.get(h + "attn.c_attn.weight").transpose().duplicate());   // Conv1D [in, out] -> [out, in]
            p.put(b + "attn.qkv.bias", f.get(h + "attn.c_attn.bias"));
            p.put(b + "attn.out.weight", f.get(h + "attn.c_proj.weight").transpose().duplicate());
            p.put(b + "attn.out.bias", f.get(h + "attn.c_proj.bias"));
            p.put(b + "norm2.weight", f.get(h + "ln_2.weight"));
            p.put(b + "norm2.bias", f.get(h + "ln_2.bias"));
            p.put(b + "mlp.in.weight", f.get(h + "mlp.c_fc.weight").transpose().duplicate());
            p.put(b + "mlp.in.bias", f.get(h + "mlp.c_fc.bias"));
            p.put(b + "mlp.out.weight", f.get(h + "mlp.c_proj.weight").transpose().duplicate());
            p.put(b + "mlp.out.bias", f.get(h + "mlp.c_proj.bias"));
        }
        p.put("final_norm.weight", f.get(pre + "ln_f.weight"));
        p.put("final_norm.bias", f.get(pre + "ln_f.bias"));
        if (!c.tieWordEmbeddings()) {
            p.put("unembed.weight", f.get("lm_head.weight"));
        }
        return p;
    }

    @Override
    public Map<String, NDArray> toFile(ModelConfig c, Map<String, NDArray> p) {
        Map<String, NDArray> f = new LinkedHashMap<>();
        f.put(PREFIX + "wte.weight", p.get("embed.weight"));
        f.put(PREFIX + "wpe.weight", p.get("pos_embed.weight"));
        for (int l = 0; l < c.numLayers(); l++) {
            String h = PREFIX + "h." + l + ".", b = "blocks." + l + ".";
            f.put(h + "ln_1.weight", p.get(b + "norm1.weight"));
            f.put(h + "ln_1.bias", p.get(b + "norm1.bias"));
            f.put(h + "attn.c_attn.weight", p.get(b + "attn.qkv.weight").transpose().duplicate());
            f.put(h + "attn.c_attn.bias", p.get(b + "attn.qkv.bias"));
            f.put(h + "attn.c_proj.weight", p.get(b + "attn.out.weight").transpose().duplicate());
            f.put(h + "attn.c_proj.bias", p.get(b + "attn.out.bias"));
            f.put(h + "ln_2.weight", p.get(b + "norm2.weight"));
            f.put(h + "ln_2.bias", p.get(b + "norm2.bias"));
            f.put(h + "mlp.c_fc.weight", p.get(b + "mlp.in.weight").transpose().duplicate());
            f.put(h + "mlp.c_fc.bias", p.get(b + "mlp.in.bias"));
            f.put(h + "mlp.c_proj.weight", p.get(b + "mlp.out.weight").transpose().duplicate());
            f.put(h + "mlp.c_proj.bias", p.get(b + "mlp.out.bias"));
        }
        f.put(PREFIX + "ln_f.weight", p.get("final_norm.weight"));
        f.put(PREFIX + "ln_f.bias", p.get("final_norm.bias"));
        if (!c.tieWordEmbeddings()) {
            f.put("lm_head.weight", p.get("unembed.weight"));
        }
        return f;
    }

    @Override
    public void setActivation(JsonObject config, MlpActivation act) {
        config.addProperty("activation_function", act == MlpActivation.GELU_TANH ? "gelu_new" : act.hfName());
    }

    @Override
    public JsonObject toJson(ModelConfig c) {
        TransformerParts p = c.parts();
        JsonObject o = Family.configHeader(c, "gpt2");
        o.addProperty("n_embd", c.dModel());
        o.addProperty("n_inner", c.dMlp());
        o.addProperty("n_layer", c.numLayers());
        o.addProperty("n_head", c.numHeads());
        o.addProperty("n_positions", p.maxPositions());
        o.addProperty("n_ctx", p.maxPositions());
        o.addProperty("vocab_size", c.vocabSize());
        o.addProperty("layer_norm_epsilon", p.normEps());
        o.addProperty("activation_function", p.act() == MlpActivation.GELU_TANH ? "gelu_new" : p.act().hfName());
        o.addProperty("scale_attn_weights", p.attnScale() != 1.0);
        o.addProperty("scale_attn_by_inverse_layer_idx", p.attnScaleByLayer());
        o.addProperty("tie_word_embeddings", c.tieWordEmbeddings());
        o.addProperty("bos_token_id", c.bosTokenId());
        o.addProperty("eos_token_id", c.eosTokenId());
        return o;
    }
}
