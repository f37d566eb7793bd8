package io.loupe.model;

import ai.djl.ndarray.NDArray;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code Gemma2ForCausalLM}: RMSNorm scaling by {@code (1 + w)}, embeddings times sqrt(hidden_size) rounded to float32,
 * {@code head_dim} from the config, grouped-query attention scaled by {@code query_pre_attn_scalar^-0.5}, tanh
 * soft-capping of attention scores ({@code attn_logit_softcapping}) and logits ({@code final_logit_softcapping}), a
 * sliding window on the layers {@code layer_types} marks (default: 0, 2, 4, …), a gated tanh-GELU MLP, and norms
 * after attention ({@code post_attention_layernorm}) and around the MLP ({@code pre_/post_feedforward_layernorm}):
 * {@code hook_attn_out} and {@code hook_mlp_out} are what enters the residual stream, after those norms.
 */
final class Gemma2Family implements Family {
    @Override
    public ModelConfig parse(JsonObject c, String arch) {
        ConfigJson.refuseRopeScaling(c);
        int d = ConfigJson.integer(c, "hidden_size"), heads = ConfigJson.integer(c, "num_attention_heads"), layers = ConfigJson.integer(c, "num_hidden_layers");
        int dHead = ConfigJson.integer(c, "head_dim", d / Math.max(heads, 1));
        String act = c.has("hidden_activation") && !c.get("hidden_activation").isJsonNull() ? c.get("hidden_activation").getAsString()
                : ConfigJson.str(c, "hidden_act", "gelu_pytorch_tanh");
        int window = (int) ConfigJson.numberOrNone(c, "sliding_window", 4096);
        List<Integer> sliding = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            String type = c.has("layer_types") && c.get("layer_types").isJsonArray() ? c.getAsJsonArray("layer_types").get(l).getAsString()
                    : (l + 1) % 2 == 1 ? "sliding_attention" : "full_attention";
            if (type.equals("sliding_attention")) {
                sliding.add(l);
            } else if (!type.equals("full_attention")) {
                throw new IllegalArgumentException("layer_types[" + l + "] = '" + type + "' is not supported (sliding_attention or full_attention)");
            }
        }
        boolean bias = ConfigJson.bool(c, "attention_bias", false);
        TransformerParts parts = new TransformerParts(NormKind.RMS_ONE_PLUS, ConfigJson.number(c, "rms_norm_eps", 1e-6), false, dHead,
                ConfigJson.ropeTheta(c, "rope_theta", 10000), 0, true, MlpActivation.parse(act), bias, bias, false, false, true,
                1 / Math.sqrt(ConfigJson.number(c, "query_pre_attn_scalar", 256)), false, ConfigJson.numberOrNone(c, "attn_logit_softcapping", 50),
                ConfigJson.numberOrNone(c, "final_logit_softcapping", 30), window, sliding, (float) Math.sqrt(d));
        return new ModelConfig(arch, d, ConfigJson.integer(c, "intermediate_size"), layers, heads, ConfigJson.integer(c, "num_key_value_heads", heads),
                dHead, ConfigJson.integer(c, "vocab_size"), ConfigJson.bool(c, "tie_word_embeddings", true), ConfigJson.optionalId(c, "bos_token_id"),
                ConfigJson.optionalId(c, "eos_token_id"), parts);
    }

    @Override
    public Map<String, long[]> expectedTensors(ModelConfig c, Set<String> present) {
        Map<String, long[]> t = new LinkedHashMap<>();
        long d = c.dModel(), q = (long) c.numHeads() * c.dHead(), kv = (long) c.numKvHeads() * c.dHead();
        t.put("model.embed_tokens.weight", new long[]{c.vocabSize(), d});
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            t.put(p + "input_layernorm.weight", new long[]{d});
            t.put(p + "self_attn.q_proj.weight", new long[]{q, d});
            t.put(p + "self_attn.k_proj.weight", new long[]{kv, d});
            t.put(p + "self_attn.v_proj.weight", new long[]{kv, d});
            t.put(p + "self_attn.o_proj.weight", new long[]{d, q});
            if (c.parts().qkvBias()) {
                t.put(p + "self_attn.q_proj.bias", new long[]{q});
                t.put(p + "self_attn.k_proj.bias", new long[]{kv});
                t.put(p + "self_attn.v_proj.bias", new long[]{kv});
                t.put(p + "self_attn.o_proj.bias", new long[]{d});
            }
            t.put(p + "post_attention_layernorm.weight", new long[]{d});
            t.put(p + "pre_feedforward_layernorm.weight", new long[]{d});
            t.put(p + "mlp.gate_proj.weight", new long[]{c.dMlp(), d});
            t.put(p + "mlp.up_proj.weight", new long[]{c.dMlp(), d});
            t.put(p + "mlp.down_proj.weight", new long[]{d, c.dMlp()});
            t.put(p + "post_feedforward_layernorm.weight", new long[]{d});
        }
        t.put("model.norm.weight", new long[]{d});
        if (!c.tieWordEmbeddings()) {
            t.put("lm_head.weight", new long[]{c.vocabSize(), d});
        }
        return t;
    }

    @Override
    public Map<String, NDArray> toParameters(ModelConfig c, Map<String, NDArray> f) {
        Map<String, NDArray> p = new LinkedHashMap<>();
        p.put("embed.weight", f.get("model.embed_tokens.weight"));
        for (int l = 0; l < c.numLayers(); l++) {
            String h = "model.layers." + l + ".", b = "blocks." + l + ".";
            p.put(b + "norm1.weight", f.get(h + "input_layernorm.weight"));
            p.put(b + "attn.qkv.weight", LlamaFamily.concat(f, h + "self_attn.q_proj.weight", h + "self_attn.k_proj.weight", h + "self_attn.v_proj.weight"));
            if (c.parts().qkvBias()) {
                p.put(b + "attn.qkv.bias", LlamaFamily.concat(f, h + "self_attn.q_proj.bias", h + "self_attn.k_proj.bias", h + "self_attn.v_proj.bias"));
                p.put(b + "attn.out.bias", f.get(h + "self_attn.o_proj.bias"));
            }
            p.put(b + "attn.out.weight", f.get(h + "self_attn.o_proj.weight"));
            p.put(b + "attn.post_norm.weight", f.get(h + "post_attention_layernorm.weight"));
            p.put(b + "norm2.weight", f.get(h + "pre_feedforward_layernorm.weight"));
            p.put(b + "mlp.in.weight", LlamaFamily.concat(f, h + "mlp.gate_proj.weight", h + "mlp.up_proj.weight"));
            p.put(b + "mlp.out.weight", f.get(h + "mlp.down_proj.weight"));
            p.put(b + "mlp.post_norm.weight", f.get(h + "post_feedforward_layernorm.weight"));
        }
        p.put("final_norm.weight", f.get("model.norm.weight"));
        if (!c.tieWordEmbeddings()) {
            p.put("unembed.weight", f.get("lm_head.weight"));
        }
        return p;
    }

    @Override
    public Map<String, NDArray> toFile(ModelConfig c, Map<String, NDArray> p) {
        Map<String, NDArray> f = new LinkedHashMap<>();
        long q = (long) c.numHeads() * c.dHead(), kv = (long) c.numKvHeads() * c.dHead();
        f.put("model.embed_tokens.weight", p.get("embed.weight"));
        for (int l = 0; l < c.numLayers(); l++) {
            String h = "model.layers." + l + ".", b = "blocks." + l + ".";
            f.put(h + "input_layernorm.weight", p.get(b + "norm1.weight"));
            LlamaFamily.split(f, p.get(b + "attn.qkv.weight"), new long[]{q, q + kv}, h + "self_attn.q_proj.weight", h + "self_attn.k_proj.weight",
                    h + "self_attn.v_proj.weight");
            if (c.parts().qkvBias()) {
                LlamaFamily.split(f, p.get(b + "attn.qkv.bias"), new long[]{q, q + kv}, h + "self_attn.q_proj.bias", h + "self_attn.k_proj.bias",
                        h + "self_attn.v_proj.bias");
                f.put(h + "self_attn.o_proj.bias", p.get(b + "attn.out.bias"));
            }
            f.put(h + "self_attn.o_proj.weight", p.get(b + "attn.out.weight"));
            f.put(h + "post_attention_layernorm.weight", p.get(b + "attn.post_norm.weight"));
            f.put(h + "pre_feedforward_layernorm.weight", p.get(b + "norm2.weight"));
            LlamaFamily.split(f, p.get(b + "mlp.in.weight"), new long[]{c.dMlp()}, h + "mlp.gate_proj.weight", h + "mlp.up_proj.weight");
            f.put(h + "mlp.down_proj.weight", p.get(b + "mlp.out.weight"));
            f.put(h + "post_feedforward_layernorm.weight", p.get(b + "mlp.post_norm.weight"));
        }
        f.put("model.norm.weight", p.get("final_norm.weight"));
        if (!c.tieWordEmbeddings()) {
            f.put("lm_head.weight", p.get("unembed.weight"));
        }
        return f;
    }

    @Override
    public void setActivation(JsonObject config, MlpActivation act) {
        config.addProperty("hidden_activation", act.hfName());
        config.addProperty("hidden_act", act.hfName());
    }

    @Override
    public JsonObject toJson(ModelConfig c) {
        TransformerParts p = c.parts();
        JsonObject o = Family.configHeader(c, "gemma2");
        o.addProperty("hidden_size", c.dModel());
        o.addProperty("intermediate_size", c.dMlp());
        o.addProperty("num_hidden_layers", c.numLayers());
        o.addProperty("num_attention_heads", c.numHeads());
        o.addProperty("num_key_value_heads", c.numKvHeads());
        o.addProperty("head_dim", c.dHead());
        o.addProperty("vocab_size", c.vocabSize());
        o.addProperty("rms_norm_eps", p.normEps());
        o.addProperty("rope_theta", p.rotaryBase());
        o.addProperty("hidden_activation", p.act().hfName());
        o.addProperty("hidden_act", p.act().hfName());
        o.addProperty("query_pre_attn_scalar", Math.round(Math.pow(p.attnScale(), -2)));
        o.addProperty("attn_logit_softcapping", p.attnSoftcap());
        o.addProperty("final_logit_softcapping", p.finalSoftcap());
        o.addProperty("sliding_window", p.slidingWindow());
        JsonArray types = new JsonArray();
        for (int l = 0; l < c.numLayers(); l++) {
            types.add(p.sliding(l) ? "sliding_attention" : "full_attention");
        }
        o.add("layer_types", types);
        o.addProperty("attention_bias", p.qkvBias());
        o.addProperty("tie_word_embeddings", c.tieWordEmbeddings());
        o.addProperty("bos_token_id", c.bosTokenId());
        o.addProperty("eos_token_id", c.eosTokenId());
        return o;
    }
}
