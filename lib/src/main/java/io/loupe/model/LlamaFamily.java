package io.loupe.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import com.google.gson.JsonObject;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * {@code LlamaForCausalLM} (Llama 2/3 without rope scaling, TinyLlama, llama2.c exports) and {@code Qwen2ForCausalLM}
 * (the same with q/k/v bias): RMSNorm, full rotate-half rotary, grouped-query attention, a gated MLP with
 * {@code hidden_act}, tied or untied embeddings. File tensors {@code model.layers.{l}.self_attn.{q,k,v,o}_proj},
 * {@code mlp.{gate,up,down}_proj}, {@code input_layernorm}, {@code post_attention_layernorm}.
 */
final class LlamaFamily implements Family {
    @Override
    public ModelConfig parse(JsonObject c, String arch) {
        ConfigJson.refuseRopeScaling(c);
        int d = ConfigJson.integer(c, "hidden_size"), heads = ConfigJson.integer(c, "num_attention_heads");
        int dHead = ConfigJson.integer(c, "head_dim", d / Math.max(heads, 1));
        boolean qwen2 = arch.startsWith("Qwen2");
        TransformerParts parts = TransformerParts.llama(dHead, ConfigJson.number(c, "rms_norm_eps", 1e-6), ConfigJson.ropeTheta(c, "rope_theta", 10000),
                ConfigJson.activation(c, "hidden_act", "silu"), qwen2 || ConfigJson.bool(c, "attention_bias", false),
                ConfigJson.bool(c, "mlp_bias", false));
        return new ModelConfig(arch, d, ConfigJson.integer(c, "intermediate_size"), ConfigJson.integer(c, "num_hidden_layers"), heads,
                ConfigJson.integer(c, "num_key_value_heads", heads), dHead, ConfigJson.integer(c, "vocab_size"),
                ConfigJson.bool(c, "tie_word_embeddings", false), ConfigJson.optionalId(c, "bos_token_id"), ConfigJson.optionalId(c, "eos_token_id"),
                parts);
    }

    @Override
    public Map<String, long[]> expectedTensors(ModelConfig c, Set<String> present) {
        Map<String, long[]> t = new LinkedHashMap<>();
        long d = c.dModel(), q = (long) c.numHeads() * c.dHead(), kv = (long) c.numKvHeads() * c.dHead();
        boolean qkvBias = c.parts().qkvBias(), mlpBias = c.parts().mlpBias();
        t.put("model.embed_tokens.weight", new long[]{c.vocabSize(), d});
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            t.put(p + "input_layernorm.weight", new long[]{d});
            for (String[] w : new String[][]{{"q", "" + q}, {"k", "" + kv}, {"v", "" + kv}}) {
                t.put(p + "self_attn." + w[0] + "_proj.weight", new long[]{Long.parseLong(w[1]), d});
                if (qkvBias) {
                    t.put(p + "self_attn." + w[0] + "_proj.bias", new long[]{Long.parseLong(w[1])});
                }
            }
            t.put(p + "self_attn.o_proj.weight", new long[]{d, q});
            t.put(p + "post_attention_layernorm.weight", new long[]{d});
            t.put(p + "mlp.gate_proj.weight", new long[]{c.dMlp(), d});
            t.put(p + "mlp.up_proj.weight", new long[]{c.dMlp(), d});
            t.put(p + "mlp.down_proj.weight", new long[]{d, c.dMlp()});
            if (mlpBias) {
                t.put(p + "mlp.gate_proj.bias", new long[]{c.dMlp()});
                t.put(p + "mlp.up_proj.bias", new long[]{c.dMlp()});
                t.put(p + "mlp.down_proj.bias", new long[]{d});
            }
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
            p.put(b + "attn.qkv.weight", concat(f, h + "self_attn.q_proj.weight", h + "self_attn.k_proj.weight", h + "self_attn.v_proj.weight"));
            if (c.parts().qkvBias()) {
                p.put(b + "attn.qkv.bias", concat(f, h + "self_attn.q_proj.bias", h + "self_attn.k_proj.bias", h + "self_attn.v_proj.bias"));
            }
            p.put(b + "attn.out.weight", f.get(h + "self_attn.o_proj.weight"));
            p.put(b + "norm2.weight", f.get(h + "post_attention_layernorm.weight"));
            p.put(b + "mlp.in.weight", concat(f, h + "mlp.gate_proj.weight", h + "mlp.up_proj.weight"));
            if (c.parts().mlpBias()) {
                p.put(b + "mlp.in.bias", concat(f, h + "mlp.gate_proj.bias", h + "mlp.up_proj.bias"));
            }
            p.put(b + "mlp.out.weight", f.get(h + "mlp.down_proj.weight"));
            if (c.parts().mlpBias()) {
                p.put(b + "mlp.out.bias", f.get(h + "mlp.down_proj.bias"));
            }
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
            split(f, p.get(b + "attn.qkv.weight"), new long[]{q, q + kv}, h + "self_attn.q_proj.weight", h + "self_attn.k_proj.weight",
                    h + "self_attn.v_proj.weight");
            if (c.parts().qkvBias()) {
                split(f, p.get(b + "attn.qkv.bias"), new long[]{q, q + kv}, h + "self_attn.q_proj.bias", h + "self_attn.k_proj.bias",
                        h + "self_attn.v_proj.bias");
            }
            f.put(h + "self_attn.o_proj.weight", p.get(b + "attn.out.weight"));
            f.put(h + "post_attention_layernorm.weight", p.get(b + "norm2.weight"));
            split(f, p.get(b + "mlp.in.weight"), new long[]{c.dMlp()}, h + "mlp.gate_proj.weight", h + "mlp.up_proj.weight");
            if (c.parts().mlpBias()) {
                split(f, p.get(b + "mlp.in.bias"), new long[]{c.dMlp()}, h + "mlp.gate_proj.bias", h + "mlp.up_proj.bias");
                f.put(h + "mlp.down_proj.bias", p.get(b + "mlp.out.bias"));
            }
            f.put(h + "mlp.down_proj.weight", p.get(b + "mlp.out.weight"));
        }
        f.put("model.norm.weight", p.get("final_norm.weight"));
        if (!c.tieWordEmbeddings()) {
            f.put("lm_head.weight", p.get("unembed.weight"));
        }
        return f;
    }

    @Override
    public JsonObject toJson(ModelConfig c) {
        JsonObject o = Family.configHeader(c, c.architecture().startsWith("Qwen2") ? "qwen2" : "llama");
        o.addProperty("hidden_size", c.dModel());
        o.addProperty("intermediate_size", c.dMlp());
        o.addProperty("num_hidden_layers", c.numLayers());
        o.addProperty("num_attention_heads", c.numHeads());
        o.addProperty("num_key_value_heads", c.numKvHeads());
        o.addProperty("head_dim", c.dHead());
        o.addProperty("vocab_size", c.vocabSize());
        o.addProperty("max_position_embeddings", 2048);
        o.addProperty("rms_norm_eps", c.parts().normEps());
        o.addProperty("rope_theta", c.parts().rotaryBase());
        o.addProperty("hidden_act", c.hiddenAct().hfName());
        o.addProperty("tie_word_embeddings", c.tieWordEmbeddings());
        o.addProperty("attention_bias", c.parts().qkvBias());
        o.addProperty("mlp_bias", c.parts().mlpBias());
        o.addProperty("bos_token_id", c.bosTokenId());
        o.addProperty("eos_token_id", c.eosTokenId());
        return o;
    }

    /** Stacks tensors along the output axis (the first). */
    static NDArray concat(Map<String, NDArray> f, String... names) {
        NDList parts = new NDList();
        for (String n : names) {
            parts.add(f.get(n));
        }
        return NDArrays.concat(parts, 0);
    }

    /** Splits a stacked tensor along the first axis at {@code at} into the named parts. */
    static void split(Map<String, NDArray> f, NDArray stacked, long[] at, String... names) {
        NDList parts = stacked.split(at, 0);
        for (int i = 0; i < names.length; i++) {
            f.put(names[i], parts.get(i));
        }
    }
}
