package io.loupe.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import io.loupe.tensor.SafetensorsWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/**
 * Writes a model as a Hugging Face directory that every Loupe command (and transformers) loads as it is:
 * {@code config.json} (the source config with its activation field, {@code torch_dtype} float32 and
 * {@code tokens_seen} set), {@code model.safetensors} under the file's tensor names, and the tokenizer files.
 * The directory is assembled under a temporary name and renamed into place, so it exists only when complete.
 */
public final class ModelCheckpoint {
    /** The tokenizer files copied from the source directory when present. */
    private static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
            "tokenizer.model", "generation_config.json");

    private ModelCheckpoint() {
    }

    /**
     * @param sourceConfig the config.json the model was built from (kept field for field, so nothing the loader does not
     *                     know is lost)
     * @param tokenizerDir where the tokenizer files are, or null for none
     * @param tokensSeen   training tokens behind these weights (-1: leave the field out)
     */
    public static void write(LanguageModel model, JsonObject sourceConfig, Path tokenizerDir, long tokensSeen, Path dir) throws IOException {
        Path parent = dir.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempDirectory(parent, "." + dir.getFileName() + ".partial-");
        try {
            SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
            try (NDManager m = model.manager().newSubManager()) {
                for (Map.Entry<String, NDArray> e : model.huggingFaceWeights(m).entrySet()) {
                    w.put(e.getKey(), e.getValue());
                }
            }
            w.write(tmp.resolve("model.safetensors"));
            JsonObject cfg = sourceConfig.deepCopy();
            ModelRegistry.family(model.config().architecture()).setActivation(cfg, model.config().hiddenAct());
            cfg.addProperty("torch_dtype", "float32");
            if (tokensSeen >= 0) {
                cfg.addProperty("tokens_seen", tokensSeen);
            }
            Files.writeString(tmp.resolve("config.json"), new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(cfg) + "\n");
            if (tokenizerDir != null) {
                for (String f : TOKENIZER_FILES) {
                    if (Files.isRegularFile(tokenizerDir.resolve(f))) {
                        Files.copy(tokenizerDir.resolve(f), tmp.resolve(f));
                    }
                }
            }
            io.loupe.io.LocalDirs.deleteRecursively(dir);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            io.loupe.io.LocalDirs.deleteRecursively(tmp);
            throw e;
        }
    }
}
