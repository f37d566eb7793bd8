package io.loupe.dict;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.loupe.tensor.SafetensorsFile;
import io.loupe.tensor.SafetensorsWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Everything a training run needs to continue exactly where it stopped, in one safetensors file
 * ({@code training_state.safetensors}): the parameters, Adam's two moments, the steps since each latent
 * last fired, the BatchTopK threshold, the step, and the config it belongs to (a state saved under
 * another config is not resumed). Data order is not stored: sources are seeded and skip ahead.
 */
public final class TrainingState {
    public static final String FILE = "training_state.safetensors";

    private TrainingState() {
    }

    /** What {@link SaeTrainer} saves and restores. Arrays are in the trainer's managers and are copied on save and load. */
    record Snapshot(int step, List<NDArray> params, List<NDArray> m1, List<NDArray> m2, NDArray sinceFired, double batchThreshold) {
    }

    static void save(Path dir, SaeConfig cfg, Snapshot s) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter().metadata("step", String.valueOf(s.step()))
                .metadata("batch_threshold", Double.toString(s.batchThreshold())).metadata("config", cfg.toString());
        for (int i = 0; i < s.params().size(); i++) {
            try (NDArray value = s.params().get(i).stopGradient()) {   // a detached view; the writer copies it out
                w.put("param." + i, value);
            }
            w.put("adam_m." + i, s.m1().get(i)).put("adam_v." + i, s.m2().get(i));
        }
        w.put("since_fired", s.sinceFired().toType(DataType.FLOAT64, false));
        Files.createDirectories(dir);
        Path tmp = dir.resolve(FILE + ".tmp");
        w.write(tmp);
        Files.move(tmp, dir.resolve(FILE), java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** True when {@code dir} holds a state saved under {@code cfg}. */
    static boolean exists(Path dir, SaeConfig cfg) throws IOException {
        Path f = dir.resolve(FILE);
        return Files.isRegularFile(f) && cfg.toString().equals(SafetensorsFile.open(f).metadata().get("config"));
    }

    /** Copies the saved values into the trainer's arrays (same shapes) and returns the step to continue from. */
    static Snapshot restore(Path dir, Snapshot into, NDManager m) throws IOException {
        SafetensorsFile f = SafetensorsFile.open(dir.resolve(FILE));
        for (int i = 0; i < into.params().size(); i++) {
            copy(f, m, "param." + i, into.params().get(i).stopGradient());
            copy(f, m, "adam_m." + i, into.m1().get(i));
            copy(f, m, "adam_v." + i, into.m2().get(i));
        }
        NDArray fired = f.load(m, "since_fired", DataType.FLOAT64).toType(DataType.INT64, false);
        into.sinceFired().muli(0).addi(fired);
        return new Snapshot(Integer.parseInt(f.metadata().get("step")), into.params(), into.m1(), into.m2(), into.sinceFired(),
                Double.parseDouble(f.metadata().get("batch_threshold")));
    }

    private static void copy(SafetensorsFile f, NDManager m, String name, NDArray target) throws IOException {
        NDArray v = f.load(m, name, target.getDataType());
        if (!v.getShape().equals(target.getShape())) {
            throw new IllegalStateException(name + " in the training state is " + v.getShape() + ", expected " + target.getShape());
        }
        target.muli(0).addi(v);
    }
}
