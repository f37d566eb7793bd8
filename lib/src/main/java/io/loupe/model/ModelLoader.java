package io.loupe.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.loupe.tensor.InvalidTensorFileException;
import io.loupe.tensor.SafetensorsFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Loads a Hugging Face model directory: {@code config.json} and {@code model.safetensors} or a sharded
 * {@code model.safetensors.index.json}. Every file, tensor name and shape is checked before the model
 * is built. Pickled checkpoints ({@code *.bin}, {@code *.pt}) are refused: unpickling runs code.
 */
public final class ModelLoader {
    private static final String SINGLE = "model.safetensors";
    private static final String INDEX = "model.safetensors.index.json";

    private ModelLoader() {
    }

    /** Loads in float32 on {@code device}. */
    public static LanguageModel load(Path dir, Device device) throws IOException {
        return load(dir, device, DataType.FLOAT32);
    }

    /** Loads with weights converted to {@code dtype} (FLOAT32, or FLOAT64 for exact gradient checks). */
    public static LanguageModel load(Path dir, Device device, DataType dtype) throws IOException {
        return load(dir, device, dtype, c -> c);
    }

    /**
     * Loads with the config changed by {@code edit} before the model is built, e.g. another MLP activation
     * (ReLU-fication keeps every weight and swaps the function).
     */
    public static LanguageModel load(Path dir, Device device, DataType dtype, java.util.function.UnaryOperator<ModelConfig> edit)
            throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new InvalidTensorFileException(dir + ": model directory does not exist");
        }
        ModelConfig config = edit.apply(ModelConfig.read(dir.resolve("config.json")));
        Family family = ModelRegistry.family(config.architecture());
        Map<String, SafetensorsFile> byTensor = weightFiles(dir);
        Map<String, long[]> expected = family.expectedTensors(config, byTensor.keySet());
        checkNamesAndShapes(dir, expected, byTensor);

        NDManager manager = Runtime.newManager(device);
        try {
            Map<String, NDArray> weights = new HashMap<>();
            for (String name : expected.keySet()) {
                weights.put(name, byTensor.get(name).load(manager, name, dtype));
            }
            Map<String, NDArray> params = family.toParameters(config, weights);
            java.util.Set<NDArray> kept = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            kept.addAll(params.values());
            weights.values().stream().filter(w -> !kept.contains(w)).forEach(NDArray::close);   // stacked or regrouped: the parts go
            return new Transformer(config, params, manager);
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * Runs every check {@link #load} runs (files, architecture, tensor names and shapes) without reading
     * any weights, so a driver can validate a model it will not run.
     */
    public static ModelConfig inspect(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new InvalidTensorFileException(dir + ": model directory does not exist");
        }
        ModelConfig config = ModelConfig.read(dir.resolve("config.json"));
        Map<String, SafetensorsFile> files = weightFiles(dir);
        checkNamesAndShapes(dir, ModelRegistry.family(config.architecture()).expectedTensors(config, files.keySet()), files);
        return config;
    }

    /** Tensor name to the file that holds it. */
    static Map<String, SafetensorsFile> weightFiles(Path dir) throws IOException {
        Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
        if (Files.isRegularFile(dir.resolve(SINGLE))) {
            SafetensorsFile f = SafetensorsFile.open(dir.resolve(SINGLE));
            f.entries().keySet().forEach(n -> byTensor.put(n, f));
            return byTensor;
        }
        if (Files.isRegularFile(dir.resolve(INDEX))) {
            JsonObject map;
            try {
                map = JsonParser.parseString(Files.readString(dir.resolve(INDEX))).getAsJsonObject().getAsJsonObject("weight_map");
            } catch (RuntimeException e) {
                throw new InvalidTensorFileException(dir.resolve(INDEX) + ": not a valid index (" + e.getMessage() + ")");
            }
            Map<String, SafetensorsFile> shards = new HashMap<>();
            for (var e : map.entrySet()) {
                String shard = e.getValue().getAsString();
                if (shard.contains("/") || shard.contains("\\") || !shard.endsWith(".safetensors")) {
                    throw new InvalidTensorFileException(dir.resolve(INDEX) + ": shard '" + shard + "' must be a .safetensors file in "
                            + dir);
                }
                SafetensorsFile f = shards.get(shard);
                if (f == null) {
                    f = SafetensorsFile.open(dir.resolve(shard));
                    shards.put(shard, f);
                }
                if (!f.entries().containsKey(e.getKey())) {
                    throw new InvalidTensorFileException(f.path() + ": the index puts tensor '" + e.getKey() + "' here, but it is absent");
                }
                byTensor.put(e.getKey(), f);
            }
            return byTensor;
        }
        List<String> pickled = pickledFiles(dir);
        if (!pickled.isEmpty()) {
            throw new InvalidTensorFileException(dir + ": refusing pickled checkpoint " + pickled
                    + ": loading a pickle executes code from the file. Convert it to safetensors first, e.g. in Python: "
                    + "AutoModelForCausalLM.from_pretrained(dir).save_pretrained(out, safe_serialization=True)");
        }
        throw new InvalidTensorFileException(dir + ": no " + SINGLE + " or " + INDEX + " found");
    }

    private static List<String> pickledFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".bin") || n.endsWith(".pt") || n.endsWith(".pth") || n.endsWith(".ckpt"))
                    .sorted().toList();
        }
    }

    private static void checkNamesAndShapes(Path dir, Map<String, long[]> expected, Map<String, SafetensorsFile> byTensor) {
        List<String> missing = new ArrayList<>();
        for (var e : expected.entrySet()) {
            SafetensorsFile f = byTensor.get(e.getKey());
            if (f == null) {
                missing.add(e.getKey());
                continue;
            }
            long[] found = f.entry(e.getKey()).shape();
            if (!Arrays.equals(found, e.getValue())) {
                throw new InvalidTensorFileException(f.path() + ": tensor '" + e.getKey() + "' has shape " + new Shape(found)
                        + " but config.json implies " + new Shape(e.getValue()));
            }
        }
        if (!missing.isEmpty()) {
            throw new InvalidTensorFileException(dir + ": " + missing.size() + " tensor(s) the config needs are missing, e.g. "
                    + missing.subList(0, Math.min(5, missing.size())));
        }
    }
}
