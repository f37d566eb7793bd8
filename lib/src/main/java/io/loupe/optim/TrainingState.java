package io.loupe.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.loupe.tensor.SafetensorsFile;
import io.loupe.tensor.SafetensorsWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything a training run needs to continue exactly where it stopped, in one safetensors file
 * ({@code training_state.safetensors}, written atomically): named tensors (parameters, optimizer moments, any
 * trainer state), named scalars, the step, and a key naming the config it belongs to, so a state saved under
 * another config is never resumed. Data order is not stored: Loupe's data sources are pure functions of
 * (seed, step) and skip ahead.
 */
public final class TrainingState {
    public static final String FILE = "training_state.safetensors";

    private TrainingState() {
    }

    /** The step reached and the scalars saved with it. */
    public record Restored(int step, Map<String, String> scalars) {
    }

    /**
     * @param tensors arrays to save, in any manager; copied out (a parameter's detached view is enough)
     * @param scalars extra values (strings) to restore with the state
     */
    public static void save(Path dir, String configKey, int step, Map<String, NDArray> tensors, Map<String, String> scalars)
            throws IOException {
        SafetensorsWriter w = new SafetensorsWriter().metadata("step", String.valueOf(step)).metadata("config", configKey);
        scalars.forEach((k, v) -> w.metadata("scalar." + k, v));
        for (var e : tensors.entrySet()) {
            NDArray a = e.getValue();
            if (a.getDataType() == DataType.INT64) {
                try (NDArray asDouble = a.toType(DataType.FLOAT64, false)) {   // put copies to the host; the copy is freed
                    w.put(e.getKey(), asDouble);
                }
            } else {
                w.put(e.getKey(), a);
            }
        }
        Files.createDirectories(dir);
        Path tmp = dir.resolve(FILE + ".tmp");
        w.write(tmp);
        Files.move(tmp, dir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** True when {@code dir} holds a state saved under {@code configKey}. */
    public static boolean exists(Path dir, String configKey) throws IOException {
        Path f = dir.resolve(FILE);
        return Files.isRegularFile(f) && configKey.equals(SafetensorsFile.open(f).metadata().get("config"));
    }

    /**
     * Copies the saved values into {@code into} in place (same names and shapes; a parameter's detached view writes
     * through to it) and returns the step and scalars.
     */
    public static Restored restore(Path dir, Map<String, NDArray> into, NDManager m) throws IOException {
        SafetensorsFile f = SafetensorsFile.open(dir.resolve(FILE));
        for (var e : into.entrySet()) {
            NDArray target = e.getValue();
            if (!f.entries().containsKey(e.getKey())) {
                throw new IllegalStateException(dir.resolve(FILE) + " has no tensor " + e.getKey());
            }
            DataType stored = target.getDataType() == DataType.INT64 ? DataType.FLOAT64 : target.getDataType();
            NDArray v = f.load(m, e.getKey(), stored);
            if (!v.getShape().equals(target.getShape())) {
                throw new IllegalStateException(e.getKey() + " in the training state is " + v.getShape() + ", expected " + target.getShape());
            }
            target.muli(0).addi(v.toType(target.getDataType(), false));
        }
        Map<String, String> scalars = new LinkedHashMap<>();
        f.metadata().forEach((k, v) -> {
            if (k.startsWith("scalar.")) {
                scalars.put(k.substring("scalar.".length()), v);
            }
        });
        return new Restored(Integer.parseInt(f.metadata().get("step")), scalars);
    }
}
