package io.loupe.tensor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.loupe.bench.OpProfile;
import io.loupe.model.Runtime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link Tensors#slice}: NDIndex's values, one libtorch slice, the right gradient; bad ranges refused. */
class TensorsSliceTest {
    @Test
    void sameValuesAsIndexingOnEveryAxis() {
        try (NDManager m = Runtime.newManager(ai.djl.Device.cpu())) {
            NDArray x = m.arange(2 * 3 * 4f).reshape(2, 3, 4);
            assertArrayEquals(x.get(new NDIndex("1:2")).toFloatArray(), Tensors.slice(x, 0, 1, 2).toFloatArray());
            assertArrayEquals(x.get(new NDIndex(":, 0:2")).toFloatArray(), Tensors.slice(x, 1, 0, 2).toFloatArray());
            NDArray last = Tensors.slice(x, 2, 1, 3);
            assertEquals(new Shape(2, 3, 2), last.getShape());
            assertArrayEquals(x.get(new NDIndex(":, :, 1:3")).toFloatArray(), last.toFloatArray());
            assertEquals(new Shape(2, 0, 4), Tensors.slice(x, 1, 2, 2).getShape(), "an empty range is an empty view");
            assertSame(x, Tensors.slice(x, 1, 0, 3), "the whole axis is x itself");
        }
    }

    @Test
    void refusesRangesOutsideTheAxis() {
        try (NDManager m = Runtime.newManager(ai.djl.Device.cpu())) {
            NDArray x = m.zeros(new Shape(2, 3));
            assertThrows(IllegalArgumentException.class, () -> Tensors.slice(x, 1, 0, 4));
            assertThrows(IllegalArgumentException.class, () -> Tensors.slice(x, 1, 2, 1));
            assertThrows(IllegalArgumentException.class, () -> Tensors.slice(x, 0, -1, 1));
        }
    }

    /** d/dx Σ (2 · x[:, :, 1:3]) is 2 inside the range and 0 outside; the forward runs one aten::slice where NDIndex runs three. */
    @Test
    void oneSliceAndItsGradient(@TempDir Path dir) throws IOException {
        try (NDManager m = Runtime.newManager(ai.djl.Device.cpu())) {
            NDArray x = m.ones(new Shape(1, 2, 4));
            x.setRequiresGradient(true);
            synchronized (Runtime.AUTOGRAD) {
                try (NDManager step = m.newSubManager(); GradientCollector gc = Runtime.engine().newGradientCollector()) {
                    gc.backward(Tensors.times(Tensors.slice(x, 2, 1, 3), 2).sum());
                }
            }
            assertArrayEquals(new float[]{0, 2, 2, 0, 0, 2, 2, 0}, x.getGradient().toFloatArray());
            x.setRequiresGradient(false);
            assertEquals(1, slices(() -> Tensors.slice(x, 2, 1, 3).close(), dir.resolve("one.json")));
            assertEquals(3, slices(() -> x.get(new NDIndex(":, :, 1:3")).close(), dir.resolve("index.json")),
                    "DJL's NDIndex slices every axis; if this changes, Tensors.slice may no longer be needed");
        }
    }

    private static int slices(Runnable work, Path trace) throws IOException {
        OpProfile.profile(work, trace);
        return Files.readString(trace).split("\"aten::slice\"", -1).length - 1;
    }
}
