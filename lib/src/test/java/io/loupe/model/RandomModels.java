package io.loupe.model;

import io.loupe.tensor.TensorDtype;

import java.io.IOException;
import java.nio.file.Path;

/** Small generated models for tests that must run without ../shared. */
final class RandomModels {
    private RandomModels() {
    }

    /** 2 layers, d=64, 4 heads over 2 kv heads, d_mlp=128, vocab 320, untied head. */
    static Path write(Path dir, long seed) throws IOException {
        new RandomModelWriter(2, 64, 4, 2, 128, 320, seed, false, false, TensorDtype.F32, 1).write(dir);
        return dir;
    }
}
