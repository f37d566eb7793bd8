package io.loupe.model;

import ai.djl.ndarray.NDArray;
import com.google.gson.JsonObject;

import java.util.Map;
import java.util.Set;

/**
 * One Hugging Face model family: how its {@code config.json} reads into a {@link ModelConfig} (the parts of the one
 * {@link Transformer}), which tensors its files hold, and how they map to and from the transformer's parameters
 * ({@link Transformer#parameterShapes}). Everything family-specific lives in its implementation; nothing else in
 * Loupe knows which family a model is.
 */
public interface Family {
    /** Reads the config; a field that changes the maths and is not implemented is refused by name. */
    ModelConfig parse(JsonObject config, String architecture);

    /** The file tensors the model needs, by name and shape; {@code present} (the names in the files) picks between layouts. */
    Map<String, long[]> expectedTensors(ModelConfig c, Set<String> present);

    /** The transformer's parameters from the file tensors named as {@link #expectedTensors} names them. */
    Map<String, NDArray> toParameters(ModelConfig c, Map<String, NDArray> file);

    /** The file tensors, in the family's canonical layout, from the transformer's parameters. */
    Map<String, NDArray> toFile(ModelConfig c, Map<String, NDArray> parameters);

    /** A config.json for the config (models Loupe creates). */
    JsonObject toJson(ModelConfig c);

    /** Records the MLP activation in a config.json, in the family's own field(s) (a ReLU-fied checkpoint must say relu). */
    default void setActivation(JsonObject config, MlpActivation act) {
        config.addProperty("hidden_act", act.hfName());
    }

    /** The start of every config.json Loupe writes: {@code architectures} (the one class) and {@code model_type}. */
    static JsonObject configHeader(ModelConfig c, String modelType) {
        JsonObject o = new JsonObject();
        com.google.gson.JsonArray archs = new com.google.gson.JsonArray();
        archs.add(c.architecture());
        o.add("architectures", archs);
        o.addProperty("model_type", modelType);
        return o;
    }
}
