package io.loupe.jobs.train;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.loupe.jobs.ModelFiles;
import io.loupe.model.LanguageModel;
import io.loupe.model.MlpActivation;
import io.loupe.model.ModelConfig;
import io.loupe.model.ModelInit;
import io.loupe.model.ModelLoader;
import io.loupe.model.ModelRegistry;
import io.loupe.model.Runtime;
import org.apache.hadoop.conf.Configuration;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a run's starting weights come from: a random init from a Hugging Face {@code config.json} (pre-training),
 * or an existing model directory (fine-tuning), at any Hadoop URI. Optionally with another MLP activation
 * (ReLU-fication keeps every weight and swaps the function).
 *
 * @param initConfig   the init config's JSON text, or null when fine-tuning
 * @param modelUri     the model directory to fine-tune, or null when pre-training
 * @param tokenizerUri the directory with tokenizer.json (the model's by default), or null for token-id corpora
 */
public record ModelSource(String initConfig, String modelUri, String tokenizerUri) implements java.io.Serializable {
    public ModelSource {
        if ((initConfig == null) == (modelUri == null)) {
            throw new IllegalArgumentException("give exactly one of --init CONFIG.json (pre-train) or --model DIR (fine-tune)");
        }
    }

    /** The config every run starts from (before any activation change); validated as the loader validates. */
    public ModelConfig config(Configuration conf) throws IOException {
        if (initConfig != null) {
            ModelConfig c = ModelConfig.fromJson(JsonParser.parseString(initConfig).getAsJsonObject(), Path.of("--init config"));
            ModelRegistry.family(c.architecture());
            return c;
        }
        return ModelLoader.inspect(ModelFiles.local(modelUri, conf));
    }

    /** The source config.json, field for field, that checkpoints extend. */
    public JsonObject configJson(Configuration conf) throws IOException {
        String text = initConfig != null ? initConfig : Files.readString(ModelFiles.local(modelUri, conf).resolve("config.json"));
        return JsonParser.parseString(text).getAsJsonObject();
    }

    /** The local tokenizer directory, or null. */
    public Path tokenizerDir(Configuration conf) throws IOException {
        return tokenizerUri == null ? null : ModelFiles.local(tokenizerUri, conf);
    }

    /** A fresh copy of the starting weights for one run, float32, on {@code device}. */
    public LanguageModel build(Configuration conf, long seed, MlpActivation act, Device device) throws IOException {
        if (initConfig != null) {
            ModelConfig c = config(conf);
            return ModelInit.build(act == null ? c : c.withHiddenAct(act), seed, Runtime.newManager(device));
        }
        return ModelLoader.load(ModelFiles.local(modelUri, conf), device, DataType.FLOAT32, c -> act == null ? c : c.withHiddenAct(act));
    }
}
