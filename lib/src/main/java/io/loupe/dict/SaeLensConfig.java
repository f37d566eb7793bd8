package io.loupe.dict;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A dictionary's {@code cfg.json} in SAELens 6's schema (sae_lens/saes/sae.py, {@code SAEConfig.to_dict}), which
 * {@code SAE.load_from_disk} reads:
 * <ul>
 *   <li>top level: {@code architecture} (the inference class, {@link Architecture#savedAs}), {@code d_in}, {@code d_sae},
 *   {@code d_out} (transcoders), {@code dtype}, {@code device}, {@code apply_b_dec_to_input} (false for transcoders),
 *   {@code normalize_activations} ("none": Loupe folds its scaling into the weights, as SAELens does before saving),
 *   {@code reshape_activations}; {@code k} and {@code rescale_acts_by_decoder_norm} for TopK;</li>
 *   <li>{@code metadata}: {@code sae_lens_version} (the schema version, 6.0.0: SAELens treats a config without one
 *   as pre-6 and rebuilds its metadata), {@code model_name}, {@code hook_name}, {@code hook_name_out},
 *   {@code context_size}, {@code prepend_bos}, {@code dataset_path}, {@code training_architecture};</li>
 *   <li>Loupe's own fields ({@code loupe_config}, …), which SAELens drops as unknown keys.</li>
 * </ul>
 * SAELens has no class for TopK or Gated transcoders: those checkpoints say {@code topk_transcoder} and
 * {@code gated_transcoder}, which only Loupe reads.
 */
public final class SaeLensConfig {
    /** The SAELens schema version written into metadata. */
    public static final String SCHEMA_VERSION = "6.0.0";

    private SaeLensConfig() {
    }

    /** The JSON text for a dictionary of config {@code cfg}. */
    public static String write(SaeConfig cfg, Map<String, Object> metadata, Map<String, Object> loupe) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architecture", cfg.architecture().savedAs(cfg.transcoder()));
        c.put("d_in", cfg.dIn());
        c.put("d_sae", cfg.dSae());
        if (cfg.transcoder()) {
            c.put("d_out", cfg.dOut());
        }
        c.put("dtype", "float32");
        c.put("device", "cpu");
        c.put("apply_b_dec_to_input", !cfg.transcoder());
        c.put("normalize_activations", "none");
        c.put("reshape_activations", "none");
        if (cfg.architecture() == Architecture.TOPK) {
            c.put("k", cfg.k());
            c.put("rescale_acts_by_decoder_norm", false);
        }
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("sae_lens_version", SCHEMA_VERSION);
        meta.put("sae_lens_training_version", SCHEMA_VERSION);
        meta.put("training_architecture", cfg.architecture().saeLensName());
        meta.putAll(metadata);
        c.put("metadata", meta);
        c.put("loupe_config", cfg);
        c.putAll(loupe);
        return new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create().toJson(c) + "\n";
    }

    /** Parses cfg.json text. */
    public static JsonObject parse(String json) {
        return JsonParser.parseString(json).getAsJsonObject();
    }

    /** The hook the dictionary reads: {@code metadata.hook_name}, or the top-level field of checkpoints written before SAELens 6. */
    public static String hookName(JsonObject cfg) {
        JsonElement e = metadataField(cfg, "hook_name");
        if (e == null) {
            throw new IllegalArgumentException("cfg.json names no hook (metadata.hook_name)");
        }
        return e.getAsString();
    }

    /** The hook a transcoder writes, or null for an autoencoder. */
    public static String hookNameOut(JsonObject cfg) {
        JsonElement e = metadataField(cfg, "hook_name_out");
        return e == null ? null : e.getAsString();
    }

    /** The training config Loupe saved beside SAELens' fields. */
    public static SaeConfig loupeConfig(JsonObject cfg) {
        if (!cfg.has("loupe_config")) {
            throw new IllegalArgumentException("cfg.json has no loupe_config: not a dictionary Loupe trained");
        }
        return new Gson().fromJson(cfg.get("loupe_config"), SaeConfig.class);
    }

    private static JsonElement metadataField(JsonObject cfg, String name) {
        if (cfg.has("metadata") && cfg.getAsJsonObject("metadata").has(name) && !cfg.getAsJsonObject("metadata").get(name).isJsonNull()) {
            return cfg.getAsJsonObject("metadata").get(name);
        }
        return cfg.has(name) && !cfg.get(name).isJsonNull() ? cfg.get(name) : null;
    }
}
